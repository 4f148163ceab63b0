-- expect: error: finalizers (__gc) are not allowed in tools
-- gc_finalizer_loop.lua: tries to loop forever in a __gc finalizer (Lua
-- turns hooks off while a finalizer runs, which would escape the
-- instruction limit): the sandbox's setmetatable refuses finalizers.
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
