-- expect: error: attempt to call a nil value (field 'remove')
-- os_remove.lua: deletes a file of the host with os.remove.
return {
  name = "os_remove",
  description = "Escape attempt: os_remove.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    return os.remove("/etc/hostname")
  end,
}
