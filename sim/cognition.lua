-- cognition.lua: what a full agent of the simulation does, after
-- "Generative Agents" (Park et al. 2023): it plans its day in broad strokes,
-- then in hourly blocks, then in 5-15 minute actions at places of the map;
-- it perceives who and what is near, remembers what matters (each memory's
-- importance is asked of the model), reacts (a conversation, or a revised
-- plan), and reflects when enough has happened, drawing insights that cite
-- their evidence. Everything it does goes through the engine's API
-- (sim-lua.c): sim.ask and sim.wait yield, so one agent waiting for its
-- model costs only its memory, and the engine applies answers in a fixed
-- order.
--
-- The function returned at the end runs once per agent, in the agent's own
-- coroutine; all its state lives in that call (the table `st`).
--
-- Facts passed to each prompt kind (examples/sim/README.md has the table;
-- the templates in prompts/ show them):
--   common       agent, persona, now (the game clock), place, home
--   importance   memory, memory_kind
--   day_plan     date, known_facts, memories, places, yesterday
--   hourly       date, day_plan (items, revisions appended), known_facts,
--                places, from ("HH:MM": the first minute to schedule)
--   decompose    block {start, minutes, activity}, places (with objects)
--   react        observation, other {kind, name, activity, known},
--                current_activity, memories, known_facts, plan
--   chat         partner, history, known_facts, memories, turn, max_turns,
--                relation, place, persona
--   chat_summary partner, history, partner_facts, known_facts, relation,
--                place
--   questions    memories
--   insights     question, memories (with ids)
-- The settings (sim.settings()) switch parts off for ablations: without
-- memory nothing is remembered (nor learned from others); without planning
-- an agent stays where it is and only reacts; without reflection it never
-- reflects.

local S = sim.settings()

local function persona(p)
  return string.format("%s (%d): %s. %s %s %s", p.name, p.age, p.innate,
                       p.learned, p.currently, p.lifestyle)
end

local function base(me, extra)
  local f = { agent = me.name, persona = persona(me), now = sim.clock(),
              place = sim.me().place, home = me.home }
  for k, v in pairs(extra or {}) do f[k] = v end
  return f
end

local function texts(mems)
  local out = {}
  for i, m in ipairs(mems) do out[i] = { id = m.id, text = m.text } end
  return json.array(out)
end

local function known(who)
  return json.array(sim.facts(who))
end

-- Asks how important a memory is, then stores it (for who, or the agent).
local function remember(me, kind, text, evidence, who)
  if not S.memory then return end
  local f = who and { agent = who, now = sim.clock(), memory = text,
                      memory_kind = kind }
            or base(me, { memory = text, memory_kind = kind })
  local a = sim.ask("importance", f)
  local imp = math.tointeger(tonumber(a.importance)) or 3
  memory.add(kind, text, math.max(1, math.min(10, imp)), evidence, who)
end

local function place_names()
  local out = {}
  for i, p in ipairs(sim.places()) do out[i] = p.name end
  return json.array(out)
end

local function places_with_objects()
  local out = {}
  for i, p in ipairs(sim.places()) do
    out[i] = { place = p.name, objects = json.array(p.objects) }
  end
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

