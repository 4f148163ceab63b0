-- calc.lua: a task in three steps that shows how the runtime answers a
-- broken tool call. The stand-in model first sends the expression as a
-- number, which breaks the tool's JSON schema; it is told so, with the
-- schema, corrects itself, then uses the result in a second calculation.
--
--   agent run examples/calc.lua -v
return {
  name = "compound-interest",
  model = { provider = "script", file = "calc-model.lua" },
  system = "You are careful with numbers. Always use the calc tool.",
  goal = "I put 2500 EUR in an account paying 3.5% a year, compounded yearly. "
      .. "How much is there after 10 years, and how much of it is interest?",
  tools = { "calc" },
  limits = { steps = 6, seconds = 30 },
}
