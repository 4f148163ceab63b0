-- expect: unknown field "model.retries.attempt" (did you mean "model.retries.attempts"?)
return {
  goal = "g",
  model = { provider = "openai", name = "m", retries = { attempt = 3 } },
}
