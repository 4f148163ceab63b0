-- expect: name must be a non-empty string (got "")
return { name = "", goal = "g" }
