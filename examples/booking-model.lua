-- booking-model.lua: a scripted stand-in for a model, for
-- examples/booking.lua (and tests/e2e-booking.sh). It reads the user id,
-- route, date and cabin from the goal, then, one tool call per step as
-- the airline policy asks:
--   1. get_user_details for the user;
--   2. search_direct_flight for the route and date;
--   3. book_reservation of the cheapest flight with a free seat in the
--      cabin, for the user alone, paid in full with the first credit card
--      of their profile;
--   4. answers with the reservation id and price (or what went wrong).

-- The text of a tool result, without the runtime's untrusted-content
-- markers around it.
local function text_of(m)
  return (m.content or ""):gsub("^<<untrusted[^\n]*>>\n", "")
                          :gsub("\n<<end of untrusted content>>$", "")
end

-- The results so far, by function name (the last one of each).
local function results(ctx)
  local out = {}
  for _, m in ipairs(ctx.messages) do
    if m.role == "tool" then
      out[m.name] = { text = text_of(m), error = m.is_error }
    end
  end
  return out
end

local function goal_of(ctx)
  for _, m in ipairs(ctx.messages) do
    if m.role == "user" then return m.content or "" end
  end
  return ""
end

return function(ctx)
  local goal = goal_of(ctx)
  local user = goal:match("(%l+_%l+_%d+)")
  local from, to = goal:match("from (%u%u%u) to (%u%u%u)")
  local date = goal:match("(%d%d%d%d%-%d%d%-%d%d)")
  local cabin = goal:match("(basic economy)") and "basic_economy"
             or goal:match("(business)") and "business" or "economy"
  if not (user and from and to and date) then
    return "I need a user id, a route (from XXX to YYY) and a date."
  end
  local r = results(ctx)

  if not r.get_user_details then
    return { text = "Let me look up your profile.",
             tool_calls = { { name = "get_user_details",
                              arguments = { user_id = user } } } }
  end
  local u = r.get_user_details
  if u.error or u.text:match("^Error") then
    return "I could not find the user " .. user .. ": " .. u.text
  end

  if not r.search_direct_flight then
    return { text = "Now the direct flights.",
             tool_calls = { { name = "search_direct_flight",
                              arguments = { origin = from, destination = to,
                                            date = date } } } }
  end

  if not r.book_reservation then
    local s = r.search_direct_flight
    local flights = not s.error and json.decode(s.text)
    if type(flights) ~= "table" then
      return "The flight search failed: " .. s.text
    end
    local best
    for _, f in ipairs(flights) do
      if f.available_seats[cabin] >= 1 and
          (not best or f.prices[cabin] < best.prices[cabin]) then
        best = f
      end
    end
    if not best then
      return string.format("There is no direct %s seat from %s to %s on %s.",
                           cabin, from, to, date)
    end
    -- the profile's first credit card, in the order the profile lists them
    local card = u.text:match('"(credit_card_%d+)": {"source": "credit_card"')
    if not card then
      return "Your profile has no credit card to pay with."
    end
    local profile = json.decode(u.text)
    return {
      text = string.format("Booking %s at %d.", best.flight_number,
                           best.prices[cabin]),
      tool_calls = { { name = "book_reservation", arguments = {
        user_id = user, origin = from, destination = to,
        flight_type = "one_way", cabin = cabin,
        flights = { { flight_number = best.flight_number, date = date } },
        passengers = { { first_name = profile.name.first_name,
                         last_name = profile.name.last_name,
                         dob = profile.dob } },
        payment_methods = { { payment_id = card,
                              amount = best.prices[cabin] } },
        total_baggages = 0, nonfree_baggages = 0, insurance = "no",
      } } },
    }
  end

  local b = r.book_reservation
  local res = not b.error and b.text:match("^{") and json.decode(b.text)
  if not res then
    return "The booking did not go through: " .. b.text
  end
  local f = res.flights[1]
  return string.format("Booked: reservation %s, flight %s from %s to %s on "
                       .. "%s in %s, %d paid with %s.", res.reservation_id,
                       f.flight_number, f.origin, f.destination, f.date,
                       res.cabin, res.payment_history[1].amount,
                       res.payment_history[1].payment_id)
end
