-- broken-model.lua: the scripted stand-in model of broken.lua.
return function(ctx)
  if ctx.step == 1 then
    return {
      text = "trying",
      tool_calls = {
        { name = "calc", arguments = { expr = "1 +" } },
        { name = "nope", arguments = {} },
        { name = "bigout", arguments = { n = 100000000 } },
      },
    }
  end
  return { tool_calls = { { name = "calc", arguments = { expr = ctx.step .. "+1" } } } }
end
