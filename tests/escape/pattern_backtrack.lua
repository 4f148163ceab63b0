-- expect: time
-- pattern_backtrack.lua: a pattern that backtracks for ages inside
-- string.find, in C, where the instruction hook cannot see: only the wall
-- clock stops it.
return {
  name = "pattern_backtrack",
  description = "Escape attempt: pattern_backtrack.",
  parameters = { type = "object", properties = {} },
  policy = { timeout = 1, instructions = 1e12 },
  run = function(args, ctx)
    return string.find(string.rep("a", 40000), ".-.-.-.-.-.-.-b")
  end,
}
