-- expect: model.name is not used by provider script (got "gpt-4o")
return { goal = "g", model = { provider = "script", file = "model.lua", name = "gpt-4o" } }
