/*
 * sim-light.c: light agents (DESIGN §9; contract in sim.h, "Light agents")
 * at run time: many agents that follow a policy on a social graph and make
 * no model calls; and ag_sim_rand, the counter-based generator every part
 * of the simulation draws from. The graph is built by sim-light-graph.c,
 * the settings read by sim-light-set.c (see sim-light-private.h).
 *
 * Events run from a calendar queue: one bucket of agent numbers per game
 * second over a window of RING seconds (later calls wait in a binary heap
 * keyed by time << 32 | agent), each bucket sorted by a radix sort just
 * before it runs, so that events run in (time, agent) order whatever order
 * they were asked for in. An agent has at most one call pending, at its
 * `next`, the earliest asked for; a queue entry whose time is not its
 * agent's `next` is stale and skipped. Delays are at least a second, so
 * the bucket being run never grows while it runs.
 *
 * Policy draws are keyed by agent, event time and draw number, never taken
 * from a running stream, so nothing depends on unrelated events, and
 * "builtin:gossip" draws exactly what examples/sim/gossip.lua draws. The
 * Lua handler is called with lua_call from a loop that itself runs under
 * one lua_pcall: no setjmp and no table per event, integers in and out.
 * Each fact keeps its diffusion curve (a point each time its count grew by
 * `step`) and, with provenance, who told whom.
 */
#include "sim-light-private.h"

#include "ag.h"
#include "sim-private.h" /* ag__sim_fmt_time */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>
#include <lauxlib.h>
#include <lua.h>

#define RING AG__LIGHT_RING
#define NONE AG__LIGHT_NONE

const char *const ag__light_graph_names[3] = {"small-world", "random", "ring"};

/* ---- randomness --------------------------------------------------------- */

uint64_t ag_sim_rand(uint64_t seed, uint32_t agent, uint32_t purpose,
                     uint64_t counter)
{
    uint64_t k = ag__light_mix(seed + 0x9E3779B97F4A7C15ULL);

    k = ag__light_mix(k ^ ((uint64_t)agent << 32 | purpose));
    /* the counter-th output of SplitMix64 started at state k */
    return ag__light_mix(k + (counter + 1) * 0x9E3779B97F4A7C15ULL);
}

/* The event's next draw: keyed by agent, time and draw number. */
static inline uint64_t draw(struct ag_sim_light *w)
{
    return ag_sim_rand(w->seed, w->cur, AG__LIGHT_P_POLICY,
                       (uint64_t)w->now << 24 | (w->draws++ & 0xFFFFFF));
}

/* ---- facts and the queue ------------------------------------------------ */

static void oom(struct ag_sim_light *w)
{
    if (!w->rc) {
        w->rc = -ENOMEM;
        snprintf(w->msg, sizeof w->msg, "light: out of memory");
    }
}

/* Grows *v (elements of size sz) to hold one more; 0 or -ENOMEM. */
static int grow(void **v, size_t *cap, size_t n, size_t sz)
{
    void *p;

    if (n < *cap)
        return 0;
    if (!(p = realloc(*v, (*cap ? *cap * 2 : 16) * sz)))
        return -ENOMEM;
    *v = p;
    *cap = *cap ? *cap * 2 : 16;
    return 0;
}

static void record(struct ag_sim_light *w, struct ag__light_fact *f, uint32_t a,
                   uint32_t from)
{
    struct ag__light_point *p = f->ncurve ? &f->curve[f->ncurve - 1] : NULL;

    f->count++;
    f->last_s = w->now;
    if (p && p->s == w->now) {
        p->count = f->count;
    } else if (!p || f->count >= p->count + w->step) {
        if (grow((void **)&f->curve, &f->capcurve, f->ncurve, sizeof *p) < 0) {
            oom(w);
            return;
        }
        f->curve[f->ncurve++] = (struct ag__light_point){w->now, f->count};
    }
    if (w->provenance) {
        if (grow((void **)&f->holders, &f->capholders, f->nholders,
                 sizeof *f->holders) < 0) {
            oom(w);
            return;
        }
        f->holders[f->nholders++] = (struct ag__light_holder){a, w->now, from};
    }
}

