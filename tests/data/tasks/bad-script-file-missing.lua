-- expect: model.file is required for provider script
return { goal = "g", model = { provider = "script" } }
