-- expect: error: attempt to call a nil value (global 'dofile')
-- dofile.lua: runs a file of the host as Lua with dofile.
return {
  name = "dofile",
  description = "Escape attempt: dofile.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    return dofile("/etc/passwd")
  end,
}
