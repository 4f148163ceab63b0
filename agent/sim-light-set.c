/*
 * sim-light-set.c: making a world of light agents (sim.h, "Light agents"):
 * reading the `light` settings, building the graph (sim-light-graph.c),
 * seeding the facts and loading the policy; and ag_sim_light_run, what
 * `agent sim` calls.
 *
 * The settings are read from a Lua table (the world file's `light`
 * section run here, so that its policy may be a function, or JSON pushed
 * as a table) by code running under lua_pcall: each check raises an error
 * that names its field ("light.facts[2].holders[1]: ..."). Unknown fields
 * are errors, to catch typos. Setup has two stages, the graph being built
 * in between: the policy is loaded last, since its API table tells the
 * number of edges. math.random is replaced by an error (every draw must go
 * through light.rand for runs to be reproducible).
 */
#include "sim-light-private.h"

#include "ag.h"
#include "json.h"
#include "sim-private.h" /* ag__sim_parse_time */

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#define NONE AG__LIGHT_NONE

/* ---- settings ----------------------------------------------------------- */

struct setup {
    struct ag_sim_light *w;
    const cJSON *json;
    const struct ag_sim_light_opts *o;
    int stage, ref, rc; /* ref: the settings table in the registry */
};

/* Raises "light.<path>: <message>" (path NULL: "<message>") as an error in
 * the settings. */
static int bad(lua_State *L, const char *path, const char *fmt, ...)
{
    struct setup *S = lua_touserdata(L, lua_upvalueindex(1));
    va_list ap;

    S->rc = AG_EPARSE;
    lua_pushfstring(L, path ? "light.%s: " : "", path);
    va_start(ap, fmt);
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    lua_concat(L, 2);
    return lua_error(L);
}

/* The value at idx as a reader would type it. */
static const char *shown(lua_State *L, int idx)
{
    if (lua_type(L, idx) == LUA_TSTRING)
        return lua_pushfstring(L, "\"%s\"", lua_tostring(L, idx));
    return luaL_tolstring(L, idx, NULL);
}

static lua_Integer to_int(lua_State *L, int idx, const char *path,
                          lua_Integer lo, lua_Integer hi)
{
    lua_Integer v = 0;
    int isnum = 0;

    if (lua_type(L, idx) == LUA_TNUMBER)
        v = lua_tointegerx(L, idx, &isnum);
    if (!isnum || v < lo || v > hi)
        bad(L, path, "must be a whole number from %I to %I (got %s)", lo, hi,
            shown(L, idx));
    return v;
}

/* The field key of the settings as an integer, def when absent. */
static lua_Integer opt_int(lua_State *L, const char *key, lua_Integer def,
                           lua_Integer lo, lua_Integer hi)
{
    lua_Integer v = def;

    if (lua_getfield(L, 1, key) != LUA_TNIL)
        v = to_int(L, -1, key, lo, hi);
    lua_pop(L, 1);
    return v;
}

static int opt_choice(lua_State *L, const char *key, const char *const *names,
                      int n, int def)
{
    luaL_Buffer b;

    if (lua_getfield(L, 1, key) == LUA_TNIL) {
        lua_pop(L, 1);
        return def;
    }
    for (int i = 0; i < n; i++)
        if (lua_type(L, -1) == LUA_TSTRING &&
            strcmp(lua_tostring(L, -1), names[i]) == 0) {
            lua_pop(L, 1);
            return i;
        }
    luaL_buffinit(L, &b);
    for (int i = 0; i < n; i++) {
        luaL_addstring(&b, i == 0 ? "\"" : i < n - 1 ? ", \"" : " or \"");
        luaL_addstring(&b, names[i]);
        luaL_addchar(&b, '"');
    }
    luaL_pushresult(&b);
    shown(L, -2);
    return bad(L, key, "must be %s (got %s)", lua_tostring(L, -2),
               lua_tostring(L, -1));
}

