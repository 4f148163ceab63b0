/*
 * sim-world.c: loading a world file (sim.h) into the structures of
 * sim-private.h, and the game clock's text form. The file is trusted Lua that
 * returns a table; it is run in its own state, converted to JSON (but for the
 * light agents' section), and every field is checked, so that a mistake is
 * reported as "FILE: FIELD: what is wrong", with the line when Lua gives one:
 * "town.lua: personas[3].home: no place \"Cafe:kitchen\" in the map",
 * "town.lua: settings.attention: must be a whole number from 1 to 1000 (got
 * \"three\")", "town.lua: unknown field \"mapp\" (did you mean \"map\"?)".
 * When several fields are wrong, the first checked is reported (name, model,
 * start, settings, map, personas, knows, facts; among unknown fields of a
 * table the smallest), so a file always gives the same message.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <lauxlib.h>
#include <lualib.h>

#include "json.h"
#include "sim-private.h"

#define TIME_MAX INT64_C(253402300799) /* 9999-12-31 23:59:59 */

/* ---- game time ---------------------------------------------------------- */

/* Reads exactly n decimal digits. */
static int digits(const char *s, int n, int *out)
{
    *out = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        *out = *out * 10 + (s[i] - '0');
    }
    return 1;
}

/* Exactly "YYYY-MM-DD HH:MM" or "YYYY-MM-DD HH:MM:SS", a real date of the
 * years 1970 to 9999 (so that no valid time is negative). */
int64_t ag__sim_parse_time(const char *s)
{
    struct tm back;
    int y, mo, d, h, mi, sec = 0;
    time_t t;

    if (!s || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || s[10] != ' ' ||
        !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi))
        return -1;
    if (s[16] == ':' ? !digits(s + 17, 2, &sec) || s[19] : s[16] != '\0')
        return -1;
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 ||
        sec > 59)
        return -1;
    t = timegm(&(struct tm){.tm_year = y - 1900,
                            .tm_mon = mo - 1,
                            .tm_mday = d,
                            .tm_hour = h,
                            .tm_min = mi,
                            .tm_sec = sec});
    /* timegm takes February 30 for March 2: a date that moves is not real */
    if (t < 0 || !gmtime_r(&t, &back) || back.tm_mday != d)
        return -1;
    return (int64_t)t;
}

/* Times outside the years 1970 to 9999 are shown as the nearest end. */
void ag__sim_fmt_time(int64_t t, char out[20])
{
    time_t tt = (time_t)(t < 0 ? 0 : t > TIME_MAX ? TIME_MAX : t);
    struct tm tm;

    if (!gmtime_r(&tt, &tm) ||
        strftime(out, 20, "%Y-%m-%d %H:%M:%S", &tm) != 19)
        memcpy(out, "1970-01-01 00:00:00", 20);
}

/* ---- checking fields ---------------------------------------------------- */

struct loader {
    struct ag__sim_world *w;
    char *err;
    size_t errlen;
};

__attribute__((format(printf, 2, 3))) static int fail(struct loader *ld,
                                                      const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ld->err && ld->errlen)
        snprintf(ld->err, ld->errlen, "%s: %s", ld->w->path, msg);
    return AG_ETASK;
}

/* v as a message shows it: strings quoted and cut, tables by kind. */
static const char *shown(const cJSON *v, char buf[64])
{
    if (!v)
        return "nothing";
    if (cJSON_IsString(v)) {
        size_t n = strlen(v->valuestring);
        snprintf(buf, 64, "\"%.40s%s\"", v->valuestring, n > 40 ? "..." : "");
    } else if (cJSON_IsNumber(v)) {
        snprintf(buf, 64, "%.16g", v->valuedouble);
    } else {
        return cJSON_IsBool(v)      ? (cJSON_IsTrue(v) ? "true" : "false")
               : cJSON_IsArray(v)   ? "a list"
               : !cJSON_IsObject(v) ? "null"
               : v->child           ? "a table"
                                    : "an empty table";
    }
    return buf;
}

/* "where.key", or "key" at the top level. */
static const char *fieldname(char buf[128], const char *where, const char *key)
{
    snprintf(buf, 128, "%s%s%s", where, *where ? "." : "", key);
    return buf;
}

