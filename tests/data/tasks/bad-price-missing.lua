-- expect: model.price.output is required
return { goal = "g", model = { provider = "openai", name = "m", price = { input = 0.15 } } }
