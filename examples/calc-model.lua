-- calc-model.lua: a scripted stand-in for examples/calc.lua. It reads the
-- last tool result to decide what to do next, as a model would.
local function last_tool(ctx)
  for i = #ctx.messages, 1, -1 do
    local m = ctx.messages[i]
    if m.role == "tool" then return m end
  end
end

return function(ctx)
  local last = last_tool(ctx)
  if not last then
    -- a mistake on purpose: expr must be a string
    return { text = "Let me compute the balance.",
             tool_calls = { { name = "calc", arguments = { expr = 2500 } } } }
  end
  if last.is_error then
    return { text = "The expression must be a string; trying again.",
             tool_calls = { { name = "calc",
                              arguments = { expr = "round(2500 * 1.035^10, 2)" } } } }
  end
  local v = json.decode(last.content)
  if v.expr:find("1.035") then
    return { text = "Now the interest part.",
             tool_calls = { { name = "calc",
                              arguments = { expr = string.format("round(%s - 2500, 2)", v.value) } } } }
  end
  local balance = v.expr:match("round%(([%d%.]+)")
  return string.format("After 10 years there are %s EUR, of which %s EUR is interest.",
                       balance, v.value)
end
