-- expect: 3: unexpected symbol near '='
return {
  goal = = "g" }
