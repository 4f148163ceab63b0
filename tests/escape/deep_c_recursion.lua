-- expect: error: stack overflow
-- deep_c_recursion.lua: recurses through pcall, a C function, to exhaust the C
-- stack rather than Lua's.
return {
  name = "deep_c_recursion",
  description = "Escape attempt: deep_c_recursion.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    local function f() return select(2, pcall(f)) end
    error(f() or "no overflow")
  end,
}
