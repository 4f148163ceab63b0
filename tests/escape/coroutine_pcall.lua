-- expect: cpu
-- coroutine_pcall.lua: catches the hook's error in a coroutine, resumes
-- another one, and so on.
return {
  name = "coroutine_pcall",
  description = "Escape attempt: coroutine_pcall.",
  parameters = { type = "object", properties = {} },
  policy = { timeout = 5, instructions = 1e7 },
  run = function(args, ctx)
    while true do
      local co = coroutine.create(function() while true do end end)
      pcall(coroutine.resume, co)
    end
  end,
}
