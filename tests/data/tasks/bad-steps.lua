-- expect: limits.steps must be a positive integer (got "ten")
return { goal = "g", limits = { steps = "ten" } }
