-- The model as a "provider:name" string.
return { goal = "g", model = "anthropic:claude-sonnet-4-5" }