local function hhmm(minutes)
  return string.format("%02d:%02d", minutes // 60, minutes % 60)
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
          remember(me, "thought", ins.text, ev)
          made[#made + 1] = ins.text
        end
      end
    end
  end
  memory.reflected()
  sim.log("reflect", { insights = json.array(made) })
end

-- ---- planning -------------------------------------------------------------

-- Asks for hourly blocks from the minute `from` to midnight and puts them
-- in place of what was planned from then on.
local function schedule(me, st, from)
  local h = sim.ask("hourly", base(me, { date = st.date,
                                         day_plan = json.array(st.items),
                                         known_facts = known(),
                                         places = place_names(),
                                         from = hhmm(from) }))
  local kept = {}
  for _, b in ipairs(st.blocks) do
    if b.start < from then
      local mins = math.min(b.minutes, from - b.start)
      kept[#kept + 1] = { start = b.start, minutes = mins,
                          activity = b.activity, hhmm = b.hhmm }
    end
  end
  local new = {}
  for _, b in ipairs(h.blocks or {}) do
    local start = minutes_of(b.start)
    local mins = math.tointeger(tonumber(b.minutes))
    if start and mins and mins > 0 and start >= from and start < 1440
       and type(b.activity) == "string" then
      new[#new + 1] = { start = start, minutes = math.min(mins, 1440 - start),
                        activity = b.activity, hhmm = hhmm(start) }
    end
  end
  table.sort(new, function(x, y) return x.start < y.start end)
  for _, b in ipairs(new) do kept[#kept + 1] = b end
  st.blocks = kept
  sim.log("plan", { kind = from == 0 and "hourly" or "revised",
                    from = hhmm(from), items = json.array(new) })
end

local function plan_day(me, st)
  local date = sim.clock():sub(1, 10)
  local yesterday = st.items
  st.date, st.items, st.blocks = date, {}, {}
  st.day0 = sim.now() - now_minutes() * 60 -- midnight, in game seconds
  if not S.planning then return end
  local d = sim.ask("day_plan", base(me, {
    date = date, known_facts = known(), places = place_names(),
    yesterday = yesterday and json.array(yesterday) or nil,
    memories = texts(memory.retrieve(me.name .. " plans for " .. date,
                                     S.retrieve)) }))
  for _, item in ipairs(d.plan or {}) do
    if type(item) == "string" then st.items[#st.items + 1] = item end
  end
  sim.log("plan", { kind = "day", items = json.array(st.items) })
  schedule(me, st, 0)
  remember(me, "plan", "plan for " .. date .. ": " ..
           table.concat(st.items, "; "))
end

-- A reaction asked for a change of plan: the item joins the day plan and
-- the rest of the day is scheduled again.
local function revise(me, st, item)
  if not S.planning or type(item) ~= "string" or item == "" then
    return false
  end
  st.items[#st.items + 1] = item
  sim.log("plan", { kind = "added", items = json.array({ item }) })
  schedule(me, st, now_minutes())
  remember(me, "plan", "change of plan: " .. item)
  return true
end

local function current_block(st)
  local now = now_minutes()
  for _, b in ipairs(st.blocks) do
    if now >= b.start and now < b.start + b.minutes then return b end
  end
  return nil
end

local function next_block_start(st)
  local now = now_minutes()
  local best
  for _, b in ipairs(st.blocks) do
    if b.start > now and (not best or b.start < best) then best = b.start end
  end
  return best
end

-- ---- conversation -------------------------------------------------------

local function converse(me, other)
  if not sim.chat_begin(other) then return false end
  local history, speakers = {}, { me.name, other }
  local place = sim.me().place
  for turn = 1, S.chat_turns do
    local speaker = speakers[(turn - 1) % 2 + 1]
    local partner = speakers[turn % 2 + 1]
    local mems = memory.retrieve(partner, 5, speaker)
    local a = sim.ask("chat", {
      agent = speaker, partner = partner, now = sim.clock(), turn = turn,
      max_turns = S.chat_turns, persona = persona(sim.me(speaker)),
      relation = sim.relation(partner, speaker).relation, place = place,
      history = json.array(history), known_facts = known(speaker),
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
    local a = sim.ask("chat_summary", {
      agent = listener, partner = partner, now = sim.clock(), place = place,
      relation = sim.relation(partner, listener).relation,
      history = json.array(history), partner_facts = known(partner),
      known_facts = known(listener) })
    -- without memory nothing heard is kept
    if S.memory then
      for _, id in ipairs(a.facts or {}) do
        if type(id) == "string" then sim.learn(id, partner, listener) end
      end
    end
    local text = type(a.summary) == "string" and a.summary ~= "" and a.summary
                 or ("talked with " .. partner)
    remember(me, "chat", listener .. ": " .. text, nil, listener)
    if i == 1 then summary = text end
  end
  sim.chat_end(other, summary, #history)
  sim.wait(#history * 60, false)
  return true
end

-- ---- perceiving and reacting ----------------------------------------------

local function react(me, st, doing, observation, other)
  local mems = memory.retrieve(other.name, 5)
  return sim.ask("react", base(me, {
    observation = observation, other = other, current_activity = doing,
    memories = texts(mems), known_facts = known(),
    plan = json.array(st.items) }))
end

-- Looks around and reacts; returns true when the plan was revised (the
-- current block is then over).
local function perceive_and_react(me, st, doing)
  for _, seen in ipairs(sim.perceive()) do
    if seen.kind == "conversation" then
      local r = react(me, st, doing, "talked with " .. seen.name,
                      { kind = "conversation", name = seen.name })
      if r.react == true and revise(me, st, r.replan) then return true end
    elseif seen.kind == "agent" then
      local obs = seen.name .. " is " .. seen.activity
      remember(me, "observation", obs)
      if sim.can_chat(seen.name) then
        local r = react(me, st, doing, obs, { kind = "agent",
          name = seen.name, activity = seen.activity, known = seen.known })
        if r.react == true and r.talk_to == seen.name then
          if converse(me, seen.name) then
            local r2 = react(me, st, doing, "talked with " .. seen.name,
                             { kind = "conversation", name = seen.name })
            if r2.react == true and revise(me, st, r2.replan) then
              return true
            end
          end
        elseif r.react == true and revise(me, st, r.replan) then
          return true
        end
      end
    end
  end
  return false
end

-- ---- acting ---------------------------------------------------------------

local function do_block(me, st, block)
  local d = sim.ask("decompose", base(me, {
    block = { start = block.hhmm, minutes = block.minutes,
              activity = block.activity },
    places = places_with_objects() }))
  -- the block's end in game seconds (minutes of the day wrap at midnight)
  local stop = st.day0 + (block.start + block.minutes) * 60
  local left = (stop - sim.now()) // 60
  for _, act in ipairs(d.actions or {}) do
    if left <= 0 then break end
    local mins = math.tointeger(tonumber(act.minutes)) or S.action_min
    mins = math.max(S.action_min, math.min(S.action_max, mins, left))
    if type(act.place) == "string" then sim.move(act.place) end
    local activity = type(act.activity) == "string" and act.activity
                     or block.activity
    sim.act(activity, type(act.object) == "string" and act.object or nil, mins,
            block.activity)
    local until_t = sim.now() + mins * 60
    while sim.now() < until_t do
      local woken = sim.wait(until_t - sim.now(), true)
      if (woken or S.tick > 0) and perceive_and_react(me, st, activity) then
        return
      end
    end
    if perceive_and_react(me, st, activity) then return end
    left = (stop - sim.now()) // 60
  end
  while sim.now() < stop do -- the actions ran short: stay till the end
    local woken = sim.wait(stop - sim.now(), true)
    if woken and perceive_and_react(me, st, block.activity) then return end
  end
end

return function(id)
  local me = sim.me()
  local st = { date = nil, items = nil, blocks = {}, day0 = 0 }
  while true do
    if sim.clock():sub(1, 10) ~= st.date then plan_day(me, st) end
    local b = current_block(st)
    if b then
      do_block(me, st, b)
    else
      -- nothing planned now: stay (sleep, rest) until the next block or
      -- the next day, waking for what happens around
      local nb = next_block_start(st)
      local wait = nb and (nb - now_minutes()) * 60
                   or (24 * 60 - now_minutes()) * 60
      wait = math.max(60, wait)
      sim.act(S.planning and "resting" or "idle", nil, wait // 60)
      local woken = sim.wait(wait, true)
      if woken then perceive_and_react(me, st, "resting") end
    end
    reflect(me)
  end
end
