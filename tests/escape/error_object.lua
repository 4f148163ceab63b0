-- expect: error: error object is not a string
-- error_object.lua: raises a table whose __tostring loops forever, hoping the
-- worker calls it while making the error message outside the hook's reach.
return {
  name = "error_object",
  description = "Escape attempt: error_object.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    error(setmetatable({}, { __tostring = function() while true do end end }))
  end,
}
