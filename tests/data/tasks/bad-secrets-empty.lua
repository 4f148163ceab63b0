-- expect: secrets[2] must be a non-empty string (got "")
return { goal = "g", secrets = { "hunter2", "" } }
