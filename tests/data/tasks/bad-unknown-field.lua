-- expect: unknown field "limts" (did you mean "limits"?)
return { goal = "g", limts = { steps = 5 } }
