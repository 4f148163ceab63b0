-- expect: approve must be a table (got "email.send")
return { goal = "g", tools = { "email" }, approve = "email.send" }
