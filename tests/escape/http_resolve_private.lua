-- expect: error: blocked
-- http_resolve_private.lua: uses a name that resolves to a loopback address
-- (localhost), as DNS rebinding would: the address actually connected to is
-- checked.
return {
  name = "http_resolve_private",
  description = "Escape attempt: http_resolve_private.",
  parameters = { type = "object", properties = {} },
  policy = { net = { hosts = { "*" } } },
  run = function(args, ctx)
    local r, err = http.request{ url = "http://localhost:9/" }
    if not r then return nil, err end
    return r.status
  end,
}
