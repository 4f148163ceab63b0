-- expect: load: instruction limit
-- load_time_loop.lua: loops forever at the top of the file, which the agent
-- runs when it reads the tool's descriptor, in its own process rather than
-- in a worker. The registry's Lua state has an instruction cap too: the
-- task is refused (exit status 2) and nothing hangs.
while true do end
return {
  name = "load_time_loop",
  description = "Escape attempt: load_time_loop.",
  parameters = { type = "object", properties = {} },
  run = function() return "never" end,
}
