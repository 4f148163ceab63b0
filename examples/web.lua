-- web.lua: the web_fetch tool with a scripted stand-in model (offline,
-- deterministic). The model reads a page served on this machine, follows
-- one of its links (a .lua file when it lists one), and answers with the
-- page's title, how many links it has and how the linked file begins.
--
-- There is no network in the example itself: serve a folder first, in
-- another terminal (Python's built-in server lists the folder as a page of
-- links):
--
--   python3 -m http.server 8000 --bind 127.0.0.1 -d examples
--
-- then:
--
--   agent run examples/web.lua -v
--
-- Without a server the fetch fails ("connection refused") and the model
-- says so. AGENT_WEB_URL points the task at another page; its host is the
-- only one the tool may reach. 127.0.0.1 is a loopback address, which the
-- broker refuses unless the task names the host exactly, as here.
--
-- To use a real model instead: agent run examples/web.lua --model openai:gpt-4o-mini
local url = os.getenv("AGENT_WEB_URL") or "http://127.0.0.1:8000/"
local host = url:match("^%a+://([^/:?#]+)") or "127.0.0.1"

return {
  name = "web",
  model = { provider = "script", file = "web-model.lua" },
  system = "You are a research assistant. Read pages with the web_fetch "
        .. "tool; answer in two sentences.",
  goal = "Look at the page at " .. url .. " and tell me what it lists. "
      .. "Open one of the files it links to and tell me how it begins.",
  tools = { web_fetch = { allow_hosts = { host } } },
  limits = { steps = 5, seconds = 60 },
}
