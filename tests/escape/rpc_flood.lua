-- expect: time
-- rpc_flood.lua: floods the agent with rpc requests (log lines), as fast as it
-- can.
return {
  name = "rpc_flood",
  description = "Escape attempt: rpc_flood.",
  parameters = { type = "object", properties = {} },
  policy = { timeout = 1, instructions = 1e15 },
  run = function(args, ctx)
    while true do log("x") end
  end,
}
