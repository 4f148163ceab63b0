-- expect: error: nesting deeper than 64
-- json_cycle.lua: returns a table that contains itself, for the worker's JSON
-- encoder to follow forever.
return {
  name = "json_cycle",
  description = "Escape attempt: json_cycle.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    local t = {}
    t.self = t
    return t
  end,
}
