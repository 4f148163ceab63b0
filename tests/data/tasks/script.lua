-- A script model given as a table.
return { goal = "g", model = { provider = "script", file = "model.lua" } }
