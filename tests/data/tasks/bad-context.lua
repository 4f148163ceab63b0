-- expect: model.context must be a positive integer (got -1)
return { goal = "g", model = { provider = "openai", name = "m", context = -1 } }
