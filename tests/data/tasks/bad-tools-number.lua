-- expect: tools[2] must be a tool name (got 42)
return { goal = "g", tools = { "clock", 42 } }
