-- expect: error: attempt to call a nil value (global 'require')
-- unshare_mount.lua: wants unshare(2), mount(2) and userfaultfd(2) through a
-- posix module; all three are tried in C (tests/test-sandbox.c).
return {
  name = "unshare_mount",
  description = "Escape attempt: unshare_mount.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    local posix = require("posix")
    return posix.unshare(0x10000000)
  end,
}
