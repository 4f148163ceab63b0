/*
 * sim.h: the social simulation (DESIGN §9, in the spirit of "Generative
 * Agents", Park et al. 2023): many agents with memory, reflection, plans and
 * conversations share a world and one game clock on the event loop. This
 * header fixes the contracts between its parts: the world file, the prompts
 * and what the model answers, and the files a run writes. The parts:
 *
 *   sim-world.c   loading and checking the world file (Lua data)
 *   sim-engine.c  the game clock, the event queue, agents as coroutines,
 *                 deterministic commit of model answers
 *   sim-lua.c     the Lua API the cognition code calls (sim.*, memory.*)
 *   sim-memory.c  memory streams and retrieval (recency, importance,
 *                 relevance)
 *   sim-llm.c     model calls for the simulation: prompt templates, a
 *                 concurrency limit per endpoint, a response cache keyed by
 *                 the request's hash, embeddings
 *   sim-out.c     the timeline and the metrics
 *   sim-light.c   light agents: a Lua policy, no model, a million of them
 *   sim-view.c    the self-contained HTML page
 *   cmd-sim.c     `agent sim`, `agent sim interview`, `agent sim view`
 *   sim/cognition.lua   what a full agent does (perceive, plan, react,
 *                       converse, reflect), calling the API of sim-lua.c
 *   sim/prompts/*.txt   the prompt templates
 *
 * ---- The world file -------------------------------------------------------
 *
 * A Lua file returning a table (checked like a task file: errors name the
 * file, the line when Lua gives one, and the field):
 *
 *   return {
 *     name  = "smallville",
 *     start = "2023-02-13 07:00",        -- game time, minutes precision
 *     model = "script:town-model.lua",   -- like a task's model
 *     map = {                            -- sectors > arenas > objects
 *       { sector = "Hobbs Cafe", arenas = {
 *           { arena = "cafe", size = { 20, 12 },
 *             objects = { "counter", "table 1", "piano" } } } },
 *       { sector = "Isabella's house", arenas = {
 *           { arena = "bedroom", objects = { "bed", "desk" } } } },
 *     },
 *     personas = {
 *       { name = "Isabella Rodriguez", age = 34,
 *         innate = "friendly, outgoing, hospitable",
 *         learned = "Isabella runs Hobbs Cafe ...",
 *         currently = "Isabella is planning a Valentine's Day party ...",
 *         lifestyle = "goes to bed around 11pm, wakes up around 6am",
 *         home = "Isabella's house:bedroom",   -- sector:arena
 *         at = "Isabella's house:bedroom" },   -- where she starts
 *       ...
 *     },
 *     knows = { { "Isabella Rodriguez", "Maria Lopez", "friends" }, ... },
 *     facts = {                          -- seeded into chosen agents
 *       { id = "party", holder = "Isabella Rodriguez",
 *         text = "Isabella is hosting a Valentine's Day party at Hobbs "
 *             .. "Cafe on February 14, 5pm to 7pm",
 *         event = { place = "Hobbs Cafe:cafe", from = "2023-02-14 17:00",
 *                   to = "2023-02-14 19:00" } } },
 *     settings = { ... },                -- every constant below
 *     light = { ... },                   -- light agents (sim-light.c)
 *   }
 *
 * settings (defaults): perceive_radius 8 (tiles), attention 3 (agents and
 * objects noticed per step), reflect_threshold 150, recency_decay 0.995 (per
 * game hour since last access), weights {recency = 1, importance = 1,
 * relevance = 1}, retrieve 30 (memories per retrieval), chat_turns 8,
 * chat_cooldown 120 (game minutes per pair), action_min 5, action_max 15
 * (minutes), tick 0 (0: event-driven; N: step every agent every N game
 * seconds), memory true, planning true, reflection true (ablations),
 * concurrency 8 (model calls in flight per endpoint), max_calls,
 * max_tokens, max_cost (0: none).
 *
 * ---- Prompts ---------------------------------------------------------------
 *
 * Every model call renders a named template from sim/prompts/<kind>.txt.
 * The first lines of a rendered prompt are its header, machine-readable:
 *
 *   ### kind: importance
 *   ### agent: Isabella Rodriguez
 *   ### facts: {"memory": "Isabella is planning a party", ...}
 *   ### answer: {"importance": <integer 1-10>}
 *
 * then the static part of the template (the same for every call of that
 * kind: servers' prefix caches help), then the facts. The model answers
 * with the JSON object the answer line shows (prose around it is tolerated:
 * the first JSON object in the reply is taken; a reply without one is
 * retried once, then the kind's default is used and counted). The kinds:
 *
 *   importance   {"importance": 1-10}                  a memory's poignancy
 *   day_plan     {"plan": ["wake up at 6:00", ...]}    broad strokes
 *   hourly       {"blocks": [{"start": "07:00", "minutes": 60,
 *                 "activity": "..."}]}                  the day in blocks
 *   decompose    {"actions": [{"minutes": 5-15, "activity": "...",
 *                 "place": "sector:arena", "object": "..."}]}
 *   react        {"react": false} | {"react": true, "talk_to": "name"}
 *                 | {"react": true, "replan": "what to do instead"}
 *   chat         {"say": "...", "end": false}          one turn
 *   chat_summary {"summary": "...", "facts": ["party"]}  what was learned
 *   questions    {"questions": ["...", "...", "..."]}  salient questions
 *   insights     {"insights": [{"text": "...", "evidence": [3, 7]}]}
 *   interview    {"answer": "...", "facts": ["party"]}
 *
 * Facts an agent learns are referred to by the fact ids of the world file,
 * so that diffusion can be measured; the stand-in knows them from the
 * facts it is shown.
 *
 * ---- What a run writes (--out DIR) ----------------------------------------
 *
 *   world.json      the world as loaded (map, personas, facts, settings)
 *   timeline.jsonl  one event per line, in game-time order, each with "t"
 *                   (game time, "YYYY-MM-DD HH:MM:SS"), "seq", "type",
 *                   "agent" and type-specific fields:
 *                     move {from, to}; act {activity, place, object,
 *                     minutes}; perceive {what}; chat.start {with};
 *                     chat.say {with, text}; chat.end {with, summary};
 *                     learn {fact, from} (first time an agent holds a
 *                     fact); plan {kind, items}; reflect {insights};
 *                     memory {id, kind, importance, text}
 *   metrics.json    {"facts": {id: {"holders": [{agent, t, from}],
 *                    "curve": [{t, count}]}}, "relations": {"edges":
 *                    [{a, b, chats, first}], "density": [{t, value}]},
 *                    "events": {id: {"attendees": [...], "present":
 *                    [{agent, from, to}]}}, "usage": {kind: {calls, tokens_in,
 *                    tokens_out, ms, cache_hits, cost}}}
 *   audit.jsonl     the spine's audit log of every model call (replayable)
 *   memory/<agent>.jsonl  each agent's memory stream at the end
 *   checkpoint.json when a limit stopped the run: enough to resume it
 *
 * Determinism: every random choice draws from a counter-based generator
 * keyed by (seed, agent, purpose, counter) (ag_sim_rand); model answers are
 * applied at each agent's next commit point in a canonical order (game
 * time, then agent number), never in the order they arrive. The same world,
 * seed and stand-in give a byte-identical timeline.
 */
#ifndef AG_SIM_H
#define AG_SIM_H

#include <stdint.h>

/* A counter-based random number: the same (seed, agent, purpose, counter)
 * always gives the same 64 bits, whatever was drawn before (SplitMix64
 * over a hash of the key). */
uint64_t ag_sim_rand(uint64_t seed, uint32_t agent, uint32_t purpose,
                     uint64_t counter);

#endif
