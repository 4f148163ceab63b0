-- expect: memory
-- string_rep_doubling.lua: doubles a string until the memory cap refuses,
-- under pcall, and keeps trying: every try would copy megabytes in C
-- before the refusal, which the instruction count does not see. Once the
-- allocator has refused, the hook raises at every instruction, so pcall
-- cannot carry on: the memory verdict ends it at once.
return {
  name = "string_rep_doubling",
  description = "Escape attempt: string_rep_doubling.",
  parameters = { type = "object", properties = {} },
  policy = { memory = 16 * 1024 * 1024, instructions = 1e7, timeout = 1 },
  run = function(args, ctx)
    local s = "x"
    while true do
      local ok, r = pcall(string.rep, s, 2)
      if ok then s = r end
    end
  end,
}