static void check_keys(lua_State *L, int idx, const char *path,
                       const char *const *keys, size_t n)
{
    idx = lua_absindex(L, idx);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        size_t i = 0;
        lua_pop(L, 1);
        while (i < n && !(lua_type(L, -1) == LUA_TSTRING &&
                          strcmp(lua_tostring(L, -1), keys[i]) == 0))
            i++;
        if (i == n && lua_type(L, -1) == LUA_TSTRING)
            bad(L, lua_pushfstring(L, "%s%s", path, lua_tostring(L, -1)),
                "unknown field");
        if (i == n)
            bad(L, lua_pushfstring(L, "%s[%s]", path, shown(L, -1)),
                "unknown field");
    }
}

/* Game seconds: a whole number, or a string "<n>s|m|h|d". */
static uint32_t duration(lua_State *L, int idx, const char *path)
{
    const char *s, *units = "smhd";
    static const uint64_t mul[] = {1, 60, 3600, 86400};
    char *end;
    unsigned long long n;

    if (lua_type(L, idx) == LUA_TNUMBER)
        return (uint32_t)to_int(L, idx, path, 1, AG__LIGHT_MAX_DURATION);
    s = lua_type(L, idx) == LUA_TSTRING ? lua_tostring(L, idx) : "";
    if (*s >= '0' && *s <= '9') {
        n = strtoull(s, &end, 10);
        if (end[0] && !end[1] && strchr(units, end[0]) &&
            n * mul[strchr(units, end[0]) - units] <= AG__LIGHT_MAX_DURATION &&
            n > 0)
            return (uint32_t)(n * mul[strchr(units, end[0]) - units]);
    }
    bad(L, path,
        "must be game seconds or a string like \"90s\", \"45m\", "
        "\"36h\" or \"2d\" (got %s)",
        shown(L, idx));
    return 0;
}

/* Reads a fact's holders (list at idx) and seeds. */
static void read_holders(lua_State *L, struct ag_sim_light *w,
                         struct ag__light_fact *f, int idx, const char *path)
{
    lua_Integer n = 0;

    idx = lua_absindex(L, idx);
    if (!lua_istable(L, idx) || (n = (lua_Integer)lua_rawlen(L, idx)) < 1)
        bad(L, path, "must be a list of agent numbers (got %s)", shown(L, idx));
    if (n > (lua_Integer)w->count)
        bad(L, path, "more holders than agents");
    f->seed_list = ag_xmalloc((size_t)n * sizeof *f->seed_list);
    for (lua_Integer i = 1; i <= n; i++) {
        int v = (lua_rawgeti(L, idx, i), lua_gettop(L));
        const char *at = lua_pushfstring(L, "%s[%I]", path, i);
        f->seed_list[f->nseed_list++] =
            (uint32_t)to_int(L, v, at, 0, w->count - 1);
        lua_pop(L, 2);
    }
}

