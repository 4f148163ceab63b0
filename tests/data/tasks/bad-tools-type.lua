-- expect: tools must be a table (got "clock")
return { goal = "g", tools = "clock" }
