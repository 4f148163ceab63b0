-- expect: memory
-- string_rep_sep.lua: asks string.rep for a huge string through its separator
-- argument.
return {
  name = "string_rep_sep",
  description = "Escape attempt: string_rep_sep.",
  parameters = { type = "object", properties = {} },
  policy = { memory = 16 * 1024 * 1024 },
  run = function(args, ctx)
    return #string.rep("x", 2^26, "yyyyyyyy")
  end,
}
