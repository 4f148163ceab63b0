/*
 * sim-light-private.h: what the files of light agents share (the contract
 * is in sim.h, "Light agents"). Three files, layered:
 *
 *   sim-light.c        the run: agents, the calendar queue, the policies
 *                      (C and the Lua API), results; and ag_sim_rand
 *   sim-light-graph.c  building the social graph
 *   sim-light-set.c    reading the settings, loading the policy, seeding
 *                      the facts: ag_sim_light_new and ag_sim_light_run
 *
 * sim-light.c needs neither of the others, so that ag_sim_rand alone does
 * not pull them in.
 */
#ifndef AG_SIM_LIGHT_PRIVATE_H
#define AG_SIM_LIGHT_PRIVATE_H

#include <stddef.h>
#include <stdint.h>

#include <lua.h>

#include "sim.h"

#define AG__LIGHT_RING         4096u /* calendar window, game seconds (2^n) */
#define AG__LIGHT_NONE         UINT32_MAX /* no agent, no time */
#define AG__LIGHT_MAX_FACTS    32
#define AG__LIGHT_MAX_COUNT    100000000u
#define AG__LIGHT_MAX_DURATION 2000000000u /* game seconds: 63 years */

/* ag_sim_rand purposes; a policy's own purposes start at P_USER. */
enum {
    AG__LIGHT_P_REWIRE = 1,
    AG__LIGHT_P_EDGE,
    AG__LIGHT_P_SEED,
    AG__LIGHT_P_POLICY,
    AG__LIGHT_P_USER = 0x100
};

enum { AG__LIGHT_SMALL_WORLD, AG__LIGHT_RANDOM, AG__LIGHT_RING_GRAPH };
extern const char *const ag__light_graph_names[3]; /* by the enum above */

/* 12 bytes an agent. */
struct ag__light_agent {
    uint32_t known; /* facts, one bit each */
    uint32_t next;  /* game second of the pending call, or NONE */
    uint32_t state; /* the policy's own */
};

struct ag__light_point {
    uint32_t s, count;
};

struct ag__light_holder {
    uint32_t agent, s, from; /* from: NONE when seeded */
};

struct ag__light_fact {
    char *id;
    uint32_t count, last_s;        /* holders so far; time of the latest */
    struct ag__light_point *curve; /* each point: count grew by >= step */
    size_t ncurve, capcurve;
    struct ag__light_holder *holders; /* with provenance only */
    size_t nholders, capholders;
    uint32_t *seed_list; /* settings: the named holders, until seeded */
    uint32_t nseed_list, seeds;
};

struct ag__light_bucket {
    uint32_t *v, n, cap; /* agents called at one game second */
};

struct ag_sim_light {
    /* settings (sim-light-set.c) */
    uint32_t count, degree, duration, react, step;
    uint64_t max_events, seed, graph_seed;
    double rewire;
    int graph, wake_all, provenance, has_start;
    int64_t start;             /* game time of second 0, with has_start */
    uint32_t period, patience; /* builtin:gossip's params */
    char *world_dir;
    /* graph (sim-light-graph.c) and agents */
    uint32_t *off, *nb; /* neighbours of a: nb[off[a] .. off[a + 1]) */
    uint64_t edges;
    struct ag__light_agent *ag;
    struct ag__light_fact facts[AG__LIGHT_MAX_FACTS];
    int nfacts;
    /* the queue: ring[t % RING] holds agents for t in [now, now + RING),
     * the heap later ones as t << 32 | agent; ring_n counts stale too */
    struct ag__light_bucket ring[AG__LIGHT_RING];
    uint64_t ring_n, *heap;
    size_t nheap, capheap;
    uint32_t *scratch, capscratch; /* for sorting a bucket */
    uint32_t now, pos;             /* the second being run, its next entry */
    int sorted;                    /* ring[now] is sorted, heap moved in */
    /* the run */
    lua_State *L;
    int handler;       /* registry ref of the Lua handler, or LUA_NOREF */
    int rc, done, cut; /* cut: a call fell after the duration */
    const char *stopped;
    uint64_t budget;                /* events left in this advance */
    uint32_t cur, last_t, informed; /* cur: the agent called, or NONE */
    uint64_t events, draws;         /* draws: in the current event */
    double build_s, run_s;
    char msg[256]; /* why the run stopped on an error */
};

static inline uint64_t ag__light_mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

/* An integer in [0, n) from the high half of r (n < 2^32). */
static inline uint32_t ag__light_below(uint64_t r, uint32_t n)
{
    return (uint32_t)(((r >> 32) * n) >> 32);
}

static inline void ag__light_sort(uint32_t *v, uint32_t n)
{
    for (uint32_t i = 1; i < n; i++) {
        uint32_t x = v[i], j = i;
        for (; j > 0 && v[j - 1] > x; j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

/* sim-light-graph.c: allocates the agents and builds the graph from the
 * settings. Returns 0, -ENOMEM, or -EDOM when no edge could be drawn. */
int ag__light_build_graph(struct ag_sim_light *w);

/* sim-light.c */
/* Asks for a call of agent a at game second when (>= now). */
void ag__light_schedule(struct ag_sim_light *w, uint32_t a, uint32_t when);
/* Agent a learns bits from agent `from` (NONE: seeded) now. */
void ag__light_learn(struct ag_sim_light *w, uint32_t a, uint32_t bits,
                     uint32_t from);
/* Pushes the API table `light` handed to the policy; params are taken
 * from the settings table at index 1. */
void ag__light_push_api(lua_State *L, struct ag_sim_light *w);
/* Message handler: keeps Lua's message, adds no traceback. */
int ag__light_msgh(lua_State *L);
/* Writes DIR/metrics.json, creating DIR. Returns 0 or -errno. */
int ag__light_write_metrics(const struct ag_sim_light *w, const char *dir,
                            char *err, size_t errlen);

#endif
