-- expect: limits must be a table (got 5)
return { goal = "g", limits = 5 }
