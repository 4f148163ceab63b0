-- expect: model.name must be a non-empty string (got "")
return { goal = "g", model = { provider = "openai", name = "" } }
