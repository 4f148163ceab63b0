-- expect: error: attempt to call a nil value (global 'loadfile')
-- loadfile.lua: compiles a file of the host with loadfile.
return {
  name = "loadfile",
  description = "Escape attempt: loadfile.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    return loadfile("/etc/passwd")
  end,
}
