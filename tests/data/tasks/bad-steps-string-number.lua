-- expect: limits.steps must be a positive integer (got "10")
return { goal = "g", limits = { steps = "10" } }
