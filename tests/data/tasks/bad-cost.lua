-- expect: limits.cost must be a non-negative number (got -0.5)
return { goal = "g", limits = { cost = -0.5 } }
