-- expect: error: attempt to index a nil value (global 'io')
-- io_write.lua: writes a file into /tmp to leave something behind for a later
-- call.
return {
  name = "io_write",
  description = "Escape attempt: io_write.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    local f = io.open("/tmp/planted", "w")
    f:write("x")
    f:close()
    return "written"
  end,
}
