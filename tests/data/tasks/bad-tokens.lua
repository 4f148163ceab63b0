-- expect: limits.tokens must be a non-negative integer (got "many")
return { goal = "g", limits = { tokens = "many" } }
