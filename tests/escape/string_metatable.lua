-- expect: ok: fresh
-- string_metatable.lua: poisons the string metatable (every string's methods)
-- to run code in whatever runs next in the state; each call has a fresh state,
-- so the poison dies with the call. The tool returns normally.
return {
  name = "string_metatable",
  description = "Escape attempt: string_metatable.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    local mt = getmetatable("")
    mt.__index = function() error("poisoned") end
    mt.__metatable = "locked"
    return "fresh state next time"
  end,
}
