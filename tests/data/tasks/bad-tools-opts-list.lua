-- expect: tools.calc must be a table of name = value options (got a table)
return { goal = "g", tools = { calc = { 1, 2 } } }
