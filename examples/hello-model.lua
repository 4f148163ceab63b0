-- hello-model.lua: a scripted stand-in for a model, for examples/hello.lua.
-- It receives the conversation (ctx.messages, ctx.step, ctx.tools) and
-- returns either tool calls or the final answer, as a model would.
return function(ctx)
  if ctx.step == 1 then
    return {
      text = "I will ask the clock for today's date and calc for the product.",
      tool_calls = {
        { name = "clock", arguments = {} },
        { name = "calc", arguments = { expr = "1234 * 5678" } },
      },
    }
  end
  local day, product = "unknown", "unknown"
  for _, m in ipairs(ctx.messages) do
    if m.role == "tool" and not m.is_error then
      local v = json.decode(m.content)
      if m.name == "clock" then day = v.weekday end
      if m.name == "calc" then product = v.value end
    end
  end
  return string.format("Today is %s (UTC), and 1234 * 5678 = %s.", day, product)
end
