-- expect: error: attempt to load a binary chunk (mode is 't')
-- load_bytecode.lua: loads hand-made bytecode, the classic way out of a Lua
-- sandbox (bytecode is not verified). load takes text only.
return {
  name = "load_bytecode",
  description = "Escape attempt: load_bytecode.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    local f, err = load("\27Lua\84\0\25\147\13\10\26\10\4\8\8\120\86", "x", "b")
    if not f then return nil, err end
    return f()
  end,
}
