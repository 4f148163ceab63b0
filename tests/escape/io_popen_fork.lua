-- expect: error: attempt to index a nil value (global 'io')
-- io_popen_fork.lua: starts a process (fork and exec of a shell) with
-- io.popen. The fork and execve system calls themselves are tried in C by
-- tests/test-sandbox.c.
return {
  name = "io_popen_fork",
  description = "Escape attempt: io_popen_fork.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    return io.popen("id"):read("a")
  end,
}
