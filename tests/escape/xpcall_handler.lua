-- expect: time
-- xpcall_handler.lua: loops in xpcall's message handler. When the error
-- comes from the instruction hook, Lua runs the handler with hooks still
-- off (the hook raised from inside itself), so the count cannot stop the
-- handler's loop: the wall clock does. (A fix for sandbox/worker.c: an
-- xpcall that calls the handler after unwinding, with hooks back on.)
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
