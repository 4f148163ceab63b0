-- booking: a client for the flight-booking service of the airline domain of
-- tau-bench (examples/booking/server.py; the specification is the domain's
-- README). One tool family, fourteen functions with the benchmark's names,
-- descriptions and argument schemas, so that a model sees exactly what it
-- sees in the benchmark.
--
-- Each function POSTs its arguments as a JSON object to URL/ops/NAME and
-- returns the service's answer, a string, as the result: JSON text for
-- what was found or changed, "Error: ..." for what the service refused
-- (the model reads those as it would in the benchmark; they are results,
-- not tool failures). Only a failure to reach the service, or an answer
-- other than 200, is a tool error.
--
-- The service is named by the task (it reaches the tool as ctx.options):
--   tools = { booking = { url = "http://127.0.0.1:8090" } }
-- It is expected on this machine: the policy allows 127.0.0.1 and
-- localhost only, with POST.
--
-- Arguments keep the key order of the schema (first_name, last_name, dob;
-- flight_number, date; payment_id, amount), the order the service stores
-- them in: a Lua table has no order, and json.encode sorts keys.
--
-- Idempotency: the six functions that change data send an Idempotency-Key
-- header. The service runs a key once and answers a repeat with the stored
-- result, so a call that is sent again (a retry, a resumed run) never
-- books or refunds twice. The key is, in order of preference:
--   ctx.idempotency_key      given by the runtime, written before the call;
--   ctx.run .. ctx.tool_call_id   the run's id and the model's call id;
--   a key unique to this call (the clock, ctx.call_id, a random number and
--   a hash of the request): without a stable identity from the runtime, a
--   key made of the call's number and arguments alone would make a second
--   run of the same task against a running service get the first run's
--   answer back and book nothing.

local DEFAULT_URL = "http://127.0.0.1:8090"

-- Key order of the objects the schemas describe: ORDER[schema] = { keys }.
local ORDER = setmetatable({}, { __mode = "k" })

-- An object schema from an ordered list of { name, schema } pairs.
local function obj(fields, required)
  local props, order = {}, {}
  for i, f in ipairs(fields) do
    props[f[1]] = f[2]
    order[i] = f[1]
  end
  local s = { type = "object", properties = props, required = required }
  ORDER[s] = order
  return s
end

local function str(description) return { type = "string", description = description } end

local CABIN = { type = "string", enum = { "basic_economy", "economy", "business" } }
local PAYMENT_ID = str("The payment id stored in user profile, such as "
  .. "'credit_card_7815826', 'gift_card_7815826', 'certificate_7815826'.")
local FLIGHT = obj({
  { "flight_number", str("Flight number, such as 'HAT001'.") },
  { "date", str("The date for the flight in the format 'YYYY-MM-DD', such as '2024-05-01'.") },
}, { "flight_number", "date" })
local PASSENGERS = {
  type = "array",
  description = "An array of objects containing details about each passenger.",
  items = obj({
    { "first_name", str("The first name of the passenger, such as 'Noah'.") },
    { "last_name", str("The last name of the passenger, such as 'Brown'.") },
    { "dob", str("The date of birth of the passenger in the format 'YYYY-MM-DD', "
                 .. "such as '1990-01-01'.") },
  }, { "first_name", "last_name", "dob" }),
}
local RESERVATION_ID = str("The reservation ID, such as 'ZFA04Y'.")
local USER_ID = str("The ID of the user to book the reservation, such as 'sara_doe_496'.")

-- ---- the request ----

