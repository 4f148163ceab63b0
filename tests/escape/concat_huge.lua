-- expect: memory
-- concat_huge.lua: builds a long string by concatenation in a loop.
return {
  name = "concat_huge",
  description = "Escape attempt: concat_huge.",
  parameters = { type = "object", properties = {} },
  policy = { memory = 16 * 1024 * 1024 },
  run = function(args, ctx)
    local t = {}
    for i = 1, 1e8 do t[#t + 1] = "0123456789abcdef" end
    return table.concat(t)
  end,
}
