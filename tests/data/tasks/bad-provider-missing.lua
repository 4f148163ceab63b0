-- expect: model.provider is required
return { goal = "g", model = { name = "gpt-4o" } }