/* Settings at index 1; the list of facts goes to index 2. */
static void read_facts(lua_State *L, struct ag_sim_light *w)
{
    static const char *const keys[] = {"id", "holders", "seeds"};
    int n = 0;

    if (lua_getfield(L, 1, "facts") == LUA_TNIL) {
        struct ag__light_fact *f = &w->facts[w->nfacts++];
        f->id = ag_xstrdup("rumor");
        if (lua_getfield(L, 1, "seed_holders") != LUA_TNIL)
            read_holders(L, w, f, -1, "seed_holders");
        f->seeds = (uint32_t)opt_int(L, "seeds", 0, 0, w->count);
        if (!f->nseed_list && !f->seeds) {
            f->seed_list = ag_xcalloc(1, sizeof *f->seed_list);
            f->nseed_list = 1; /* agent 0 */
        }
        lua_pop(L, 2);
        return;
    }
    if (!lua_istable(L, -1) || (n = (int)lua_rawlen(L, -1)) < 1 ||
        n > AG__LIGHT_MAX_FACTS)
        bad(L, "facts", "must be a list of 1 to %d facts", AG__LIGHT_MAX_FACTS);
    lua_getfield(L, 1, "seed_holders");
    lua_getfield(L, 1, "seeds");
    if (!lua_isnil(L, -1) || !lua_isnil(L, -2))
        bad(L, lua_isnil(L, -1) ? "seed_holders" : "seeds",
            "goes inside each fact when light.facts is given");
    lua_pop(L, 2);
    for (int i = 1; i <= n; i++) {
        struct ag__light_fact *f = &w->facts[w->nfacts++];
        const char *path = lua_pushfstring(L, "facts[%d]", i); /* 3 */
        if (lua_rawgeti(L, 2, i) != LUA_TTABLE)                /* 4 */
            bad(L, path, "must be a table { id = ..., holders = { ... } }");
        lua_pushfstring(L, "%s.", path);
        check_keys(L, 4, lua_tostring(L, -1), keys, 3);
        if (lua_getfield(L, 4, "id") != LUA_TSTRING || !*lua_tostring(L, -1))
            bad(L, lua_pushfstring(L, "%s.id", path), "must be a name");
        f->id = ag_xstrdup(lua_tostring(L, -1));
        for (int j = 0; j < i - 1; j++)
            if (strcmp(w->facts[j].id, f->id) == 0)
                bad(L, lua_pushfstring(L, "%s.id", path),
                    "\"%s\" is given twice", f->id);
        if (lua_getfield(L, 4, "holders") != LUA_TNIL) {
            const char *at = lua_pushfstring(L, "%s.holders", path);
            read_holders(L, w, f, -2, at);
        }
        if (lua_getfield(L, 4, "seeds") != LUA_TNIL) {
            const char *at = lua_pushfstring(L, "%s.seeds", path);
            f->seeds = (uint32_t)to_int(L, -2, at, 0, w->count);
        }
        if (!f->nseed_list && !f->seeds)
            bad(L, path, "needs holders or seeds");
        lua_settop(L, 2);
    }
    lua_pop(L, 1);
}

static void read_settings(lua_State *L, struct ag_sim_light *w,
                          const struct setup *S)
{
    static const char *const keys[] = {
        "count",      "graph",      "degree",     "rewire",
        "graph_seed", "facts",      "seeds",      "seed_holders",
        "duration",   "max_events", "wake",       "react",
        "policy",     "params",     "provenance", "curve_points"};
    static const char *const wakes[] = {"holders", "all"};
    lua_Integer curve_points;

    check_keys(L, 1, "", keys, AG_ARRAY_SIZE(keys));
    if (lua_getfield(L, 1, "count") == LUA_TNIL)
        bad(L, "count", "is required: the number of agents");
    w->count = (uint32_t)to_int(L, -1, "count", 1, AG__LIGHT_MAX_COUNT);
    lua_pop(L, 1);
    w->graph =
        opt_choice(L, "graph", ag__light_graph_names, 3, AG__LIGHT_SMALL_WORLD);
    w->degree = (uint32_t)opt_int(
        L, "degree", w->count > 8 ? 8 : (w->count - 1) & ~1u, 0, w->count - 1);
    if (w->graph != AG__LIGHT_RANDOM && w->degree % 2)
        bad(L, "degree", "must be even for a %s graph (got %d)",
            ag__light_graph_names[w->graph], (int)w->degree);
    if ((uint64_t)w->count * w->degree >= UINT32_MAX)
        bad(L, "degree", "count * degree must stay below 2^32");
    w->rewire = w->graph == AG__LIGHT_SMALL_WORLD ? 0.1 : 0;
    if (lua_getfield(L, 1, "rewire") != LUA_TNIL) {
        if (w->graph != AG__LIGHT_SMALL_WORLD)
            bad(L, "rewire", "is only for graph = \"small-world\"");
        if (lua_type(L, -1) != LUA_TNUMBER || lua_tonumber(L, -1) < 0 ||
            lua_tonumber(L, -1) > 1)
            bad(L, "rewire", "must be a number from 0 to 1 (got %s)",
                shown(L, -1));
        w->rewire = lua_tonumber(L, -1);
    }
    lua_pop(L, 1);
    w->graph_seed = (uint64_t)opt_int(L, "graph_seed", (lua_Integer)w->seed,
                                      LUA_MININTEGER, LUA_MAXINTEGER);
    w->duration = 86400;
    if (lua_getfield(L, 1, "duration") != LUA_TNIL)
        w->duration = duration(L, -1, "duration");
    lua_pop(L, 1);
    if (S->o->until)
        w->duration = S->o->until < AG__LIGHT_MAX_DURATION
                          ? S->o->until
                          : AG__LIGHT_MAX_DURATION;
    w->max_events = (uint64_t)opt_int(L, "max_events", 0, 0, LUA_MAXINTEGER);
    w->wake_all = opt_choice(L, "wake", wakes, 2, 0);
    w->react = (uint32_t)opt_int(L, "react", 1, 0, AG__LIGHT_MAX_DURATION);
    w->provenance = w->count <= 10000;
    if (lua_getfield(L, 1, "provenance") != LUA_TNIL) {
        if (!lua_isboolean(L, -1))
            bad(L, "provenance", "must be true or false");
        w->provenance = lua_toboolean(L, -1);
    }
    lua_pop(L, 1);
    curve_points = opt_int(L, "curve_points", 10000, 1, AG__LIGHT_MAX_COUNT);
    w->step = w->count / (uint32_t)curve_points;
    w->step = w->step ? w->step : 1;
    read_facts(L, w);
}

