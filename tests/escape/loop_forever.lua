-- expect: cpu
-- loop_forever.lua: a plain endless loop: the instruction count hook stops it.
return {
  name = "loop_forever",
  description = "Escape attempt: loop_forever.",
  parameters = { type = "object", properties = {} },
  policy = { timeout = 5, instructions = 1e7 },
  run = function(args, ctx)
    local i = 0
    while true do i = i + 1 end
  end,
}
