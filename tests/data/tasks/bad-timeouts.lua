-- expect: model.timeouts.idle must be a positive number of seconds (got 0)
return {
  goal = "g",
  model = { provider = "openai", name = "m", timeouts = { connect = 2, idle = 0 } },
}
