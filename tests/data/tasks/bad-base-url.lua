-- expect: model.base_url must start with http:// or https:// (got "localhost:8080/v1")
return { goal = "g", model = { provider = "openai", name = "m", base_url = "localhost:8080/v1" } }
