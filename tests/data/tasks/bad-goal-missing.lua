-- expect: goal is required
return { name = "x", system = "You help." }
