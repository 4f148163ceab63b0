-- cognition.lua: what a full agent of the simulation does, after
-- "Generative Agents" (Park et al. 2023): it plans its day in broad strokes,
-- then in hourly blocks, then in 5-15 minute actions at places of the map;
-- it perceives who and what is near, remembers what matters (each memory's
-- importance is asked of the model), reacts (a conversation, or a new plan),
-- and reflects when enough has happened, drawing insights that cite their
-- evidence. Everything it does goes through the engine's API (sim-lua.c):
-- sim.ask and sim.wait yield, so one agent waiting for its model costs only
-- its memory, and the engine applies answers in a fixed order.
--
-- Facts passed to each prompt kind (the templates in prompts/ show them):
--   common       agent, persona, now (the game clock), place
--   importance   memory
--   day_plan     date, known_facts, memories
--   hourly       day_plan, date, known_facts, places
--   decompose    block {start, minutes, activity}, places
--   react        observation, other {name, activity, known},
--                current_activity, memories
--   chat         partner, history, known_facts, memories, turn
--   chat_summary partner, history, partner_facts
--   questions    memories
--   insights     question, memories (with ids)

local S = sim.settings()

local function persona(me)
  return string.format("%s (%d): %s. %s %s %s", me.name, me.age, me.innate,
                       me.learned, me.currently, me.lifestyle)
end

local function base(me, extra)
  local f = { agent = me.name, persona = persona(me), now = sim.clock(),
              place = sim.me().place }
  for k, v in pairs(extra or {}) do f[k] = v end
  return f
end

local function texts(mems)
  local out = {}
  for i, m in ipairs(mems) do out[i] = { id = m.id, text = m.text } end
  return json.array(out)
end

local function remember(me, kind, text, who)
  if not S.memory then return end
  local a = sim.ask("importance", base(me, { memory = text }))
  memory.add(kind, text, math.tointeger(tonumber(a.importance)) or 3, nil, who)
end

local function place_names()
  local out = {}
  for i, p in ipairs(sim.places()) do out[i] = p.name end
  return json.array(out)
end

local function minutes_of(hhmm)
  local h, m = tostring(hhmm):match("^(%d+):(%d+)")
  return h and (tonumber(h) * 60 + tonumber(m)) or nil
end

local function now_minutes()
  local h, m = sim.clock():match("(%d+):(%d+)$")
  return tonumber(h) * 60 + tonumber(m)
end

-- ---- reflection ---------------------------------------------------------

