-- booking.lua: the booking tool with a scripted stand-in model (offline,
-- deterministic). The model looks up the user named in the goal, searches
-- the direct flights of the route and date the goal names, books the
-- cheapest economy seat for the user with their first credit card, and
-- answers with the reservation.
--
-- The booking service runs on this machine. Generate a database and start
-- the service first, in another terminal:
--
--   python3 examples/booking/generate.py --out /tmp/db &&
--   python3 examples/booking/server.py --db /tmp/db --port 8090 &
--
-- then:
--
--   agent run examples/booking.lua -v
--
-- Every generated database has the user mia_li_3668 and a direct flight
-- from SFO to JFK (HAT001). The service keeps its changes in memory only:
-- `curl -X POST http://127.0.0.1:8090/reset` (or a restart) puts the files'
-- state back. AGENT_BOOKING_URL points the task at another service.
--
-- To use a real model instead (the benchmark's policy as the system prompt
-- is ../shared/booking/policy.md):
--   agent run examples/booking.lua --model openai:gpt-4o-mini
local url = os.getenv("AGENT_BOOKING_URL") or "http://127.0.0.1:8090"

return {
  name = "booking",
  model = { provider = "script", file = "booking-model.lua" },
  system = "You are an airline agent. The current time is 2024-05-15 15:00:00 "
        .. "EST. Use the booking tools to look up users and flights and to book; "
        .. "answer in one or two sentences.",
  goal = "My user id is mia_li_3668. Book me the cheapest direct economy "
      .. "flight from SFO to JFK on 2024-05-20, one way, just me, no insurance "
      .. "and no checked bags, paid with my credit card.",
  tools = { booking = { url = url } },
  limits = { steps = 8, seconds = 60 },
}
