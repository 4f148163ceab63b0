-- expect: error: attempt to call a nil value (field 'execute')
-- os_execute.lua: runs a shell command with os.execute: fork, exec. Only the
-- clock is left of os.
return {
  name = "os_execute",
  description = "Escape attempt: os_execute.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    return os.execute("touch /tmp/pwned")
  end,
}
