-- expect: limits.repeat_calls must be a non-negative integer (got -1)
return { goal = "g", limits = { repeat_calls = -1 } }
