/*
 * sim-world.c: loading a world file (sim.h) into the structures of
 * sim-private.h. The file is trusted Lua that returns a table; it is run in
 * its own state, converted to JSON section by section, and every field is
 * checked, so that a mistake is reported with the file, the line when Lua
 * gives one, and the field: "town.lua: personas[3].home: no place
 * \"Cafe:kitchen\" in the map".
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lualib.h>

#include "json.h"
#include "sim-private.h"

static int fail(char *err, size_t errlen, const char *path, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, const char *path, const char *fmt,
                ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(err, errlen, "%s: %s", path, msg);
    return AG_ETASK;
}

int64_t ag__sim_parse_time(const char *s)
{
    struct tm tm;
    int y, mo, d, h, mi, sec = 0, n;

    if (!s)
        return -1;
    n = sscanf(s, "%d-%d-%d %d:%d:%d", &y, &mo, &d, &h, &mi, &sec);
    if (n < 5 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 ||
        mi < 0 || mi > 59 || sec < 0 || sec > 59)
        return -1;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    return (int64_t)timegm(&tm);
}

void ag__sim_fmt_time(int64_t t, char out[20])
{
    time_t tt = (time_t)t;
    struct tm tm;

    gmtime_r(&tt, &tm);
    strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm);
}

static char *dup_str(const cJSON *o, const char *key)
{
    const char *s = ag_json_str(o, key);
    return s ? ag_xstrdup(s) : NULL;
}

static int load_map(const cJSON *map, struct ag__sim_world *w, char *err,
                    size_t errlen)
{
    const cJSON *sec;
    int si = 0;

    if (!cJSON_IsArray(map) || cJSON_GetArraySize(map) == 0)
        return fail(err, errlen, w->path, "map must be a non-empty list of "
                                          "sectors");
    cJSON_ArrayForEach(sec, map)
    {
        const char *sname = ag_json_str(sec, "sector");
        const cJSON *arenas = cJSON_GetObjectItemCaseSensitive(sec, "arenas");
        const cJSON *ar;
        si++;
        if (!sname || !*sname || strchr(sname, ':'))
            return fail(err, errlen, w->path,
                        "map[%d].sector must be a name without ':'", si);
        if (!cJSON_IsArray(arenas) || cJSON_GetArraySize(arenas) == 0)
            return fail(err, errlen, w->path,
                        "map[%d].arenas must be a non-empty list", si);
        cJSON_ArrayForEach(ar, arenas)
        {
            const char *aname = ag_json_str(ar, "arena");
            const cJSON *objs = cJSON_GetObjectItemCaseSensitive(ar, "objects");
            const cJSON *size = cJSON_GetObjectItemCaseSensitive(ar, "size");
            struct ag__sim_place *p;
            const cJSON *o;
            if (!aname || !*aname || strchr(aname, ':'))
                return fail(err, errlen, w->path,
                            "map[%d] (%s): every arena needs a name without "
                            "':'",
                            si, sname);
            w->places = ag_xrealloc(w->places, sizeof *w->places *
                                                   (size_t)(w->nplaces + 1));
            p = &w->places[w->nplaces++];
            memset(p, 0, sizeof *p);
            p->sector = ag_xstrdup(sname);
            p->arena = ag_xstrdup(aname);
            p->name = ag_xasprintf("%s:%s", sname, aname);
            p->w = 10;
            p->h = 10;
            if (cJSON_GetArraySize(size) == 2) {
                p->w = (int)cJSON_GetArrayItem(size, 0)->valuedouble;
                p->h = (int)cJSON_GetArrayItem(size, 1)->valuedouble;
                if (p->w < 1 || p->h < 1 || p->w > 10000 || p->h > 10000)
                    return fail(err, errlen, w->path,
                                "%s: size must be two positive numbers",
                                p->name);
            }
            p->objects = ag_xcalloc((size_t)cJSON_GetArraySize(objs) + 1,
                                    sizeof *p->objects);
            cJSON_ArrayForEach(o, objs)
            {
                if (!cJSON_IsString(o))
                    return fail(err, errlen, w->path,
                                "%s: objects must be names", p->name);
                p->objects[p->nobjects++] = ag_xstrdup(o->valuestring);
            }
        }
    }
    for (int i = 0; i < w->nplaces; i++)
        for (int k = i + 1; k < w->nplaces; k++)
            if (strcmp(w->places[i].name, w->places[k].name) == 0)
                return fail(err, errlen, w->path, "two places are called %s",
                            w->places[i].name);
    return 0;
}

int ag__sim_place_find(const struct ag__sim_world *w, const char *name)
{
    for (int i = 0; name && i < w->nplaces; i++)
        if (strcmp(w->places[i].name, name) == 0)
            return i;
    return -1;
}

int ag__sim_persona_find(const struct ag__sim_world *w, const char *name)
{
    for (int i = 0; name && i < w->npersonas; i++)
        if (strcmp(w->personas[i].name, name) == 0)
            return i;
    return -1;
}

static int load_personas(const cJSON *ps, struct ag__sim_world *w, char *err,
                         size_t errlen)
{
    const cJSON *p;
    int i = 0;

    if (!cJSON_IsArray(ps))
        return fail(err, errlen, w->path, "personas must be a list");
    w->personas = ag_xcalloc((size_t)cJSON_GetArraySize(ps) + 1,
                             sizeof *w->personas);
    cJSON_ArrayForEach(p, ps)
    {
        struct ag__sim_persona *q = &w->personas[i++];
        const char *home = ag_json_str(p, "home"), *at = ag_json_str(p, "at");
        w->npersonas = i;
        q->name = dup_str(p, "name");
        if (!q->name || !*q->name)
            return fail(err, errlen, w->path, "personas[%d].name is required",
                        i);
        if (ag__sim_persona_find(w, q->name) != i - 1)
            return fail(err, errlen, w->path, "two personas are called %s",
                        q->name);
        q->age = (int)ag_json_num(p, "age", 0);
        q->innate = dup_str(p, "innate");
        q->learned = dup_str(p, "learned");
        q->currently = dup_str(p, "currently");
        q->lifestyle = dup_str(p, "lifestyle");
        if ((q->home = ag__sim_place_find(w, home)) < 0)
            return fail(err, errlen, w->path,
                        "personas[%d].home: no place \"%s\" in the map "
                        "(places are \"sector:arena\")",
                        i, home ? home : "");
        q->start = at ? ag__sim_place_find(w, at) : q->home;
        if (q->start < 0)
            return fail(err, errlen, w->path,
                        "personas[%d].at: no place \"%s\" in the map", i, at);
    }
    return 0;
}

static int load_knows(const cJSON *ks, struct ag__sim_world *w, char *err,
                      size_t errlen)
{
    const cJSON *k;
    int n = w->npersonas, i = 0;

    w->knows = ag_xcalloc((size_t)(n * n) + 1, sizeof *w->knows);
    w->knows_how = ag_xcalloc((size_t)(n * n) + 1, sizeof *w->knows_how);
    cJSON_ArrayForEach(k, ks)
    {
        int a, b;
        i++;
        if (!cJSON_IsArray(k) || cJSON_GetArraySize(k) < 2)
            return fail(err, errlen, w->path,
                        "knows[%d] must be { \"name\", \"name\", \"how\" }", i);
        a = ag__sim_persona_find(w, cJSON_GetArrayItem(k, 0)->valuestring);
        b = ag__sim_persona_find(w, cJSON_GetArrayItem(k, 1)->valuestring);
        if (a < 0 || b < 0 || a == b)
            return fail(err, errlen, w->path,
                        "knows[%d] must name two different personas", i);
        w->knows[a * n + b] = w->knows[b * n + a] = 1;
        if (cJSON_IsString(cJSON_GetArrayItem(k, 2))) {
            const char *how = cJSON_GetArrayItem(k, 2)->valuestring;
            free(w->knows_how[a * n + b]);
            free(w->knows_how[b * n + a]);
            w->knows_how[a * n + b] = ag_xstrdup(how);
            w->knows_how[b * n + a] = ag_xstrdup(how);
        }
    }
    return 0;
}

static int load_facts(const cJSON *fs, struct ag__sim_world *w, char *err,
                      size_t errlen)
{
    const cJSON *f;
    int i = 0;

    w->facts = ag_xcalloc((size_t)cJSON_GetArraySize(fs) + 1,
                          sizeof *w->facts);
    cJSON_ArrayForEach(f, fs)
    {
        struct ag__sim_fact *q = &w->facts[i++];
        const cJSON *ev = cJSON_GetObjectItemCaseSensitive(f, "event");
        w->nfacts = i;
        q->id = dup_str(f, "id");
        q->text = dup_str(f, "text");
        q->place = -1;
        if (!q->id || !q->text)
            return fail(err, errlen, w->path,
                        "facts[%d] needs an id and a text", i);
        if ((q->holder = ag__sim_persona_find(w, ag_json_str(f, "holder"))) <
            0)
            return fail(err, errlen, w->path,
                        "facts[%d].holder must name a persona", i);
        if (ev) {
            q->place = ag__sim_place_find(w, ag_json_str(ev, "place"));
            q->from = ag__sim_parse_time(ag_json_str(ev, "from"));
            q->to = ag__sim_parse_time(ag_json_str(ev, "to"));
            if (q->place < 0 || q->from < 0 || q->to <= q->from)
                return fail(err, errlen, w->path,
                            "facts[%d].event needs a place of the map and "
                            "from < to (\"YYYY-MM-DD HH:MM\")",
                            i);
        }
    }
    return 0;
}

static void load_settings(const cJSON *s, struct ag__sim_settings *set)
{
    const cJSON *wts = cJSON_GetObjectItemCaseSensitive(s, "weights");
    const cJSON *v;

    set->perceive_radius = ag_json_num(s, "perceive_radius", 8);
    set->attention = (int)ag_json_num(s, "attention", 3);
    set->reflect_threshold = ag_json_num(s, "reflect_threshold", 150);
    set->recency_decay = ag_json_num(s, "recency_decay", 0.995);
    set->w_recency = ag_json_num(wts, "recency", 1);
    set->w_importance = ag_json_num(wts, "importance", 1);
    set->w_relevance = ag_json_num(wts, "relevance", 1);
    set->retrieve = (int)ag_json_num(s, "retrieve", 30);
    set->chat_turns = (int)ag_json_num(s, "chat_turns", 8);
    set->chat_cooldown = (int)ag_json_num(s, "chat_cooldown", 120);
    set->action_min = (int)ag_json_num(s, "action_min", 5);
    set->action_max = (int)ag_json_num(s, "action_max", 15);
    set->tick = (int)ag_json_num(s, "tick", 0);
    set->memory = !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(s, "memory"));
    set->planning =
        !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(s, "planning"));
    set->reflection =
        !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(s, "reflection"));
    set->concurrency = (int)ag_json_num(s, "concurrency", 8);
    set->max_calls = (long)ag_json_num(s, "max_calls", 0);
    set->max_tokens = (long)ag_json_num(s, "max_tokens", 0);
    set->max_cost = ag_json_num(s, "max_cost", 0);
    set->dims = (int)ag_json_num(s, "dims", 64);
    if (set->attention < 1)
        set->attention = 1;
    if (set->retrieve < 1)
        set->retrieve = 1;
    if (set->chat_turns < 2)
        set->chat_turns = 2;
    if (set->action_min < 1)
        set->action_min = 1;
    if (set->action_max < set->action_min)
        set->action_max = set->action_min;
    if (set->concurrency < 1)
        set->concurrency = 1;
    if (set->dims < 8 || set->dims > 4096)
        set->dims = 64;
    v = NULL;
    AG_UNUSED(v);
}

/* Converts one section of the world table to JSON (functions and other
 * values JSON cannot hold are an error naming the field). */
