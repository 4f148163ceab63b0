-- expect: model.provider must be one of openai, anthropic, script (got "opena")
return { goal = "g", model = { provider = "opena", name = "gpt-4o" } }
