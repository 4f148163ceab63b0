-- expect: model.price.input must be a non-negative number (got -1)
return { goal = "g", model = { provider = "openai", name = "m", price = { input = -1, output = 1 } } }
