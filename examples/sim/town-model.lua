-- town-model.lua: the scripted stand-in model for the simulation examples
-- (smoke.lua, town.lua). It plays every agent of a world offline and
-- deterministically: no randomness, every choice is a hash of the facts it is
-- shown, so the same prompt always gets the same answer.
--
-- It reads the header of the last user message (agent/sim.h, "Prompts"):
--
--   ### kind: <kind>
--   ### agent: <name>
--   ### facts: {json}
--   ### answer: <the JSON shape asked for>
--
-- and answers with the JSON object of that kind. It only uses the facts: the
-- prose of the template is for real models. The facts it reads (the names
-- of sim/cognition.lua; README.md has the table, and what each is for):
--
--   common        agent, persona (one string: "Name (age): innate.
--                 learned currently lifestyle"), now ("YYYY-MM-DD HH:MM"),
--                 place (where the agent is), home ("sector:arena")
--   importance    memory, memory_kind ("observation", "chat", "plan",
--                 "thought"; optional)
--   day_plan      date, known_facts, memories, places, weekday, yesterday
--   hourly        date, day_plan (items, replans appended), known_facts,
--                 places, from ("HH:MM", first minute to schedule; default
--                 "00:00")
--   decompose     block {start, minutes, activity}, places
--   react         observation, other {kind, name, activity, known},
--                 current_activity, memories, known_facts, plan (today's
--                 items; without it, no replan)
--   chat          partner, history {{speaker, text}}, known_facts,
--                 memories (about the partner), turn, relation, place,
--                 persona, max_turns
--   chat_summary  partner, history, partner_facts, known_facts, relation,
--                 place
--   questions     memories, count (default 3)
--   insights      question, memories, count (default 5)
--   interview     question, known_facts, memories, plan, acquaintances
--                 {{name, relation, chats}}
--
--   places        {"sector:arena", ...} or {{place, objects}}
--   known_facts   {{id, text, event = {place, from, to}, from = who told
--                 ("" when seeded; when absent, a fact whose text starts
--                 with the agent's name is the agent's own)}}
--   memories      {{id, text}}
--
-- It also takes the longer names it was first written for: innate,
-- learned, currently, lifestyle (separate strings), at, plan (for
-- day_plan), observed (for other), activity (for current_activity),
-- candidates (for partner_facts).
--
-- Behaviour that makes the party scenario work:
--   * day_plan turns the lifestyle's set phrases ("wakes up around 6am",
--     "works at PLACE from 8am to 6pm", "has lunch at PLACE", "goes to PLACE
--     in the afternoon", ...) into timed items that do not overlap, and
--     adds "attend <event> at <place> from HH:MM to HH:MM" for every known
--     event on that day that the agent decides to attend: the holder
--     always, others 85% of the time when the host told them in person, 55%
--     otherwise (a hash of agent and fact id: the decision never changes).
--     The holder also gets two hours to get the place ready and, the day
--     before, a goal to invite people.
--   * hourly paints the timed items over the day (later items win, so an
--     appended replan overrides) and returns blocks from `from` to 24:00.
--   * decompose cuts a block into 5-15 minute actions at existing places
--     (the sector named in the activity, the arena chosen per action by
--     keywords; else home, never someone else's room) with an object of
--     that arena.
--   * react replans to attend a known event of today that is not yet in the
--     plan (if the agent decides to attend; also when observed.type is
--     "conversation", i.e. right after hearing of it), otherwise starts a
--     conversation with an awake agent nearby: more often with
--     acquaintances, far more often when the agent hosts an event.
--   * chat greets (strangers introduce themselves), then passes on the
--     speaker's known facts one per turn (the host always, others half the
--     time for events, 30% for other news), never news the partner has
--     heard already (per the memories shown) or of an event that has begun,
--     reacts to news, and says goodbye when there is nothing left to say.
--   * chat_summary reports the candidate facts the partner's lines mention,
--     and says what was told both ways.
--   * importance rates news, events and invitations high, routine low.
--   * questions and insights cite only the memory ids they were shown.
--   * interview answers from known_facts (with their ids) and the plan, and
--     says "I don't know" rather than invent.
--
-- The file returns a table: reply(ctx) is the model (what ag_script_new
-- calls); embed(text) is an optional deterministic embedding (64 numbers,
-- unit length, a hashed bag of words) that the engine may use for
-- relevance when it runs with this stand-in.

local NULL = json and json.null

-- ---- small helpers --------------------------------------------------------

local function nn(v) -- JSON null and nil are both "absent"
  if v == nil or v == NULL then return nil end
  return v
end

local function str(v, default)
  v = nn(v)
  if type(v) == "string" then return v end
  if type(v) == "number" then return tostring(v) end
  return default or ""
end

local function list(v)
  v = nn(v)
  if type(v) ~= "table" then return {} end
  return v
end

local function arr(t) -- a Lua list that encodes as a JSON array, even empty
  return json.array(t or {})
end

-- FNV-1a, 32 bits: the stand-in's only source of variety.
local function hash(...)
  local parts = table.pack(...)
  local h = 2166136261
  for i = 1, parts.n do
    local s = tostring(parts[i])
    for k = 1, #s do
      h = ((h ~ s:byte(k)) * 16777619) & 0xffffffff
    end
    h = ((h ~ 124) * 16777619) & 0xffffffff -- "|" between parts
  end
  return h
end

local function chance(pct, ...) return hash(...) % 100 < pct end

local function pick(t, ...)
  if #t == 0 then return nil end
  return t[hash(...) % #t + 1]
end

local function trim(s) return (s:gsub("^%s+", ""):gsub("%s+$", "")) end

local function first_name(name)
  return (str(name):match("^(%S+)")) or str(name)
end

local function contains(hay, needle)
  return hay:find(needle, 1, true) ~= nil
end

local STOP = {}
for w in ([[a an the and or but of to in on at for from with by about into
  is are was were be been am do does did have has had will would can could
  should i you he she it we they me him her them my your his its our their
  this that these those there here what who whom which when where why how
  any some all not no yes just very so too also than then as if up out over
  know knows heard hear tell told ask asked anything something thing
  think thinks going go goes get gets got say said let lets like really]])
  :gmatch("%S+") do STOP[w] = true end

-- Lower-case content words of a text (apostrophes kept, stop words out).
local function words(text)
  local out = {}
  for w in str(text):lower():gmatch("[%w']+") do
    w = w:gsub("'s$", ""):gsub("'", "")
    if #w >= 3 and not STOP[w] then out[#out + 1] = w end
  end
  return out
end

local function wordset(text)
  local s = {}
  for _, w in ipairs(words(text)) do s[w] = true end
  return s
end

-- Does text mention the fact? Most of the fact's content words appear in it
-- (so "I'm hosting a party at ..." counts for "Rosa is hosting a party").
local function mentions(text, fact_text)
  local fw = words(fact_text)
  if #fw == 0 then return false end
  local ts, hit = wordset(text), 0
  for _, w in ipairs(fw) do if ts[w] then hit = hit + 1 end end
  return hit >= math.max(2, math.ceil(#fw * 0.6))
end

-- ---- time ------------------------------------------------------------------

local function minutes_of(hhmm) -- "07:30" or "2023-02-14 07:30" -> 450
  local h, m = str(hhmm):match("(%d%d?):(%d%d)")
  if not h then return nil end
  return tonumber(h) * 60 + tonumber(m)
end

local function hhmm(min)
  min = math.floor(min)
  return string.format("%02d:%02d", min // 60, min % 60)
end

local function date_of(t) return (str(t):match("^(%d%d%d%d%-%d%d%-%d%d)")) end

local WEEKDAYS = { "Sunday", "Monday", "Tuesday", "Wednesday", "Thursday",
                   "Friday", "Saturday" }

local function weekday_of(date)
  local y, m, d = str(date):match("^(%d+)%-(%d+)%-(%d+)")
  if not y then return nil end
  y, m, d = tonumber(y), tonumber(m), tonumber(d)
  local t = { 0, 3, 2, 5, 0, 3, 5, 1, 4, 6, 2, 4 }
  if m < 3 then y = y - 1 end
  local w = (y + y // 4 - y // 100 + y // 400 + t[m] + d) % 7
  return WEEKDAYS[w + 1]
end

-- "6am", "6:30 pm", "noon", "midnight" -> minutes after midnight
local function clock(s)
  s = str(s):lower()
  if s:match("^%s*noon") then return 12 * 60 end
  if s:match("^%s*midnight") then return 0 end
  local h, m, ap = s:match("^%s*(%d%d?):?(%d?%d?)%s*([ap])%.?m")
  if not h then return nil end
  h, m = tonumber(h), tonumber(m) or 0
  if ap == "p" and h < 12 then h = h + 12 end
  if ap == "a" and h == 12 then h = 0 end
  return h * 60 + m
end

local TIME = "%d%d?:?%d?%d?%s*[ap]%.?m"

-- ---- places ----------------------------------------------------------------

-- The world as far as the facts show it: arenas in order, sectors, objects.
local function world_of(facts)
  local w = { arenas = {}, sectors = {}, sector_list = {}, objects = {} }
  for _, p in ipairs(list(facts.places)) do
    local place, objects
    if type(p) == "string" then place, objects = p, {}
    elseif type(p) == "table" then
      place, objects = str(p.place), list(p.objects)
    end
    local sector, arena = str(place):match("^(.-):(.+)$")
    if sector and not w.objects[place] then
      w.arenas[#w.arenas + 1] = place
      w.objects[place] = objects
      if not w.sectors[sector] then
        w.sectors[sector] = {}
        w.sector_list[#w.sector_list + 1] = sector
      end
      table.insert(w.sectors[sector], arena)
    end
  end
  local home = str(facts.home)
  if home ~= "" and not w.objects[home] then
    local sector, arena = home:match("^(.-):(.+)$")
    if sector then
      w.arenas[#w.arenas + 1] = home
      w.objects[home] = {}
      if not w.sectors[sector] then
        w.sectors[sector] = {}
        w.sector_list[#w.sector_list + 1] = sector
      end
      table.insert(w.sectors[sector], arena)
    end
  end
  -- longest names first, so that "Maple Ridge College Dorm" beats
  -- "Maple Ridge College"
  table.sort(w.sector_list, function(a, b)
    if #a ~= #b then return #a > #b end
    return a < b
  end)
  return w
end

-- The known sector (or "home") that text names starting at position i.
local function sector_at(w, text, i)
  local rest = text:sub(i)
  if rest:lower():match("^home%f[%W]") then return "home", 4 end
  for _, s in ipairs(w.sector_list) do
    if rest:sub(1, #s) == s then return s, #s end
  end
  -- not a known place: up to the first " from ", " in the ", " and "
  -- before a lower-case word, or punctuation
  local stop = #rest + 1
  for _, pat in ipairs({ " from ", " in the ", " and %l", " to %l", "[,%.;]" }) do
    local i = rest:find(pat)
    if i and i < stop then stop = i end
  end
  local name = rest:sub(1, stop - 1)
  if #name > 0 and #name < 60 then return trim(name), #name end
  return nil
end

-- The first known sector named anywhere in text (longest name wins).
local function sector_in(w, text)
  for _, s in ipairs(w.sector_list) do
    if contains(text, s) then return s end
  end
  return nil
end

local function place_in(w, text) -- an exact "sector:arena" in text
  local best
  for _, p in ipairs(w.arenas) do
    if contains(text, p) and (not best or #p > #best) then best = p end
  end
  return best
end

local function sector_of(place) return (str(place):match("^(.-):")) end

-- ---- the lifestyle ---------------------------------------------------------

-- What the lifestyle's set phrases say: wake, bed (minutes), work {place,
-- from, to, verb}, meals {breakfast = place, ...}, visits {morning = place}.
local function lifestyle_of(w, text)
  text = str(text)
  local low = text:lower()
  local L = { wake = 7 * 60, bed = 23 * 60, meals = {}, visits = {} }
  local s = low:match("wakes? up around (" .. TIME .. ")")
  if s then L.wake = clock(s) or L.wake end
  s = low:match("goes to bed around (" .. TIME .. ")")
    or low:match("goes to bed around (midnight)")
    or low:match("goes to bed around (noon)")
  if s then L.bed = clock(s) or L.bed end
  if L.bed <= L.wake then L.bed = L.bed + 24 * 60 end -- after midnight
  -- work: "works at PLACE from X to Y", "studies at PLACE from X to Y",
  -- "works from home from X to Y" (the first such phrase with times)
  local span = "^%s*from (" .. TIME .. ") to (" .. TIME .. ")"
  local function times(tail)
    local a, b = tail:match(span)
    if not a then a, b = tail:match("^%s*from (" .. TIME .. ") to (midnight)") end
    if not a then a, b = tail:match("^%s*from (" .. TIME .. ") to (noon)") end
    return a, b
  end
  local best
  for _, verb in ipairs({ "works at ", "studies at ", "works from home" }) do
    local init = 1
    while true do
      local i = low:find(verb, init, true)
      if not i then break end
      local place, len, a, b
      if verb == "works from home" then
        place, len = "home", 0
        a, b = times(low:sub(i + #verb))
      else
        place, len = sector_at(w, text, i + #verb)
        if place then a, b = times(low:sub(i + #verb + len)) end
      end
      if a and (not best or i < best.i) then
        best = { i = i, place = place, from = clock(a), to = clock(b),
                 verb = verb == "studies at " and "study" or "work" }
        break
      end
      init = i + #verb
    end
  end
  L.work = best
  if L.work and L.work.to <= L.work.from then
    L.work.to = L.work.to + 24 * 60
  end
  for _, meal in ipairs({ "breakfast", "lunch", "dinner" }) do
    local i = low:find("has " .. meal .. " at ", 1, true)
    if i then L.meals[meal] = sector_at(w, text, i + #meal + 8) end
  end
  local init = 1
  while true do
    local i = low:find("goes to ", init, true)
    if not i then break end
    local place, len = sector_at(w, text, i + 8)
    if place then
      local part = low:sub(i + 8 + len):match("^%s*in the (%a+)")
      if part == "morning" or part == "afternoon" or part == "evening" then
        L.visits[part] = L.visits[part] or place
      end
    end
    init = i + 8
  end
  local i = low:find("spends evenings at ", 1, true)
    or low:find("spends the evening at ", 1, true)
  if i then
    local j = low:find(" at ", i, true)
    L.visits.evening = L.visits.evening or sector_at(w, text, j + 4)
  end
  return L
end

-- What one does at a kind of place, as a plan item's verb phrase.
local function visit_phrase(place)
  local p = place:lower()
  if p == "home" then return "relax at home" end
  if p:match("park") or p:match("garden") then return "take a walk in " .. place end
  if p:match("cafe") or p:match("coffee") then return "have a coffee at " .. place end
  if p:match("pub") or p:match("bar") or p:match("tavern") then
    return "have a drink with friends at " .. place
  end
  if p:match("market") or p:match("pharmacy") or p:match("store")
     or p:match("shop") then return "do some shopping at " .. place end
  if p:match("library") then return "read at " .. place end
  return "spend some time at " .. place
end

-- How long a visit to a kind of place lasts, in minutes.
local function visit_minutes(place)
  local p = place:lower()
  if p:match("pub") or p:match("bar") or p:match("tavern") then return 150 end
  if p:match("market") or p:match("pharmacy") or p:match("store")
     or p:match("shop") then return 45 end
  return 60
end

local function at_place(place) -- "at home" / "at Juniper Cafe"
  if place == "home" then return "at home" end
  return "at " .. place
end

-- ---- events ----------------------------------------------------------------

-- The agent whose prompt is being answered (set by reply).
local CUR = ""

-- Was fact f seeded into the agent (rather than told)? known_facts say so
-- with `from` ("" or null when seeded); without it, a fact whose text
-- starts with the agent's name is the agent's own ("Rosa Delgado is
-- hosting ..." for Rosa Delgado).
local function is_seeded(f)
  if f.from == nil then
    return CUR ~= "" and str(f.text):sub(1, #CUR + 1) == CUR .. " "
  end
  local from = nn(f.from)
  return from == nil or from == "" or from == false
end

-- Whether the agent will go to the event of known fact f (fixed per agent
-- and fact: asked again, the answer is the same).
local function attends(agent, f)
  if is_seeded(f) then return true end
  -- invited by the host in person (the fact names the one who told), or
  -- heard it from someone else, or who told is not known
  local from = str(f.from)
  local pct = (from ~= "" and str(f.text):sub(1, #from) == from) and 85
              or (from == "" and 70 or 55)
  return chance(pct, agent, str(f.id), "attend")
end

local function event_of(f)
  local e = nn(f.event)
  if type(e) ~= "table" then return nil end
  local from, to = str(e.from), str(e.to)
  if not date_of(from) then return nil end
  return { place = str(e.place), from = from, to = to, date = date_of(from),
           start = minutes_of(from), stop = minutes_of(to) or
             (minutes_of(from) + 120) }
end

-- "the Valentine's Day party" from "Rosa is hosting a Valentine's Day party
-- at ...".
local function event_title(f)
  local t = str(f.text)
  for _, verb in ipairs({ "hosting", "holding", "throwing", "organising",
                          "organizing", "opening", "giving" }) do
    local what = t:match(verb .. " (.-) at ") or t:match(verb .. " (.-) on ")
    if what then
      what = what:gsub("^an? ", ""):gsub("^the ", ""):gsub("^her ", "")
                 :gsub("^his ", ""):gsub("^their ", "")
      return "the " .. what
    end
  end
  return "the " .. str(f.id, "event")
end

-- How a plan names the event's place: the sector when its first arena is
-- the place, the exact "sector:arena" otherwise.
local function event_place_text(w, place)
  local sector, arena = place:match("^(.-):(.+)$")
  if sector and w.sectors[sector] and w.sectors[sector][1] ~= arena then
    return place
  end
  return sector or place
end

local function event_item(w, f, ev, from_min)
  return string.format("attend %s at %s from %s to %s", event_title(f),
                       event_place_text(w, ev.place),
                       hhmm(from_min or ev.start), hhmm(ev.stop))
end

-- Does the plan already hold the event (its place and start time)?
local function plan_has(plan, w, f, ev)
  local sector = sector_of(ev.place) or ev.place
  local title = event_title(f)
  for _, item in ipairs(plan) do
    local s = str(item)
    if (contains(s, sector) and contains(s, hhmm(ev.stop)))
       or contains(s, title) then
      return true
    end
  end
  return false
end

-- ---- first person ----------------------------------------------------------

local VERB1 = { is = "am", has = "have", does = "do", was = "was",
                tries = "try", hopes = "hope", wants = "want", likes = "like",
                loves = "love", needs = "need", plans = "plan", thinks = "think",
                works = "work", lives = "live", runs = "run", spends = "spend",
                knows = "know", writes = "write", owns = "own", takes = "take",
                goes = "go", studies = "study", teaches = "teach",
                dreams = "dream", plays = "play" }

-- A verb in the first person: VERB1, else drop the third person's s.
local function verb1(verb)
  local v = VERB1[verb]
  if v then return v end
  if verb:match("ies$") then return (verb:gsub("ies$", "y")) end
  if verb:match("[sxz]es$") or verb:match("[cs]hes$") then
    return (verb:gsub("es$", ""))
  end
  if verb:match("[^s]s$") then return (verb:gsub("s$", "")) end
  return verb
end

-- "Rosa Delgado is hosting a party and wants to invite everyone she
-- knows", said by Rosa: "I'm hosting a party and want to invite everyone I
-- know".
local function first_person(agent, text)
  local first = first_name(agent)
  for _, who in ipairs({ agent, first }) do
    if text:sub(1, #who + 1) == who .. " " then
      local rest = text:sub(#who + 2)
      local verb, tail = rest:match("^(%a+)(.*)$")
      if verb then rest = verb1(verb) .. tail end
      -- later verbs of the same subject: "and wants", "and is"
      rest = rest:gsub("( and )(%a+)", function(sep, v)
        if VERB1[v] then return sep .. VERB1[v] end
      end)
      rest = rest:gsub("%f[%a][Ss]he (%a+)", function(v) return "I " .. verb1(v) end)
      rest = rest:gsub("%f[%a][Hh]e (%a+)", function(v) return "I " .. verb1(v) end)
      rest = rest:gsub("%f[%a]her%f[%A]", "my"):gsub("%f[%a]his%f[%A]", "my")
      rest = rest:gsub("%f[%a]herself%f[%A]", "myself")
                 :gsub("%f[%a]himself%f[%A]", "myself")
      rest = rest:gsub("I am ", "I'm ")
      rest = rest:gsub("^am ", "'m ")
      if rest:sub(1, 1) == "'" then return "I" .. rest end
      return "I " .. rest
    end
  end
  return text
end

-- ---- the kinds -------------------------------------------------------------

local K = {}

-- importance: {"importance": 1-10}
local HIGH = { "party", "valentine", "celebrat", "invit", "mayor", "election",
               "candida", "campaign", "exhibition", "wedding", "engaged",
               "birthday", "recital", "festival", "promot", "hospital",
               "accident", "crush", "propos", "pregnan", "funeral",
               "announc", "secret", "news" }
local LOW = { "sleep", "idle", "brushing", "shower", "dressed", "tidying",
              "making the bed", "walking", "sitting", "washing", "nothing",
              "is empty", "is off", "is on", "reading" }

function K.importance(f, agent)
  local text = str(f.memory):lower()
  local kind = str(f.memory_kind, "observation")
  local base = ({ observation = 2, chat = 4, conversation = 4, plan = 4,
                  thought = 5, reflection = 5 })[kind] or 3
  local score = base + hash(agent, text) % 2
  local high = #list(f.fact_ids) > 0
  for _, k in ipairs(HIGH) do if contains(text, k) then high = true end end
  if high then
    score = 8 + hash(agent, text, "high") % 2
    if contains(text, "invit") or contains(text, first_name(agent):lower()) then
      score = score + 1
    end
  else
    for _, k in ipairs(LOW) do
      if contains(text, k) then score = math.min(score, 1 + hash(text) % 2) end
    end
  end
  return { importance = math.max(1, math.min(10, score)) }
end

-- day_plan: {"plan": ["wake up at 6:00", ...]}
local function day_items(f, agent)
  local w = world_of(f)
  local L = lifestyle_of(w, f.lifestyle)
  local date = date_of(f.date) or date_of(f.now) or ""
  local weekday = str(f.weekday, weekday_of(date) or "")
  local weekend = weekday == "Saturday" or weekday == "Sunday"
  local DAY = 24 * 60
  local wake, bed = L.wake, L.bed
  local awake_end = math.min(bed, DAY)
  -- segments {a, b, text}, painted in order of rising priority
  local seg = {}
  local function add(a, b, text)
    if b > a then seg[#seg + 1] = { a = a, b = b, text = text } end
  end
  local work = (not weekend) and L.work or nil
  local t = wake + 45 -- after getting ready
  -- free time out: visits (lowest priority)
  if L.visits.morning then
    add(t + 30, t + 30 + visit_minutes(L.visits.morning),
        visit_phrase(L.visits.morning))
  end
  if L.visits.afternoon then -- after work when work ends in the afternoon
    local a = 15 * 60
    if work and work.from < a and work.to > a and work.to < 17 * 60 then
      a = work.to
    end
    local b = math.min(a + visit_minutes(L.visits.afternoon) + 30, 17 * 60)
    if b - a >= 30 then add(a, b, visit_phrase(L.visits.afternoon)) end
  end
  local dinner = 18 * 60 + 30
  if work and work.to > dinner and work.to <= 21 * 60 then dinner = work.to end
  if work and work.from <= dinner and work.to > 21 * 60 then
    dinner = work.from - 60 -- an evening job: dinner before it
  end
  if L.visits.evening then -- after dinner, or after an evening's work
    local a = dinner + 60
    if work and work.to > a and work.to <= 22 * 60 then a = work.to end
    local b = math.min(a + visit_minutes(L.visits.evening), awake_end - 30)
    if b - a >= 30 then add(a, b, visit_phrase(L.visits.evening)) end
  end
  -- meals and work
  add(t, t + 30, "have breakfast " .. at_place(L.meals.breakfast or "home"))
  local lunch_place = L.meals.lunch
  if work then
    add(work.from, math.min(work.to, DAY), work.verb .. " "
        .. at_place(work.place))
    if not lunch_place and work.from < 12 * 60 and work.to > 13 * 60 then
      lunch_place = work.place
    end
  end
  if wake < 12 * 60 and awake_end > 13 * 60 then
    add(12 * 60, 13 * 60, "have lunch " .. at_place(lunch_place or "home"))
  end
  if dinner + 60 <= awake_end then
    add(dinner, dinner + 60, "have dinner " .. at_place(L.meals.dinner or "home"))
  end
  -- events the agent knows of (highest priority)
  local goals = {}
  for _, fact in ipairs(list(f.known_facts)) do
    local ev = event_of(fact)
    if ev and ev.date == date and attends(agent, fact) then
      if is_seeded(fact) then
        local prep = math.max(ev.start - 120, wake + 60)
        add(prep, ev.start, string.format("get %s ready for %s",
            sector_of(ev.place) or ev.place, event_title(fact)))
      end
      add(ev.start, math.min(ev.stop, DAY), string.format("attend %s at %s",
          event_title(fact), event_place_text(w, ev.place)))
    elseif ev and ev.date > date and is_seeded(fact) then
      goals[#goals + 1] = "invite friends and customers to " .. event_title(fact)
    elseif ev and ev.date > date and attends(agent, fact) then
      goals[#goals + 1] = "look forward to " .. event_title(fact)
    end
  end
  -- paint the awake hours, then read the runs off as items
  local slot = {}
  for _, s in ipairs(seg) do
    for m = math.max(s.a, wake + 45), math.min(s.b, awake_end) - 1 do
      slot[m] = s.text
    end
  end
  local items = { string.format("wake up at %s and get ready for the day",
                                hhmm(wake % DAY)) }
  local m = wake + 45
  while m < awake_end do
    local text, n = slot[m], 0
    while m + n < awake_end and slot[m + n] == text do n = n + 1 end
    if text and n >= 10 then
      items[#items + 1] = string.format("%s from %s to %s", text, hhmm(m),
                                        hhmm(m + n))
    end
    m = m + n
  end
  items[#items + 1] = string.format("go to bed at %s", hhmm(bed % DAY))
  for _, g in ipairs(goals) do items[#items + 1] = g end
  return items
end

function K.day_plan(f, agent)
  return { plan = arr(day_items(f, agent)) }
end

-- hourly: {"blocks": [{"start": "HH:MM", "minutes": n, "activity": "..."}]}
local function strip_times(s)
  s = s:gsub("%s+from %d%d?:%d%d to %d%d?:%d%d", "")
  s = s:gsub("%s+at %d%d?:%d%d", "")
  return trim(s)
end

function K.hourly(f, agent)
  local plan = list(f.plan)
  if #plan == 0 then plan = day_items(f, agent) end
  local from = minutes_of(f.from) or 0
  local DAY = 24 * 60
  local slot = {}
  local wake, bed
  local ranged, opened = {}, {}
  for i, item in ipairs(plan) do
    local s = str(item)
    local a1, a2, b1, b2 = s:match("from (%d%d?):(%d%d) to (%d%d?):(%d%d)")
    if a1 then
      local a = tonumber(a1) * 60 + tonumber(a2)
      local b = tonumber(b1) * 60 + tonumber(b2)
      if b <= a then b = DAY end
      ranged[#ranged + 1] = { a = a, b = math.min(b, DAY), text = strip_times(s) }
    else
      local h, m = s:match("at (%d%d?):(%d%d)")
      if h then
        local t = tonumber(h) * 60 + tonumber(m)
        local low = s:lower()
        if low:match("wake") then wake = t
        elseif low:match("bed") or low:match("sleep") then bed = t
        else opened[#opened + 1] = { a = t, text = strip_times(s), i = i } end
      end
    end
  end
  wake = wake or 7 * 60
  bed = bed or 23 * 60
  -- asleep: [0, wake) and [bed, 24:00), or [bed, wake) when bed is after
  -- midnight
  for m = 0, DAY - 1 do
    local asleep
    if bed > wake then asleep = m < wake or m >= bed
    else asleep = m >= bed and m < wake end
    slot[m] = asleep and "sleep" or "relax at home"
  end
  local function paint(a, b, text)
    for m = math.max(a, 0), math.min(b, DAY) - 1 do slot[m] = text end
  end
  paint(wake, math.min(wake + 45, bed > wake and bed or DAY),
        "wake up and get ready for the day")
  -- open-ended items last until the next item starts
  local starts = {}
  for _, r in ipairs(ranged) do starts[#starts + 1] = r.a end
  for _, o in ipairs(opened) do starts[#starts + 1] = o.a end
  starts[#starts + 1] = bed > wake and bed or DAY
  table.sort(opened, function(x, y)
    if x.a ~= y.a then return x.a < y.a end
    return x.i < y.i
  end)
  for _, o in ipairs(opened) do
    local stop = DAY
    for _, s in ipairs(starts) do
      if s > o.a and s < stop then stop = s end
    end
    paint(o.a, stop, o.text)
  end
  for _, r in ipairs(ranged) do paint(r.a, r.b, r.text) end
  -- runs from `from` to midnight, runs under 5 minutes merged into the
  -- one before
  local blocks = {}
  local m = from
  while m < DAY do
    local text, n = slot[m], 0
    while m + n < DAY and slot[m + n] == text do n = n + 1 end
    local last = blocks[#blocks]
    if last and (n < 5 or last.activity == text) then
      last.minutes = last.minutes + n
    else
      blocks[#blocks + 1] = { start = hhmm(m), minutes = n, activity = text }
    end
    m = m + n
  end
  if #blocks > 1 and blocks[1].minutes < 5 then
    blocks[2].minutes = blocks[2].minutes + blocks[1].minutes
    blocks[2].start = blocks[1].start
    table.remove(blocks, 1)
  end
  for _, b in ipairs(blocks) do
    if b.activity == "sleep" then b.activity = "sleep at home" end
  end
  return { blocks = arr(blocks) }
end

-- decompose: {"actions": [{"minutes", "activity", "place", "object"}]}

-- Words of an activity that point to arenas and objects.
local KEYS = {
  { "sleep", { "bed" } },
  { "getting out of bed", { "bed" } },
  { "dressed", { "wardrobe", "closet", "dresser" } },
  { "breakfast", { "kitchen", "table", "stove", "kitchenette" } },
  { "lunch", { "kitchen", "lunch", "table", "counter", "kitchenette",
              "common room" } },
  { "dinner", { "kitchen", "table", "stove", "kitchenette" } },
  { "coffee", { "coffee", "counter", "table", "booth" } },
  { "drink", { "bar", "booth", "taps" } },
  { "lecture", { "classroom", "lectern", "student desks" } },
  { "class", { "classroom", "lectern", "blackboard" } },
  { "library", { "library", "reading", "bookshelves" } },
  { "assignment", { "library", "carrel", "computer" } },
  { "office hours", { "office", "desk" } },
  { "grading", { "office", "desk" } },
  { "emails", { "office", "desk", "computer" } },
  { "classmates", { "common room", "sofa", "lunch table" } },
  { "walk", { "path", "lawn", "bench", "pond" } },
  { "jog", { "lawn", "path" } },
  { "running", { "lawn", "path" } },
  { "pond", { "pond" } },
  { "bench", { "bench" } },
  { "garden", { "garden", "flower", "vegetable", "shed" } },
  { "weeding", { "flower beds" } },
  { "watering", { "vegetable patch" } },
  { "photograph", { "pond", "fountain", "lawn" } },
  { "shopping", { "shelves", "checkout", "produce", "shop" } },
  { "groceries", { "grocery", "produce", "checkout" } },
  { "checkout", { "checkout", "register" } },
  { "prescription", { "pharmacy counter", "medicine" } },
  { "register", { "cash register" } },
  { "restocking", { "shelves", "pastry case", "storeroom", "stockroom" } },
  { "delivery", { "storeroom", "boxes" } },
  { "piano", { "piano" } },
  { "decorations", { "counter", "table" } },
  { "garlands", { "window", "counter" } },
  { "snacks", { "table", "counter" } },
  { "tables", { "table" } },
  { "music", { "piano", "stage", "guitar", "keyboard" } },
  { "dancing", { "piano", "stage" } },
  { "darts", { "dartboard" } },
  { "pool", { "pool table" } },
  { "stage", { "stage" } },
  { "keg", { "beer taps", "bar counter" } },
  { "glasses", { "bar counter" } },
  { "orders", { "counter", "bar counter" } },
  { "book", { "sofa", "armchair", "bookshelf", "reading chair" } },
  { "television", { "television", "sofa", "living" } },
  { "tea", { "kitchen", "kettle", "stove", "kitchenette" } },
  { "relax", { "sofa", "armchair", "recliner", "living", "lounge" } },
  { "listening", { "sofa", "living", "lounge" } },
  { "paint", { "studio", "easel", "paint table" } },
  { "photos", { "studio", "photo printer", "light table" } },
  { "sketch", { "studio", "drawing tablet", "desk" } },
  { "desk", { "desk" } },
  { "working", { "desk", "counter", "register", "studio", "worktable",
                 "easel", "lectern", "bar counter", "pharmacy" } },
  { "project", { "desk", "studio", "worktable" } },
  { "messages", { "desk", "computer" } },
}

local function keywords_for(text)
  local low = text:lower()
  local out = {}
  for _, k in ipairs(KEYS) do
    if contains(low, k[1]) then
      for _, v in ipairs(k[2]) do out[#out + 1] = v end
    end
  end
  return out
end

local function score(name, keys)
  local s, low = 0, name:lower()
  for i, k in ipairs(keys) do
    if contains(low, k) then s = s + math.max(10, 100 - i) end
  end
  return s
end

-- Somebody else's room: not to be walked into.
local function private(arena)
  local a = arena:lower()
  if a:match("living room") or a:match("common room")
     or a:match("dining room") then return false end
  return a:match("'s ") ~= nil or a:match("apartment") ~= nil
    or a:match("bedroom") ~= nil or a:match(" room$") ~= nil
end

-- Rooms the public does not go to without a reason.
local function back_room(arena)
  local a = arena:lower()
  return a:match("kitchen") or a:match("storeroom") or a:match("stockroom")
    or a:match("back office") or a:match("faculty") or a:match("office")
end

-- The arena of sector for a step of an activity: the best keyword match on
-- the arena's name and objects; the home arena (at home) or the sector's
-- first arena (elsewhere) unless something else fits better.
local function arena_for(w, sector, text, home)
  local arenas = w.sectors[sector]
  if not arenas or #arenas == 0 then return home end
  local keys = keywords_for(text)
  local at_home = sector_of(home) == sector
  local best, bs
  for i, a in ipairs(arenas) do
    local p = sector .. ":" .. a
    if not (at_home and p ~= home and private(a)) then
      local s = score(a, keys) * 2
      for _, o in ipairs(w.objects[p] or {}) do s = s + score(str(o), keys) end
      if (at_home and p == home) or (not at_home and i == 1) then
        s = s + 60
      elseif not at_home and back_room(a) then
        s = s - 60
      end
      if not bs or s > bs then best, bs = p, s end
    end
  end
  return best
end

-- Where an activity happens: an exact "sector:arena" it names, or the
-- sector it names (the arena chosen per step), or home, or where the agent
-- is. Returns the place, or nil and the sector.
local function where_for(w, f, activity)
  local exact = place_in(w, activity)
  if exact then return exact end
  local home = str(f.home)
  local low = activity:lower()
  local at_home = low:match("at home") or low:match("^sleep")
    or low:match("^wake up") or low:match("^get ready")
  local sector = not at_home and sector_in(w, activity)
  if sector then return nil, sector end
  if home ~= "" then return nil, sector_of(home) end
  local at = str(f.at)
  if at ~= "" then return at end
  return w.arenas[1] or ""
end

local function object_for(w, place, text, ...)
  local objects = w.objects[place] or {}
  if #objects == 0 then return "" end
  local keys = keywords_for(text)
  local best, bs = nil, 0
  for _, o in ipairs(objects) do
    local s = score(str(o), keys)
    if s > bs then best, bs = str(o), s end
  end
  return best or str(pick(objects, ...))
end

local STEPS = {
  sleep = { "sleeping" },
  wake = { "getting out of bed", "washing up", "getting dressed",
           "making the bed", "checking messages on the phone",
           "stretching" },
  meal_home = { "preparing %s", "eating %s", "eating %s slowly",
                "cleaning up after %s" },
  meal_out = { "ordering %s", "eating %s", "eating %s and people-watching",
               "finishing %s" },
  cafe_work = { "brewing coffee at the coffee machine",
                "taking orders at the counter", "serving customers",
                "wiping down the tables", "restocking the pastry case",
                "chatting with a regular customer" },
  store_work = { "helping a customer find what they need",
                 "restocking the shelves", "ringing up a sale",
                 "sorting a delivery", "tidying the shop floor" },
  pharmacy_work = { "filling a prescription", "advising a customer",
                    "restocking the shelves", "checking the stock list",
                    "serving customers at the checkout" },
  pub_work = { "pouring drinks behind the bar", "chatting with regulars",
               "cleaning glasses", "changing a keg", "taking food orders" },
  study = { "attending a lecture", "taking notes", "reading in the library",
            "working on an assignment", "discussing the reading with "
            .. "classmates", "reviewing lecture notes" },
  teach = { "teaching a class", "preparing a lecture", "grading papers",
            "meeting a student during office hours", "answering emails" },
  work_home = { "working at the desk", "concentrating on the current "
                .. "project", "answering messages", "taking a short break",
                "sketching out ideas", "reviewing the morning's work" },
  work = { "getting to work", "working steadily", "taking a short break",
           "working through the task list", "wrapping up a task" },
  party = { "greeting friends at the party", "enjoying drinks and snacks",
            "chatting with guests", "dancing to the music",
            "listening to music by the piano", "laughing with friends" },
  party_prep = { "hanging decorations", "setting out snacks and drinks",
                 "arranging the tables", "putting up heart-shaped "
                 .. "garlands", "choosing the music" },
  park = { "walking along the path", "sitting on a bench",
           "enjoying the fresh air", "watching the ducks on the pond",
           "stretching on the lawn" },
  garden = { "weeding the flower beds", "watering the vegetable patch",
             "planning the spring planting", "tidying the garden shed" },
  photo = { "photographing the pond in the morning light",
            "framing a shot of the fountain", "changing lenses",
            "reviewing photos on the camera" },
  run = { "jogging around the park", "running laps of the lawn",
          "stretching after the run" },
  coffee = { "ordering a coffee at the counter", "drinking coffee at a "
             .. "table", "reading at a table", "people-watching by the "
             .. "window" },
  pub = { "ordering a drink at the bar", "chatting with friends in a booth",
          "playing darts", "playing pool", "watching the stage" },
  shop = { "browsing the shelves", "picking up a few groceries",
           "comparing prices", "paying at the checkout" },
  relax = { "reading a book on the sofa", "watching television",
            "tidying up", "listening to music", "browsing the internet",
            "making a cup of tea" },
}

-- The kind of activity (which steps to take), from its text and where it
-- happens (a sector's name, or "home").
local function category(activity, where, learned)
  local low, pl = activity:lower(), where:lower()
  if low:match("^sleep") then return "sleep" end
  if low:match("^wake") then return "wake" end
  local meal = low:match("breakfast") or low:match("lunch") or low:match("dinner")
  if meal then
    if where == "home" then return "meal_home", meal end
    return "meal_out", meal
  end
  if low:match("ready for") or low:match("decorat") then return "party_prep" end
  if low:match("party") or low:match("^attend") then return "party" end
  if low:match("^study") then return "study" end
  if low:match("^work") then
    if where == "home" then return "work_home" end
    if pl:match("cafe") then return "cafe_work" end
    if pl:match("pharmacy") then return "pharmacy_work" end
    if pl:match("store") or pl:match("shop") then return "store_work" end
    if pl:match("pub") or pl:match("bar") then return "pub_work" end
    if pl:match("college") or pl:match("school") then
      if str(learned):lower():match("student") then return "study" end
      return "teach"
    end
    return "work"
  end
  if low:match("garden") then return "garden" end
  if low:match("photograph") then return "photo" end
  if low:match("%f[%a]run") then return "run" end
  if low:match("walk") or pl:match("park") then return "park" end
  if low:match("coffee") or pl:match("cafe") then return "coffee" end
  if low:match("drink") or pl:match("pub") then return "pub" end
  if low:match("shopping") then return "shop" end
  if low:match("relax") or where == "home" then return "relax" end
  return nil
end

local function durations(total, ...)
  local out, left, i = {}, total, 0
  while left > 0 do
    i = i + 1
    local d
    if left <= 15 then d = left
    else
      d = ({ 5, 10, 10, 15, 15 })[hash(i, ...) % 5 + 1]
      if left - d < 5 then d = left - 5 end
      if d > 15 then d = 15 end
    end
    out[#out + 1] = d
    left = left - d
  end
  local n = #out
  if n > 1 and out[n] < 5 then -- only when total was not a multiple of 5
    local sum = out[n - 1] + out[n]
    if sum <= 15 then out[n - 1] = sum; out[n] = nil
    else out[n - 1] = sum - 5; out[n] = 5 end
  end
  return out
end

local function gerund(activity)
  local verb, rest = activity:match("^(%a+)(.*)$")
  if not verb then return activity end
  local irregular = { get = "getting", sit = "sitting", run = "running",
                      shop = "shopping", go = "going", be = "being",
                      see = "seeing", have = "having", take = "taking",
                      make = "making", write = "writing" }
  local g = irregular[verb:lower()]
  if not g then
    if verb:match("[^e]e$") then g = verb:sub(1, -2) .. "ing"
    else g = verb .. "ing" end
  end
  return g .. rest
end

function K.decompose(f, agent)
  local w = world_of(f)
  local block = nn(f.block) or {}
  local activity = str(block.activity, "relax at home")
  local total = math.floor(tonumber(nn(block.minutes)) or 60)
  local start = str(block.start, "00:00")
  local home = str(f.home)
  local fixed, sector = where_for(w, f, activity)
  local where = (fixed and sector_of(fixed)) or sector or ""
  if where == sector_of(home) then where = "home" end
  local cat, meal = category(activity, where, f.learned)
  local steps = cat and STEPS[cat] or { gerund(strip_times(activity)) }
  if total < 1 then return { actions = arr() } end
  local pieces = total >= 5 and durations(total, agent, start, activity)
                 or { total }
  -- in order from the first step when waking up, else from a step chosen
  -- by the hash
  local offset = (cat == "wake" or cat == "party_prep" or cat == "meal_home"
                  or cat == "meal_out") and 0
                 or hash(agent, start, activity) % #steps
  local actions = {}
  for i, d in ipairs(pieces) do
    local step
    if meal then -- prepare or order, eat (as long as it takes), finish
      if i == #pieces and #pieces >= 3 then step = steps[#steps]
      else step = steps[math.min(i, #steps - 1)] end
    else
      step = steps[(offset + i - 1) % #steps + 1]
    end
    if meal then step = step:format(meal) end
    local place = fixed or arena_for(w, sector, step .. " " .. activity, home)
                  or home
    actions[#actions + 1] = {
      minutes = d, activity = step, place = place,
      object = object_for(w, place, step .. " " .. activity, agent, start, i),
    }
  end
  return { actions = arr(actions) }
end

-- react: {"react": false} | {"react": true, "talk_to": name}
--        | {"react": true, "replan": "..."}
local function asleep(s)
  local low = str(s):lower()
  return low:match("^sleep") ~= nil or low:match(" sleeping") ~= nil
    or low:match("in bed") ~= nil
end

-- Known facts worth passing on now: not about an event that has started
-- (nobody announces the party at the party) or is over.
local function live_news(f, now)
  local out = {}
  for _, fact in ipairs(list(f.known_facts)) do
    local ev = event_of(fact)
    if not ev or not now or now == "" or ev.from > now then
      out[#out + 1] = fact
    end
  end
  return out
end

function K.react(f, agent)
  local w = world_of(f)
  local now = str(f.now)
  local today, now_min = date_of(now), minutes_of(now)
  local plan = list(f.plan)
  -- an event of today that the agent means to attend and has not planned
  -- (only when the plan is shown: without it, every call would replan)
  if today and now_min and nn(f.plan) ~= nil then
    for _, fact in ipairs(list(f.known_facts)) do
      local ev = event_of(fact)
      if ev and ev.date == today and now_min < ev.stop - 30
         and attends(agent, fact) and not plan_has(plan, w, fact, ev) then
        local from = math.max(ev.start, (now_min + 9) // 5 * 5)
        return { react = true, replan = event_item(w, fact, ev, from) }
      end
    end
  end
  local o = nn(f.observed)
  if type(o) ~= "table" or str(o.type, "agent") ~= "agent" then
    return { react = false }
  end
  local name = str(o.name)
  if name == "" or name == agent then return { react = false } end
  if asleep(f.activity) or asleep(o.activity) then return { react = false } end
  local theirs = str(o.activity):lower()
  if contains(theirs, "chatting with") or contains(theirs, "talking to")
     or contains(theirs, "conversation") then
    return { react = false }
  end
  local pct = (str(o.relation) ~= "") and 40 or 15
  local news = live_news(f, now)
  for _, fact in ipairs(news) do
    if is_seeded(fact) and event_of(fact) then pct = pct + 55; break end
  end
  if #news > 0 then pct = pct + 15 end
  if contains(str(f.activity):lower(), "party") then pct = pct + 30 end
  if (tonumber(nn(o.chats)) or 0) >= 3 then pct = pct - 20 end
  pct = math.max(5, math.min(95, pct))
  if chance(pct, agent, name, date_of(now) or "", (now_min or 0) // 60) then
    return { react = true, talk_to = name }
  end
  return { react = false }
end

-- chat: {"say": "...", "end": false}
local GREET_KNOWN = {
  "Hi %s! Good to see you. How are you doing?",
  "Hey %s, how's your day going?",
  "Oh, hello %s! I was hoping I'd run into you.",
  "%s %s! What have you been up to?",
}
local GREET_NEW = {
  "Hi there, I don't think we've met. I'm %s.",
  "Hello! I'm %s. I've seen you around but we've never talked.",
  "Excuse me, hi! I'm %s. Nice to meet you.",
}
local SMALL = {
  "It's been a busy week, but a good one.",
  "The weather has been lovely lately, hasn't it?",
  "I've been trying to get out of the house more.",
  "Things are fine here, thanks for asking.",
}
local BYE = {
  "Well, I should get going. See you around, %s!",
  "It was good talking to you, %s. Take care!",
  "I'd better get back to it. Bye for now, %s!",
}
local NEWS_CUES = { "did you hear", "i have some news", "guess what" }

local function greeting(now)
  local m = minutes_of(now) or 12 * 60
  if m < 12 * 60 then return "Good morning," end
  if m < 18 * 60 then return "Good afternoon," end
  return "Good evening,"
end

local function share_order(facts)
  local t = {}
  for _, fact in ipairs(facts) do t[#t + 1] = fact end
  table.sort(t, function(a, b)
    local ka = (is_seeded(a) and 0 or 2) + (event_of(a) and 0 or 1)
    local kb = (is_seeded(b) and 0 or 2) + (event_of(b) and 0 or 1)
    if ka ~= kb then return ka < kb end
    return str(a.id) < str(b.id)
  end)
  return t
end

-- Will the agent pass fact on to partner at all? (Fixed per pair: the host
-- tells everyone, others are choosier, gossip about people more so.)
local function shares(agent, partner, fact)
  local seeded, ev = is_seeded(fact), event_of(fact) ~= nil
  local pct = seeded and (ev and 100 or 60) or (ev and 50 or 30)
  return chance(pct, agent, partner, str(fact.id), "share")
end

local function to_sentence(s)
  s = trim(s):gsub("[%.!]$", "")
  return s
end

function K.chat(f, agent)
  local partner = str(f.partner, "friend")
  local pfirst = first_name(partner)
  local now = str(f.now)
  local history = list(f.history)
  local turn = tonumber(nn(f.turn)) or (#history + 1)
  local max_turns = tonumber(nn(f.max_turns)) or 8
  local news = live_news(f, now)
  -- what was said so far, and what of it the speaker knows about
  local mine, all, theirs = 0, {}, {}
  for _, h in ipairs(history) do
    local who, text = str(h.speaker), str(h.text)
    all[#all + 1] = text
    if who == agent then mine = mine + 1 else theirs[#theirs + 1] = text end
  end
  local all_text = table.concat(all, " ")
  -- facts already said here, or that the partner has heard before (the
  -- speaker's memories of the partner mention them)
  local said, memtext = {}, {}
  for _, m in ipairs(list(f.memories)) do
    local t = str(type(m) == "table" and m.text or m)
    -- only memories of this partner count (retrieval brings others too)
    if contains(t, partner) or contains(t, pfirst) then
      memtext[#memtext + 1] = t
    end
  end
  memtext = table.concat(memtext, " ")
  for _, fact in ipairs(list(f.known_facts)) do
    local t = str(fact.text)
    if mentions(all_text, t) or mentions(memtext, t) then
      said[str(fact.id)] = true
    end
  end
  local parts = {}
  local stranger = str(f.relation) == "" and #list(f.memories) == 0
  -- a greeting, or an answer to one
  if #history == 0 then
    local g = pick(GREET_KNOWN, agent, partner, now)
    if stranger then
      parts[#parts + 1] = pick(GREET_NEW, agent, partner, now)
                          :format(first_name(agent))
    elseif g:match("^%%s %%s") then
      parts[#parts + 1] = g:format(greeting(now):gsub(",$", ""), pfirst)
    else
      parts[#parts + 1] = g:format(pfirst)
    end
  elseif mine == 0 then
    if stranger then
      parts[#parts + 1] = string.format("Nice to meet you, %s! I'm %s.",
                                        pfirst, first_name(agent))
    else
      parts[#parts + 1] = string.format("Hi %s! %s", pfirst,
                                        pick(SMALL, agent, partner, now))
    end
  end
  -- news the partner just told
  local last = theirs[#theirs] or ""
  local low = last:lower()
  local cued = false
  for _, c in ipairs(NEWS_CUES) do if contains(low, c) then cued = true end end
  if cued then
    local knew = false
    for _, fact in ipairs(list(f.known_facts)) do
      if mentions(last, str(fact.text)) then knew = true end
    end
    if knew then
      parts[#parts + 1] = pick({ "Yes, I heard about that too!",
                                 "Oh, I know, I heard!",
                                 "Right, someone told me already." },
                               agent, last)
    else
      parts[#parts + 1] = pick({ "Really? I had no idea. Thanks for telling me!",
                                 "Oh, that's news to me!",
                                 "I didn't know that. How exciting!" },
                               agent, last)
      if contains(low, "come") then
        parts[#parts + 1] = "I'll try to make it."
      end
    end
  end
  -- the next piece of news to pass on
  local shared = false
  for _, fact in ipairs(share_order(news)) do
    local id = str(fact.id)
    if not said[id] and shares(agent, partner, fact) then
      local text = to_sentence(str(fact.text))
      local ev = event_of(fact)
      if is_seeded(fact) then
        parts[#parts + 1] = "By the way, I have some news: "
                            .. first_person(agent, text) .. "."
        if ev then parts[#parts + 1] = "I'd love for you to come!" end
      else
        parts[#parts + 1] = "Did you hear? " .. text .. "."
        if ev and attends(agent, fact) then
          parts[#parts + 1] = "I'm planning to go. You should come too!"
        end
      end
      shared = true
      break
    end
  end
  -- at an event that is going on here: say so, once
  local my_lines = {}
  for _, h in ipairs(history) do
    if str(h.speaker) == agent then my_lines[#my_lines + 1] = str(h.text) end
  end
  my_lines = table.concat(my_lines, " ")
  if not shared then
    for _, fact in ipairs(list(f.known_facts)) do
      local ev = event_of(fact)
      if ev and ev.place == str(f.place) and ev.from <= now and now < ev.to then
        local line = is_seeded(fact)
          and pick({ "Thank you so much for coming!",
                     "I'm so glad you could make it!" }, agent, partner)
          or pick({ "Isn't this a lovely party?", "What a great party this is!",
                    "The place looks wonderful tonight." }, agent, partner)
        if not contains(my_lines, line) then parts[#parts + 1] = line end
        break
      end
    end
  end
  -- otherwise a word about oneself (unless it repeats news), or small talk
  if not shared and #parts == 0 then
    local cur = to_sentence(str(f.currently))
    local repeats = false
    for _, fact in ipairs(list(f.known_facts)) do
      if mentions(cur, str(fact.text)) then repeats = true end
    end
    if mine == 1 and cur ~= "" and not repeats then
      parts[#parts + 1] = "These days " .. first_person(agent, cur) .. "."
    else
      parts[#parts + 1] = pick(SMALL, agent, partner, turn)
    end
  end
  local done = turn >= max_turns
    or (not shared and mine >= 2)
    or (not shared and mine >= 1 and turn >= 4)
  if done then
    parts[#parts + 1] = pick(BYE, agent, partner, turn):format(pfirst)
  end
  return { say = table.concat(parts, " "), ["end"] = done }
end

-- chat_summary: {"summary": "...", "facts": ["party"]}
function K.chat_summary(f, agent)
  local partner = str(f.partner, "someone")
  local theirs, mine = {}, {}
  for _, h in ipairs(list(f.history)) do
    if str(h.speaker) ~= agent then theirs[#theirs + 1] = str(h.text)
    else mine[#mine + 1] = str(h.text) end
  end
  theirs, mine = table.concat(theirs, " "), table.concat(mine, " ")
  local known = {}
  local told = {} -- what the agent told the partner: remembered too, so
                  -- that the agent does not tell it again next time
  for _, fact in ipairs(list(f.known_facts)) do
    known[str(fact.id)] = true
    if mentions(mine, str(fact.text)) then
      told[#told + 1] = to_sentence(str(fact.text))
    end
  end
  if #list(f.known_facts) == 0 then -- not shown: the news the lines announce
    for _, cue in ipairs({ "I have some news: ", "Did you hear%? " }) do
      for news in mine:gmatch(cue .. "([^%.!?]+)") do
        told[#told + 1] = trim(news)
      end
    end
  end
  local cands = list(f.candidates)
  if #cands == 0 then cands = list(f.world_facts) end
  local learned, news = {}, {}
  for _, c in ipairs(cands) do
    local id = str(c.id)
    if id ~= "" and not known[id] and mentions(theirs, str(c.text)) then
      learned[#learned + 1] = id
      news[#news + 1] = to_sentence(str(c.text))
    end
  end
  local where = str(f.place) ~= "" and (" at " .. str(f.place):gsub(":.*", ""))
                or ""
  local s
  if str(f.relation) == "" then
    s = string.format("%s met %s for the first time%s and they chatted", agent,
                      partner, where)
  else
    s = string.format("%s chatted with %s%s", agent, partner, where)
  end
  local more = {}
  if #news > 0 then
    more[#more + 1] = partner .. " told " .. first_name(agent) .. " that "
                      .. table.concat(news, ", and that ")
  end
  if #told > 0 then
    more[#more + 1] = first_name(agent) .. " told " .. first_name(partner)
                      .. " that " .. table.concat(told, ", and that ")
  end
  if #more > 0 then s = s .. "; " .. table.concat(more, "; ") .. "."
  else s = s .. " about how they have been." end
  return { summary = s, facts = arr(learned) }
end

-- questions: {"questions": ["...", "...", "..."]}
local PLACE_WORDS = { Cafe = true, College = true, Park = true, Store = true,
                      Pub = true, Market = true, Pharmacy = true, House = true,
                      house = true, Apartments = true, Loft = true,
                      Dorm = true, Kettle = true, Supply = true, Day = true }

-- People named in memories, most mentioned first ("First Last"): where
-- they act ("Maria Lopez is ...", "chatted with Maria Lopez", "Maria Lopez
-- told"), not where news names them; any mention when that finds nobody.
local function people_in(memories, agent)
  local function scan(strict)
    local count, order = {}, {}
    for _, m in ipairs(memories) do
      local text = str(type(m) == "table" and m.text or m)
      for s, a, b, e in text:gmatch("()(%u%l+) (%u%l+)()") do
        local name = a .. " " .. b
        local before = text:sub(math.max(1, s - 12), s - 1)
        local after = text:sub(e, e + 6)
        local acts = s == 1 or before:match("with $") or before:match("met $")
          or after:match("^ told") or after:match("^ said")
        -- "Maple Ridge College": a third capitalised word makes it a place
        if name ~= agent and not PLACE_WORDS[b] and not PLACE_WORDS[a]
           and not text:sub(e, e + 1):match("^ %u")
           and (acts or not strict) then
          if not count[name] then order[#order + 1] = name; count[name] = 0 end
          count[name] = count[name] + 1
        end
      end
    end
    table.sort(order, function(x, y)
      if count[x] ~= count[y] then return count[x] > count[y] end
      return x < y
    end)
    return order, count
  end
  local order, count = scan(true)
  if #order == 0 then order, count = scan(false) end
  return order, count
end

local function has_event_word(text)
  local low = str(text):lower()
  for _, k in ipairs(HIGH) do if contains(low, k) then return k end end
  return nil
end

function K.questions(f, agent)
  local memories = list(f.memories)
  local n = tonumber(nn(f.count)) or 3
  local qs = {}
  local people = people_in(memories, agent)
  local event
  for _, m in ipairs(memories) do
    event = event or has_event_word(m.text)
  end
  if event then
    qs[#qs + 1] = string.format("What is %s looking forward to, and who "
                                .. "else is involved?", agent)
  end
  for i = 1, 2 do
    if people[i] then
      qs[#qs + 1] = string.format("How is %s's relationship with %s "
                                  .. "developing?", agent, people[i])
    end
  end
  qs[#qs + 1] = string.format("What has %s been spending most of the time "
                              .. "on lately?", agent)
  qs[#qs + 1] = string.format("What matters most to %s this week?", agent)
  qs[#qs + 1] = string.format("Who has %s met recently?", agent)
  while #qs > n do table.remove(qs) end
  return { questions = arr(qs) }
end

-- insights: {"insights": [{"text": "...", "evidence": [3, 7]}]}
function K.insights(f, agent)
  local memories = list(f.memories)
  local n = tonumber(nn(f.count)) or 5
  local question = str(f.question)
  local out = {}
  local function ids(filter, max)
    local t = {}
    for _, m in ipairs(memories) do
      if nn(m.id) ~= nil and filter(str(m.text)) then
        t[#t + 1] = m.id
        if #t >= (max or 5) then break end
      end
    end
    return t
  end
  -- people: those in the question first, then the most mentioned
  local people, count = people_in(memories, agent)
  local asked = people_in({ question }, agent)
  local seen = {}
  local ordered = {}
  for _, p in ipairs(asked) do
    if count[p] and not seen[p] then ordered[#ordered + 1] = p; seen[p] = true end
  end
  for _, p in ipairs(people) do
    if not seen[p] then ordered[#ordered + 1] = p; seen[p] = true end
  end
  -- events
  local ev = ids(function(t) return has_event_word(t) ~= nil end)
  if #ev > 0 then
    local word
    for _, m in ipairs(memories) do
      word = word or has_event_word(m.text)
    end
    local what = ({ party = "an upcoming party", valentine = "the Valentine's "
                    .. "Day celebrations", mayor = "the mayoral election",
                    election = "the coming election", candida = "the coming "
                    .. "election", campaign = "the election campaign",
                    exhibition = "an upcoming exhibition" })[word]
                 or "something happening in town soon"
    out[#out + 1] = { text = string.format("%s cares about %s and has been "
                                           .. "talking about it with others",
                                           agent, what), evidence = arr(ev) }
  end
  for _, p in ipairs(ordered) do
    if #out >= n then break end
    local ev2 = ids(function(t) return contains(t, p) end)
    if #ev2 > 0 then
      local text
      if count[p] >= 3 then
        text = string.format("%s and %s see each other often and are "
                             .. "becoming close", agent, p)
      elseif count[p] == 2 then
        text = string.format("%s is getting to know %s", agent, p)
      else
        text = string.format("%s has crossed paths with %s", agent, p)
      end
      out[#out + 1] = { text = text, evidence = arr(ev2) }
    end
  end
  if #out < n then
    local work = ids(function(t)
      local l = t:lower()
      return l:match("work") or l:match("stud") or l:match("serv")
             or l:match("teach")
    end)
    if #work > 0 then
      out[#out + 1] = { text = agent .. " spends much of the day working and "
                        .. "takes it seriously", evidence = arr(work) }
    end
  end
  if #out == 0 and #memories > 0 and nn(memories[1].id) ~= nil then
    out[#out + 1] = { text = agent .. " has had an ordinary, quiet few hours",
                      evidence = arr({ memories[1].id }) }
  end
  while #out > n do table.remove(out) end
  return { insights = arr(out) }
end

-- interview: {"answer": "...", "facts": ["party"]}
function K.interview(f, agent)
  local q = str(f.question)
  local low = q:lower()
  local qw = wordset(q)
  local known = list(f.known_facts)
  local plan = list(f.plan)
  local hits = {}
  for _, fact in ipairs(known) do
    local n = 0
    for _, w in ipairs(words(fact.text)) do if qw[w] then n = n + 1 end end
    for _, w in ipairs(words(fact.id)) do if qw[w] then n = n + 1 end end
    if n > 0 then hits[#hits + 1] = { f = fact, n = n } end
  end
  table.sort(hits, function(a, b)
    if a.n ~= b.n then return a.n > b.n end
    return str(a.f.id) < str(b.f.id)
  end)
  if low:match("who do you know") or low:match("your friends")
     or low:match("who are you close") then
    local names = {}
    for _, a in ipairs(list(f.acquaintances)) do
      names[#names + 1] = str(type(a) == "table" and a.name or a)
    end
    if #names == 0 then
      return { answer = "I haven't really got to know anyone yet.",
               facts = arr() }
    end
    return { answer = "I know " .. table.concat(names, ", ") .. ".",
             facts = arr() }
  end
  if #hits == 0 then
    if #known == 0 or low:match("know") or low:match("hear") then
      return { answer = "No, I don't know anything about that.",
               facts = arr() }
    end
    local cur = str(f.currently)
    return { answer = cur ~= "" and ("I'm not sure. Right now "
             .. first_person(agent, to_sentence(cur)) .. ".")
             or "I'm not sure, I'd rather not guess.", facts = arr() }
  end
  local parts, ids = {}, {}
  for i, h in ipairs(hits) do
    if i > 2 then break end
    local fact = h.f
    ids[#ids + 1] = str(fact.id)
    local text = to_sentence(str(fact.text))
    if is_seeded(fact) then
      parts[#parts + 1] = "Yes: " .. first_person(agent, text) .. "."
    else
      parts[#parts + 1] = "Yes, " .. str(fact.from) .. " told me: " .. text .. "."
    end
    local ev = event_of(fact)
    if ev and (low:match("go") or low:match("attend") or low:match("come")) then
      local w = world_of(f)
      if plan_has(plan, w, fact, ev) or (#plan == 0 and attends(agent, fact)) then
        parts[#parts + 1] = "I'm planning to be there."
      else
        parts[#parts + 1] = "I don't think I'll make it, though."
      end
    end
  end
  return { answer = table.concat(parts, " "), facts = arr(ids) }
end

-- ---- the model -------------------------------------------------------------

local function header_of(text)
  local h = {}
  for line in (text .. "\n"):gmatch("([^\n]*)\n") do
    local k, v = line:match("^###%s*([%w_]+):%s*(.-)%s*$")
    if k and h[k] == nil then h[k] = v end
  end
  return h
end

local function content_of(m)
  local c = m.content
  if type(c) == "table" then
    local t = {}
    for _, p in ipairs(c) do
      t[#t + 1] = type(p) == "table" and str(p.text) or str(p)
    end
    return table.concat(t, "\n")
  end
  return str(c)
end

-- The sentence of a persona string about what the agent is up to: the last
-- one that starts with the agent's full name and a verb.
local function currently_of(persona, agent)
  local found
  for sentence in (persona .. " "):gmatch("(.-[%.!?])%s") do
    sentence = trim(sentence)
    if sentence:sub(1, #agent + 1) == agent .. " "
       and sentence:sub(#agent + 2, #agent + 2):match("%l") then
      found = sentence
    end
  end
  return found
end

-- Facts under either set of names: cognition.lua's (persona as one string,
-- place, day_plan, other, current_activity, partner_facts) or the longer
-- ones (innate, learned, currently, lifestyle, at, plan, observed,
-- activity, candidates).
local function normalize(f, agent)
  local p = nn(f.persona)
  if type(p) == "table" then
    for _, k in ipairs({ "age", "innate", "learned", "currently", "lifestyle",
                         "home" }) do
      if f[k] == nil then f[k] = p[k] end
    end
  elseif type(p) == "string" then
    if f.lifestyle == nil then f.lifestyle = p end
    if f.learned == nil then f.learned = p end
    if f.currently == nil then f.currently = currently_of(p, agent) end
  end
  if f.plan == nil then f.plan = f.day_plan end
  if f.observed == nil then f.observed = f.other end
  local o = nn(f.observed)
  if type(o) == "table" then
    if o.type == nil then o.type = o.kind or "agent" end
    if o.relation == nil and o.known ~= nil then
      o.relation = (o.known == true) and "acquaintances" or ""
    end
  end
  if f.activity == nil then f.activity = f.current_activity end
  if f.at == nil then f.at = f.place end
  if f.candidates == nil then f.candidates = f.partner_facts end
  return f
end

local function reply(ctx)
  local msgs = ctx.messages or {}
  local h
  for i = #msgs, 1, -1 do
    if msgs[i].role == "user" then
      h = header_of(content_of(msgs[i]))
      if h.kind then break end
    end
  end
  if not (h and h.kind) then -- the header may sit in the system message
    for _, m in ipairs(msgs) do
      local hh = header_of(content_of(m))
      if hh.kind then h = hh end
    end
  end
  if not (h and h.kind) then
    return "I need a prompt with a '### kind:' header."
  end
  local facts = {}
  if h.facts and h.facts ~= "" then
    local ok, v = pcall(json.decode, h.facts)
    if ok and type(v) == "table" then facts = v end
  end
  local agent = str(h.agent)
  if agent == "" then agent = str(facts.agent, "someone") end
  CUR = agent
  normalize(facts, agent)
  local fn = K[h.kind]
  if not fn then
    return string.format("{\"error\": \"unknown prompt kind %s\"}", h.kind)
  end
  return json.encode(fn(facts, agent))
end

-- A deterministic embedding for relevance: content words hashed into 64
-- signed buckets, normalised to unit length.
local function embed(text)
  local v = {}
  for i = 1, 64 do v[i] = 0.0 end
  for _, w in ipairs(words(text)) do
    local h = hash(w)
    local i = h % 64 + 1
    v[i] = v[i] + ((h >> 8) % 2 == 0 and 1.0 or -1.0)
  end
  local n = 0.0
  for i = 1, 64 do n = n + v[i] * v[i] end
  n = math.sqrt(n)
  if n > 0 then for i = 1, 64 do v[i] = v[i] / n end end
  return v
end

return { reply = reply, embed = embed, kinds = K }
