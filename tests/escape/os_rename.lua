-- expect: error: attempt to call a nil value (field 'rename')
-- os_rename.lua: moves a file of the host with os.rename.
return {
  name = "os_rename",
  description = "Escape attempt: os_rename.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    return os.rename("/etc/hosts", "/tmp/hosts")
  end,
}
