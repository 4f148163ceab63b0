-- Answers with a description of the last message it was given, so tests can
-- check what the runtime told the model. The goal selects the behaviour.
return function(ctx)
  local goal = ctx.messages[#ctx.messages > 1 and 2 or 1].content
  for _, m in ipairs(ctx.messages) do
    if m.role == "user" then goal = m.content end
  end
  local last = ctx.messages[#ctx.messages]
  if last.role == "tool" then
    return "RESULT(" .. (last.is_error and "error" or "ok") .. "): " .. last.content
  end
  if goal == "plain" then return "hello there" end
  if goal == "empty" then return { text = "" } end
  if goal == "calc" then
    return { tool_calls = { { name = "calc", arguments = { expr = "6*7" } } } }
  end
  if goal == "unknown" then
    return { tool_calls = { { name = "clok", arguments = {} } } }
  end
  if goal == "badjson" then
    return { tool_calls = { { name = "calc", arguments = "{\"expr\": 6*" } } }
  end
  if goal == "badschema" then
    return { tool_calls = { { name = "calc", arguments = { expr = 42 } } } }
  end
  if goal == "toolerror" then
    return { tool_calls = { { name = "calc", arguments = { expr = "1/0" } } } }
  end
  if goal == "raise" then error("the script broke on purpose") end
  return "unknown goal " .. tostring(goal)
end
