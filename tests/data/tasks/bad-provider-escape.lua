-- expect: model.provider must be one of openai, anthropic, script (got "open\"ai\"\n")
return { goal = "g", model = { provider = "open\"ai\"\n" } }
