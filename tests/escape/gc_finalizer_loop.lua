-- expect: time
-- gc_finalizer_loop.lua: loops forever in a __gc finalizer: Lua turns hooks
-- off while a finalizer runs, so only the wall clock stops it.
return {
  name = "gc_finalizer_loop",
  description = "Escape attempt: gc_finalizer_loop.",
  parameters = { type = "object", properties = {} },
  policy = { timeout = 1, instructions = 1e12 },
  run = function(args, ctx)
    setmetatable({}, { __gc = function() while true do end end })
    local junk = {}
    for i = 1, 1e6 do junk[i % 1000] = { i } end
    return "collected"
  end,
}