static const cJSON *item(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* A list: a JSON array, or an empty table (which JSON takes as {}). */
static int is_list(const cJSON *v)
{
    return cJSON_IsArray(v) || (cJSON_IsObject(v) && !v->child);
}

/* The unknown field (the smallest when several) with a suggestion. */
static int unknown(struct loader *ld, const char *where, const char *key,
                   const char *const *known)
{
    const char *best = ag_suggest(key, known);

    return fail(ld, "%s%sunknown field \"%.64s\"%s%s%s", where,
                *where ? ": " : "", key, best ? " (did you mean \"" : "",
                best ? best : "", best ? "\"?)" : "");
}

/* v must be a table of fields, all of them in known (NULL-terminated). */
static int check_table(struct loader *ld, const cJSON *v, const char *where,
                       const char *const *known)
{
    const cJSON *f;
    const char *worst = NULL;
    char g[64];

    if (!cJSON_IsObject(v))
        return fail(ld, "%s: must be a table of fields (got %s)", where,
                    shown(v, g));
    cJSON_ArrayForEach(f, v)
    {
        if (!ag_is_known(f->string, known) &&
            (!worst || strcmp(f->string, worst) < 0))
            worst = f->string;
    }
    return worst ? unknown(ld, where, worst, known) : 0;
}

enum { OPTIONAL, REQUIRED, MAPNAME };

/* The string at where.key into *out (NULL when absent); a required one
 * must not be empty, a name of the map (required) has no ':'. */
static int get_str(struct loader *ld, const cJSON *o, const char *where,
                   const char *key, int req, const char **out)
{
    const cJSON *v = item(o, key);
    char g[64], n[128];

    *out = NULL;
    if (!v)
        return req ? fail(ld, "%s: required", fieldname(n, where, key)) : 0;
    if (!cJSON_IsString(v) || (req && !*v->valuestring) ||
        (req == MAPNAME && strchr(v->valuestring, ':')))
        return fail(ld, "%s: must be %s (got %s)", fieldname(n, where, key),
                    req == MAPNAME ? "a name without ':'"
                    : req          ? "a non-empty string"
                                   : "a string",
                    shown(v, g));
    *out = v->valuestring;
    return 0;
}

/* A number at where.key within [lo, hi], whole when whole is set; *out is
 * left alone when the field is absent. */
static int get_num(struct loader *ld, const cJSON *o, const char *where,
                   const char *key, int whole, double lo, double hi,
                   double *out)
{
    const cJSON *v = item(o, key);
    char g[64], n[128];

    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
        (whole && v->valuedouble != floor(v->valuedouble)) ||
        v->valuedouble < lo || v->valuedouble > hi)
        return fail(ld, "%s: must be a %s from %.16g to %.16g (got %s)",
                    fieldname(n, where, key), whole ? "whole number" : "number",
                    lo, hi, shown(v, g));
    *out = v->valuedouble;
    return 0;
}

/* A place named "sector:arena" at where.key. */
static int get_place(struct loader *ld, const cJSON *o, const char *where,
                     const char *key, int req, int *out)
{
    const char *s;
    char n[128];

    if (get_str(ld, o, where, key, req, &s) < 0)
        return AG_ETASK;
    if (!s)
        return 0;
    if ((*out = ag__sim_place_find(ld->w, s)) < 0)
        return fail(ld,
                    "%s: no place \"%.80s\" in the map (places are "
                    "\"sector:arena\")",
                    fieldname(n, where, key), s);
    return 0;
}

/* The persona v names; where is the field, for messages. */
static int get_persona(struct loader *ld, const cJSON *v, const char *where,
                       int *out)
{
    char g[64];

    if (!v)
        return fail(ld, "%s: required", where);
    if (!cJSON_IsString(v))
        return fail(ld, "%s: must be a persona's name (got %s)", where,
                    shown(v, g));
    if ((*out = ag__sim_persona_find(ld->w, v->valuestring)) < 0)
        return fail(ld, "%s: no persona \"%.80s\"", where, v->valuestring);
    return 0;
}

/* ---- the sections ------------------------------------------------------- */

static const char *const sector_fields[] = {"sector", "arenas", NULL};
static const char *const arena_fields[] = {"arena", "size", "objects", NULL};
static const char *const persona_fields[] = {
    "name",      "age",  "innate", "learned", "currently",
    "lifestyle", "home", "at",     NULL};
