-- expect: goal must be a non-empty string (got "")
return { goal = "" }
