-- expect: unknown field "model.nmae" (did you mean "model.name"?)
return { goal = "g", model = { provider = "openai", nmae = "gpt-4o" } }
