-- expect: cpu
-- xpcall_handler.lua: loops in xpcall's message handler. Lua's own xpcall
-- runs the handler where an error from the instruction hook was raised,
-- with hooks off, so the count could not stop it; the sandbox's xpcall
-- calls the handler after unwinding, with the hook on: the instruction
-- limit stops it.
return {
  name = "xpcall_handler",
  description = "Escape attempt: xpcall_handler.",
  parameters = { type = "object", properties = {} },
  policy = { timeout = 1, instructions = 1e7 },
  run = function(args, ctx)
    xpcall(function() while true do end end, function() while true do end end)
    return "survived"
  end,
}
