-- violation-model.lua: the scripted stand-in model of violation.lua.
return function(ctx)
  if ctx.step == 1 then
    return {
      text = "I will ask for a lot of text.",
      tool_calls = { { name = "bigout", arguments = { n = 100000000 } } },
    }
  end
  return { text = "The tool was stopped." }
end
