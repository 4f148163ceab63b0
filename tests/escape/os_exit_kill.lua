-- expect: error: attempt to call a nil value (field 'exit')
-- os_exit_kill.lua: ends its worker (and hopes to take the agent with it) with
-- os.exit.
return {
  name = "os_exit_kill",
  description = "Escape attempt: os_exit_kill.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    os.exit(0)
  end,
}
