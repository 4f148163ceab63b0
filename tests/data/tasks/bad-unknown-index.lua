-- expect: unknown field [1]
return { "clock", goal = "g" }
