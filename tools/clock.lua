-- clock: tells the current date and time, in UTC or at a fixed offset.
-- Only os.time and os.date are used; both work inside the sandbox.

local weekdays = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday",
                   "Friday", "Saturday" }

return {
  name = "clock",
  description = "Get the current date and time. Returns ISO 8601 text, the weekday "
    .. "and Unix seconds, in UTC or at the given UTC offset in hours.",
  parameters = {
    type = "object",
    properties = {
      utc_offset = { type = "number", minimum = -12, maximum = 14,
                     description = "Hours east of UTC, e.g. -5 or 5.5; default 0" },
    },
    additionalProperties = false,
  },
  policy = { timeout = 1, memory = 4 * 1024 * 1024, output = 1024 },
  run = function(args)
    local offset = args.utc_offset or 0
    local now = os.time()
    local t = os.date("!*t", now + math.floor(offset * 3600))
    local sign = offset < 0 and "-" or "+"
    local mins = math.floor(math.abs(offset) * 60 + 0.5)
    local zone = offset == 0 and "Z"
      or string.format("%s%02d:%02d", sign, mins // 60, mins % 60)
    return {
      iso = string.format("%04d-%02d-%02dT%02d:%02d:%02d%s", t.year, t.month,
                          t.day, t.hour, t.min, t.sec, zone),
      weekday = weekdays[t.wday],
      unix = now,
      utc_offset = offset,
    }
  end,
}
