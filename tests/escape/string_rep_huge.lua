-- expect: memory
-- string_rep_huge.lua: asks string.rep for a gigabyte in one call.
return {
  name = "string_rep_huge",
  description = "Escape attempt: string_rep_huge.",
  parameters = { type = "object", properties = {} },
  policy = { memory = 16 * 1024 * 1024 },
  run = function(args, ctx)
    return #string.rep("x", 2^30)
  end,
}
