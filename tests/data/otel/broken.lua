-- broken.lua: a task that goes wrong on purpose, for tests/test-otel.c: a
-- failing calc call, an unknown tool and a tool over its memory limit in
-- step 1 (bigout, from tests/data/agent/tools), then calc calls until the
-- step limit ends the run as failed.
return {
  name = "broken",
  model = { provider = "script", file = "broken-model.lua" },
  goal = "fail",
  tools = { "calc", "bigout" },
  limits = { steps = 3 },
}
