/*
 * sim-lua.c: what the cognition code (sim/cognition.lua) can do, as Lua
 * functions in the tables `sim` and `memory`. Every function acts for the
 * agent being resumed (ag__sim_cur); those that take time or a model answer
 * yield (sim.wait, sim.ask) and the engine resumes the coroutine later.
 *
 *   sim.me(name?)         {name, age, innate, learned, currently,
 *                          lifestyle, home, place}
 *   sim.now()             game seconds; sim.clock() "YYYY-MM-DD HH:MM"
 *   sim.settings()        the world's settings
 *   sim.places()          every place ("sector:arena") with its objects
 *   sim.move(place)       goes there (a move event; wakes who is there)
 *   sim.act(activity, object, minutes, block?)   an act event (block: the
 *                         hourly block it is part of); what others see
 *   sim.perceive()        {{kind = "conversation", name} (a talk just
 *                           over), {kind = "agent", name, activity, known,
 *                           minutes_since_chat}, {kind = "object", name}}
 *   sim.can_chat(name)    free, here, and past the cool-down
 *   sim.chat_begin(name), sim.say(name, text),
 *   sim.chat_end(name, summary, minutes)   the other is woken after minutes
 *   sim.relation(name, who?)   {relation, chats, known} (of who to name)
 *   sim.acquaintances()   {{name, relation, chats}}
 *   sim.facts(name?)      {{id, text, from (who told, "" when seeded),
 *                           event = {place, from, to}}} the agent holds
 *   sim.learn(id, from)   takes a fact told by from (who must hold it)
 *   sim.rand(purpose, n)  1..n, from the counter-based generator
 *   sim.log(type, table)  a timeline event (plan, reflect, ...)
 *   sim.ask(kind, facts)  the model's answer (a table)     [yields]
 *   sim.wait(seconds, events) -> woken early by an event    [yields]
 *   memory.add(kind, text, importance, evidence, who?) -> id
 *   memory.retrieve(query, k, who?) -> {{id, kind, text, importance,
 *                                        created}}
 *   memory.since_reflection(), memory.reflected()
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "json.h"
#include "sim-private.h"

int ag__sim_cur = -1;
static struct ag__sim *S; /* one run per process */

static struct ag__sim_agent *me(lua_State *L)
{
    if (ag__sim_cur < 0)
        luaL_error(L, "sim: no agent is running");
    return &S->agents[ag__sim_cur];
}

static int find_agent(lua_State *L, int idx)
{
    int a = ag__sim_persona_find(&S->w, luaL_checkstring(L, idx));

    if (a < 0)
        luaL_error(L, "sim: no agent \"%s\"", lua_tostring(L, idx));
    return a;
}

static void set_str(lua_State *L, const char *k, const char *v)
{
    lua_pushstring(L, v ? v : "");
    lua_setfield(L, -2, k);
}

/* sim.me(name?): the running agent, or the one named */
static int l_me(lua_State *L)
{
    struct ag__sim_agent *a =
        lua_isnoneornil(L, 1) ? me(L) : &S->agents[find_agent(L, 1)];
    const struct ag__sim_persona *p = &S->w.personas[a->id];

    lua_createtable(L, 0, 9);
    set_str(L, "name", p->name);
    lua_pushinteger(L, p->age);
    lua_setfield(L, -2, "age");
    set_str(L, "innate", p->innate);
    set_str(L, "learned", p->learned);
    set_str(L, "currently", p->currently);
    set_str(L, "lifestyle", p->lifestyle);
    set_str(L, "home", S->w.places[p->home].name);
    set_str(L, "place", S->w.places[a->place].name);
    lua_pushinteger(L, a->id + 1);
    lua_setfield(L, -2, "id");
    return 1;
}

static int l_now(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)S->now);
    return 1;
}

static int l_clock(lua_State *L)
{
    char t[20];

    ag__sim_fmt_time(S->now, t);
    t[16] = '\0'; /* minutes */
    lua_pushstring(L, t);
    return 1;
}

