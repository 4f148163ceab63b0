-- expect: model.price must be a table (got 3)
return { goal = "g", model = { provider = "openai", name = "m", price = 3 } }
