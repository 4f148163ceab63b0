-- expect: unknown field "gaol" (did you mean "goal"?)
return { gaol = "swapped letters" }
