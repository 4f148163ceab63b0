-- expect: tools.calc must be a table of options (got true)
return { goal = "g", tools = { calc = true } }
