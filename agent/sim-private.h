/*
 * sim-private.h: what the parts of the simulation share (see sim.h for the
 * contracts with the outside). One struct ag__sim holds a run: the world as
 * loaded, the agents, the game clock and event queue, the memory streams,
 * the model gateway and the output files. Everything is owned by it and
 * freed by ag__sim_free.
 */
#ifndef AG_SIM_PRIVATE_H
#define AG_SIM_PRIVATE_H

#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>
#include <lua.h>
#include <uv.h>

#include "agent.h"
#include "audit.h"
#include "map.h"
#include "sim.h"

/* ---- the world (sim-world.c) -------------------------------------------- */

struct ag__sim_place { /* an arena, named "sector:arena" */
    char *name;
    char *sector, *arena;
    int w, h; /* size in tiles */
    char **objects;
    int nobjects;
};

struct ag__sim_persona {
    char *name, *innate, *learned, *currently, *lifestyle;
    int age;
    int home, start; /* place indices */
};

struct ag__sim_fact {
    char *id, *text;
    int holder;       /* persona index */
    int place;        /* the event's place, or -1 */
    int64_t from, to; /* the event's game time (seconds), or 0 */
};

struct ag__sim_settings {
    double perceive_radius;
    int attention;
    double reflect_threshold;
    double recency_decay;
    double w_recency, w_importance, w_relevance;
    int retrieve;
    int chat_turns;
    int chat_cooldown; /* game minutes */
    int action_min, action_max;
    int tick; /* game seconds; 0: event-driven */
    int memory, planning, reflection;
    int concurrency;
    long max_calls, max_tokens;
    double max_cost;
    int dims; /* embedding dimensions */
};

struct ag__sim_world {
    char *path, *dir, *name;
    int64_t start; /* game seconds since the epoch (UTC) */
    char *model;   /* "provider:name" or NULL */
    struct ag__sim_place *places;
    int nplaces;
    struct ag__sim_persona *personas;
    int npersonas;
    int *knows;       /* npersonas x npersonas: 1 when they know each other */
    char **knows_how; /* the relation's words, or NULL */
    struct ag__sim_fact *facts;
    int nfacts;
    struct ag__sim_settings set;
    int light;   /* the world has a section of light agents */
    cJSON *json; /* the world as loaded, for world.json */
};

/* Pushes every setting as a Lua table (weights as a table in it), for
 * sim.settings(). */
void ag__sim_settings_push(lua_State *L, const struct ag__sim_settings *set);
/* Reads the settings section (NULL: all defaults) into *set. */
void ag__sim_settings_load(const cJSON *settings, struct ag__sim_settings *set);

/* Loads and checks a world file into *w (free with ag__sim_world_free),
 * with set (an object, or NULL) merged into its settings first (--set).
 * Returns 0, or AG_ETASK with a message "FILE: FIELD: what is wrong" (Lua's
 * "FILE:LINE: ..." for a file that does not run) or -ENOMEM; *w is then
 * left empty. */
int ag__sim_world_load(const char *path, const cJSON *set,
                       struct ag__sim_world *w, char *err, size_t errlen);
void ag__sim_world_free(struct ag__sim_world *w);
/* The index of the place "sector:arena", or -1. */
int ag__sim_place_find(const struct ag__sim_world *w, const char *name);
/* The index of the persona, or -1. */
int ag__sim_persona_find(const struct ag__sim_world *w, const char *name);
/* "YYYY-MM-DD HH:MM[:SS]" (UTC, exactly, a real date of 1970-9999) to
 * game seconds; -1 when malformed. */
int64_t ag__sim_parse_time(const char *s);
/* Game seconds to "YYYY-MM-DD HH:MM:SS". */
void ag__sim_fmt_time(int64_t t, char out[20]);

/* ---- memory streams (sim-memory.c) -------------------------------------- */

struct ag__sim_mem {
    int id;   /* 1, 2, ... within its stream */
    int kind; /* AG__MEM_* */
    char *text;
    int importance;            /* 1-10 */
    int64_t created, accessed; /* game seconds */
    float *vec;                /* dims floats, L2-normalised */
    int *evidence;             /* thoughts: ids of the memories behind */
    int nevidence;
};

enum { AG__MEM_OBSERVATION, AG__MEM_CHAT, AG__MEM_THOUGHT, AG__MEM_PLAN };

/* A memory kind's name ("observation", "chat", "thought", "plan"), and the
 * kind of a name (NULL or unknown: an observation). */
const char *ag__sim_mem_kind_name(int kind);
int ag__sim_mem_kind(const char *name);

struct ag__sim_stream {
    struct ag__sim_mem *m;
    int n, cap;
    double since_reflection; /* summed importance of new observations */
};

