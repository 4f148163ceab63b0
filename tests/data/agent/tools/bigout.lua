-- bigout: returns a large text (tests context fitting).
return {
  name = "bigout",
  description = "Return a lot of text.",
  parameters = { type = "object", properties = { n = { type = "integer" } } },
  run = function(args)
    return string.rep("lorem ipsum ", args.n or 1000)
  end,
}
