-- expect: output
-- log_flood.lua: logs a message larger than the cap on one message between
-- processes.
return {
  name = "log_flood",
  description = "Escape attempt: log_flood.",
  parameters = { type = "object", properties = {} },
  policy = { memory = 128 * 1024 * 1024 },
  run = function(args, ctx)
    log(string.rep("z", 20e6))
    return "logged"
  end,
}
