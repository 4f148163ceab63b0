-- hello.lua: the smallest useful task. The scripted stand-in model (offline,
-- deterministic) asks the clock tool for today's date and the calc tool for
-- a product, in one step and in parallel, then answers from the results.
--
--   agent run examples/hello.lua
--
-- To use a real model instead: agent run examples/hello.lua --model openai:gpt-4o-mini
return {
  name = "hello",
  model = { provider = "script", file = "hello-model.lua" },
  system = "You are a helpful assistant. Use the tools when they help; "
        .. "answer in one sentence.",
  goal = "What day of the week is it today (UTC), and what is 1234 * 5678?",
  tools = { "clock", "calc" },
  limits = { steps = 5, seconds = 30 },
}
