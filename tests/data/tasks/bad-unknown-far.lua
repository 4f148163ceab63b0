-- expect: unknown field "colour"
return { goal = "g", colour = "red" }
