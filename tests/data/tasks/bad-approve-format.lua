-- expect: approve[1] must be "tool" or "tool.function" (got "email..send")
return { goal = "g", tools = { "email" }, approve = { "email..send" } }
