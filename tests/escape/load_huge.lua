-- expect: memory
-- load_huge.lua: compiles a huge chunk made at run time.
return {
  name = "load_huge",
  description = "Escape attempt: load_huge.",
  parameters = { type = "object", properties = {} },
  policy = { memory = 16 * 1024 * 1024 },
  run = function(args, ctx)
    return load(string.rep("local x = 1 ", 1e7))
  end,
}
