-- expect: model.stream must be a boolean (got "yes")
return { goal = "g", model = { provider = "openai", name = "m", stream = "yes" } }
