-- expect: goal must be a non-empty string (got 42)
return { goal = 42 }
