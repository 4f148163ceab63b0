-- expect: error: policy: host evil.example is not allowed
-- http_outside_policy.lua: fetches a host that the tool's policy does not
-- name.
return {
  name = "http_outside_policy",
  description = "Escape attempt: http_outside_policy.",
  parameters = { type = "object", properties = {} },
  policy = { net = { hosts = { "example.org" } } },
  run = function(args, ctx)
    local r, err = http.request{ url = "http://evil.example/steal" }
    if not r then return nil, err end
    return r.status
  end,
}