/* Adds a memory; text is copied, vec (dims floats) copied; importance is
 * clamped to 1-10; of evidence, the ids of earlier memories are kept.
 * Returns its id. */
int ag__sim_mem_add(struct ag__sim_stream *s, int kind, const char *text,
                    int importance, int64_t now, const float *vec, int dims,
                    const int *evidence, int nevidence);
/* The k best memories for a query vector at time now, by recency +
 * importance + relevance (each min-max normalised, weighted), newest first
 * among equals; their accessed time is set to now. Writes up to k indices
 * into out (into s->m) and returns how many. */
int ag__sim_mem_retrieve(struct ag__sim_stream *s, const float *query, int dims,
                         int64_t now, const struct ag__sim_settings *set, int k,
                         int *out);
/* One memory's score for a query at a time: the raw parts and the total. */
struct ag__sim_mem_score {
    double recency;    /* recency_decay ^ game hours since last access */
    double importance; /* importance / 10 */
    double relevance;  /* cosine of query and memory; 0 without vectors */
    double score;      /* the weighted sum, each part min-max normalised
                          over the stream (0.5 when all are equal) */
};
/* Scores every memory of s as ag__sim_mem_retrieve does, into out[0, s->n)
 * (the caller's array), changing nothing; query may be NULL. Returns s->n. */
int ag__sim_mem_score(const struct ag__sim_stream *s, const float *query,
                      int dims, int64_t now, const struct ag__sim_settings *set,
                      struct ag__sim_mem_score *out);
void ag__sim_stream_free(struct ag__sim_stream *s);

/* ---- the run (sim-engine.c) --------------------------------------------- */

enum { AG__SIM_IDLE, AG__SIM_MODEL, AG__SIM_CHAT, AG__SIM_DONE };

struct ag__sim_agent {
    int id; /* persona index */
    int place, x, y;
    char *activity; /* what it is doing now, for others to perceive */
    int state;      /* AG__SIM_* */
    int in_chat;    /* another agent's coroutine holds it in a chat */
    lua_State *co;  /* its coroutine */
    int co_ref;
    int64_t wake;         /* when it wants to be resumed */
    int wake_events;      /* an event may wake it sooner */
    int woken;            /* an event woke it (sim.wait returns early) */
    int started;          /* its coroutine has been resumed once */
    unsigned char *knows; /* per fact: 1 when held */
    int *teller;          /* per fact: who told it, -1 when seeded */
    int after_chat;       /* who it last talked with, until it reacts; -1 */
    struct ag__sim_stream mem;
    int64_t *chat_end;         /* per other agent: when their last chat ended */
    int *chats;                /* per other agent: how many chats */
    uint64_t draws;            /* random numbers drawn */
    struct ag__sim_call *call; /* the model call it waits for */
    cJSON *answer;             /* the answer, once in */
};

struct ag__sim_usage {
    long calls, cache_hits, tokens_in, tokens_out, failures, retries;
    double ms, cost;
};

#define AG__SIM_KINDS 10

struct ag__sim_qitem {
    int64_t t;
    uint64_t seq;
    int agent;
};

struct ag__sim_call;   /* a model call in flight (sim-llm.c) */
struct ag__sim_etext;  /* a text waiting for its embedding (sim-embed.c) */
struct ag__sim_ebatch; /* an embeddings request in flight */
struct ag_embed_cache;

struct ag__sim {
    uv_loop_t *loop;
    struct ag__sim_world w;
    cJSON *set; /* --set over the world's settings (kept in a checkpoint) */
    const char *base_url; /* --base-url, or NULL: the environment's */
    uint64_t seed;
    int64_t now, until;
    struct ag__sim_agent *agents;
    int nagents;
    struct ag__sim_qitem *heap;
    int nheap, capheap;
    uint64_t qseq;
    lua_State *L;
    char *sim_dir; /* cognition.lua and prompts/ */
    char run[33];

    /* the model */
    struct ag_http *http;
    struct ag_llm_cfg llm;
    struct ag_script *script;
    char *model_name, *provider;
    double price_in, price_out;
    struct ag_map *cache;  /* request hash -> answer text */
    cJSON *templates;      /* kind -> template text */
    int inflight, waiting; /* calls in flight; agents waiting for one */
    struct ag__sim_call *queue, *queue_tail; /* calls not yet sent */
    struct ag__sim_usage usage[AG__SIM_KINDS];

    /* embeddings (sim-embed.c) */
    int embed_remote; /* from the endpoint, not the local embedder */
    char *embed_model;
    struct ag_embed_cache *ecache;
    struct ag__sim_etext *epending; /* texts not yet sent */
    int nepending, capepending;
    struct ag__sim_ebatch *ebatches; /* in flight */
    struct ag__sim_usage eusage;
    long new_calls, new_tokens;
    double new_cost;

