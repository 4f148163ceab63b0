-- expect: model must be a table or a "provider:name" string (got 42)
return { goal = "g", model = 42 }
