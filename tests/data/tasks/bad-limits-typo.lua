-- expect: unknown field "limits.step" (did you mean "limits.steps"?)
return { goal = "g", limits = { step = 3 } }
