-- calc: evaluates an arithmetic expression exactly as written, with a small
-- recursive-descent parser (never Lua's load: the expression comes from the
-- model and is data, not code).
--
-- Grammar:  expr   := term (('+' | '-') term)*
--           term   := unary (('*' | '/' | '%') unary)*
--           unary  := ('-' | '+') unary | power
--           power  := atom ('^' unary)?          (right-associative)
--           atom   := number | name | name '(' expr (',' expr)* ')' | '(' expr ')'

local functions = {
  sqrt = math.sqrt, abs = math.abs, floor = math.floor, ceil = math.ceil,
  exp = math.exp, log = math.log, sin = math.sin, cos = math.cos,
  tan = math.tan, min = math.min, max = math.max,
  round = function(x, digits)
    local m = 10 ^ (digits or 0)
    return math.floor(x * m + 0.5) / m
  end,
}
local constants = { pi = math.pi, e = math.exp(1) }

local function tokenize(s)
  local tokens, i = {}, 1
  while i <= #s do
    local c = s:sub(i, i)
    if c:match("%s") then
      i = i + 1
    elseif c:match("[%d%.]") then
      local num = s:match("^%d*%.?%d+[eE][%+%-]?%d+", i) or s:match("^%d*%.?%d*", i)
      local v = tonumber(num)
      if not v then return nil, "bad number '" .. num .. "' at " .. i end
      tokens[#tokens + 1] = { kind = "num", value = v, pos = i }
      i = i + #num
    elseif c:match("[%a_]") then
      local name = s:match("^[%a_][%w_]*", i)
      tokens[#tokens + 1] = { kind = "name", value = name, pos = i }
      i = i + #name
    elseif c:match("[%+%-%*/%%%^%(%),]") then
      tokens[#tokens + 1] = { kind = c, pos = i }
      i = i + 1
    else
      return nil, "unexpected character '" .. c .. "' at " .. i
    end
  end
  tokens[#tokens + 1] = { kind = "end", pos = #s + 1 }
  return tokens
end

local function parser(tokens)
  local p = 1
  local function peek() return tokens[p].kind end
  local function take() p = p + 1; return tokens[p - 1] end
  local function expect(kind)
    if peek() ~= kind then
      error({ msg = "expected '" .. kind .. "' at " .. tokens[p].pos }, 0)
    end
    return take()
  end
  local expr
  local function atom()
    local t = take()
    if t.kind == "num" then return t.value end
    if t.kind == "(" then
      local v = expr()
      expect(")")
      return v
    end
    if t.kind == "name" then
      if peek() == "(" then
        local f = functions[t.value]
        if not f then error({ msg = "unknown function '" .. t.value .. "'" }, 0) end
        take()
        local args = { expr() }
        while peek() == "," do take(); args[#args + 1] = expr() end
        expect(")")
        return f(table.unpack(args))
      end
      local c = constants[t.value]
      if not c then error({ msg = "unknown name '" .. t.value .. "'" }, 0) end
      return c
    end
    error({ msg = "unexpected '" .. t.kind .. "' at " .. t.pos }, 0)
  end
  local unary
  local function power()
    local base = atom()
    if peek() == "^" then take(); return base ^ unary() end
    return base
  end
  function unary()
    if peek() == "-" then take(); return -unary() end
    if peek() == "+" then take(); return unary() end
    return power()
  end
  local function term()
    local v = unary()
    while peek() == "*" or peek() == "/" or peek() == "%" do
      local op = take().kind
      local r = unary()
      if op == "*" then v = v * r
      elseif op == "/" then
        if r == 0 then error({ msg = "division by zero" }, 0) end
        v = v / r
      else
        if r == 0 then error({ msg = "modulo by zero" }, 0) end
        v = v % r
      end
    end
    return v
  end
  function expr()
    local v = term()
    while peek() == "+" or peek() == "-" do
      local op = take().kind
      local r = term()
      if op == "+" then v = v + r else v = v - r end
    end
    return v
  end
  return function()
    local v = expr()
    expect("end")
    return v
  end
end

return {
  name = "calc",
  description = "Evaluate an arithmetic expression exactly. Supports + - * / % ^, "
    .. "parentheses, the constants pi and e, and sqrt, abs, floor, ceil, round(x, digits), "
    .. "exp, log, sin, cos, tan, min, max.",
  parameters = {
    type = "object",
    properties = {
      expr = { type = "string", description = "The expression, e.g. \"(2 + 3) * 7\"",
               minLength = 1, maxLength = 1000 },
    },
    required = { "expr" },
    additionalProperties = false,
  },
  policy = { timeout = 2, memory = 8 * 1024 * 1024, output = 4096 },
  run = function(args)
    local tokens, err = tokenize(args.expr)
    if not tokens then return nil, err end
    local ok, v = pcall(parser(tokens))
    if not ok then
      return nil, type(v) == "table" and v.msg or tostring(v)
    end
    if v ~= v then return nil, "result is not a number" end
    if v == math.huge or v == -math.huge then return nil, "result is infinite" end
    if math.type(v) == "float" and v == math.floor(v) and math.abs(v) < 2^53 then
      v = math.tointeger(v)
    end
    return { expr = args.expr, value = v }
  end,
}