static void heap_push(struct ag_sim_light *w, uint64_t key)
{
    size_t i = w->nheap;

    if (grow((void **)&w->heap, &w->capheap, w->nheap, sizeof key) < 0) {
        oom(w);
        return;
    }
    for (w->nheap++; i > 0 && w->heap[(i - 1) / 2] > key; i = (i - 1) / 2)
        w->heap[i] = w->heap[(i - 1) / 2];
    w->heap[i] = key;
}

static uint64_t heap_pop(struct ag_sim_light *w)
{
    uint64_t top = w->heap[0], last = w->heap[--w->nheap];
    size_t i = 0, c;

    while ((c = 2 * i + 1) < w->nheap) {
        if (c + 1 < w->nheap && w->heap[c + 1] < w->heap[c])
            c++;
        if (w->heap[c] >= last)
            break;
        w->heap[i] = w->heap[c];
        i = c;
    }
    w->heap[i] = last;
    return top;
}

static void ring_push(struct ag_sim_light *w, uint32_t a, uint32_t when)
{
    struct ag__light_bucket *b = &w->ring[when & (RING - 1)];
    size_t cap = b->cap;

    if (grow((void **)&b->v, &cap, b->n, sizeof *b->v) < 0) {
        oom(w);
        return;
    }
    b->cap = (uint32_t)cap;
    b->v[b->n++] = a;
    w->ring_n++;
}

/* Asks for a call of agent a at game second when (when >= now). */
void ag__light_schedule(struct ag_sim_light *w, uint32_t a, uint32_t when)
{
    struct ag__light_agent *g = &w->ag[a];

    if (when > w->duration) {
        w->cut = 1; /* the run ends before */
        return;
    }
    if (g->next != NONE && g->next <= when)
        return;
    g->next = when;
    if (when - w->now < RING)
        ring_push(w, a, when);
    else
        heap_push(w, (uint64_t)when << 32 | a);
}

/* Agent a learns bits from agent `from` (NONE: seeded) now. */
void ag__light_learn(struct ag_sim_light *w, uint32_t a, uint32_t bits,
                     uint32_t from)
{
    if (!w->ag[a].known)
        w->informed++;
    w->ag[a].known |= bits;
    for (; bits; bits &= bits - 1)
        record(w, &w->facts[__builtin_ctz(bits)], a, from);
    if (w->react && from != NONE)
        ag__light_schedule(w, a, w->now + w->react);
}

/* What light.tell does: the bits new to agent j. */
static uint32_t tell(struct ag_sim_light *w, uint32_t j, uint32_t bits)
{
    uint32_t fresh = bits & ~w->ag[j].known;

    if (fresh)
        ag__light_learn(w, j, fresh, w->cur);
    return fresh;
}

/* Sorts a bucket of agent numbers: radix sort by 11-bit digits. */
static int sort_bucket(struct ag_sim_light *w, struct ag__light_bucket *b)
{
    uint32_t *v = b->v, *t, n = b->n;

    if (n <= 64) {
        ag__light_sort(v, n);
        return 0;
    }
    if (n > w->capscratch) {
        free(w->scratch);
        if (!(w->scratch = malloc((size_t)b->cap * sizeof *w->scratch)))
            return w->capscratch = 0, -ENOMEM;
        w->capscratch = b->cap;
    }
    t = w->scratch;
    for (int shift = 0; shift < 32 && (w->count - 1) >> shift; shift += 11) {
        uint32_t cnt[2048] = {0}, sum = 0, *x;
        for (uint32_t i = 0; i < n; i++)
            cnt[v[i] >> shift & 2047]++;
        if (cnt[v[0] >> shift & 2047] == n)
            continue; /* one digit throughout */
        for (int d = 0; d < 2048; d++) {
            uint32_t c = cnt[d];
            cnt[d] = sum;
            sum += c;
        }
        for (uint32_t i = 0; i < n; i++)
            t[cnt[v[i] >> shift & 2047]++] = v[i];
        x = v, v = t, t = x;
    }
    if (v != b->v)
        memcpy(b->v, v, (size_t)n * sizeof *v);
    return 0;
}

/* ---- policies ----------------------------------------------------------- */

