-- expect: error: policy:
-- http_scheme.lua: asks the broker for file:///etc/passwd.
return {
  name = "http_scheme",
  description = "Escape attempt: http_scheme.",
  parameters = { type = "object", properties = {} },
  policy = { net = { hosts = { "*" } } },
  run = function(args, ctx)
    local r, err = http.request{ url = "file:///etc/passwd" }
    if not r then return nil, err end
    return r.body
  end,
}
