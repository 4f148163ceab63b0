-- expect: model.file is only used by provider script (got "model.lua")
return { goal = "g", model = { provider = "openai", name = "gpt-4o", file = "model.lua" } }