/* builtin:gossip, the same as examples/sim/gossip.lua: tell a random
 * neighbour everything known; after `patience` tellings that taught
 * nothing, fall silent (rumour mongering with a counter, Demers et al.
 * 1987); otherwise come back in about `period` seconds. */
static uint32_t gossip(struct ag_sim_light *w, uint32_t a, uint32_t *state)
{
    uint32_t deg = w->off[a + 1] - w->off[a], known = w->ag[a].known;

    if (!known || !deg || *state >= w->patience)
        return 0;
    if (!tell(w, w->nb[w->off[a] + ag__light_below(draw(w), deg)], known) &&
        ++*state >= w->patience)
        return 0;
    return w->period / 2 + 1 + ag__light_below(draw(w), w->period);
}

static uint32_t call_lua(struct ag_sim_light *w, uint32_t a, uint32_t *state)
{
    lua_State *L = w->L;
    lua_Integer d, s;
    int isnum;

    lua_pushvalue(L, 1); /* the handler, see run_lua */
    lua_pushinteger(L, a);
    lua_pushinteger(L, w->now);
    lua_pushinteger(L, w->ag[a].known);
    lua_pushinteger(L, w->off[a + 1] - w->off[a]);
    lua_pushinteger(L, *state);
    lua_call(L, 5, 2);
    isnum = 1;
    d = lua_toboolean(L, -2) ? lua_tointegerx(L, -2, &isnum) : 0;
    if (!isnum || d < 0 || d > AG__LIGHT_MAX_DURATION)
        luaL_error(L,
                   "the handler returned the delay %s: it must be nil or a "
                   "whole number of seconds",
                   luaL_tolstring(L, -2, NULL));
    if (!lua_isnil(L, -1)) {
        s = lua_tointegerx(L, -1, &isnum);
        if (!isnum || s < 0 || s > UINT32_MAX)
            luaL_error(L,
                       "the handler returned the state %s: it must be an "
                       "integer from 0 to 2^32 - 1",
                       luaL_tolstring(L, -1, NULL));
        *state = (uint32_t)s;
    }
    lua_settop(L, 2);
    return (uint32_t)d;
}

/* Runs events until the run is over or budget events ran. */
static void run_events(struct ag_sim_light *w, uint64_t budget)
{
    for (;;) {
        struct ag__light_bucket *b = &w->ring[w->now & (RING - 1)];
        if (!w->sorted) {
            while (w->nheap && (w->heap[0] >> 32) < (uint64_t)w->now + RING) {
                uint64_t k = heap_pop(w);
                if (w->ag[(uint32_t)k].next == k >> 32)
                    ring_push(w, (uint32_t)k, (uint32_t)(k >> 32));
            }
            if (sort_bucket(w, b) < 0)
                oom(w);
            w->sorted = 1;
            w->pos = 0;
        }
        while (w->pos < b->n && !w->rc) {
            uint32_t a = b->v[w->pos], state, delay;
            if (w->ag[a].next != w->now) {
                w->pos++;
                continue; /* stale */
            }
            if (budget == 0)
                return;
            if (w->max_events && w->events >= w->max_events) {
                w->stopped = "max_events";
                w->done = 1;
                return;
            }
            w->pos++;
            budget--;
            w->events++;
            w->ag[a].next = NONE;
            w->cur = a;
            w->last_t = w->now;
            w->draws = 0;
            state = w->ag[a].state;
            delay = w->handler != LUA_NOREF ? call_lua(w, a, &state)
                                            : gossip(w, a, &state);
            w->ag[a].state = state;
            if (delay)
                ag__light_schedule(w, a, w->now + delay);
        }
        if (w->rc) {
            w->done = 1;
            return;
        }
        w->ring_n -= b->n;
        b->n = 0;
        if (b->cap > 4096) { /* give back what a crowded second took */
            free(b->v);
            b->v = NULL;
            b->cap = 0;
        }
        if (!w->ring_n && !w->nheap) {
            w->stopped = w->cut ? "duration" : "empty";
            w->done = 1;
            return;
        }
        if ((w->ring_n ? w->now + 1 : w->heap[0] >> 32) > w->duration) {
            w->stopped = "duration";
            w->done = 1;
            return;
        }
        w->now = w->ring_n ? w->now + 1 : (uint32_t)(w->heap[0] >> 32);
        w->sorted = 0;
    }
}

