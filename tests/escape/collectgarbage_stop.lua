-- expect: error: attempt to call a nil value (global 'collectgarbage')
-- collectgarbage_stop.lua: stops the garbage collector so that memory grows
-- past what the allocator counts.
return {
  name = "collectgarbage_stop",
  description = "Escape attempt: collectgarbage_stop.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    collectgarbage("stop")
    return "stopped"
  end,
}
