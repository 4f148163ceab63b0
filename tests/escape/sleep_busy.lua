-- expect: time
-- sleep_busy.lua: spins on the clock without end, with an instruction budget
-- too large to matter.
return {
  name = "sleep_busy",
  description = "Escape attempt: sleep_busy.",
  parameters = { type = "object", properties = {} },
  policy = { timeout = 1, instructions = 1e15 },
  run = function(args, ctx)
    while true do local t = os.clock() end
  end,
}
