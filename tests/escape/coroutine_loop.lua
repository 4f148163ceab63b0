-- expect: cpu
-- coroutine_loop.lua: loops inside a coroutine, in case the hook was set on
-- the main thread only (new threads inherit it).
return {
  name = "coroutine_loop",
  description = "Escape attempt: coroutine_loop.",
  parameters = { type = "object", properties = {} },
  policy = { timeout = 5, instructions = 1e7 },
  run = function(args, ctx)
    local co = coroutine.wrap(function() while true do end end)
    co()
  end,
}
