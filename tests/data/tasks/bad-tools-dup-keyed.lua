-- expect: tools lists "calc" twice
return { goal = "g", tools = { "calc", calc = { timeout = 2 } } }
