-- expect: model provider must be one of openai, anthropic, script (got "opena")
return { goal = "g", model = "opena:gpt-4o" }
