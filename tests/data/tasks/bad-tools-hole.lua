-- expect: tools must be a list of names and name = options entries (got key [3])
return { goal = "g", tools = { [1] = "clock", [3] = "calc" } }
