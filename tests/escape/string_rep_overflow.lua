-- expect: error: resulting string too large
-- string_rep_overflow.lua: asks string.rep for a terabyte in one call, more
-- than a Lua string may hold: Lua refuses before it allocates.
return {
  name = "string_rep_overflow",
  description = "Escape attempt: string_rep_overflow.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    return #string.rep("x", 2^40)
  end,
}