/* builtin:gossip's params, or 0 when the policy is in Lua. */
static int read_builtin(lua_State *L, struct ag_sim_light *w)
{
    int t = lua_getfield(L, 1, "policy");
    const char *s = t == LUA_TSTRING ? lua_tostring(L, -1) : "";

    if (t == LUA_TSTRING && strncmp(s, "builtin:", 8) == 0 &&
        strcmp(s, "builtin:gossip") != 0)
        bad(L, "policy", "no built-in policy %s (there is \"builtin:gossip\")",
            shown(L, -1));
    lua_pop(L, 1);
    if (t != LUA_TNIL &&
        !(t == LUA_TSTRING && strcmp(s, "builtin:gossip") == 0))
        return 0;
    t = lua_getfield(L, 1, "params");
    if (t != LUA_TNIL && t != LUA_TTABLE)
        bad(L, "params", "must be a table (got %s)", shown(L, -1));
    w->period = 60;
    w->patience = 3;
    if (t == LUA_TTABLE) {
        if (lua_getfield(L, -1, "period") != LUA_TNIL)
            w->period = (uint32_t)to_int(L, -1, "params.period", 1, 1000000000);
        if (lua_getfield(L, -2, "patience") != LUA_TNIL)
            w->patience =
                (uint32_t)to_int(L, -1, "params.patience", 0, UINT32_MAX);
    }
    lua_settop(L, 1);
    return 1;
}

/* Pushes the policy's factory: a function, a file's, or source's result. */
static void push_factory(lua_State *L, struct ag_sim_light *w)
{
    int t = lua_getfield(L, 1, "policy");
    size_t n;
    const char *s;

    if (t == LUA_TFUNCTION)
        return;
    if (t != LUA_TSTRING)
        bad(L, "policy",
            "must be a function, a file name, Lua source or "
            "\"builtin:gossip\" (got %s)",
            shown(L, -1));
    s = lua_tolstring(L, -1, &n);
    if (n > 4 && strcmp(s + n - 4, ".lua") == 0 && !strchr(s, '\n')) {
        const char *path =
            s[0] == '/' ? s : lua_pushfstring(L, "%s/%s", w->world_dir, s);
        if (luaL_loadfilex(L, path, "t") != LUA_OK)
            lua_error(L);
    } else if (luaL_loadbufferx(L, s, n, "=light.policy", "t") != LUA_OK) {
        lua_error(L);
    }
    lua_call(L, 0, 1);
}