static const char *const fact_fields[] = {"id", "holder", "text", "event",
                                          NULL};
static const char *const event_fields[] = {"place", "from", "to", NULL};

typedef int each_fn(struct loader *ld, const cJSON *v, const char *where,
                    void *ud);

/* Calls fn for each item of the list v, named "what[i]" (1-based). v may
 * be absent unless min is 1; then it must not be empty either. */
static int each(struct loader *ld, const cJSON *v, const char *what, int min,
                each_fn *fn, void *ud)
{
    const cJSON *it;
    char g[64], where[128];
    int i = 0;

    if ((v || min) && (!is_list(v) || cJSON_GetArraySize(v) < min))
        return fail(ld, "%s: must be a %slist (got %s)", what,
                    min ? "non-empty " : "", shown(v, g));
    cJSON_ArrayForEach(it, v)
    {
        snprintf(where, sizeof where, "%s[%d]", what, ++i);
        if (fn(ld, it, where, ud) < 0)
            return AG_ETASK;
    }
    return 0;
}

static int load_object(struct loader *ld, const cJSON *o, const char *where,
                       void *ud)
{
    struct ag__sim_place *p = ud;
    char g[64];

    if (!cJSON_IsString(o) || !*o->valuestring)
        return fail(ld, "%s: must be a name (got %s)", where, shown(o, g));
    p->objects[p->nobjects++] = ag_xstrdup(o->valuestring);
    return 0;
}

static int load_arena(struct loader *ld, const cJSON *ar, const char *where,
                      void *ud)
{
    struct ag__sim_world *w = ld->w;
    const cJSON *objs = item(ar, "objects"), *size = item(ar, "size");
    const char *sname = ud, *aname;
    struct ag__sim_place *p;
    char g[64], n[128];

    if (check_table(ld, ar, where, arena_fields) < 0 ||
        get_str(ld, ar, where, "arena", MAPNAME, &aname) < 0)
        return AG_ETASK;
    snprintf(n, sizeof n, "%s:%s", sname, aname);
    if (ag__sim_place_find(w, n) >= 0)
        return fail(ld, "%s.arena: \"%.80s\" is already an arena of \"%.80s\"",
                    where, aname, sname);
    w->places =
        ag_xrealloc(w->places, sizeof *w->places * (size_t)(w->nplaces + 1));
    p = &w->places[w->nplaces++];
    memset(p, 0, sizeof *p);
    p->sector = ag_xstrdup(sname);
    p->arena = ag_xstrdup(aname);
    p->name = ag_xasprintf("%s:%s", sname, aname);
    p->objects =
        ag_xcalloc((size_t)cJSON_GetArraySize(objs) + 1, sizeof *p->objects);
    p->w = p->h = 10;
    for (int k = 0; size && k < 2; k++) {
        const cJSON *x = cJSON_GetArrayItem(size, k);
        double d = cJSON_IsNumber(x) ? x->valuedouble : 0;
        if (!cJSON_IsArray(size) || cJSON_GetArraySize(size) != 2 ||
            d != floor(d) || d < 1 || d > 10000)
            return fail(ld,
                        "%s.size: must be { width, height }, whole numbers "
                        "from 1 to 10000 (got %s)",
                        where, shown(size, g));
        *(k ? &p->h : &p->w) = (int)d;
    }
    snprintf(n, sizeof n, "%s.objects", where);
    return each(ld, objs, n, 0, load_object, p);
}

static int load_sector(struct loader *ld, const cJSON *sec, const char *where,
                       void *ud)
{
    const char *sname;
    char n[128];

    AG_UNUSED(ud);
    if (check_table(ld, sec, where, sector_fields) < 0 ||
        get_str(ld, sec, where, "sector", MAPNAME, &sname) < 0)
        return AG_ETASK;
    for (int k = 0; k < ld->w->nplaces; k++)
        if (strcmp(ld->w->places[k].sector, sname) == 0)
            return fail(ld, "%s.sector: \"%.80s\" is an earlier sector's name",
                        where, sname);
    snprintf(n, sizeof n, "%s.arenas", where);
    return each(ld, item(sec, "arenas"), n, 1, load_arena, (void *)sname);
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
        if (w->personas[i].name && strcmp(w->personas[i].name, name) == 0)
            return i;
    return -1;
}

