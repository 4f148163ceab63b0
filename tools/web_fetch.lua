-- web_fetch: fetches a web page (GET) or its headers (HEAD) through the
-- broker and returns it as text a model can read: status, final URL,
-- content type, title, the page's text with numbered links "[n]", and the
-- list of those links.
--
-- Redirects (301, 302, 303, 307, 308) are followed here, at most 5 of
-- them, each hop a new http.request so that the broker checks it against
-- the policy: a redirect to a host the task did not allow is refused and
-- reported as such. The body is decoded and converted by the html module
-- (sandbox/html.c: charset detection, gumbo's parse, links resolved against
-- the final URL); binary content is refused. The result is bounded: the
-- text by max_bytes (the tool's argument, at most the task's
-- web_fetch = { max_bytes = N } when set), the link list by LINKS_BUDGET.
--
-- Failures come back as nil, message: a refused request or redirect, too
-- many redirects, a loop, binary content, and HTTP errors (4xx, 5xx) with
-- a short excerpt of the error page.
--
-- The task narrows where it may go:
--   tools = { web_fetch = { allow_hosts = { "example.org", "*.example.org" } } }
-- A private or loopback address (127.0.0.1, 10.x, 169.254.x) is reached
-- only when the task names that host exactly in allow_hosts.

local MAX_HOPS = 5
local DEFAULT_MAX = 32768
local LIMIT_MAX = 200000
local LINKS_BUDGET = 16384 -- bytes of the link list
local EXCERPT = 300 -- bytes of an error page quoted
local TIME_BUDGET = 18 -- seconds for all hops (the policy's timeout is 20)

local REDIRECT = { [301] = true, [302] = true, [303] = true, [307] = true,
                   [308] = true }

local REASONS = {
  [200] = "OK", [201] = "Created", [202] = "Accepted",
  [203] = "Non-Authoritative Information", [204] = "No Content",
  [206] = "Partial Content", [300] = "Multiple Choices",
  [301] = "Moved Permanently", [302] = "Found", [303] = "See Other",
  [304] = "Not Modified", [307] = "Temporary Redirect",
  [308] = "Permanent Redirect", [400] = "Bad Request",
  [401] = "Unauthorized", [402] = "Payment Required", [403] = "Forbidden",
  [404] = "Not Found", [405] = "Method Not Allowed",
  [406] = "Not Acceptable", [408] = "Request Timeout", [409] = "Conflict",
  [410] = "Gone", [413] = "Content Too Large", [414] = "URI Too Long",
  [415] = "Unsupported Media Type", [418] = "I'm a teapot",
  [429] = "Too Many Requests", [451] = "Unavailable For Legal Reasons",
  [500] = "Internal Server Error", [501] = "Not Implemented",
  [502] = "Bad Gateway", [503] = "Service Unavailable",
  [504] = "Gateway Timeout",
}

-- What a HEAD request reports, in this order.
local HEAD_FIELDS = { "content-type", "content-length", "content-language",
                      "content-encoding", "content-disposition",
                      "last-modified", "etag", "cache-control", "expires",
                      "date", "server", "accept-ranges", "location" }

local function status_line(code)
  local reason = REASONS[code]
  return reason and string.format("%d %s", code, reason) or tostring(code)
end

-- A response header; the broker gives lower-case names.
local function header(res, name)
  local h = res.headers or {}
  if h[name] ~= nil then return h[name] end
  for k, v in pairs(h) do
    if type(k) == "string" and k:lower() == name then return v end
  end
end

local function drop_fragment(url)
  return (url:gsub("#.*$", ""))
end

-- Checks and normalises the URL the model gave: http or https only; a bare
-- "example.org/x" means https.
local function normalize(url)
  url = url:match("^%s*(.-)%s*$")
  if url == "" then return nil, "the url is empty" end
  local scheme = url:match("^(%a[%w+.-]*)://")
  if not scheme then
    local other = url:match("^(%a[%w+.-]*):%D")
    if other and not url:find("^[%w.-]+:%d") then
      return nil, "only http and https URLs can be fetched, not " .. other .. ":"
    end
    url = (url:sub(1, 2) == "//" and "https:" or "https://") .. url
    scheme = "https"
  end
  scheme = scheme:lower()
  if scheme ~= "http" and scheme ~= "https" then
    return nil, "only http and https URLs can be fetched, not " .. scheme .. ":"
  end
  local norm = html.resolve(url, "")
  if not norm or not norm:match("^https?://[^/]") then
    return nil, "not a valid URL: " .. url
  end
  return norm
end

local function chain(hops)
  return table.concat(hops, " -> ")
end

-- A server's words for a message: no control characters, at most n bytes.
local function clip(s, n)
  s = tostring(s):gsub("%c", " ")
  return #s > n and s:sub(1, n) .. "..." or s
end

-- Requests url, following redirects. Returns the final response, its URL
-- and the hops ({ "301 https://..." }), or nil and a message.
local function fetch(method, url)
  local deadline = os.time() + TIME_BUDGET
  local hops, seen = {}, {}
  for hop = 0, MAX_HOPS do
    local res, err = http.request {
      method = method,
      url = url,
      headers = { Accept = "text/html,application/xhtml+xml,text/plain;q=0.9,"
                           .. "application/json;q=0.8,*/*;q=0.5" },
      timeout = math.max(1, deadline - os.time()),
      truncate = true, -- a page over max_response is read in part
    }
    if not res then
      if hop == 0 then
        return nil, string.format("fetching %s failed: %s", url, err)
      end
      return nil, string.format("redirected to %s, which failed: %s "
                                .. "(redirects: %s)", url, err, chain(hops))
    end
    local loc = header(res, "location")
    if not REDIRECT[res.status] or not loc or loc == "" then
      return res, url, hops
    end
    if hop == MAX_HOPS then
      return nil, string.format("too many redirects (more than %d): %s -> %d %s",
                                MAX_HOPS, chain(hops), res.status, clip(loc, 300))
    end
    local nxt = html.resolve(url, loc)
    if not nxt or not nxt:match("^https?://[^/]") then
      return nil, string.format("%s redirected (%d) to %s, which is not an "
                                .. "http or https URL", url, res.status,
                                clip(loc, 300))
    end
    nxt = drop_fragment(nxt)
    seen[url] = true
    hops[#hops + 1] = string.format("%d %s", res.status, nxt)
    if seen[nxt] then
      return nil, "redirect loop: " .. chain(hops)
    end
    if res.status == 303 and method ~= "HEAD" then method = "GET" end
    url = nxt
  end
end

-- The numbered links, within LINKS_BUDGET bytes.
local function link_lines(links)
  local out, used = {}, 0
  for i, l in ipairs(links) do
    local line = string.format("[%d] %s: %s", i, l.text, l.href)
    if used + #line + 1 > LINKS_BUDGET then
      out[#out + 1] = string.format("(%d more links not listed)",
                                    #links - i + 1)
      break
    end
    out[#out + 1] = line
    used = used + #line + 1
  end
  return table.concat(out, "\n")
end

-- One line of an error page, for the message.
local function excerpt(res)
  local body = res.body or ""
  if body == "" then return "" end
  local doc = html.text(body, { content_type = header(res, "content-type"),
                                max_bytes = 1024, max_links = 0 })
  if not doc then return "" end
  local s = ("\n" .. doc.text):gsub("%[truncated:[^%]]*%]", "")
  s = s:gsub("\n#+ ", "\n"):gsub("%s+", " ")
  s = s:match("^%s*(.-)%s*$")
  if #s > EXCERPT then
    s = s:sub(1, EXCERPT)
    -- do not end inside a UTF-8 sequence
    while #s > 0 and (s:byte(-1) & 0xC0) == 0x80 do s = s:sub(1, -2) end
    if #s > 0 and s:byte(-1) >= 0xC0 then s = s:sub(1, -2) end
    s = s .. "..."
  end
  if doc.title and doc.title ~= "" and not s:find(doc.title, 1, true) then
    s = doc.title .. ": " .. s
  end
  return s ~= "" and ": " .. s or ""
end

local function describe(lines, method, url, final, res, hops)
  lines[#lines + 1] = "URL: " .. final
  if #hops > 0 then
    lines[#lines + 1] = string.format("Redirected from: %s (%s)", url,
                                      chain(hops))
  end
  lines[#lines + 1] = "Status: " .. status_line(res.status)
  if method == "HEAD" then return end
  local ct = header(res, "content-type")
  lines[#lines + 1] = "Content-Type: " .. (ct and clip(ct, 200) or "(none given)")
end

local function run(args, ctx)
  local method = (args.method or "GET"):upper()
  local url, err = normalize(args.url)
  if not url then return nil, err end
  local ceiling = LIMIT_MAX
  local opts = ctx and ctx.options or {}
  if math.type(opts.max_bytes) == "integer" and opts.max_bytes > 0 then
    ceiling = math.min(ceiling, opts.max_bytes)
  end
  local max = math.min(args.max_bytes or DEFAULT_MAX, ceiling)
  if max < 512 then max = 512 end

  local res, final, hops = fetch(method, url)
  if not res then return nil, final end
  if res.status >= 400 then
    return nil, string.format("HTTP %s for %s%s", status_line(res.status),
                              final, method == "HEAD" and "" or excerpt(res))
  end

  local lines = {}
  describe(lines, method, url, final, res, hops)
  if method == "HEAD" then
    lines[#lines + 1] = "Headers:"
    for _, name in ipairs(HEAD_FIELDS) do
      local v = header(res, name)
      if v then lines[#lines + 1] = string.format("  %s: %s", name, clip(v, 500)) end
    end
    return table.concat(lines, "\n")
  end

  local body = res.body or ""
  local doc, why = html.text(body, { base_url = final, max_bytes = max,
                                     content_type = header(res, "content-type") })
  if not doc then
    return nil, string.format("%s: %s", final, why)
  end
  lines[#lines + 1] = "Charset: " .. doc.charset
  if doc.title then lines[#lines + 1] = "Title: " .. doc.title end
  lines[#lines + 1] = string.format("Length: %s, text %d bytes%s",
                                    res.truncated and string.format(
                                      "the first %d bytes of a longer page "
                                      .. "(the rest was not read)", #body)
                                      or string.format("%d bytes", #body),
                                    #doc.text,
                                    doc.truncated and " (truncated)" or "")
  lines[#lines + 1] = ""
  lines[#lines + 1] = doc.text ~= "" and doc.text or "(no text)"
  if #doc.links > 0 then
    lines[#lines + 1] = ""
    lines[#lines + 1] = "Links:"
    lines[#lines + 1] = link_lines(doc.links)
  end
  return table.concat(lines, "\n")
end

return {
  name = "web_fetch",
  description = "Fetch a web page over HTTP(S) and read it as text. Returns the "
    .. "status, final URL (redirects are followed), content type, title, the "
    .. "page's text with links numbered [n], and the list of those links. "
    .. "Use method HEAD to get only the status and headers. Binary files "
    .. "(images, PDF) are refused; long pages are cut at max_bytes.",
  parameters = {
    type = "object",
    properties = {
      url = { type = "string", minLength = 1, maxLength = 4096,
              description = "The address, e.g. \"https://example.org/page\"" },
      method = { type = "string", enum = { "GET", "HEAD" },
                 description = "GET (default) for the page, HEAD for its "
                   .. "headers only" },
      max_bytes = { type = "integer", minimum = 512, maximum = LIMIT_MAX,
                    description = "Most bytes of page text to return "
                      .. "(default 32768)" },
    },
    required = { "url" },
    additionalProperties = false,
  },
  policy = {
    timeout = 20,
    memory = 96 * 1024 * 1024,
    output = 512 * 1024, -- the text, links and headers, JSON-escaped
    net = {
      hosts = { "*" },
      schemes = { "https", "http" },
      methods = { "GET", "HEAD" },
      max_response = 2 * 1024 * 1024,
      max_requests = MAX_HOPS + 1,
    },
  },
  run = run,
}
