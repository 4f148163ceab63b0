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
 *   sim/prompts/KIND.txt  the prompt templates
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

#include <stddef.h>
#include <stdint.h>

/* How a run is asked for (agent sim). */
struct ag_sim_opts {
    const char *world;    /* the world file */
    const char *model;    /* "provider:name" overriding the world's, or NULL */
    const char *base_url; /* the endpoint, overriding OPENAI_BASE_URL or
                             ANTHROPIC_BASE_URL, or NULL */
    const char *out;      /* the output directory */
    const char *until;    /* game time to stop at; NULL: a day after start */
    const char *replay;   /* an audit log whose answers are used first */
    int replay_strict;    /* fail when a call was not in that log */
    int resume;           /* resume the run in out from its checkpoint */
    uint64_t seed;
    const char *const *sets; /* "KEY=VALUE" over the world's settings
                                (--set; KEY may be "weights.recency") */
    int nsets;
    int tick;     /* game seconds of lock-step; -1: the world's setting */
    int progress; /* show progress on stderr */
};

struct ag_sim_result {
    int64_t now; /* game time reached */
    long calls;  /* model calls made (not from the cache) */
    long cache_hits;
    long events;   /* timeline events */
    long failures; /* calls that failed, or whose answer was unusable */
};

/* Runs a world. Returns 0 when it reached its end, 1 when a limit stopped
 * it (a checkpoint is written) or a strict replay diverged, 2 for a usage,
 * world or output error; err says why. */
int ag_sim_run(const struct ag_sim_opts *o, struct ag_sim_result *res,
               char *err, size_t errlen);

/* ---- Interviews (sim-interview.c) ----------------------------------------
 *
 * `agent sim interview DIR AGENT "question"`: asks an agent of a run's
 * output folder a question, from what the run left (persona, memory
 * stream, facts held and from whom, plan and place at the end), through the
 * "interview" prompt. The answer's cited facts are checked against the
 * agent's provenance. The report:
 *   {"agent", "question", "answer", "at": game time,
 *    "facts": [{"fact", "since", "chain": [teller, their teller, ...],
 *               "memories": [ids of memories that mention it]}],
 *    "unsupported": [{"fact", "why"}],   -- hallucinations
 *    "hallucination": bool}
 * The question and the report are appended to DIR/audit.jsonl.
 */
struct ag_sim_interview_opts {
    const char *dir;   /* the run's --out folder */
    const char *agent; /* a persona's name */
    const char *question;
    const char *model;    /* "provider:name" overriding the run's, or NULL */
    const char *base_url; /* as in ag_sim_opts */
    const char *at;       /* a game time: the agent as it was then (what it
                             knew, remembered, planned); NULL: the run's end */
};

/* Returns 0 and the report in *report (cJSON_Delete it), or -1 with a
 * message in err. */
struct cJSON;
int ag_sim_interview(const struct ag_sim_interview_opts *o,
                     struct cJSON **report, char *err, size_t errlen);

/* A counter-based random number: the same (seed, agent, purpose, counter)
 * always gives the same 64 bits, whatever was drawn before (SplitMix64
 * over a hash of the key). */
uint64_t ag_sim_rand(uint64_t seed, uint32_t agent, uint32_t purpose,
                     uint64_t counter);

