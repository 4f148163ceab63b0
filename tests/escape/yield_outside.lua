-- expect: error: attempt to yield from outside a coroutine
-- yield_outside.lua: yields from the tool's main function, to return control
-- to the worker's C code in a state it does not expect.
return {
  name = "yield_outside",
  description = "Escape attempt: yield_outside.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    return coroutine.yield("out")
  end,
}
