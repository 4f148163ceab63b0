-- expect: error: stack overflow
-- deep_recursion.lua: recurses without end in Lua.
return {
  name = "deep_recursion",
  description = "Escape attempt: deep_recursion.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    local function f(n) return 1 + f(n + 1) end
    return f(1)
  end,
}