static int load_persona(struct loader *ld, const cJSON *p, const char *where,
                        void *ud)
{
    static const char *const texts[] = {"innate", "learned", "currently",
                                        "lifestyle"};
    /* counted before it is read, so that the free sees what it holds */
    struct ag__sim_persona *q = &ld->w->personas[ld->w->npersonas++];
    char **dst[] = {&q->innate, &q->learned, &q->currently, &q->lifestyle};
    const char *s;
    double age = 0;
    int other;

    AG_UNUSED(ud);
    if (check_table(ld, p, where, persona_fields) < 0 ||
        get_str(ld, p, where, "name", REQUIRED, &s) < 0)
        return AG_ETASK;
    if ((other = ag__sim_persona_find(ld->w, s)) >= 0)
        return fail(ld, "%s.name: \"%.80s\" is already personas[%d]", where, s,
                    other + 1);
    q->name = ag_xstrdup(s);
    if (get_num(ld, p, where, "age", 1, 0, 200, &age) < 0)
        return AG_ETASK;
    q->age = (int)age;
    for (size_t i = 0; i < AG_ARRAY_SIZE(texts); i++) {
        if (get_str(ld, p, where, texts[i], OPTIONAL, &s) < 0)
            return AG_ETASK;
        *dst[i] = s ? ag_xstrdup(s) : NULL;
    }
    if (get_place(ld, p, where, "home", REQUIRED, &q->home) < 0)
        return AG_ETASK;
    q->start = q->home;
    return get_place(ld, p, where, "at", OPTIONAL, &q->start);
}

static int load_know(struct loader *ld, const cJSON *k, const char *where,
                     void *ud)
{
    struct ag__sim_world *w = ld->w;
    const cJSON *how = cJSON_GetArrayItem(k, 2);
    int a, b, n = w->npersonas, sz = cJSON_GetArraySize(k);
    char g[64], who[140];

    AG_UNUSED(ud);
    if (!cJSON_IsArray(k) || sz < 2 || sz > 3)
        return fail(ld, "%s: must be { \"name\", \"name\", \"how\" } (got %s)",
                    where, shown(k, g));
    snprintf(who, sizeof who, "%s[1]", where);
    if (get_persona(ld, cJSON_GetArrayItem(k, 0), who, &a) < 0)
        return AG_ETASK;
    snprintf(who, sizeof who, "%s[2]", where);
    if (get_persona(ld, cJSON_GetArrayItem(k, 1), who, &b) < 0)
        return AG_ETASK;
    if (a == b)
        return fail(ld, "%s: the same persona as %s[1]", who, where);
    if (how && !cJSON_IsString(how))
        return fail(ld, "%s[3]: must be a string (got %s)", where,
                    shown(how, g));
    w->knows[a * n + b] = w->knows[b * n + a] = 1;
    if (how) {
        free(w->knows_how[a * n + b]);
        free(w->knows_how[b * n + a]);
        w->knows_how[a * n + b] = ag_xstrdup(how->valuestring);
        w->knows_how[b * n + a] = ag_xstrdup(how->valuestring);
    }
    return 0;
}

/* A required game time at where.key. */
static int get_time(struct loader *ld, const cJSON *o, const char *where,
                    const char *key, int64_t *out)
{
    char g[64], n[128];

    if (!item(o, key))
        return fail(ld, "%s: required, a game time \"YYYY-MM-DD HH:MM\"",
                    fieldname(n, where, key));
    if ((*out = ag__sim_parse_time(ag_json_str(o, key))) < 0)
        return fail(ld, "%s: must be a game time \"YYYY-MM-DD HH:MM\" (got %s)",
                    fieldname(n, where, key), shown(item(o, key), g));
    return 0;
}

