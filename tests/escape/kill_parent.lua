-- expect: error: attempt to call a nil value (field 'kill')
-- kill_parent.lua: looks for a way to signal the agent process from Lua. There
-- is none; kill(2) itself is tried in C (tests/test-sandbox.c: kill_parent,
-- kill_all), and the worker is alone in its pid namespace.
return {
  name = "kill_parent",
  description = "Escape attempt: kill_parent.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    return os.kill(1, 9)
  end,
}
