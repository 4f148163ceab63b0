-- expect: model.max_tokens must be at most 2147483647 (got 10000000000.0)
return { goal = "g", model = { provider = "openai", name = "m", max_tokens = 1e10 } }
