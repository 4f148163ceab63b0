-- expect: error: policy:
-- smtp_outside_policy.lua: sends mail from a tool that declares no SMTP
-- policy.
return {
  name = "smtp_outside_policy",
  description = "Escape attempt: smtp_outside_policy.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    local r, err = smtp.send{ to = { "victim@example.org" }, subject = "x", body = "y" }
    if not r then return nil, err end
    return r
  end,
}
