-- expect: tools has a key that is not a tool name (got "a.b")
return { goal = "g", tools = { ["a.b"] = {} } }
