-- Keeps calling tools. goal "same": the same call every time (loop guard);
-- "vary": a different expression each step (step limit); "sleepy": a slow
-- tool (time limit); "big": large results (context cut); "usage": reports
-- heavy token usage (token and cost limits).
return function(ctx)
  local goal
  for _, m in ipairs(ctx.messages) do
    if m.role == "user" then goal = m.content end
  end
  if goal == "same" then
    return { tool_calls = { { name = "calc", arguments = { expr = "1+1" } } } }
  elseif goal == "vary" then
    return { tool_calls = { { name = "calc", arguments = { expr = ctx.step .. "+1" } } } }
  elseif goal == "sleepy" then
    return { tool_calls = { { name = "sleepy", arguments = { seconds = 3 } } } }
  elseif goal == "big" then
    if ctx.step > 4 then return "done after " .. #ctx.messages .. " messages" end
    return { tool_calls = { { name = "bigout", arguments = { n = 500 + ctx.step } } } }
  elseif goal == "usage" then
    return { usage = { input = 1000, output = 500 },
             tool_calls = { { name = "calc", arguments = { expr = ctx.step .. "*2" } } } }
  end
  return "?"
end
