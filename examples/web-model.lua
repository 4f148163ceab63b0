-- web-model.lua: a scripted stand-in for a model, for examples/web.lua. It
-- fetches the page named in the goal, follows one link from the numbered
-- list the tool returns, and answers; a failed fetch is answered as such.
local function tool_results(ctx)
  local out = {}
  for _, m in ipairs(ctx.messages) do
    if m.role == "tool" then out[#out + 1] = m end
  end
  return out
end

-- The page as the tool wrote it, without the runtime's untrusted-content
-- markers.
local function page_of(m)
  return (m.content:gsub("^<<untrusted[^\n]*>>\n", "")
                   :gsub("\n<<end of untrusted content>>$", ""))
end

-- The links listed after "Links:", as { n, text, href }.
local function links_of(page)
  local list = page:match("\nLinks:\n(.*)$") or ""
  local out = {}
  for n, text, href in list:gmatch("%[(%d+)%] ([^\n]-): (%S+)") do
    out[#out + 1] = { n = tonumber(n), text = text, href = href }
  end
  return out
end

-- The link to follow: the example's own task file when listed, else a
-- .lua file, else the first link.
local function pick_link(links)
  local lua
  for _, l in ipairs(links) do
    if l.href:match("/web%.lua$") then return l end
    lua = lua or (l.href:match("%.lua$") and l)
  end
  return lua or links[1]
end

-- The first line of the page's text (after the header lines).
local function first_line(page)
  local text = page:match("\n\n(.*)$") or ""
  return text:match("^%s*([^\n]+)") or "(nothing)"
end

local function goal_url(ctx)
  for _, m in ipairs(ctx.messages) do
    if m.role == "user" and m.content then
      local u = m.content:match("https?://[^%s]+")
      if u then return (u:gsub("[%.,;]$", "")) end
    end
  end
  return "http://127.0.0.1:8000/"
end

return function(ctx)
  local url = goal_url(ctx)
  local results = tool_results(ctx)
  if #results == 0 then
    return { text = "I will read the page first.",
             tool_calls = { { name = "web_fetch", arguments = { url = url } } } }
  end
  local first = results[1]
  if first.is_error then
    return string.format("I could not read %s: %s. Is a web server running "
      .. "there (python3 -m http.server 8000 --bind 127.0.0.1 -d examples)?",
      url, (first.content:gsub("^error: ", "")))
  end
  local page = page_of(first)
  local title = page:match("\nTitle: ([^\n]*)") or "no title"
  local links = links_of(page)
  if #results == 1 then
    local pick = pick_link(links)
    if not pick then
      return string.format("The page %s (%s) has no links; it begins: %s",
                           url, title, first_line(page))
    end
    return { text = string.format("Opening link [%d], %s.", pick.n, pick.text),
             tool_calls = { { name = "web_fetch",
                              arguments = { url = pick.href, max_bytes = 2000 } } } }
  end
  local second = results[2]
  local opened = pick_link(links)
  local how
  if second.is_error then
    how = "could not be read (" .. second.content:gsub("^error: ", "") .. ")"
  else
    how = "begins with \"" .. first_line(page_of(second)) .. "\""
  end
  return string.format("The page %s (\"%s\") lists %d links. %s %s.",
                       url, title, #links, opened and opened.href or "The file",
                       how)
end
