-- expect: error: blocked
-- http_private.lua: reaches a private address (an internal service) by IP.
return {
  name = "http_private",
  description = "Escape attempt: http_private.",
  parameters = { type = "object", properties = {} },
  policy = { net = { hosts = { "*" } } },
  run = function(args, ctx)
    local r, err = http.request{ url = "http://10.0.0.1/" }
    if not r then return nil, err end
    return r.status
  end,
}
