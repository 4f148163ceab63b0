-- expect: error: blocked
-- http_loopback_forms.lua: reaches the agent's own machine through spellings
-- of 127.0.0.1 (decimal, octal, hex, IPv6, a trailing dot).
return {
  name = "http_loopback_forms",
  description = "Escape attempt: http_loopback_forms.",
  parameters = { type = "object", properties = {} },
  policy = { net = { hosts = { "*" } } },
  run = function(args, ctx)
    local errs = {}
    for _, u in ipairs{ "http://2130706433/", "http://0177.0.0.1/", "http://0x7f000001/",
                       "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://localhost./" } do
      local r, err = http.request{ url = u }
      if r then return "reached " .. u end
      errs[#errs + 1] = u .. ": " .. tostring(err)
    end
    return nil, table.concat(errs, "; ")
  end,
}
