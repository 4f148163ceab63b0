-- expect: tools lists "clock" twice
return { goal = "g", tools = { "clock", "calc", "clock" } }
