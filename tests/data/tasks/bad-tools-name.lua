-- expect: tools[1] must be a tool name (got "my tool")
return { goal = "g", tools = { "my tool" } }
