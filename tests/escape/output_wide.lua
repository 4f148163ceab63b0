-- expect: output
-- output_wide.lua: returns a table with a million small entries: small in Lua,
-- large as JSON.
return {
  name = "output_wide",
  description = "Escape attempt: output_wide.",
  parameters = { type = "object", properties = {} },
  policy = { output = 65536 },
  run = function(args, ctx)
    local t = {}
    for i = 1, 2e5 do t[i] = i end
    return t
  end,
}
