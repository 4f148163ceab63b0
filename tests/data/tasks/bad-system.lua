-- expect: system must be a string (got true)
return { goal = "g", system = true }
