-- expect: load: memory
-- load_time_memory.lua: grows memory without end at the top of the file,
-- which the agent runs in its own process to read the descriptor. The
-- registry's Lua state has a memory cap: the task is refused.
local t = {}
for i = 1, 1e9 do t[i] = string.rep("x", 64) .. i end
return {
  name = "load_time_memory",
  description = "Escape attempt: load_time_memory.",
  parameters = { type = "object", properties = {} },
  run = function() return "never" end,
}
