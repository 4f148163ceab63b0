-- expect: limits.seconds must be a positive number (got 0)
return { goal = "g", limits = { seconds = 0 } }
