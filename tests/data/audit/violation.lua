-- violation.lua: a task whose stand-in model calls a tool that the sandbox
-- stops (bigout asking for far more memory than a tool may use), so that the
-- audit log holds a violation record; for tests/e2e-audit.sh.
return {
  name = "violation",
  model = { provider = "script", file = "violation-model.lua" },
  goal = "Print a lot of text.",
  tools = { "bigout" },
  limits = { steps = 3 },
}
