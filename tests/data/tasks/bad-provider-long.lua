-- expect: model.provider must be one of openai, anthropic, script (got "an-extremely-long-provider-name-that-goe...")
return { goal = "g", model = { provider = "an-extremely-long-provider-name-that-goes-on-and-on" } }