static int l_no_random(lua_State *L)
{
    return luaL_error(L, "math.random is not deterministic: use light.rand");
}

/* The game time at idx (nil: none): the curve's "t" counts from it. */
static void read_start(lua_State *L, struct ag_sim_light *w, int idx)
{
    if (lua_isnil(L, idx))
        return;
    w->start = ag__sim_parse_time(lua_tostring(L, idx));
    if (w->start < 0 || lua_type(L, idx) != LUA_TSTRING)
        bad(L, NULL, "start: must be a game time \"YYYY-MM-DD HH:MM\" (got %s)",
            shown(L, idx));
    w->has_start = 1;
}

static int setup(lua_State *L)
{
    struct setup *S = lua_touserdata(L, lua_upvalueindex(1));
    struct ag_sim_light *w = S->w;

    if (S->stage == 2) { /* the graph is built: load the policy */
        lua_rawgeti(L, LUA_REGISTRYINDEX, S->ref);
        push_factory(L, w);
        if (!lua_isfunction(L, -1))
            bad(L, "policy",
                "must give a function(light) returning the "
                "handler (got %s)",
                shown(L, -1));
        ag__light_push_api(L, w);
        lua_call(L, 1, 1);
        if (!lua_isfunction(L, -1))
            bad(L, "policy",
                "the function(light) must return the handler, "
                "a function (got %s)",
                shown(L, -1));
        w->handler = luaL_ref(L, LUA_REGISTRYINDEX);
        return 0;
    }
    luaL_openlibs(L);
    lua_getglobal(L, "math");
    lua_pushcfunction(L, l_no_random);
    lua_setfield(L, -2, "random");
    lua_pushcfunction(L, l_no_random);
    lua_setfield(L, -2, "randomseed");
    lua_settop(L, 0);
    if (S->o->start)
        lua_pushstring(L, S->o->start);
    if (S->json) {
        ag_json_push(L, S->json);
    } else {
        S->rc = AG_EPARSE; /* errors in the world file */
        if (luaL_loadfilex(L, S->o->world, "t") != LUA_OK)
            lua_error(L);
        lua_call(L, 0, 1);
        S->rc = 0;
        if (!lua_istable(L, -1) || lua_getfield(L, -1, "light") != LUA_TTABLE)
            bad(L, NULL, "no light section");
        if (S->o->start) {
            lua_remove(L, -2); /* start, settings */
        } else {
            lua_getfield(L, -2, "start");
            lua_replace(L, -3); /* the world file's start, settings */
        }
    }
    if (lua_gettop(L) == 2) { /* start, settings */
        read_start(L, w, 1);
        lua_remove(L, 1);
    }
    if (!lua_istable(L, 1))
        bad(L, NULL, "light: the settings must be a table (got %s)",
            shown(L, 1));
    read_settings(L, w, S);
    if (!read_builtin(L, w)) {
        lua_settop(L, 1);
        S->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    return 0;
}

/* Runs a stage of setup; the message names the world file when the
 * settings came from it. */
static int run_setup(struct setup *S, char *err, size_t errlen)
{
    lua_State *L = S->w->L;
    const char *msg;

    lua_settop(L, 0);
    lua_pushcfunction(L, ag__light_msgh);
    lua_pushlightuserdata(L, S);
    lua_pushcclosure(L, setup, 1);
    if (lua_pcall(L, 0, 0, 1) == LUA_OK)
        return 0;
    msg = lua_tostring(L, -1);
    if (!S->json && S->rc == AG_EPARSE &&
        strncmp(msg, S->o->world, strlen(S->o->world)) != 0)
        snprintf(err, errlen, "%s: %s", S->o->world, msg);
    else
        snprintf(err, errlen, "%s", msg);
    return S->rc ? S->rc : AG_ELUA;
}

static void seed_facts(struct ag_sim_light *w)
{
    for (int i = 0; i < w->nfacts; i++) {
        struct ag__light_fact *f = &w->facts[i];
        uint32_t bit = 1u << i, want;
        uint64_t c = 0;
        for (uint32_t k = 0; k < f->nseed_list; k++)
            if (!(w->ag[f->seed_list[k]].known & bit))
                ag__light_learn(w, f->seed_list[k], bit, NONE);
        want = f->count + f->seeds < w->count ? f->count + f->seeds : w->count;
        while (f->count < want) {
            uint32_t a = ag__light_below(
                ag_sim_rand(w->seed, (uint32_t)i, AG__LIGHT_P_SEED, c++),
                w->count);
            if (!(w->ag[a].known & bit))
                ag__light_learn(w, a, bit, NONE);
        }
        free(f->seed_list);
        f->seed_list = NULL;
    }
    for (uint32_t a = 0; a < w->count; a++)
        if (w->wake_all || w->ag[a].known)
            ag__light_schedule(w, a, 0);
}

int ag_sim_light_new(const cJSON *settings, const struct ag_sim_light_opts *o,
                     struct ag_sim_light **out, char *err, size_t errlen)
{
    struct ag_sim_light *w = ag_xcalloc(1, sizeof *w);
    struct setup S = {w, settings, o, 1, LUA_NOREF, 0};
    const char *slash = o->world ? strrchr(o->world, '/') : NULL;
    uint64_t t0 = ag_now_ns();
    int rc;

    *out = NULL;
    w->handler = LUA_NOREF;
    w->cur = NONE;
    w->seed = o->seed;
    w->world_dir = slash ? ag_xstrndup(o->world, (size_t)(slash - o->world))
                         : ag_xstrdup(".");
    if (!settings && !o->world) {
        snprintf(err, errlen, "light: no settings and no world file");
        rc = -EINVAL;
    } else if (!(w->L = luaL_newstate())) {
        snprintf(err, errlen, "light: out of memory");
        rc = -ENOMEM;
    } else {
        rc = run_setup(&S, err, errlen);
    }
    if (rc == 0 && (rc = ag__light_build_graph(w)) < 0)
        snprintf(err, errlen, "light: %s building the graph",
                 rc == -EDOM ? "too dense for a random graph: could not draw "
                               "an edge"
                             : "out of memory");
    if (rc == 0) {
        seed_facts(w);
        if ((rc = w->rc) < 0)
            snprintf(err, errlen, "%s", w->msg);
    }
    if (rc == 0 && S.ref != LUA_NOREF) {
        S.stage = 2;
        rc = run_setup(&S, err, errlen);
    }
    if (rc < 0) {
        ag_sim_light_free(w);
        return rc;
    }
    lua_settop(w->L, 0);
    lua_gc(w->L, LUA_GCCOLLECT);
    w->build_s = (double)(ag_now_ns() - t0) / 1e9;
    *out = w;
    return 0;
}

int ag_sim_light_run(const cJSON *settings, const struct ag_sim_light_opts *o,
                     struct ag_sim_light_stats *st, char *err, size_t errlen)
{
    struct ag_sim_light *w;
    int rc = ag_sim_light_new(settings, o, &w, err, errlen);

    while (rc == 0 && !w->done) {
        rc = ag_sim_light_advance(w, 1 << 20, err, errlen);
        if (o->progress)
            o->progress(w, o->ud);
    }
    if (rc == 0 && o->out_dir)
        rc = ag__light_write_metrics(w, o->out_dir, err, errlen);
    if (st && w)
        ag_sim_light_stats(w, st);
    ag_sim_light_free(w);
    return rc;
}
