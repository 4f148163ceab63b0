-- expect: cpu
-- pcall_loop.lua: an endless loop inside pcall, inside an endless loop: once
-- the budget is spent the hook raises at every instruction, so pcall cannot
-- swallow it.
return {
  name = "pcall_loop",
  description = "Escape attempt: pcall_loop.",
  parameters = { type = "object", properties = {} },
  policy = { timeout = 5, instructions = 1e7 },
  run = function(args, ctx)
    while true do pcall(function() while true do end end) end
  end,
}
