-- expect: error: attempt to call a nil value (field 'tmpname')
-- os_tmpname.lua: makes a temporary file name, a first step to writing files.
return {
  name = "os_tmpname",
  description = "Escape attempt: os_tmpname.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    return os.tmpname()
  end,
}
