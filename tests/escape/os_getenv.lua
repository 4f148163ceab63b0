-- expect: error: attempt to call a nil value (field 'getenv')
-- os_getenv.lua: reads the API key from the environment (the zygote and its
-- workers have an empty one in any case).
return {
  name = "os_getenv",
  description = "Escape attempt: os_getenv.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    return os.getenv("OPENAI_API_KEY")
  end,
}
