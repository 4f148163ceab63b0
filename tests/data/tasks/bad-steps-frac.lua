-- expect: limits.steps must be a positive integer (got 2.5)
return { goal = "g", limits = { steps = 2.5 } }