/* ---- Light agents (sim-light*.c) -----------------------------------------
 *
 * Light agents follow a Lua policy and make no model calls, so that a
 * million of them fit on one machine (about 50 bytes each with degree 8,
 * 120 at the peak while the graph is built).
 * They live on a social graph and pass facts along its edges; a run reports
 * each fact's diffusion curve. The world file's `light` section:
 *
 *   light = {
 *     count  = 1000000,       -- agents, numbered 0 .. count - 1 (required)
 *     graph  = "small-world", -- "small-world" (Watts-Strogatz), "random"
 *                             -- (count * degree / 2 distinct edges), "ring"
 *     degree = 8,             -- ring and small-world: even, the lattice's
 *                             -- degree; random: the mean degree
 *     rewire = 0.1,           -- small-world only: chance an edge is rewired
 *     graph_seed = 7,         -- default: the run's seed
 *     facts = { { id = "rumor", holders = { 0 } },  -- seeded at time 0
 *               { id = "scandal", seeds = 10 } },   -- 10 random holders
 *                             -- at most 32 facts; without `facts`, one fact
 *                             -- "rumor" held by `seed_holders` (default
 *                             -- { 0 }) and/or `seeds` random agents
 *     duration = "2d",        -- game time limit since the start: seconds,
 *                             -- or "90s", "45m", "36h", "2d" (default "1d")
 *     max_events = 0,         -- stop after this many events (0: no limit)
 *     wake   = "holders",     -- called at time 0: "holders" or "all"
 *     react  = 1,             -- seconds from learning something new to the
 *                             -- learner's next call (0: not woken)
 *     policy = "gossip.lua",  -- see below (default "builtin:gossip")
 *     params = { period = 60, patience = 3 },  -- handed to the policy
 *     provenance = true,      -- who told whom (default: count <= 10000)
 *     curve_points = 10000,   -- about this many points per curve at most
 *   }
 *
 * The policy is a function taking the API table `light` and returning the
 * handler; it is given as a function in the world file, as the name of a
 * Lua file (relative to the world's folder, ending in ".lua") returning such
 * a function, as Lua source returning one, or as "builtin:gossip", the
 * same gossip written in C. The handler is called once per event:
 *
 *   handler(agent, t, known, degree, state) -> delay [, state]
 *
 * agent is the agent's number; t the game time in seconds since the start;
 * known its facts as bits (bit i - 1 for the i-th fact: light.facts.rumor
 * gives the value); degree its neighbour count; state a small integer of
 * its own (0 at first; 0 .. 2^32 - 1). It returns the delay in whole
 * seconds until its next call (nil, false or 0: not until it learns
 * something new) and optionally its new state. An agent has at most one
 * call pending, the earliest asked for. Events run in (time, agent) order;
 * delays are at least a second, so that nothing can be scheduled into the
 * past. The API table, whose functions act for the agent being called:
 *
 *   light.pick()          a random neighbour's number (nil when none)
 *   light.neighbour(i)    the i-th neighbour's number, 1 <= i <= degree
 *   light.rand()          a float in [0, 1); rand(n): an integer 1 .. n;
 *   light.rand(n, p)      with a purpose p (an integer): the same value
 *                         every time within the event (ag_sim_rand keyed by
 *                         agent, purpose and time); without: a new draw
 *   light.tell(j, bits)   agent j learns the facts in bits; returns those
 *                         that were new to it (0: none)
 *   light.known(j), light.state(j)   another agent's facts and state
 *   light.count, light.edges, light.facts (id -> bit), light.params
 *
 * The handler should keep the functions in locals (local pick =
 * light.pick): a call then costs a few hundred nanoseconds. math.random is
 * replaced by an error: every draw goes through light.rand (determinism).
 * The same settings, start and seed give the same run, byte for byte.
 *
 * Results: metrics.json {"light": {agents, graph, degree, edges, seed,
 * graph_seed, events, end_s, until_s, informed, stopped}, "facts": {id:
 * {"count": n, "curve": [{"s": seconds, "t": "YYYY-MM-DD HH:MM:SS",
 * "count": n}], "holders": [{"agent": n, "s", "t", "from": n | null}]}}}:
 * "t" only when the start is known, "holders" only with provenance. The
 * curve has a point each time the count grows by count / curve_points
 * (every change when that is 1) and at the end.
 */
#include <stddef.h>

struct cJSON;
struct ag_sim_light;

struct ag_sim_light_opts {
    const char *world;   /* the world file's path: policy files are found
                            in its folder; the `light` section is read
                            from it when the settings are NULL (borrowed;
                            NULL: the current folder, settings needed) */
    const char *start;   /* "YYYY-MM-DD HH:MM[:SS]" (borrowed) or NULL:
                            the world's `start` when it is read here; the
                            curve's "t" counts from it */
    uint64_t seed;       /* the run's seed */
    uint32_t until;      /* game seconds overriding light.duration; 0: none */
    const char *out_dir; /* ag_sim_light_run writes metrics.json there,
                            creating the folder; NULL: nothing written */
    /* called about every million events (and at the end) by
     * ag_sim_light_run; may be NULL */
    void (*progress)(const struct ag_sim_light *w, void *ud);
    void *ud;
};