/* ---- the Lua API (light.*) ---------------------------------------------- */

static struct ag_sim_light *self(lua_State *L, const char *fn)
{
    struct ag_sim_light *w = lua_touserdata(L, lua_upvalueindex(1));

    if (fn && w->cur == NONE)
        luaL_error(L, "light.%s: only inside the handler", fn);
    return w;
}

static uint32_t agent_arg(lua_State *L, struct ag_sim_light *w, int i)
{
    lua_Integer j = luaL_checkinteger(L, i);

    if (j < 0 || j >= (lua_Integer)w->count)
        luaL_argerror(L, i, lua_pushfstring(L, "no agent %I", j));
    return (uint32_t)j;
}

static int l_pick(lua_State *L)
{
    struct ag_sim_light *w = self(L, "pick");
    uint32_t deg = w->off[w->cur + 1] - w->off[w->cur];

    if (!deg)
        return 0;
    lua_pushinteger(L, w->nb[w->off[w->cur] + ag__light_below(draw(w), deg)]);
    return 1;
}

static int l_neighbour(lua_State *L)
{
    struct ag_sim_light *w = self(L, "neighbour");
    uint32_t deg = w->off[w->cur + 1] - w->off[w->cur];
    lua_Integer i = luaL_checkinteger(L, 1);

    if (i < 1 || i > deg)
        luaL_argerror(
            L, 1, lua_pushfstring(L, "not from 1 to the degree, %d", (int)deg));
    lua_pushinteger(L, w->nb[w->off[w->cur] + i - 1]);
    return 1;
}

static int l_rand(lua_State *L)
{
    struct ag_sim_light *w = self(L, "rand");
    lua_Integer n, p;
    uint64_t r;

    if (lua_isnoneornil(L, 2)) {
        r = draw(w);
    } else {
        p = luaL_checkinteger(L, 2);
        luaL_argcheck(
            L, p >= 0 && p <= (lua_Integer)(UINT32_MAX - AG__LIGHT_P_USER), 2,
            "a purpose is an integer from 0 to 2^32 - 257");
        r = ag_sim_rand(w->seed, w->cur, AG__LIGHT_P_USER + (uint32_t)p,
                        w->now);
    }
    if (lua_isnoneornil(L, 1)) {
        lua_pushnumber(L, (double)(r >> 11) * 0x1.0p-53);
        return 1;
    }
    n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 1 && n <= (lua_Integer)UINT32_MAX, 1,
                  "n must be from 1 to 2^32 - 1");
    lua_pushinteger(L, 1 + (lua_Integer)ag__light_below(r, (uint32_t)n));
    return 1;
}

static int l_tell(lua_State *L)
{
    struct ag_sim_light *w = self(L, "tell");
    uint32_t j = agent_arg(L, w, 1);
    lua_Integer bits = luaL_checkinteger(L, 2);
    uint64_t all = (1ULL << w->nfacts) - 1;

    luaL_argcheck(L, bits >= 0 && ((uint64_t)bits & ~all) == 0, 2,
                  "not a set of fact bits (see light.facts)");
    lua_pushinteger(L, tell(w, j, (uint32_t)bits));
    return 1;
}

static int l_known(lua_State *L)
{
    struct ag_sim_light *w = self(L, NULL);

    lua_pushinteger(L, w->ag[agent_arg(L, w, 1)].known);
    return 1;
}

static int l_state(lua_State *L)
{
    struct ag_sim_light *w = self(L, NULL);

    lua_pushinteger(L, w->ag[agent_arg(L, w, 1)].state);
    return 1;
}

