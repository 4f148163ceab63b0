-- expect: output
-- output_flood.lua: returns 5 MB of text to flood the model's context.
return {
  name = "output_flood",
  description = "Escape attempt: output_flood.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    return string.rep("y", 5e6)
  end,
}
