-- expect: secrets[1] must be a non-empty string (got a number)
-- the value is not shown: it may be the secret
return { goal = "g", secrets = { 123456 } }
