-- expect: must return a table (got "hello")
return "hello"
