-- expect: error: attempt to index a nil value (global 'io')
-- metatable_G.lua: sets a metatable on _G whose __index calls back into
-- whatever the worker's C side left reachable, then uses io as if it were
-- there.
return {
  name = "metatable_G",
  description = "Escape attempt: metatable_G.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    setmetatable(_G, { __index = function(t, k) return rawget(t, k) end })
    return io.read("a")
  end,
}
