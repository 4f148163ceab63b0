-- expect: error: tool result cannot be sent as JSON
-- result_function.lua: returns a function, a thread and a userdata handle for
-- the agent to call back.
return {
  name = "result_function",
  description = "Escape attempt: result_function.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    return { f = print, co = coroutine.create(print) }
  end,
}