static int load_fact(struct loader *ld, const cJSON *f, const char *where,
                     void *ud)
{
    struct ag__sim_fact *q = &ld->w->facts[ld->w->nfacts++];
    const cJSON *ev = item(f, "event");
    const char *s;
    char n[140], g[64];

    AG_UNUSED(ud);
    q->place = -1;
    if (check_table(ld, f, where, fact_fields) < 0 ||
        get_str(ld, f, where, "id", REQUIRED, &s) < 0)
        return AG_ETASK;
    for (int i = 0; i < ld->w->nfacts - 1; i++)
        if (strcmp(ld->w->facts[i].id, s) == 0)
            return fail(ld, "%s.id: \"%.80s\" is already facts[%d]", where, s,
                        i + 1);
    q->id = ag_xstrdup(s);
    if (get_str(ld, f, where, "text", REQUIRED, &s) < 0)
        return AG_ETASK;
    q->text = ag_xstrdup(s);
    snprintf(n, sizeof n, "%s.holder", where);
    if (get_persona(ld, item(f, "holder"), n, &q->holder) < 0)
        return AG_ETASK;
    if (!ev)
        return 0;
    snprintf(n, sizeof n, "%s.event", where);
    if (check_table(ld, ev, n, event_fields) < 0 ||
        get_place(ld, ev, n, "place", REQUIRED, &q->place) < 0 ||
        get_time(ld, ev, n, "from", &q->from) < 0 ||
        get_time(ld, ev, n, "to", &q->to) < 0)
        return AG_ETASK;
    if (q->to <= q->from)
        return fail(ld, "%s.to: must be after from, %s (got %s)", n,
                    ag_json_str(ev, "from"), shown(item(ev, "to"), g));
    return 0;
}

/* The settings: each a number of a range (whole for the ints), or a
 * boolean; the weights a table of their own. */
enum { S_DBL, S_INT, S_LONG, S_BOOL, S_TABLE };

struct setting {
    const char *key;
    int type;
    double lo, hi, def;
    size_t off;
};

#define OFF(f) offsetof(struct ag__sim_settings, f)
static const struct setting setting_defs[] = {
    {"perceive_radius", S_DBL, 0, 10000, 8, OFF(perceive_radius)},
    {"attention", S_INT, 1, 1000, 3, OFF(attention)},
    {"reflect_threshold", S_DBL, 0, 1e9, 150, OFF(reflect_threshold)},
    {"recency_decay", S_DBL, 0, 1, 0.995, OFF(recency_decay)},
    {"weights", S_TABLE, 0, 0, 0, 0},
    {"retrieve", S_INT, 1, 10000, 30, OFF(retrieve)},
    {"chat_turns", S_INT, 2, 1000, 8, OFF(chat_turns)},
    {"chat_cooldown", S_INT, 0, 1e6, 120, OFF(chat_cooldown)},
    {"action_min", S_INT, 1, 1440, 5, OFF(action_min)},
    {"action_max", S_INT, 1, 1440, 15, OFF(action_max)},
    {"tick", S_INT, 0, 86400, 0, OFF(tick)},
    {"memory", S_BOOL, 0, 1, 1, OFF(memory)},
    {"planning", S_BOOL, 0, 1, 1, OFF(planning)},
    {"reflection", S_BOOL, 0, 1, 1, OFF(reflection)},
    {"concurrency", S_INT, 1, 1024, 8, OFF(concurrency)},
    {"max_calls", S_LONG, 0, 1e15, 0, OFF(max_calls)},
    {"max_tokens", S_LONG, 0, 1e15, 0, OFF(max_tokens)},
    {"max_cost", S_DBL, 0, 1e12, 0, OFF(max_cost)},
    {"dims", S_INT, 8, 4096, 64, OFF(dims)},
};
static const struct setting weight_defs[] = {
    {"recency", S_DBL, 0, 1000, 1, OFF(w_recency)},
    {"importance", S_DBL, 0, 1000, 1, OFF(w_importance)},
    {"relevance", S_DBL, 0, 1000, 1, OFF(w_relevance)},
};
#undef OFF

/* Fills set from the table o (may be absent: the defaults) by t[0, n). */
static int load_table(struct loader *ld, const cJSON *o, const char *where,
                      const struct setting *t, size_t n,
                      struct ag__sim_settings *set)
{
    const char *known[AG_ARRAY_SIZE(setting_defs) + 1];
    char g[64];

