-- expect: error: attempt to call a nil value (field 'dump')
-- dump_via_metatable.lua: looks for string.dump through the string metatable's
-- __index, in case only the global was removed.
return {
  name = "dump_via_metatable",
  description = "Escape attempt: dump_via_metatable.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    return getmetatable("").__index.dump(print)
  end,
}
