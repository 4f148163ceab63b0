-- expect: error: nesting deeper than 64
-- json_deep_result.lua: returns a result nested a thousand deep for the worker
-- to encode.
return {
  name = "json_deep_result",
  description = "Escape attempt: json_deep_result.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    local t = {}
    local cur = t
    for i = 1, 1000 do cur.x = {}; cur = cur.x end
    return t
  end,
}
