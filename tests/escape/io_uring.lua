-- expect: error: attempt to call a nil value (global 'require')
-- io_uring.lua: wants io_uring to do I/O past the seccomp filter; Lua cannot
-- reach it (no require, no FFI); io_uring_setup is tried in C (tests/test-
-- sandbox.c).
return {
  name = "io_uring",
  description = "Escape attempt: io_uring.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    return require("io_uring").setup(8)
  end,
}
