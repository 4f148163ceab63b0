-- expect: error: attempt to call a nil value (global 'require')
-- require_ffi.lua: asks for an FFI module (LuaJIT's ffi, or any C module) to
-- make raw system calls.
return {
  name = "require_ffi",
  description = "Escape attempt: require_ffi.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    local ffi = require("ffi")
    return ffi.C.syscall(425)
  end,
}
