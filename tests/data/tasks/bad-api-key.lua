-- expect: model.api_key must be a string (got a number)
return { goal = "g", model = { provider = "openai", name = "m", api_key = 123456 } }