static int l_settings(lua_State *L)
{
    ag__sim_settings_push(L, &S->w.set);
    return 1;
}

static int l_places(lua_State *L)
{
    lua_createtable(L, S->w.nplaces, 0);
    for (int i = 0; i < S->w.nplaces; i++) {
        const struct ag__sim_place *p = &S->w.places[i];
        lua_createtable(L, 0, 2);
        set_str(L, "name", p->name);
        lua_createtable(L, p->nobjects, 0);
        for (int k = 0; k < p->nobjects; k++) {
            lua_pushstring(L, p->objects[k]);
            lua_rawseti(L, -2, k + 1);
        }
        lua_setfield(L, -2, "objects");
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int l_move(lua_State *L)
{
    struct ag__sim_agent *a = me(L);
    int to = ag__sim_place_find(&S->w, luaL_checkstring(L, 1)), from;
    const struct ag__sim_place *p;
    cJSON *f;

    if (to < 0) {
        lua_pushboolean(L, 0);
        return 1;
    }
    from = a->place;
    p = &S->w.places[to];
    a->x = (int)(ag__sim_draw(S, a->id, 1) % (uint64_t)p->w);
    a->y = (int)(ag__sim_draw(S, a->id, 2) % (uint64_t)p->h);
    if (to != from) {
        a->place = to;
        f = cJSON_CreateObject();
        cJSON_AddStringToObject(f, "from", S->w.places[from].name);
        cJSON_AddStringToObject(f, "to", p->name);
        ag__sim_event(S, a->id, "move", f);
        ag__sim_moved(S, a->id, from, to);
        ag__sim_wake_place(S, to, a->id);
    }
    lua_pushboolean(L, 1);
    return 1;
}

static int l_act(lua_State *L)
{
    struct ag__sim_agent *a = me(L);
    const char *activity = luaL_checkstring(L, 1);
    const char *object = luaL_optstring(L, 2, NULL);
    lua_Integer minutes = luaL_optinteger(L, 3, 10);
    cJSON *f = cJSON_CreateObject();

    free(a->activity);
    a->activity = ag_xstrdup(activity);
    cJSON_AddStringToObject(f, "activity", activity);
    cJSON_AddStringToObject(f, "place", S->w.places[a->place].name);
    if (object && *object)
        cJSON_AddStringToObject(f, "object", object);
    cJSON_AddNumberToObject(f, "minutes", (double)minutes);
    if (lua_isstring(L, 4))
        cJSON_AddStringToObject(f, "block", lua_tostring(L, 4));
    ag__sim_event(S, a->id, "act", f);
    return 0;
}

static double dist(const struct ag__sim_agent *a, const struct ag__sim_agent *b)
{
    double dx = a->x - b->x, dy = a->y - b->y;
    return sqrt(dx * dx + dy * dy);
}

static int l_perceive(lua_State *L)
{
    struct ag__sim_agent *a = me(L);
    const struct ag__sim_place *p = &S->w.places[a->place];
    int n = 0, limit = S->w.set.attention;

    lua_newtable(L);
    /* a conversation just over comes first: it is what is on its mind */
    if (a->after_chat >= 0) {
        lua_createtable(L, 0, 2);
        set_str(L, "kind", "conversation");
        set_str(L, "name", S->w.personas[a->after_chat].name);
        lua_rawseti(L, -2, ++n);
        a->after_chat = -1;
    }
    /* agents: nearest first, then by number */
    for (int pass = 0; pass < 2 && n < limit; pass++) {
        for (int i = 0; i < S->nagents && n < limit; i++) {
            struct ag__sim_agent *b = &S->agents[i];
            double d;
            if (i == a->id || b->place != a->place || b->state == AG__SIM_DONE)
                continue;
            d = dist(a, b);
            if (d > S->w.set.perceive_radius || (pass == 0) != (d <= 2))
                continue;
            lua_createtable(L, 0, 5);
            set_str(L, "kind", "agent");
            set_str(L, "name", S->w.personas[i].name);
            set_str(L, "activity", b->activity ? b->activity : "idle");
            lua_pushboolean(L, S->w.knows[a->id * S->w.npersonas + i] ||
                                   a->chats[i] > 0);
            lua_setfield(L, -2, "known");
            if (a->chats[i] > 0) {
                lua_pushinteger(L, (S->now - a->chat_end[i]) / 60);
                lua_setfield(L, -2, "minutes_since_chat");
            }
            lua_rawseti(L, -2, ++n);
        }
    }
    for (int k = 0; k < p->nobjects && n < limit; k++) {
        lua_createtable(L, 0, 2);
        set_str(L, "kind", "object");
        set_str(L, "name", p->objects[k]);
        lua_rawseti(L, -2, ++n);
    }
    return 1;
}

static int l_can_chat(lua_State *L)
{
    struct ag__sim_agent *a = me(L);
    int b = find_agent(L, 1);
    const struct ag__sim_agent *o = &S->agents[b];
    int ok = b != a->id && o->place == a->place && o->state == AG__SIM_IDLE &&
             !o->in_chat && !a->in_chat &&
             (a->chats[b] == 0 ||
              S->now - a->chat_end[b] >= S->w.set.chat_cooldown * 60);

    lua_pushboolean(L, ok);
    return 1;
}

static int l_chat_begin(lua_State *L)
{
    struct ag__sim_agent *a = me(L);
    int b = find_agent(L, 1);
    cJSON *f;

    lua_settop(L, 1);
    lua_pushcfunction(L, l_can_chat);
    lua_pushvalue(L, 1);
    lua_call(L, 1, 1);
    if (!lua_toboolean(L, -1))
        return 1;
    S->agents[b].in_chat = 1;
    f = cJSON_CreateObject();
    cJSON_AddStringToObject(f, "with", S->w.personas[b].name);
    ag__sim_event(S, a->id, "chat.start", f);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_say(lua_State *L)
{
    int from = find_agent(L, 1), to = find_agent(L, 2);
    cJSON *f = cJSON_CreateObject();

    cJSON_AddStringToObject(f, "with", S->w.personas[to].name);
    cJSON_AddStringToObject(f, "text", luaL_checkstring(L, 3));
    ag__sim_event(S, from, "chat.say", f);
    return 0;
}

static int l_chat_end(lua_State *L)
{
    struct ag__sim_agent *a = me(L);
    int b = find_agent(L, 1);
    struct ag__sim_agent *o = &S->agents[b];
    cJSON *f = cJSON_CreateObject();

    cJSON_AddStringToObject(f, "with", S->w.personas[b].name);
    cJSON_AddStringToObject(f, "summary", luaL_optstring(L, 2, ""));
    ag__sim_event(S, a->id, "chat.end", f);
    ag__sim_chatted(S, a->id, b);
    o->in_chat = 0;
    /* the other one is woken when the talk is over, to react to it */
    o->after_chat = a->id;
    if (o->state == AG__SIM_IDLE) {
        int64_t t = S->now + 60 * (int64_t)luaL_optinteger(L, 3, 0);
        o->woken = 1;
        o->wake_events = 0;
        ag__sim_schedule(S, b, t);
    }
    return 0;
}

static int l_facts(lua_State *L)
{
    int who = lua_isnoneornil(L, 1) ? me(L)->id : find_agent(L, 1);
    int n = 0;

    lua_newtable(L);
    for (int f = 0; f < S->w.nfacts; f++) {
        if (!S->agents[who].knows[f])
            continue;
        const struct ag__sim_fact *fa = &S->w.facts[f];
        lua_createtable(L, 0, 4);
        set_str(L, "id", fa->id);
        set_str(L, "text", fa->text);
        set_str(L, "from",
                S->agents[who].teller[f] >= 0
                    ? S->w.personas[S->agents[who].teller[f]].name
                    : "");
        if (fa->place >= 0) {
            char t[20];
            lua_createtable(L, 0, 3);
            set_str(L, "place", S->w.places[fa->place].name);
            ag__sim_fmt_time(fa->from, t);
            t[16] = '\0';
            set_str(L, "from", t);
            ag__sim_fmt_time(fa->to, t);
            t[16] = '\0';
            set_str(L, "to", t);
            lua_setfield(L, -2, "event");
        }
        lua_rawseti(L, -2, ++n);
    }
    return 1;
}

/* sim.relation(name) -> {relation = words or "", chats = n, known = bool} */
static int l_relation(lua_State *L)
{
    struct ag__sim_agent *a =
        lua_isnoneornil(L, 2) ? me(L) : &S->agents[find_agent(L, 2)];
    int b = find_agent(L, 1), n = S->w.npersonas;
    const char *how = S->w.knows_how ? S->w.knows_how[a->id * n + b] : NULL;

    lua_createtable(L, 0, 3);
    set_str(L, "relation", how ? how : "");
    lua_pushinteger(L, a->chats[b]);
    lua_setfield(L, -2, "chats");
    lua_pushboolean(L, S->w.knows[a->id * n + b] || a->chats[b] > 0);
    lua_setfield(L, -2, "known");
    return 1;
}

/* sim.acquaintances() -> {{name, relation, chats}} of those it knows, by
 * agent number */
static int l_acquaintances(lua_State *L)
{
    struct ag__sim_agent *a = me(L);
    int n = S->w.npersonas, k = 0;

    lua_newtable(L);
    for (int b = 0; b < n; b++) {
        const char *how = S->w.knows_how ? S->w.knows_how[a->id * n + b] : NULL;
        if (b == a->id || !(S->w.knows[a->id * n + b] || a->chats[b] > 0))
            continue;
        lua_createtable(L, 0, 3);
        set_str(L, "name", S->w.personas[b].name);
        set_str(L, "relation", how ? how : "");
        lua_pushinteger(L, a->chats[b]);
        lua_setfield(L, -2, "chats");
        lua_rawseti(L, -2, ++k);
    }
    return 1;
}

static int l_learn(lua_State *L)
{
    const char *id = luaL_checkstring(L, 1);
    int to = lua_isnoneornil(L, 3) ? me(L)->id : find_agent(L, 3);
    int from = find_agent(L, 2), f;

    for (f = 0; f < S->w.nfacts; f++)
        if (strcmp(S->w.facts[f].id, id) == 0)
            break;
    /* only what the teller holds can be learned from it: a model that
     * invents a fact does not spread it */
    if (f == S->w.nfacts || !S->agents[from].knows[f] ||
        S->agents[to].knows[f]) {
        lua_pushboolean(L, 0);
        return 1;
    }
    ag__sim_learned(S, to, f, from);
    lua_pushboolean(L, 1);
    return 1;
}

static int l_rand(lua_State *L)
{
    lua_Integer purpose = luaL_checkinteger(L, 1);
    lua_Integer n = luaL_checkinteger(L, 2);

    if (n < 1)
        return luaL_error(L, "sim.rand: n must be positive");
    lua_pushinteger(
        L, (lua_Integer)(ag__sim_draw(S, me(L)->id, (uint32_t)purpose) %
                         (uint64_t)n) +
               1);
    return 1;
}

static int l_log(lua_State *L)
{
    char err[200];
    cJSON *f = NULL;

    luaL_checkstring(L, 1);
    if (!lua_isnoneornil(L, 2) &&
        ag_json_from_lua(L, 2, &f, err, sizeof err) < 0)
        return luaL_error(L, "sim.log: %s", err);
    if (f && !cJSON_IsObject(f)) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, "value", f);
        f = o;
    }
    ag__sim_event(S, me(L)->id, lua_tostring(L, 1), f);
    return 0;
}

/* sim._ask(kind, facts): the answer when cached, else nil (then the Lua
 * side yields "ask" and the engine resumes it with the answer). */
static int l_ask(lua_State *L)
{
    char err[200];
    cJSON *facts = NULL, *ans = NULL;
    int rc;

    luaL_checkstring(L, 1);
    if (ag_json_from_lua(L, 2, &facts, err, sizeof err) < 0)
        return luaL_error(L, "sim.ask: facts: %s", err);
    rc = ag__sim_ask(S, me(L)->id, lua_tostring(L, 1), facts, &ans);
    cJSON_Delete(facts);
    if (rc < 0)
        return luaL_error(L, "sim.ask: no prompt kind \"%s\"",
                          lua_tostring(L, 1));
    if (rc == 0)
        return 0;
    ag_json_push(L, ans);
    cJSON_Delete(ans);
    return 1;
}

/* sim._embed(text): true when text's embedding is at hand, else false
 * (queued: the Lua side yields and is resumed when it is in) */
static int l_embed(lua_State *L)
{
    lua_pushboolean(L,
                    ag__sim_embed_need(S, me(L)->id, luaL_checkstring(L, 1)));
    return 1;
}

/* ---- memory ------------------------------------------------------------ */

/* The agent a memory function acts for: the one running, or name. */
static struct ag__sim_agent *who(lua_State *L, int idx)
{
    return lua_isnoneornil(L, idx) ? me(L) : &S->agents[find_agent(L, idx)];
}

static int l_mem_add(lua_State *L)
{
    struct ag__sim_agent *a = who(L, 5);
    const char *kind = luaL_checkstring(L, 1), *text = luaL_checkstring(L, 2);
    int importance = (int)luaL_optinteger(L, 3, 3), ev[64], nev = 0, id;
    float *vec = ag_xmalloc(sizeof *vec * (size_t)S->w.set.dims);
    cJSON *f;

    if (lua_istable(L, 4))
        for (lua_Integer i = 1; i <= (lua_Integer)luaL_len(L, 4) && nev < 64;
             i++) {
            lua_rawgeti(L, 4, i);
            if (lua_isinteger(L, -1))
                ev[nev++] = (int)lua_tointeger(L, -1);
            lua_pop(L, 1);
        }
    ag__sim_embed(S, text, vec);
    id = ag__sim_mem_add(&a->mem, ag__sim_mem_kind(kind), text, importance,
                         S->now, vec, S->w.set.dims, ev, nev);
    free(vec);
    f = cJSON_CreateObject();
    cJSON_AddNumberToObject(f, "id", id);
    cJSON_AddStringToObject(f, "kind", kind);
    cJSON_AddNumberToObject(f, "importance", a->mem.m[id - 1].importance);
    cJSON_AddStringToObject(f, "text", text);
    ag__sim_event(S, a->id, "memory", f);
    lua_pushinteger(L, id);
    return 1;
}

static int l_mem_retrieve(lua_State *L)
{
    struct ag__sim_agent *a = who(L, 3);
    const char *q = luaL_checkstring(L, 1);
    int k = (int)luaL_optinteger(L, 2, S->w.set.retrieve), *idx, n;
    float *vec;

    if (!S->w.set.memory) { /* the ablation: nothing is remembered */
        lua_newtable(L);
        return 1;
    }
    vec = ag_xmalloc(sizeof *vec * (size_t)S->w.set.dims);
    idx = ag_xmalloc(sizeof *idx * (size_t)(k > 0 ? k : 1));
    ag__sim_embed(S, q, vec);
    n = ag__sim_mem_retrieve(&a->mem, vec, S->w.set.dims, S->now, &S->w.set, k,
                             idx);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        const struct ag__sim_mem *m = &a->mem.m[idx[i]];
        char c[20];
        ag__sim_fmt_time(m->created, c);
        lua_createtable(L, 0, 5);
        lua_pushinteger(L, m->id);
        lua_setfield(L, -2, "id");
        set_str(L, "kind", ag__sim_mem_kind_name(m->kind));
        set_str(L, "text", m->text);
        lua_pushinteger(L, m->importance);
        lua_setfield(L, -2, "importance");
        set_str(L, "created", c);
        lua_rawseti(L, -2, i + 1);
    }
    free(vec);
    free(idx);
    return 1;
}

