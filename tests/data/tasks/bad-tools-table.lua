-- expect: tools[1] must be a tool name (got a table)
return { goal = "g", tools = { { "calc" } } }
