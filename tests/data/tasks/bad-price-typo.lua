-- expect: unknown field "model.price.inptu" (did you mean "model.price.input"?)
return { goal = "g", model = { provider = "openai", name = "m", price = { inptu = 1, output = 2 } } }
