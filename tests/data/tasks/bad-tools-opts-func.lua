-- expect: tools.web_fetch.check: cannot encode a function
return { goal = "g", tools = { web_fetch = { check = function() end } } }
