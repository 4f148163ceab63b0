-- expect: error: attempt to index a nil value (local '_ENV')
-- env_escape.lua: swaps _ENV for a table whose __index looks everywhere
-- (rawget on _G, the registry through a loaded chunk's environment) for io or
-- os.execute.
return {
  name = "env_escape",
  description = "Escape attempt: env_escape.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    local found = rawget(_G, "io") or rawget(_G, "package")
    local chunk = load("return _ENV", "x", "t")
    local env = chunk()
    found = found or rawget(env, "io")
    local _ENV = found
    return io.open("/etc/passwd")
  end,
}
