-- examples/sim/gossip.lua: a world of light agents only (agent/sim.h, "Light
-- agents"). A hundred thousand people on a small-world social graph (each
-- knows about eight others); one of them starts a rumour at 8 o'clock. Each
-- person who knows it tells a random acquaintance about once an hour
-- (params.period, in game seconds) and loses interest after telling
-- params.patience people who knew already: rumour mongering with a counter
-- (Demers et al., "Epidemic algorithms for replicated database
-- maintenance", 1987). No model is called, so it runs in a second:
--
--   agent sim examples/sim/gossip.lua --seed 1 --out /tmp/gossip
--
-- and metrics.json holds the rumour's diffusion curve. The policy below is
-- also built into agent as "builtin:gossip"; both draw the same random
-- numbers, so either gives the same run.
return {
  name = "gossip",
  start = "2024-03-01 08:00",
  light = {
    count = 100000,
    graph = "small-world",
    degree = 8,
    rewire = 0.1,
    facts = { { id = "rumor", holders = { 0 } } },
    duration = "3d",
    params = { period = 3600, patience = 3 },

    -- Called once with the API table; returns the handler, called for each
    -- event of each agent. Keep the API in locals: a call is then cheap.
    policy = function(light)
      local pick, tell, rand = light.pick, light.tell, light.rand
      local period = light.params.period or 60
      local patience = light.params.patience or 3

      return function(agent, t, known, degree, state)
        if known == 0 or degree == 0 or state >= patience then
          return nil -- nothing to tell, or tired of it: sleep
        end
        if tell(pick(), known) == 0 then -- they knew it all already
          state = state + 1
          if state >= patience then
            return nil, state
          end
        end
        return period // 2 + rand(period), state -- about one period
      end
    end,
  },
}