static int section(lua_State *L, const char *key, cJSON *into, char *err,
                   size_t errlen, const char *path)
{
    char jerr[300];
    cJSON *v;

    lua_getfield(L, -1, key);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    if (ag_json_from_lua(L, -1, &v, jerr, sizeof jerr) < 0) {
        lua_pop(L, 1);
        return fail(err, errlen, path, "%s: %s", key, jerr);
    }
    lua_pop(L, 1);
    cJSON_AddItemToObject(into, key, v);
    return 0;
}

int ag__sim_world_load(const char *path, struct ag__sim_world *w, char *err,
                       size_t errlen)
{
    static const char *const sections[] = {
        "name", "start", "model", "map", "personas", "knows", "facts",
        "settings"};
    static const char *const known[] = {"name",     "start",    "model",
                                        "map",      "personas", "knows",
                                        "facts",    "settings", "light"};
    const char *slash = strrchr(path, '/');
    lua_State *L;
    int rc;

    memset(w, 0, sizeof *w);
    w->path = ag_xstrdup(path);
    w->dir = slash ? ag_xstrndup(path, (size_t)(slash - path))
                   : ag_xstrdup(".");
    if (!(L = luaL_newstate()))
        return -ENOMEM;
    luaL_openlibs(L);
    if (luaL_loadfilex(L, path, "t") != LUA_OK ||
        lua_pcall(L, 0, 1, 0) != LUA_OK) {
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
        lua_close(L);
        return AG_ETASK;
    }
    if (!lua_istable(L, -1)) {
        lua_close(L);
        return fail(err, errlen, path, "a world file must return a table");
    }
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        int ok = 0;
        lua_pop(L, 1);
        for (size_t i = 0; i < AG_ARRAY_SIZE(known) && !ok; i++)
            ok = lua_type(L, -1) == LUA_TSTRING &&
                 strcmp(lua_tostring(L, -1), known[i]) == 0;
        if (!ok) {
            rc = fail(err, errlen, path, "unknown field \"%s\"",
                      lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1)
                                                     : "?");
            lua_close(L);
            return rc;
        }
    }
    /* The light agents' section holds a policy function, which JSON cannot
     * carry: sim-light-set.c reads it from the world file itself. */
    lua_getfield(L, -1, "light");
    w->light = !lua_isnil(L, -1);
    lua_pop(L, 1);
    w->json = cJSON_CreateObject();
    for (size_t i = 0; i < AG_ARRAY_SIZE(sections); i++)
        if ((rc = section(L, sections[i], w->json, err, errlen, path)) < 0) {
            lua_close(L);
            return rc;
        }
    lua_close(L);

    w->name = dup_str(w->json, "name");
    if (!w->name) {
        const char *base = slash ? slash + 1 : path;
        size_t n = strlen(base);
        if (n > 4 && strcmp(base + n - 4, ".lua") == 0)
            n -= 4;
        w->name = ag_xstrndup(base, n);
    }
    w->model = dup_str(w->json, "model");
    w->start = ag__sim_parse_time(ag_json_str(w->json, "start"));
    if (w->start < 0)
        return fail(err, errlen, path,
                    "start must be a game time \"YYYY-MM-DD HH:MM\"");
    load_settings(cJSON_GetObjectItemCaseSensitive(w->json, "settings"),
                  &w->set);
    if (!cJSON_GetObjectItemCaseSensitive(w->json, "map") && w->light)
        return 0; /* a world of light agents only */
    if ((rc = load_map(cJSON_GetObjectItemCaseSensitive(w->json, "map"), w,
                       err, errlen)) < 0 ||
        (rc = load_personas(
             cJSON_GetObjectItemCaseSensitive(w->json, "personas"), w, err,
             errlen)) < 0 ||
        (rc = load_knows(cJSON_GetObjectItemCaseSensitive(w->json, "knows"),
                         w, err, errlen)) < 0 ||
        (rc = load_facts(cJSON_GetObjectItemCaseSensitive(w->json, "facts"),
                         w, err, errlen)) < 0)
        return rc;
    if (w->npersonas == 0)
        return fail(err, errlen, path, "personas: at least one is needed");
    return 0;
}

void ag__sim_world_free(struct ag__sim_world *w)
{
    for (int i = 0; i < w->nplaces; i++) {
        struct ag__sim_place *p = &w->places[i];
        free(p->name);
        free(p->sector);
        free(p->arena);
        for (int k = 0; k < p->nobjects; k++)
            free(p->objects[k]);
        free(p->objects);
    }
    for (int i = 0; i < w->npersonas; i++) {
        struct ag__sim_persona *p = &w->personas[i];
        free(p->name);
        free(p->innate);
        free(p->learned);
        free(p->currently);
        free(p->lifestyle);
    }
    for (int i = 0; i < w->nfacts; i++) {
        free(w->facts[i].id);
        free(w->facts[i].text);
    }
    for (int i = 0; w->knows_how && i < w->npersonas * w->npersonas; i++)
        free(w->knows_how[i]);
    free(w->knows_how);
    free(w->knows);
    free(w->places);
    free(w->personas);
    free(w->facts);
    free(w->path);
    free(w->dir);
    free(w->name);
    free(w->model);
    cJSON_Delete(w->json);
    memset(w, 0, sizeof *w);
}
