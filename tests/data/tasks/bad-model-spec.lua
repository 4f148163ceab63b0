-- expect: model must be PROVIDER:NAME, e.g. openai:gpt-4o-mini (got "gpt-4o")
return { goal = "g", model = "gpt-4o" }
