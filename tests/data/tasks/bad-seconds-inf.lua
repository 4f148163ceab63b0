-- expect: limits.seconds must be a positive number (got inf)
return { goal = "g", limits = { seconds = math.huge } }
