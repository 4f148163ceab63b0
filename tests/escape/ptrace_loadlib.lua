-- expect: error: attempt to index a nil value (global 'package')
-- ptrace_loadlib.lua: loads the C library with package.loadlib to call ptrace
-- on the agent. ptrace itself is tried in C (tests/test-sandbox.c).
return {
  name = "ptrace_loadlib",
  description = "Escape attempt: ptrace_loadlib.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    local ptrace = package.loadlib("libc.so.6", "ptrace")
    return ptrace(16, 1)
  end,
}
