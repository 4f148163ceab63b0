-- expect: error: invalid JSON
-- json_decode_deep.lua: hands json.decode a document nested a million deep.
return {
  name = "json_decode_deep",
  description = "Escape attempt: json_decode_deep.",
  parameters = { type = "object", properties = {} },
  run = function(args, ctx)
    return json.decode(string.rep("[", 1e6) .. string.rep("]", 1e6))
  end,
}
