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
    int holder; /* persona index */
    int place;  /* the event's place, or -1 */
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
    int *knows; /* npersonas x npersonas: 1 when they know each other */
    char **knows_how; /* the relation's words, or NULL */
    struct ag__sim_fact *facts;
    int nfacts;
    struct ag__sim_settings set;
    int light; /* the world has a section of light agents */
    cJSON *json;  /* the world as loaded, for world.json */
};

/* Loads and checks a world file. Returns 0 or AG_ETASK with a message
 * naming the file, line or field. */
int ag__sim_world_load(const char *path, struct ag__sim_world *w, char *err,
                       size_t errlen);
void ag__sim_world_free(struct ag__sim_world *w);
/* The index of the place "sector:arena", or -1. */
int ag__sim_place_find(const struct ag__sim_world *w, const char *name);
/* The index of the persona, or -1. */
int ag__sim_persona_find(const struct ag__sim_world *w, const char *name);
/* "YYYY-MM-DD HH:MM[:SS]" (UTC) to game seconds; -1 when malformed. */
int64_t ag__sim_parse_time(const char *s);
/* Game seconds to "YYYY-MM-DD HH:MM:SS". */
void ag__sim_fmt_time(int64_t t, char out[20]);

/* ---- memory streams (sim-memory.c) -------------------------------------- */

struct ag__sim_mem {
    int id;      /* 1, 2, ... within its stream */
    int kind;    /* AG__MEM_* */
    char *text;
    int importance; /* 1-10 */
    int64_t created, accessed; /* game seconds */
    float *vec;                /* dims floats, L2-normalised */
    int *evidence;             /* thoughts: ids of the memories behind */
    int nevidence;
};

enum { AG__MEM_OBSERVATION, AG__MEM_CHAT, AG__MEM_THOUGHT, AG__MEM_PLAN };

struct ag__sim_stream {
    struct ag__sim_mem *m;
    int n, cap;
    double since_reflection; /* summed importance of new observations */
};

/* Adds a memory; text is copied, vec (dims floats) copied; returns its id. */
int ag__sim_mem_add(struct ag__sim_stream *s, int kind, const char *text,
                    int importance, int64_t now, const float *vec, int dims,
                    const int *evidence, int nevidence);
/* The k best memories for a query vector at time now, by recency +
 * importance + relevance (each min-max normalised, weighted), newest first
 * among equals; their accessed time is set to now. Writes up to k indices
 * into out (into s->m) and returns how many. */
int ag__sim_mem_retrieve(struct ag__sim_stream *s, const float *query,
                         int dims, int64_t now,
                         const struct ag__sim_settings *set, int k, int *out);
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
    int64_t wake;     /* when it wants to be resumed */
    int wake_events;  /* an event may wake it sooner */
    int woken;        /* an event woke it (sim.wait returns early) */
    int started;      /* its coroutine has been resumed once */
    unsigned char *knows; /* per fact: 1 when held */
    struct ag__sim_stream mem;
    int64_t *chat_end; /* per other agent: when their last chat ended */
    int *chats;        /* per other agent: how many chats */
    uint64_t draws;    /* random numbers drawn */
    struct ag__sim_call *call; /* the model call it waits for */
    cJSON *answer;             /* the answer, once in */
};

struct ag__sim_usage {
    long calls, cache_hits, tokens_in, tokens_out, failures;
    double ms, cost;
};

#define AG__SIM_KINDS 10

struct ag__sim_qitem {
    int64_t t;
    uint64_t seq;
    int agent;
};

struct ag__sim_call; /* a model call in flight (sim-llm.c) */

struct ag__sim {
    uv_loop_t *loop;
    struct ag__sim_world w;
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
    cJSON *cache;     /* request hash -> answer text */
    cJSON *templates; /* kind -> template text */
    int inflight, waiting; /* calls in flight; agents waiting for one */
    struct ag__sim_call *queue, *queue_tail; /* calls not yet sent */
    struct ag__sim_usage usage[AG__SIM_KINDS];
    long new_calls, new_tokens;
    double new_cost;

    /* outputs */
    char *out;
    FILE *timeline;
    uint64_t tseq;
    struct ag_audit *audit;
    cJSON *holders;   /* fact id -> [{agent, t, from}] */
    cJSON *curves;    /* fact id -> [{t, count}] */
    cJSON *presence;  /* fact id -> [{agent, from, to}] */
    cJSON *density;   /* [{t, value}] */
    int64_t next_density;

    int stopping; /* a limit was hit */
    char stop_reason[200];
    int progress; /* show progress on stderr */
    uint64_t t_start_ns;
};

/* sim-engine.c */
void ag__sim_schedule(struct ag__sim *s, int agent, int64_t t);
void ag__sim_wake_place(struct ag__sim *s, int place, int except);
uint64_t ag__sim_draw(struct ag__sim *s, int agent, uint32_t purpose);

/* sim-out.c: the timeline and the metrics */
int ag__sim_out_open(struct ag__sim *s, char *err, size_t errlen);
/* Writes one event; fields is taken over (may be NULL). */
void ag__sim_event(struct ag__sim *s, int agent, const char *type,
                   cJSON *fields);
void ag__sim_learned(struct ag__sim *s, int agent, int fact, int from);
void ag__sim_chatted(struct ag__sim *s, int a, int b);
void ag__sim_moved(struct ag__sim *s, int agent, int from, int to);
int ag__sim_out_close(struct ag__sim *s, char *err, size_t errlen);

/* sim-llm.c: prompts, the cache, the concurrency limit, usage */
int ag__sim_llm_init(struct ag__sim *s, const char *model_spec, char *err,
                     size_t errlen);
/* Asks the model for kind with facts (borrowed). Returns 1 and the parsed
 * answer in *answer when the cache had it, 0 when the call was queued (the
 * agent waits; its answer lands in agent->answer), or a negative code. */
int ag__sim_ask(struct ag__sim *s, int agent, const char *kind,
                const cJSON *facts, cJSON **answer);
/* Loads answers recorded in an audit log into the cache (replay). */
int ag__sim_llm_preload(struct ag__sim *s, const char *audit, char *err,
                        size_t errlen);
const char *ag__sim_kind_name(int k);
void ag__sim_llm_free(struct ag__sim *s);
/* The embedding of text into out (s->w.set.dims floats). */
void ag__sim_embed(struct ag__sim *s, const char *text, float *out);

/* sim-lua.c: the API of the cognition code */
int ag__sim_lua_open(struct ag__sim *s, char *err, size_t errlen);

#endif
