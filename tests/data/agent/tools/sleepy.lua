-- sleepy: busy-waits for args.seconds of CPU time (tests time limits).
return {
  name = "sleepy",
  description = "Wait for a while.",
  parameters = { type = "object", properties = { seconds = { type = "number" } } },
  policy = { timeout = 5 },
  run = function(args)
    local t = os.clock()
    while os.clock() - t < (args.seconds or 1) do end
    return "slept"
  end,
}