/* Pushes the API table handed to the policy. Settings at index 1. */
void ag__light_push_api(lua_State *L, struct ag_sim_light *w)
{
    static const luaL_Reg fns[] = {
        {"pick", l_pick}, {"neighbour", l_neighbour}, {"rand", l_rand},
        {"tell", l_tell}, {"known", l_known},         {"state", l_state},
        {NULL, NULL}};

    lua_createtable(L, 0, 10);
    lua_pushlightuserdata(L, w);
    luaL_setfuncs(L, fns, 1);
    lua_pushinteger(L, w->count);
    lua_setfield(L, -2, "count");
    lua_pushinteger(L, (lua_Integer)w->edges);
    lua_setfield(L, -2, "edges");
    lua_createtable(L, 0, w->nfacts);
    for (int f = 0; f < w->nfacts; f++) {
        lua_pushinteger(L, (lua_Integer)1 << f);
        lua_setfield(L, -2, w->facts[f].id);
    }
    lua_setfield(L, -2, "facts");
    if (lua_getfield(L, 1, "params") == LUA_TNIL) {
        lua_pop(L, 1);
        lua_newtable(L);
    }
    lua_setfield(L, -2, "params");
}

static int run_lua(lua_State *L)
{
    struct ag_sim_light *w = lua_touserdata(L, 2);

    run_events(w, w->budget); /* the handler is at index 1 */
    return 0;
}

int ag_sim_light_advance(struct ag_sim_light *w, uint64_t max_events, char *err,
                         size_t errlen)
{
    uint64_t t0 = ag_now_ns();
    lua_State *L = w->L;

    w->budget = max_events ? max_events : UINT64_MAX;
    if (!w->done && w->handler == LUA_NOREF) {
        run_events(w, w->budget);
    } else if (!w->done) {
        lua_settop(L, 0);
        lua_pushcfunction(L, ag__light_msgh);
        lua_pushcfunction(L, run_lua);
        lua_rawgeti(L, LUA_REGISTRYINDEX, w->handler);
        lua_pushlightuserdata(L, w);
        if (lua_pcall(L, 2, 0, 1) != LUA_OK) {
            w->rc = AG_ELUA;
            w->done = 1;
            snprintf(w->msg, sizeof w->msg,
                     "light.policy: agent %u at second %u: %s", w->cur, w->now,
                     lua_tostring(L, -1));
        }
        lua_settop(L, 0);
    }
    w->cur = NONE;
    w->run_s += (double)(ag_now_ns() - t0) / 1e9;
    if (w->rc)
        snprintf(err, errlen, "%s", w->msg);
    return w->rc;
}

void ag_sim_light_stats(const struct ag_sim_light *w,
                        struct ag_sim_light_stats *st)
{
    size_t b = sizeof *w + w->capheap * 8 + (size_t)w->capscratch * 4;

    for (uint32_t i = 0; i < RING; i++)
        b += (size_t)w->ring[i].cap * 4;
    for (int f = 0; f < w->nfacts; f++)
        b += w->facts[f].capcurve * sizeof(struct ag__light_point) +
             w->facts[f].capholders * sizeof(struct ag__light_holder);
    st->agents = w->count;
    st->edges = w->edges;
    st->events = w->events;
    st->now = w->last_t;
    st->informed = w->informed;
    st->graph_bytes = ((size_t)w->count + 1 + 2 * w->edges) * 4;
    st->bytes = b + st->graph_bytes + (size_t)w->count * sizeof *w->ag +
                (size_t)lua_gc(w->L, LUA_GCCOUNT) * 1024;
    st->build_s = w->build_s;
    st->run_s = w->run_s;
    st->done = w->done;
}

const uint32_t *ag_sim_light_neighbours(const struct ag_sim_light *w,
                                        uint32_t a, uint32_t *n)
{
    *n = w->off[a + 1] - w->off[a];
    return w->nb + w->off[a];
}

uint32_t ag_sim_light_known(const struct ag_sim_light *w, uint32_t a)
{
    return w->ag[a].known;
}

int ag__light_msgh(lua_State *L)
{
    if (!lua_tostring(L, 1))
        lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    return 1;
}

/* ---- results ------------------------------------------------------------ */

/* Adds {"s", "t" (with a start), key: value} to the array. */
static cJSON *add_point(cJSON *array, const struct ag_sim_light *w, uint32_t s,
                        const char *key, double value)
{
    cJSON *p = cJSON_CreateObject();
    char t[20];

    cJSON_AddItemToArray(array, p);
    cJSON_AddNumberToObject(p, "s", s);
    if (w->has_start) {
        ag__sim_fmt_time(w->start + s, t);
        cJSON_AddStringToObject(p, "t", t);
    }
    cJSON_AddNumberToObject(p, key, value);
    return p;
}

