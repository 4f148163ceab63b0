-- expect: error: attempt to index a nil value (global 'debug')
-- debug_registry.lua: reaches the registry with debug.getregistry to find the
-- worker's C context, or debug.sethook to turn the instruction hook off.
return {
  name = "debug_registry",
  description = "Escape attempt: debug_registry.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    debug.sethook()
    return debug.getregistry()
  end,
}