local function reflect(me)
  if not (S.reflection and S.memory) then return end
  if memory.since_reflection() < S.reflect_threshold then return end
  local recent = memory.retrieve(me.name .. " recent events", 100)
  local q = sim.ask("questions", base(me, { memories = texts(recent) }))
  local made = {}
  for _, question in ipairs(q.questions or {}) do
    if type(question) == "string" then
      local mems = memory.retrieve(question, S.retrieve)
      local a = sim.ask("insights", base(me, { question = question,
                                              memories = texts(mems) }))
      for _, ins in ipairs(a.insights or {}) do
        if type(ins) == "table" and type(ins.text) == "string" then
          local ev = {}
          for _, e in ipairs(ins.evidence or {}) do
            if math.tointeger(e) then ev[#ev + 1] = math.tointeger(e) end
          end
          memory.add("thought", ins.text, 6, ev)
          made[#made + 1] = ins.text
        end
      end
    end
  end
  memory.reflected()
  sim.log("reflect", { insights = json.array(made) })
end

-- ---- conversation -------------------------------------------------------

local function converse(me, other)
  if not sim.chat_begin(other) then return false end
  local history, speakers = {}, { me.name, other }
  for turn = 1, S.chat_turns do
    local speaker = speakers[(turn - 1) % 2 + 1]
    local partner = speakers[turn % 2 + 1]
    local mems = memory.retrieve(partner, 5, speaker)
    local a = sim.ask("chat", { agent = speaker, partner = partner,
                                now = sim.clock(), turn = turn,
                                history = json.array(history),
                                known_facts = json.array(sim.facts(speaker)),
                                memories = texts(mems) })
    if type(a.say) == "string" and a.say ~= "" then
      sim.say(speaker, partner, a.say)
      history[#history + 1] = { speaker = speaker, text = a.say }
    end
    if a["end"] == true and turn >= 2 then break end
  end
  local summary = ""
  for i, listener in ipairs(speakers) do
    local partner = speakers[3 - i]
    local a = sim.ask("chat_summary", { agent = listener, partner = partner,
                                        now = sim.clock(),
                                        history = json.array(history),
                                        partner_facts =
                                          json.array(sim.facts(partner)) })
    for _, id in ipairs(a.facts or {}) do
      if type(id) == "string" then sim.learn(id, partner, listener) end
    end
    local text = type(a.summary) == "string" and a.summary ~= "" and a.summary
                 or ("talked with " .. partner)
    if S.memory then
      memory.add("chat", listener .. ": " .. text, 5, nil, listener)
    end
    if i == 1 then summary = text end
  end
  sim.chat_end(other, summary)
  sim.wait(#history * 60, false)
  return true
end

-- ---- perceiving and reacting ----------------------------------------------

local function perceive_and_react(me, doing)
  for _, seen in ipairs(sim.perceive()) do
    if seen.kind == "agent" then
      remember(me, "observation", seen.name .. " is " .. seen.activity)
      if sim.can_chat(seen.name) then
        local mems = memory.retrieve(seen.name, 5)
        local r = sim.ask("react", base(me, {
          observation = seen.name .. " is " .. seen.activity,
          other = { name = seen.name, activity = seen.activity,
                    known = seen.known },
          current_activity = doing, memories = texts(mems) }))
        if r.react == true and r.talk_to == seen.name then
          converse(me, seen.name)
        elseif r.react == true and type(r.replan) == "string" then
          return r.replan
        end
      end
    end
  end
  return nil
end

-- ---- planning and acting ------------------------------------------------

local function plan_day(me)
  if not S.planning then return {} end
  local date = sim.clock():sub(1, 10)
  local known = json.array(sim.facts())
  local d = sim.ask("day_plan", base(me, { date = date, known_facts = known,
                         memories = texts(memory.retrieve(me.name .. " plans", 10)) }))
  local h = sim.ask("hourly", base(me, { date = date, known_facts = known,
                                         day_plan = json.array(d.plan or {}),
                                         places = place_names() }))
  local blocks = {}
  for _, b in ipairs(h.blocks or {}) do
    local start = minutes_of(b.start)
    local mins = math.tointeger(tonumber(b.minutes))
    if start and mins and mins > 0 and type(b.activity) == "string" then
      blocks[#blocks + 1] = { start = start, minutes = mins,
                              activity = b.activity, hhmm = b.start }
    end
  end
  table.sort(blocks, function(x, y) return x.start < y.start end)
  sim.log("plan", { kind = "hourly", items = json.array(blocks) })
  if S.memory then
    memory.add("plan", "plan for " .. date .. ": " ..
               table.concat(d.plan or {}, "; "), 5)
  end
  return blocks
end

local function current_block(blocks)
  local now = now_minutes()
  for _, b in ipairs(blocks) do
    if now >= b.start and now < b.start + b.minutes then return b end
  end
  return nil
end

local function next_block_start(blocks)
  local now = now_minutes()
  for _, b in ipairs(blocks) do
    if b.start > now then return b.start end
  end
  return nil
end

local function do_block(me, block)
  local d = sim.ask("decompose", base(me, {
    block = { start = block.hhmm, minutes = block.minutes,
              activity = block.activity },
    places = place_names() }))
  local left = block.start + block.minutes - now_minutes()
  for _, act in ipairs(d.actions or {}) do
    if left <= 0 then break end
    local mins = math.tointeger(tonumber(act.minutes)) or S.action_min
    mins = math.max(S.action_min, math.min(S.action_max, mins, left))
    if type(act.place) == "string" then sim.move(act.place) end
    local activity = type(act.activity) == "string" and act.activity
                     or block.activity
    sim.act(activity, type(act.object) == "string" and act.object or nil, mins)
    local until_t = sim.now() + mins * 60
    while sim.now() < until_t do
      local woken = sim.wait(until_t - sim.now(), true)
      if woken or S.tick > 0 then
        local replan = perceive_and_react(me, activity)
        if replan then
          sim.act(replan, nil, S.action_max)
          sim.wait(S.action_max * 60, false)
          break
        end
      end
    end
    perceive_and_react(me, activity)
    left = block.start + block.minutes - now_minutes()
  end
  if left > 0 then sim.wait(left * 60, true) end
end

return function(id)
  local me = sim.me()
  local day = nil
  local blocks = {}
  while true do
    local date = sim.clock():sub(1, 10)
    if date ~= day then
      day = date
      blocks = plan_day(me)
    end
    local b = current_block(blocks)
    if b then
      do_block(me, b)
    else
      -- nothing planned now: stay (sleep, rest) until the next block or
      -- the next day, waking for what happens around
      local nb = next_block_start(blocks)
      local wait = nb and (nb - now_minutes()) * 60
                   or (24 * 60 - now_minutes()) * 60 + 60
      sim.act(S.planning and "resting" or "idle", nil, math.max(1, wait // 60))
      local woken = sim.wait(math.max(60, wait), true)
      if woken then perceive_and_react(me, "resting") end
    end
    reflect(me)
  end
end
