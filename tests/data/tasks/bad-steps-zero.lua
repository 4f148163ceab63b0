-- expect: limits.steps must be a positive integer (got 0)
return { goal = "g", limits = { steps = 0 } }