    for (size_t i = 0; i < n; i++)
        known[i] = t[i].key;
    known[n] = NULL;
    if (o && check_table(ld, o, where, known) < 0)
        return AG_ETASK;
    for (size_t i = 0; i < n; i++) {
        const cJSON *v = item(o, t[i].key);
        char *p = (char *)set + t[i].off;
        double x = t[i].def;
        if (t[i].type == S_BOOL && v && !cJSON_IsBool(v))
            return fail(ld, "%s.%s: must be true or false (got %s)", where,
                        t[i].key, shown(v, g));
        if (t[i].type == S_BOOL)
            x = v ? cJSON_IsTrue(v) : x;
        else if (t[i].type != S_TABLE &&
                 get_num(ld, o, where, t[i].key, t[i].type != S_DBL, t[i].lo,
                         t[i].hi, &x) < 0)
            return AG_ETASK;
        if (t[i].type == S_DBL)
            *(double *)p = x;
        else if (t[i].type == S_INT || t[i].type == S_BOOL)
            *(int *)p = (int)x;
        else if (t[i].type == S_LONG)
            *(long *)p = (long)x;
    }
    return 0;
}

/* Pushes t[0, n) of set as fields of the table on top of L's stack. */
static void push_table(lua_State *L, const struct setting *t, size_t n,
                       const struct ag__sim_settings *set)
{
    for (size_t i = 0; i < n; i++) {
        const char *p = (const char *)set + t[i].off;
        if (t[i].type == S_TABLE)
            continue;
        if (t[i].type == S_DBL)
            lua_pushnumber(L, *(const double *)p);
        else if (t[i].type == S_BOOL)
            lua_pushboolean(L, *(const int *)p);
        else if (t[i].type == S_INT)
            lua_pushinteger(L, *(const int *)p);
        else
            lua_pushinteger(L, *(const long *)p);
        lua_setfield(L, -2, t[i].key);
    }
}

void ag__sim_settings_push(lua_State *L, const struct ag__sim_settings *set)
{
    lua_createtable(L, 0, (int)AG_ARRAY_SIZE(setting_defs));
    push_table(L, setting_defs, AG_ARRAY_SIZE(setting_defs), set);
    lua_createtable(L, 0, (int)AG_ARRAY_SIZE(weight_defs));
    push_table(L, weight_defs, AG_ARRAY_SIZE(weight_defs), set);
    lua_setfield(L, -2, "weights");
}

static int load_settings(struct loader *ld, const cJSON *s)
{
    struct ag__sim_settings *set = &ld->w->set;

    if (load_table(ld, s, "settings", setting_defs, AG_ARRAY_SIZE(setting_defs),
                   set) < 0 ||
        load_table(ld, item(s, "weights"), "settings.weights", weight_defs,
                   AG_ARRAY_SIZE(weight_defs), set) < 0)
        return AG_ETASK;
    if (set->action_max < set->action_min)
        return fail(ld, "settings.action_max: must be at least action_min (%d)",
                    set->action_min);
    return 0;
}

/* For world.json, checked when the run loaded it: settings that do not
 * check (a hand-edited file) give the defaults. */
void ag__sim_settings_load(const cJSON *settings, struct ag__sim_settings *set)
{
    struct ag__sim_world w = {.path = ""};
    struct loader ld = {&w, NULL, 0};

    if (load_settings(&ld, settings) < 0)
        load_settings(&ld, NULL);
    *set = w.set;
}

/* ---- the file ----------------------------------------------------------- */

static const char *const top_fields[] = {
    "name",  "start", "model",    "map",   "personas",
    "knows", "facts", "settings", "light", NULL};

/* Runs the file and converts it to ld->w->json (all but `light`). */
static int run_file(struct loader *ld, lua_State *L)
{
    const char *worst = NULL;
    char jerr[300];
    int rc;

    luaL_openlibs(L);
    if ((rc = luaL_loadfilex(L, ld->w->path, "t")) == LUA_ERRFILE) {
        const char *m = lua_tostring(L, -1), *why = strrchr(m, ':');
        return fail(ld, "cannot read the world file: %s", why ? why + 2 : m);
    }
    if (rc != LUA_OK || lua_pcall(L, 0, 1, 0) != LUA_OK) {
        /* Lua's message names the file and the line ("w.lua:3: ...") */
        if (ld->err && ld->errlen)
            snprintf(ld->err, ld->errlen, "%s", lua_tostring(L, -1));
        return AG_ETASK;
    }
    if (!lua_istable(L, -1))
        return fail(ld, "a world file must return a table (got %s)",
                    luaL_typename(L, -1));
    lua_pushnil(L);
    while (lua_next(L, -2)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            return fail(ld, "unknown field [%s] (fields have names)",
                        luaL_tolstring(L, -1, NULL));
        if (!ag_is_known(lua_tostring(L, -1), top_fields) &&
            (!worst || strcmp(lua_tostring(L, -1), worst) < 0))
            worst = lua_tostring(L, -1); /* the key stays in the table */
    }
    if (worst)
        return unknown(ld, "", worst, top_fields);
    /* The light agents' section holds a policy function, which JSON cannot
     * carry: sim-light-set.c reads it from the world file itself. */
    ld->w->light = lua_getfield(L, -1, "light") != LUA_TNIL;
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_setfield(L, -2, "light");
    /* the message names the field: "map[1].arenas[2].size: cannot ..." */
    if (ag_json_from_lua(L, -1, &ld->w->json, jerr, sizeof jerr) < 0)
        return fail(ld, "%s", jerr);
    return 0;
}

