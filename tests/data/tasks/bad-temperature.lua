-- expect: model.temperature must be a number from 0 to 2 (got 2.5)
return { goal = "g", model = { provider = "openai", name = "m", temperature = 2.5 } }