static cJSON *fact_json(const struct ag_sim_light *w,
                        const struct ag__light_fact *f)
{
    cJSON *o = cJSON_CreateObject(), *curve, *holders, *p;

    cJSON_AddNumberToObject(o, "count", f->count);
    curve = cJSON_AddArrayToObject(o, "curve");
    for (size_t i = 0; i < f->ncurve; i++)
        add_point(curve, w, f->curve[i].s, "count", f->curve[i].count);
    if (f->ncurve && f->curve[f->ncurve - 1].count != f->count)
        add_point(curve, w, f->last_s, "count", f->count); /* the end */
    if (!w->provenance)
        return o;
    holders = cJSON_AddArrayToObject(o, "holders");
    for (size_t i = 0; i < f->nholders; i++) {
        const struct ag__light_holder *h = &f->holders[i];
        p = add_point(holders, w, h->s, "agent", h->agent);
        if (h->from == NONE)
            cJSON_AddNullToObject(p, "from");
        else
            cJSON_AddNumberToObject(p, "from", h->from);
    }
    return o;
}

int ag_sim_light_metrics(const struct ag_sim_light *w, cJSON *metrics)
{
    cJSON *l = cJSON_CreateObject(), *facts;

    cJSON_AddNumberToObject(l, "agents", w->count);
    cJSON_AddStringToObject(l, "graph", ag__light_graph_names[w->graph]);
    cJSON_AddNumberToObject(l, "degree", w->degree);
    cJSON_AddNumberToObject(l, "edges", (double)w->edges);
    cJSON_AddNumberToObject(l, "seed", (double)w->seed);
    cJSON_AddNumberToObject(l, "graph_seed", (double)w->graph_seed);
    cJSON_AddNumberToObject(l, "events", (double)w->events);
    cJSON_AddNumberToObject(l, "end_s", w->last_t);
    cJSON_AddNumberToObject(l, "until_s", w->duration);
    cJSON_AddNumberToObject(l, "informed", w->informed);
    if (w->stopped)
        cJSON_AddStringToObject(l, "stopped", w->stopped);
    else
        cJSON_AddNullToObject(l, "stopped");
    cJSON_DeleteItemFromObjectCaseSensitive(metrics, "light");
    cJSON_AddItemToObject(metrics, "light", l);
    if (!(facts = cJSON_GetObjectItemCaseSensitive(metrics, "facts")))
        facts = cJSON_AddObjectToObject(metrics, "facts");
    for (int f = 0; f < w->nfacts; f++) {
        cJSON_DeleteItemFromObjectCaseSensitive(facts, w->facts[f].id);
        cJSON_AddItemToObject(facts, w->facts[f].id,
                              fact_json(w, &w->facts[f]));
    }
    return 0;
}

int ag__light_write_metrics(const struct ag_sim_light *w, const char *dir,
                            char *err, size_t errlen)
{
    cJSON *m = cJSON_CreateObject();
    char *text, *path = ag_xasprintf("%s/metrics.json", dir);
    FILE *f = NULL;
    int rc = 0;

    ag_sim_light_metrics(w, m);
    text = cJSON_Print(m);
    if ((mkdir(dir, 0777) < 0 && errno != EEXIST) || !text ||
        !(f = fopen(path, "w")) || fputs(text, f) < 0 || fputc('\n', f) < 0)
        rc = text ? -errno : -ENOMEM;
    if (f && fclose(f) != 0 && !rc)
        rc = -errno;
    if (rc)
        snprintf(err, errlen, "%s: %s", path, ag_strerror(rc));
    free(path);
    free(text);
    cJSON_Delete(m);
    return rc;
}

void ag_sim_light_free(struct ag_sim_light *w)
{
    if (!w)
        return;
    if (w->L)
        lua_close(w->L);
    for (int f = 0; f < w->nfacts; f++) {
        free(w->facts[f].id);
        free(w->facts[f].curve);
        free(w->facts[f].holders);
        free(w->facts[f].seed_list);
    }
    for (uint32_t i = 0; i < RING; i++)
        free(w->ring[i].v);
    free(w->heap);
    free(w->scratch);
    free(w->off);
    free(w->nb);
    free(w->ag);
    free(w->world_dir);
    free(w);
}
