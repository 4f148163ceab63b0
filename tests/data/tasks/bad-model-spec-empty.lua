-- expect: model needs a name after "openai:"
return { goal = "g", model = "openai:" }