struct ag_sim_light_stats {
    uint32_t agents;
    uint64_t edges;     /* undirected, no self loops, no duplicates */
    uint64_t events;    /* handler calls so far */
    uint32_t now;       /* game seconds of the latest event */
    uint32_t informed;  /* agents that know at least one fact */
    size_t bytes;       /* memory held: graph, agents, queue, curves and
                           the policy's Lua heap */
    size_t graph_bytes; /* of which the graph (offsets and neighbours) */
    double build_s;     /* wall seconds to build the graph and seed */
    double run_s;       /* wall seconds spent running events */
    int done;           /* 1 when the run is over */
};

/* Builds a light world: reads and checks the settings, builds the graph,
 * seeds the facts and loads the policy. settings is the `light` section as
 * JSON (borrowed; its policy cannot then be a function) or NULL to run
 * o->world and take its `light` and `start`. Returns 0 and *out (free with
 * ag_sim_light_free), or, with a message in err: AG_EPARSE for a world
 * file that does not load or settings that are wrong (the message names
 * the file and the field: "w.lua: light.degree: must be even ..."),
 * AG_ELUA when the policy does not load or fails as it starts, -EINVAL
 * when there are neither settings nor world, -ENOMEM. */
int ag_sim_light_new(const struct cJSON *settings,
                     const struct ag_sim_light_opts *o,
                     struct ag_sim_light **out, char *err, size_t errlen);

/* Runs up to max_events events (0: until the run is over). Returns 0, or
 * AG_ELUA when the handler raised an error or returned something wrong
 * (the message names the agent and the time; the run is then over). */
int ag_sim_light_advance(struct ag_sim_light *w, uint64_t max_events, char *err,
                         size_t errlen);

/* Fills *st (any time). */
void ag_sim_light_stats(const struct ag_sim_light *w,
                        struct ag_sim_light_stats *st);

/* Adds "light" and the light facts to the object metrics (replacing
 * members of the same names). Returns 0. */
int ag_sim_light_metrics(const struct ag_sim_light *w, struct cJSON *metrics);

/* The graph and agents, for tests and the viewer: the neighbours of agent
 * a (sorted, borrowed, valid until the free) and their number in *n; an
 * agent's facts. a must be below the count. */
const uint32_t *ag_sim_light_neighbours(const struct ag_sim_light *w,
                                        uint32_t a, uint32_t *n);
uint32_t ag_sim_light_known(const struct ag_sim_light *w, uint32_t a);

void ag_sim_light_free(struct ag_sim_light *w);

/* What `agent sim` calls for a world with a `light` section: new, advance
 * to the end (calling o->progress), metrics.json in o->out_dir, free.
 * st may be NULL. Returns as ag_sim_light_new and ag_sim_light_advance, or
 * -errno when metrics.json cannot be written. */
int ag_sim_light_run(const struct cJSON *settings,
                     const struct ag_sim_light_opts *o,
                     struct ag_sim_light_stats *st, char *err, size_t errlen);

/* ---- View (sim-view.c) ---------------------------------------------------
 *
 * `agent sim view DIR [-o FILE]`: one self-contained HTML page showing a
 * run: the map with the agents replayed over a timeline slider (moves,
 * speech bubbles, the events around the current time), the diffusion curve
 * of each fact, the relationship graph, model usage by prompt kind. No
 * network: the page's CSS, script and data are all inline.
 */
#include <stddef.h>

/* Reads dir's world.json, timeline.jsonl and metrics.json (as described
 * above; a missing metrics.json is taken as empty, the page then shows what
 * the timeline tells) and writes the page to out_path, or to dir/view.html
 * when out_path is NULL. The page is written to "out_path.tmp" and renamed,
 * so a failure leaves no partial page. Borrows its arguments. Returns 0, or
 * a negative code with a message in err (errlen bytes; err may be NULL):
 * -errno when a file cannot be read or written, AG_EPARSE when one is not
 * what it should be (the message names the file and line), AG_ETOOBIG for
 * a file past the view's limits (world.json 16 MB, metrics.json 64 MB,
 * timeline.jsonl 512 MB). */
int ag_sim_view(const char *dir, const char *out_path, char *err,
                size_t errlen);

#endif
