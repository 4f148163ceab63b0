-- A script model by shorthand: the path is relative to this file.
return { goal = "g", model = "script:model.lua" }