-- JSON text of v, objects in their schema's key order (other keys after
-- them, sorted); scalars and unknown shapes through json.encode.
local function encode(v, schema)
  if type(v) ~= "table" or v == json.null then
    return assert(json.encode(v))
  end
  local order = schema and ORDER[schema]
  if order and getmetatable(v) == nil then
    local parts, seen = {}, {}
    for _, k in ipairs(order) do
      if v[k] ~= nil then
        parts[#parts + 1] = json.encode(k) .. ":" .. encode(v[k], schema.properties[k])
        seen[k] = true
      end
    end
    local rest = {}
    for k in pairs(v) do
      if not seen[k] then rest[#rest + 1] = tostring(k) end
    end
    table.sort(rest)
    for _, k in ipairs(rest) do
      parts[#parts + 1] = json.encode(k) .. ":" .. assert(json.encode(v[k]))
    end
    return "{" .. table.concat(parts, ",") .. "}"
  end
  if schema and schema.type == "array" and schema.items and #v > 0 then
    local parts = {}
    for i = 1, #v do parts[i] = encode(v[i], schema.items) end
    return "[" .. table.concat(parts, ",") .. "]"
  end
  return assert(json.encode(v))
end

-- FNV-1a, 64 bits, as 16 hex digits (Lua integers wrap on overflow).
local function fnv1a(s)
  local h = -3750763034362895579 -- 0xcbf29ce484222325
  for i = 1, #s do
    h = (h ~ s:byte(i)) * 1099511628211
  end
  return string.format("%016x", h)
end

local function idempotency_key(ctx, fn, body)
  if type(ctx.idempotency_key) == "string" and ctx.idempotency_key ~= "" then
    return ctx.idempotency_key
  end
  if ctx.run and ctx.tool_call_id then
    return "agent-" .. tostring(ctx.run) .. "-" .. tostring(ctx.tool_call_id)
  end
  return string.format("booking-%d-%s-%d-%s", os.time(), tostring(ctx.call_id),
                       math.random(0, 0x7fffffff),
                       fnv1a(fn .. "\n" .. body .. "\n" .. os.clock()))
end

-- Runs one operation on the service and returns its result string.
local function call(fn, changes, schema, args, ctx)
  local opts = ctx.options or {}
  local base = type(opts.url) == "string" and opts.url or DEFAULT_URL
  base = base:gsub("/+$", "")
  local body = encode(args, schema)
  local headers = { ["Content-Type"] = "application/json" }
  if changes then
    headers["Idempotency-Key"] = idempotency_key(ctx, fn, body)
  end
  local res, err = http.request{
    method = "POST",
    url = base .. "/ops/" .. fn,
    headers = headers,
    body = body,
  }
  if not res then
    return nil, "booking service at " .. base .. ": " .. tostring(err)
  end
  local text = res.body or ""
  if res.status ~= 200 then
    return nil, string.format("booking service: HTTP %d: %s", res.status,
                              text:sub(1, 300))
  end
  return text
end

-- A function of the family: reading ones send no key.
local function op(changes, fn)
  fn.run = function(args, ctx)
    return call(ctx.fn, changes, fn.parameters, args, ctx)
  end
  return fn
end
local reading = function(fn) return op(false, fn) end
local changing = function(fn) return op(true, fn) end

return {
  name = "booking",
  description = "A flight-booking service: users, reservations and flights "
    .. "(the airline domain of tau-bench).",
  policy = {
    timeout = 10,
    net = {
      hosts = { "127.0.0.1", "localhost" },
      allow_private = true,
      methods = { "POST" },
      max_requests = 2,
    },
  },
  functions = {
    book_reservation = changing {
      description = "Book a reservation.",
      parameters = obj({
        { "user_id", USER_ID },
        { "origin", str("The IATA code for the origin city, such as 'SFO'.") },
        { "destination", str("The IATA code for the destination city, such as 'JFK'.") },
        { "flight_type", { type = "string", enum = { "one_way", "round_trip" } } },
        { "cabin", CABIN },
        { "flights", {
          type = "array",
          description = "An array of objects containing details about each piece of flight.",
          items = FLIGHT,
        } },
        { "passengers", PASSENGERS },
        { "payment_methods", {
          type = "array",
          description = "An array of objects containing details about each payment method.",
          items = obj({
            { "payment_id", PAYMENT_ID },
            { "amount", { type = "number", description = "The amount to be paid." } },
          }, { "payment_id", "amount" }),
        } },
        { "total_baggages", { type = "integer",
          description = "The total number of baggage items included in the reservation." } },
        { "nonfree_baggages", { type = "integer",
          description = "The number of non-free baggage items included in the reservation." } },
        { "insurance", { type = "string", enum = { "yes", "no" } } },
      }, { "user_id", "origin", "destination", "flight_type", "cabin", "flights",
           "passengers", "payment_methods", "total_baggages", "nonfree_baggages",
           "insurance" }),
    },

    calculate = reading {
      description = "Calculate the result of a mathematical expression.",
      parameters = obj({
        { "expression", str("The mathematical expression to calculate, such as '2 + 2'. "
          .. "The expression can contain numbers, operators (+, -, *, /), parentheses, "
          .. "and spaces.") },
      }, { "expression" }),
    },

    cancel_reservation = changing {
      description = "Cancel the whole reservation.",
      parameters = obj({ { "reservation_id", RESERVATION_ID } }, { "reservation_id" }),
    },

    get_reservation_details = reading {
      description = "Get the details of a reservation.",
      parameters = obj({
        { "reservation_id", str("The reservation id, such as '8JX2WO'.") },
      }, { "reservation_id" }),
    },

    get_user_details = reading {
      description = "Get the details of an user, including their reservations.",
      parameters = obj({
        { "user_id", str("The user id, such as 'sara_doe_496'.") },
      }, { "user_id" }),
    },

    list_all_airports = reading {
      description = "List all airports and their cities.",
      parameters = obj({}, json.array{}),
    },

    search_direct_flight = reading {
      description = "Search direct flights between two cities on a specific date.",
      parameters = obj({
        { "origin", str("The origin city airport in three letters, such as 'JFK'.") },
        { "destination", str("The destination city airport in three letters, such as 'LAX'.") },
        { "date", str("The date of the flight in the format 'YYYY-MM-DD', such as '2024-01-01'.") },
      }, { "origin", "destination", "date" }),
    },

    search_onestop_flight = reading {
      -- sic: the benchmark describes it with the direct search's words
      description = "Search direct flights between two cities on a specific date.",
      parameters = obj({
        { "origin", str("The origin city airport in three letters, such as 'JFK'.") },
        { "destination", str("The destination city airport in three letters, such as 'LAX'.") },
        { "date", str("The date of the flight in the format 'YYYY-MM-DD', such as '2024-05-01'.") },
      }, { "origin", "destination", "date" }),
    },

    send_certificate = changing {
      description = "Send a certificate to a user. Be careful!",
      parameters = obj({
        { "user_id", USER_ID },
        { "amount", { type = "number", description = "Certificate amount to send." } },
      }, { "user_id", "amount" }),
    },

    think = reading {
      description = "Use the tool to think about something. It will not obtain new "
        .. "information or change the database, but just append the thought to the "
        .. "log. Use it when complex reasoning is needed.",
      parameters = obj({
        { "thought", str("A thought to think about.") },
      }, { "thought" }),
    },

    transfer_to_human_agents = reading {
      description = "Transfer the user to a human agent, with a summary of the user's "
        .. "issue. Only transfer if the user explicitly asks for a human agent, or if "
        .. "the user's issue cannot be resolved by the agent with the available tools.",
      parameters = obj({
        { "summary", str("A summary of the user's issue.") },
      }, { "summary" }),
    },

    update_reservation_baggages = changing {
      description = "Update the baggage information of a reservation.",
      parameters = obj({
        { "reservation_id", RESERVATION_ID },
        { "total_baggages", { type = "integer",
          description = "The updated total number of baggage items included in the reservation." } },
        { "nonfree_baggages", { type = "integer",
          description = "The updated number of non-free baggage items included in the reservation." } },
        { "payment_id", PAYMENT_ID },
      }, { "reservation_id", "total_baggages", "nonfree_baggages", "payment_id" }),
    },

    update_reservation_flights = changing {
      description = "Update the flight information of a reservation.",
      parameters = obj({
        { "reservation_id", RESERVATION_ID },
        { "cabin", CABIN },
        { "flights", {
          type = "array",
          description = "An array of objects containing details about each piece of flight "
            .. "in the ENTIRE new reservation. Even if the a flight segment is not changed, "
            .. "it should still be included in the array.",
          items = FLIGHT,
        } },
        { "payment_id", PAYMENT_ID },
      }, { "reservation_id", "cabin", "flights", "payment_id" }),
    },

    update_reservation_passengers = changing {
      description = "Update the passenger information of a reservation.",
      parameters = obj({
        { "reservation_id", RESERVATION_ID },
        { "passengers", PASSENGERS },
      }, { "reservation_id", "passengers" }),
    },
  },
}
