-- json.lua: a pure-Lua stand-in for the `json` global that agent gives to
-- script models (agent/json.c), so that examples/sim/town-model.lua can be
-- run with plain lua5.4: encode (object keys sorted and numbers printed as
-- agent's cJSON does), decode (whole numbers as integers, arrays marked),
-- array, null. tests/standin loads it as the json global of --lua models.
local json = {}

local ARRAY = setmetatable({}, { __name = "json.array" })
json.null = setmetatable({}, { __name = "json.null",
                               __tostring = function() return "null" end })

function json.array(t)
  t = t or {}
  return setmetatable(t, { __jsontype = "array", [ARRAY] = true })
end

local function is_array(t)
  local mt = getmetatable(t)
  if mt and mt.__jsontype == "array" then return true, #t end
  local n, max = 0, 0
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 then return false end
    n = n + 1
    if k > max then max = k end
  end
  if n > 0 and n == max then return true, n end
  return false
end

local ESC = { ['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f",
              ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }

local function enc_str(s) -- as cJSON: control characters, " and \ (not DEL)
  return '"' .. s:gsub('[%z\1-\31"\\]', function(c)
    return ESC[c] or string.format("\\u%04x", c:byte())
  end) .. '"'
end

local function enc(v, out, depth)
  if depth > 64 then error("json.encode: nesting deeper than 64") end
  local t = type(v)
  if v == nil or v == json.null then out[#out + 1] = "null"
  elseif t == "boolean" then out[#out + 1] = tostring(v)
  elseif t == "number" then
    if v ~= v or v == math.huge or v == -math.huge then
      out[#out + 1] = "null"
    else -- as cJSON: 15 digits when they read back (nearly) the same, else 17
      local s = string.format("%.15g", v)
      local back, f = tonumber(s), v + 0.0
      if math.abs(back - f) > math.max(math.abs(back), math.abs(f))
                               * 2.220446049250313e-16 then
        s = string.format("%.17g", v)
      end
      out[#out + 1] = s
    end
  elseif t == "string" then out[#out + 1] = enc_str(v)
  elseif t == "table" then
    local arr, n = is_array(v)
    if arr then
      out[#out + 1] = "["
      for i = 1, n do
        if i > 1 then out[#out + 1] = "," end
        enc(v[i], out, depth + 1)
      end
      out[#out + 1] = "]"
    else
      local keys = {}
      for k in pairs(v) do
        if type(k) ~= "string" then
          error("json.encode: mixed array and object keys")
        end
        keys[#keys + 1] = k
      end
      table.sort(keys)
      out[#out + 1] = "{"
      for i, k in ipairs(keys) do
        if i > 1 then out[#out + 1] = "," end
        out[#out + 1] = enc_str(k)
        out[#out + 1] = ":"
        enc(v[k], out, depth + 1)
      end
      out[#out + 1] = "}"
    end
  else
    error("json.encode: cannot encode a " .. t)
  end
end

function json.encode(v)
  local out = {}
  local ok, err = pcall(enc, v, out, 0)
  if not ok then return nil, err end
  return table.concat(out)
end

local function decoder(s)
  local i = 1
  local function ws() i = s:find("[^ \t\r\n]", i) or #s + 1 end
  local function fail(what) error(string.format("invalid JSON near byte %d: %s", i, what), 0) end
  local value
  local function str()
    i = i + 1
    local out = {}
    while true do
      local c = s:sub(i, i)
      if c == "" then fail("unterminated string") end
      if c == '"' then i = i + 1; break end
      if c == "\\" then
        local e = s:sub(i + 1, i + 1)
        local map = { b = "\b", f = "\f", n = "\n", r = "\r", t = "\t",
                      ['"'] = '"', ["\\"] = "\\", ["/"] = "/" }
        if map[e] then out[#out + 1] = map[e]; i = i + 2
        elseif e == "u" then
          local cp = tonumber(s:sub(i + 2, i + 5), 16)
          if not cp then fail("bad \\u escape") end
          i = i + 6
          if cp >= 0xD800 and cp <= 0xDBFF and s:sub(i, i + 1) == "\\u" then
            local lo = tonumber(s:sub(i + 2, i + 5), 16)
            if lo and lo >= 0xDC00 and lo <= 0xDFFF then
              cp = 0x10000 + (cp - 0xD800) * 0x400 + (lo - 0xDC00)
              i = i + 6
            end
          end
          out[#out + 1] = utf8.char(cp)
        else fail("bad escape") end
      else
        out[#out + 1] = c
        i = i + 1
      end
    end
    return table.concat(out)
  end
  function value()
    ws()
    local c = s:sub(i, i)
    if c == "{" then
      i = i + 1
      local t = {}
      ws()
      if s:sub(i, i) == "}" then i = i + 1; return t end
      while true do
        ws()
        if s:sub(i, i) ~= '"' then fail("expected a key") end
        local k = str()
        ws()
        if s:sub(i, i) ~= ":" then fail("expected ':'") end
        i = i + 1
        t[k] = value()
        ws()
        local d = s:sub(i, i)
        i = i + 1
        if d == "}" then return t end
        if d ~= "," then fail("expected ',' or '}'") end
      end
    elseif c == "[" then
      i = i + 1
      local t = json.array({})
      ws()
      if s:sub(i, i) == "]" then i = i + 1; return t end
      while true do
        t[#t + 1] = value()
        ws()
        local d = s:sub(i, i)
        i = i + 1
        if d == "]" then return t end
        if d ~= "," then fail("expected ',' or ']'") end
      end
    elseif c == '"' then return str()
    elseif s:sub(i, i + 3) == "true" then i = i + 4; return true
    elseif s:sub(i, i + 4) == "false" then i = i + 5; return false
    elseif s:sub(i, i + 3) == "null" then i = i + 4; return json.null
    else
      local num = s:match("^-?%d+%.?%d*[eE]?[-+]?%d*", i)
      if not num or num == "" then fail("unexpected character") end
      i = i + #num
      local v = tonumber(num)
      if v and v == math.floor(v) and math.abs(v) < 2^53 then
        v = math.tointeger(v) or v
      end
      return v
    end
  end
  return function()
    local v = value()
    ws()
    if i <= #s then fail("trailing text") end
    return v
  end
end

function json.decode(s)
  local ok, v = pcall(decoder(s))
  if not ok then return nil, v end
  return v
end

return json
