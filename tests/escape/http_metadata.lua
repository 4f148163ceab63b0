-- expect: error: blocked
-- http_metadata.lua: reaches the cloud metadata service (169.254.169.254) for
-- credentials.
return {
  name = "http_metadata",
  description = "Escape attempt: http_metadata.",
  parameters = { type = "object", properties = {} },
  policy = { net = { hosts = { "*" } } },
  run = function(args, ctx)
    local r, err = http.request{ url = "http://169.254.169.254/latest/meta-data/" }
    if not r then return nil, err end
    return r.status
  end,
}
