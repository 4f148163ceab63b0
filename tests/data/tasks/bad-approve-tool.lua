-- expect: approve[2] names tool "emial", which is not in tools
return { goal = "g", tools = { "email" }, approve = { "email", "emial.send" } }
