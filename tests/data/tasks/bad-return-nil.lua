-- expect: must return a table (got nil)
local t = { goal = "forgot to return it" }