    /* outputs */
    char *out;
    FILE *timeline;
    uint64_t tseq;
    struct ag_audit *audit;
    cJSON *holders;  /* fact id -> [{agent, t, from}] */
    cJSON *curves;   /* fact id -> [{t, count}] */
    cJSON *presence; /* fact id -> [{agent, from, to}] */
    cJSON *density;  /* [{t, value}] */
    int64_t next_density;

    int stopping; /* a limit was hit */
    char stop_reason[200];
    int out_errno;  /* a write to timeline.jsonl failed (a full disk) */
    int eprojected; /* embedding batches projected to settings.dims */
    int progress;   /* show progress on stderr */
    uint64_t t_start_ns;
};

/* sim-engine.c */
/* Where cognition.lua and prompts/ are: $AGENT_SIM_DIR, the installed
 * folder, or the source tree's (malloc'd). */
char *ag__sim_dir(void);
void ag__sim_schedule(struct ag__sim *s, int agent, int64_t t);
void ag__sim_wake_place(struct ag__sim *s, int place, int except);
uint64_t ag__sim_draw(struct ag__sim *s, int agent, uint32_t purpose);

/* sim-out.c: the timeline and the metrics */
int ag__sim_out_open(struct ag__sim *s, char *err, size_t errlen);
/* Writes one event; fields is taken over (may be NULL). */
void ag__sim_event(struct ag__sim *s, int agent, const char *type,
                   cJSON *fields);
void ag__sim_learned(struct ag__sim *s, int agent, int fact, int from);
/* When dir holds a run of light agents (metrics.json with "light"), adds
 * to err that view and interview are for full simulations. */
void ag__sim_light_hint(const char *dir, char *err, size_t errlen);
/* Writes v as dir/name, whole or not at all (ag_write_file). Returns 0 or
 * a negative errno. */
int ag__sim_write_json(const char *dir, const char *name, const cJSON *v);
/* Writes a record to the run's audit log (data taken over); once the log
 * cannot be written (a full disk) the run stops as at a limit, since the
 * log is what a resume answers from. */
void ag__sim_audit(struct ag__sim *s, int agent, const char *type, cJSON *data);
void ag__sim_chatted(struct ag__sim *s, int a, int b);
void ag__sim_moved(struct ag__sim *s, int agent, int from, int to);
int ag__sim_out_close(struct ag__sim *s, char *err, size_t errlen);

/* sim-llm.c: prompts, the cache, the concurrency limit, usage */
int ag__sim_llm_init(struct ag__sim *s, const char *model_spec, char *err,
                     size_t errlen);
/* Asks the model for kind with facts (borrowed). Returns 0: the agent
 * waits, and its answer lands in agent->answer at the end of the round
 * (at once when the cache has it: it is still applied in the round's
 * order, so a cached run is the same run), or a negative code. *answer is
 * left NULL (kept for callers that take an answer at once). */
int ag__sim_ask(struct ag__sim *s, int agent, const char *kind,
                const cJSON *facts, cJSON **answer);
/* Sends the calls (and embeddings) queued; the engine calls it once every
 * agent of a round has had its turn, so that identical requests merge. */
void ag__sim_flush(struct ag__sim *s);
/* Loads answers recorded in an audit log into the cache (replay). */
int ag__sim_llm_preload(struct ag__sim *s, const char *audit, char *err,
                        size_t errlen);
const char *ag__sim_kind_name(int k);
/* Writes a failed attempt of a call (what: "llm.attempt", "embed.attempt")
 * to the audit log. */
struct ag_llm_attempt;
void ag__sim_audit_attempt(struct ag__sim *s, int agent, const char *what,
                           const struct ag_llm_attempt *at);
void ag__sim_llm_free(struct ag__sim *s);
/* sim-embed.c: embeddings for memory relevance */
int ag__sim_embed_init(struct ag__sim *s, char *err, size_t errlen);
void ag__sim_embed_free(struct ag__sim *s);
/* 1 when text's embedding is at hand; 0 when it was queued (the agent
 * waits, as for a model answer) */
int ag__sim_embed_need(struct ag__sim *s, int agent, const char *text);
void ag__sim_embed_flush(struct ag__sim *s);
/* The embedding of text into out (s->w.set.dims floats). */
void ag__sim_embed(struct ag__sim *s, const char *text, float *out);
/* Caches the vectors of an audit log's embed.response record's data. */
int ag__sim_embed_preload(struct ag__sim *s, const cJSON *data);

/* sim-lua.c: the API of the cognition code */
int ag__sim_lua_open(struct ag__sim *s, char *err, size_t errlen);

#endif
