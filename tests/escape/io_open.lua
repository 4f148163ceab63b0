-- expect: error: attempt to index a nil value (global 'io')
-- io_open.lua: reads the host's /etc/passwd with io.open. There is no io
-- library in the worker (and no file in its empty root, and Landlock and
-- seccomp refuse openat: see tests/test-sandbox.c).
return {
  name = "io_open",
  description = "Escape attempt: io_open.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    return io.open("/etc/passwd"):read("a")
  end,
}