static int l_mem_since(lua_State *L)
{
    lua_pushnumber(L, me(L)->mem.since_reflection);
    return 1;
}

static int l_mem_reflected(lua_State *L)
{
    me(L)->mem.since_reflection = 0;
    return 0;
}

static const char prelude[] =
    "function sim.ask(kind, facts)\n"
    "  local a = sim._ask(kind, facts or {})\n"
    "  if a ~= nil then return a end\n"
    "  return coroutine.yield('ask')\n"
    "end\n"
    "function sim.wait(seconds, events)\n"
    "  return coroutine.yield('wait', seconds, events)\n"
    "end\n"
    /* a text's embedding may have to come from the endpoint first */
    "do\n"
    "  local add, retrieve, need = memory.add, memory.retrieve, sim._embed\n"
    "  function memory.add(kind, text, ...)\n"
    "    if not need(text) then coroutine.yield('ask') end\n"
    "    return add(kind, text, ...)\n"
    "  end\n"
    "  function memory.retrieve(query, ...)\n"
    "    if not need(query) then coroutine.yield('ask') end\n"
    "    return retrieve(query, ...)\n"
    "  end\n"
    "end\n";

int ag__sim_lua_open(struct ag__sim *s, char *err, size_t errlen)
{
    static const luaL_Reg simf[] = {{"me", l_me},
                                    {"now", l_now},
                                    {"clock", l_clock},
                                    {"settings", l_settings},
                                    {"places", l_places},
                                    {"move", l_move},
                                    {"act", l_act},
                                    {"perceive", l_perceive},
                                    {"can_chat", l_can_chat},
                                    {"chat_begin", l_chat_begin},
                                    {"say", l_say},
                                    {"chat_end", l_chat_end},
                                    {"facts", l_facts},
                                    {"learn", l_learn},
                                    {"relation", l_relation},
                                    {"acquaintances", l_acquaintances},
                                    {"rand", l_rand},
                                    {"log", l_log},
                                    {"_ask", l_ask},
                                    {"_embed", l_embed},
                                    {NULL, NULL}};
    static const luaL_Reg memf[] = {{"add", l_mem_add},
                                    {"retrieve", l_mem_retrieve},
                                    {"since_reflection", l_mem_since},
                                    {"reflected", l_mem_reflected},
                                    {NULL, NULL}};
    char *path;
    lua_State *L;

    S = s;
    if (!(L = s->L = luaL_newstate()))
        return -1;
    luaL_openlibs(L);
    ag_json_open(L);
    lua_setglobal(L, "json");
    luaL_newlib(L, simf);
    lua_setglobal(L, "sim");
    luaL_newlib(L, memf);
    lua_setglobal(L, "memory");
    if (luaL_dostring(L, prelude) != LUA_OK) {
        snprintf(err, errlen, "sim: %s", lua_tostring(L, -1));
        return AG_ELUA;
    }
    path = ag_xasprintf("%s/cognition.lua", s->sim_dir);
    if (luaL_loadfilex(L, path, "t") != LUA_OK ||
        lua_pcall(L, 0, 1, 0) != LUA_OK || !lua_isfunction(L, -1)) {
        snprintf(err, errlen, "%s: %s", path,
                 lua_isstring(L, -1) ? lua_tostring(L, -1)
                                     : "must return the agent's function");
        free(path);
        return AG_ELUA;
    }
    free(path);
    /* one coroutine per agent, each calling cognition(agent number) */
    for (int i = 0; i < s->nagents; i++) {
        struct ag__sim_agent *a = &s->agents[i];
        a->co = lua_newthread(L);
        a->co_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        lua_pushvalue(L, -1);
        lua_xmove(L, a->co, 1);
    }
    lua_pop(L, 1);
    return 0;
}
