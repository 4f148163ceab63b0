-- expect: approve must be a list (got key ["email"])
return { goal = "g", tools = { "email" }, approve = { email = true } }
