-- expect: memory
-- memory_table.lua: grows a table until memory runs out.
return {
  name = "memory_table",
  description = "Escape attempt: memory_table.",
  parameters = { type = "object", properties = {} },
  policy = { memory = 16 * 1024 * 1024 },
  run = function(args, ctx)
    local t = {}
    for i = 1, 1e9 do t[i] = { i } end
  end,
}
