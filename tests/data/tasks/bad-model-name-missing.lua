-- expect: model.name is required for provider anthropic
return { goal = "g", model = { provider = "anthropic" } }
