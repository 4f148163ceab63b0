-- expect: 4: '}' expected (to close '{' at line 2) near <eof>
return {
  goal = "g"