static int check_world(struct loader *ld)
{
    struct ag__sim_world *w = ld->w;
    const cJSON *j = w->json;
    const char *s, *slash = strrchr(w->path, '/');
    int n;

    s = NULL;
    if (item(j, "name") && get_str(ld, j, "", "name", REQUIRED, &s) < 0)
        return AG_ETASK;
    if (s) {
        w->name = ag_xstrdup(s);
    } else {
        const char *base = slash ? slash + 1 : w->path;
        size_t len = strlen(base);
        if (len > 4 && strcmp(base + len - 4, ".lua") == 0)
            len -= 4;
        w->name = ag_xstrndup(base, len);
    }
    if (get_str(ld, j, "", "model", OPTIONAL, &s) < 0)
        return AG_ETASK;
    w->model = s ? ag_xstrdup(s) : NULL;
    /* a light world may go without a start: its curves count seconds */
    if ((item(j, "start") || !w->light) &&
        get_time(ld, j, "", "start", &w->start) < 0)
        return AG_ETASK;
    if (load_settings(ld, item(j, "settings")) < 0)
        return AG_ETASK;
    if (w->light) /* light agents only: never half a world run silently */
        return item(j, "map") || item(j, "personas")
                   ? fail(ld, "light: light agents cannot share a world "
                              "with a map or personas")
                   : 0;
    if (each(ld, item(j, "map"), "map", 1, load_sector, NULL) < 0)
        return AG_ETASK;
    n = cJSON_GetArraySize(item(j, "personas"));
    w->personas = ag_xcalloc((size_t)n + 1, sizeof *w->personas);
    if (each(ld, item(j, "personas"), "personas", 1, load_persona, NULL) < 0)
        return AG_ETASK;
    w->knows = ag_xcalloc((size_t)(n * n) + 1, sizeof *w->knows);
    w->knows_how = ag_xcalloc((size_t)(n * n) + 1, sizeof *w->knows_how);
    w->facts = ag_xcalloc((size_t)cJSON_GetArraySize(item(j, "facts")) + 1,
                          sizeof *w->facts);
    if (each(ld, item(j, "knows"), "knows", 0, load_know, NULL) < 0 ||
        each(ld, item(j, "facts"), "facts", 0, load_fact, NULL) < 0)
        return AG_ETASK;
    return 0;
}

int ag__sim_world_load(const char *path, const cJSON *set,
                       struct ag__sim_world *w, char *err, size_t errlen)
{
    struct loader ld = {w, err, errlen};
    const char *slash = strrchr(path, '/');
    lua_State *L;
    int rc;

    memset(w, 0, sizeof *w);
    w->path = ag_xstrdup(path);
    w->dir =
        slash ? ag_xstrndup(path, (size_t)(slash - path)) : ag_xstrdup(".");
    rc = (L = luaL_newstate()) ? run_file(&ld, L) : -ENOMEM;
    if (L)
        lua_close(L);
    if (rc == 0 && set && !item(w->json, "settings"))
        cJSON_AddObjectToObject(w->json, "settings");
    if (rc == 0 && set && cJSON_IsObject(item(w->json, "settings")))
        ag_json_merge(cJSON_GetObjectItem(w->json, "settings"), set);
    if (rc == 0)
        rc = check_world(&ld);
    if (rc < 0)
        ag__sim_world_free(w);
    return rc;
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
