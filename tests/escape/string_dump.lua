-- expect: error: attempt to call a nil value (field 'dump')
-- string_dump.lua: makes bytecode with string.dump, to patch it and load it
-- back.
return {
  name = "string_dump",
  description = "Escape attempt: string_dump.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    return string.dump(function() return 1 end)
  end,
}
