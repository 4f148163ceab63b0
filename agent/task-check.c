/*
 * task-check.c: the field-by-field check of the table a task file returns
 * (DESIGN §3; contract in task.h; the file is run in task.c).
 *
 * ag__task_check_table() walks the returned table under lua_pcall, so that a
 * memory error inside Lua cannot escape. The walk uses raw access only, so
 * no metamethod of the user's runs outside the protected call. Everything it
 * keeps is copied into the struct ag_task, which owns it.
 *
 * Every problem becomes one line, "<path>: <field> <problem> (got <value>)",
 * with the value shown as Lua would print it (strings quoted and cut to 40
 * characters, tables and functions by type only). Values of the secret-
 * bearing fields (model.api_key, secrets) are never shown, only their type.
 * Checks run in a fixed order, and unknown fields of a table are reported
 * before its known ones (the smallest first), so the same file always gives
 * the same message whatever Lua's hash order.
 */
#include "task.h"
#include "task-private.h"

#include "ag.h"
#include "audit.h"
#include "json.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lua.h>

#define TASK_MAX_LIST 1024 /* entries in tools, approve, secrets */

#define DEFAULT_MODEL "gpt-4o-mini"

/* The fields each table may hold, in the order they are checked. */
static const char *const top_fields[] = {
    "name",    "goal",   "system",  "model",
    "tools",   "limits", "approve", "approve_tainted",
    "secrets", "audit",  NULL};
static const char *const audit_fields[] = {"file", "content", "fsync", NULL};
static const char *const model_fields[] = {
    "provider", "name",       "file",        "base_url", "api_key",
    "stream",   "max_tokens", "temperature", "context",  "price",
    "timeouts", "retries",    NULL};
static const char *const price_fields[] = {"input", "output", NULL};
static const char *const timeout_fields[] = {"connect", "first_byte", "idle",
                                             NULL};
static const char *const retry_fields[] = {"attempts", "backoff", "max_backoff",
                                           "total", NULL};
static const char *const limit_fields[] = {"steps", "tokens",       "seconds",
                                           "cost",  "repeat_calls", NULL};

enum { SHOW_VALUE, SHOW_TYPE }; /* SHOW_TYPE for values that may be secret */

/* ---- values in messages ------------------------------------------------- */

/* Formats the value at idx as Lua's print would, except that tables,
 * functions and the like are shown by type ("a table"): their addresses
 * tell the reader nothing. With SHOW_TYPE only the type is given. */
static const char *show(lua_State *L, int idx, int mode, char *buf)
{
    int type = lua_type(L, idx);
    const char *s;
    size_t n;

    if (mode == SHOW_TYPE || type == LUA_TTABLE || type == LUA_TFUNCTION ||
        type == LUA_TUSERDATA || type == LUA_TLIGHTUSERDATA ||
        type == LUA_TTHREAD) {
        if (type == LUA_TNIL)
            return "nil";
        snprintf(buf, AG__TASK_SHOW_BUF, "a %s", lua_typename(L, type));
        return buf;
    }
    switch (type) {
    case LUA_TBOOLEAN:
        return lua_toboolean(L, idx) ? "true" : "false";
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            snprintf(buf, AG__TASK_SHOW_BUF, LUA_INTEGER_FMT,
                     lua_tointeger(L, idx));
        } else {
            snprintf(buf, AG__TASK_SHOW_BUF, LUA_NUMBER_FMT,
                     lua_tonumber(L, idx));
            if (buf[strspn(buf, "-0123456789")] == '\0')
                strcat(buf, ".0"); /* as Lua does: 20.0, not 20 */
        }
        return buf;
    case LUA_TSTRING:
        s = lua_tolstring(L, idx, &n);
        return ag__task_show_str(s, n, buf);
    default:
        return "nil";
    }
}

/* "<field> <problem> (got <value at idx>)". */
static int bad(struct ag__task_loader *ld, int idx, const char *field,
               const char *problem, int mode)
{
    char buf[AG__TASK_SHOW_BUF];

    return ag__task_fail(ld, "%s %s (got %s)", field, problem,
                         show(ld->L, idx, mode, buf));
}

/* ---- unknown fields ----------------------------------------------------- */

/* Reports the first (in byte order) key of the table at tbl that is not in
 * known, suggesting the closest known one. prefix: "" or "model." etc. */
static int check_keys(struct ag__task_loader *ld, int tbl, const char *prefix,
                      const char *const *known)
{
    lua_State *L = ld->L;
    char worst[AG__TASK_SHOW_BUF] = "", buf[AG__TASK_SHOW_BUF],
         val[AG__TASK_SHOW_BUF];
    const char *best = NULL;
    int found = 0;
    size_t n;

    lua_pushnil(L);
    while (lua_next(L, tbl)) {
        const char *key = NULL, *name;

        if (lua_type(L, -2) == LUA_TSTRING) {
            key = lua_tolstring(L, -2, &n);
            if (strlen(key) == n && ag_is_known(key, known)) {
                lua_pop(L, 1);
                continue;
            }
            name = ag__task_show_str(key, n, buf);
        } else {
            snprintf(buf, AG__TASK_SHOW_BUF, "[%s]",
                     show(L, -2, SHOW_VALUE, val));
            name = buf;
        }
        if (!found || strcmp(name, worst) < 0) {
            snprintf(worst, sizeof worst, "%s", name);
            best = key ? ag_suggest(key, known) : NULL;
        }
        found = 1;
        lua_pop(L, 1);
    }
    if (!found)
        return 0;
    if (worst[0] != '"')
        return ag__task_fail(ld, "unknown field %.*s%s",
                             (int)strlen(prefix) - 1, prefix, worst);
    if (best)
        return ag__task_fail(ld,
                             "unknown field \"%s%s (did you mean \"%s%s\"?)",
                             prefix, worst + 1, prefix, best);
    return ag__task_fail(ld, "unknown field \"%s%s", prefix, worst + 1);
}

/* ---- typed fields ------------------------------------------------------- */

/* Pushes the raw value of the last component of name ("limits.steps" ->
 * "steps") from the table at absolute index tbl; returns its type. */
static int field(lua_State *L, int tbl, const char *name)
{
    const char *dot = strrchr(name, '.');

    lua_pushstring(L, dot ? dot + 1 : name);
    return lua_rawget(L, tbl);
}

enum { STR_NONEMPTY = 1, STR_SECRET = 2 };

/* The get_* helpers return 1 when the field was set, 0 when absent (*out
 * untouched) or AG_ETASK. They leave the stack as they found it. */
static int get_str(struct ag__task_loader *ld, int tbl, const char *name,
                   int flags, char **out)
{
    lua_State *L = ld->L;
    int type = field(L, tbl, name), rc = 1;
    int mode = (flags & STR_SECRET) ? SHOW_TYPE : SHOW_VALUE;
    const char *s;
    size_t n;

    if (type == LUA_TNIL) {
        rc = 0;
    } else if (type != LUA_TSTRING ||
               ((flags & STR_NONEMPTY) && lua_rawlen(L, -1) == 0)) {
        rc = bad(ld, -1, name,
                 (flags & STR_NONEMPTY) ? "must be a non-empty string"
                                        : "must be a string",
                 mode);
    } else {
        s = lua_tolstring(L, -1, &n);
        if (strlen(s) != n) {
            rc = ag__task_fail(ld, "%s must not contain a NUL byte", name);
        } else {
            free(*out);
            *out = ag_xstrdup(s);
        }
    }
    lua_pop(L, 1);
    return rc;
}

static int get_int(struct ag__task_loader *ld, int tbl, const char *name,
                   long min, long max, long *out)
{
    lua_State *L = ld->L;
    int type = field(L, tbl, name), isint = 0, rc = 1;
    lua_Integer v = 0;
    char problem[64];

    if (type == LUA_TNUMBER)
        v = lua_tointegerx(L, -1, &isint); /* 20.0 is 20; 2.5 is not */
    if (type == LUA_TNIL) {
        rc = 0;
    } else if (!isint || v < min) {
        rc = bad(ld, -1, name,
                 min > 0 ? "must be a positive integer"
                         : "must be a non-negative integer",
                 SHOW_VALUE);
    } else if (v > max) {
        snprintf(problem, sizeof problem, "must be at most %ld", max);
        rc = bad(ld, -1, name, problem, SHOW_VALUE);
    } else {
        *out = (long)v;
    }
    lua_pop(L, 1);
    return rc;
}

/* A finite number in [lo, hi] (or (lo, hi] when lo_open). */
static int get_num(struct ag__task_loader *ld, int tbl, const char *name,
                   double lo, int lo_open, double hi, const char *problem,
                   double *out)
{
    lua_State *L = ld->L;
    int type = field(L, tbl, name), rc = 1;
    double v = type == LUA_TNUMBER ? lua_tonumber(L, -1) : NAN;

    if (type == LUA_TNIL)
        rc = 0;
    else if (!isfinite(v) || (lo_open ? v <= lo : v < lo) || v > hi)
        rc = bad(ld, -1, name, problem, SHOW_VALUE);
    else
        *out = v;
    lua_pop(L, 1);
    return rc;
}

static int get_bool(struct ag__task_loader *ld, int tbl, const char *name,
                    int *out)
{
    lua_State *L = ld->L;
    int type = field(L, tbl, name), rc = 1;

    if (type == LUA_TNIL)
        rc = 0;
    else if (type != LUA_TBOOLEAN)
        rc = bad(ld, -1, name, "must be a boolean", SHOW_VALUE);
    else
        *out = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return rc;
}

/* Leaves the table on the stack and returns 1; 0 when absent (nothing
 * pushed); AG_ETASK otherwise (nothing pushed). */
static int get_table(struct ag__task_loader *ld, int tbl, const char *name)
{
    lua_State *L = ld->L;
    int type = field(L, tbl, name), rc;

    if (type == LUA_TTABLE)
        return 1;
    rc =
        type == LUA_TNIL ? 0 : bad(ld, -1, name, "must be a table", SHOW_VALUE);
    lua_pop(L, 1);
    return rc;
}

/* Checks that the table at tbl holds only the keys 1..#t, plus string keys
 * when named is set; the list length goes to *n. */
static int check_list(struct ag__task_loader *ld, int tbl, const char *name,
                      int named, lua_Integer *n)
{
    lua_State *L = ld->L;
    char buf[AG__TASK_SHOW_BUF];
    const char *key;

    *n = (lua_Integer)lua_rawlen(L, tbl);
    lua_pushnil(L);
    while (lua_next(L, tbl)) {
        int isint = 0;
        lua_Integer k = 0;

        if (lua_type(L, -2) == LUA_TNUMBER)
            k = lua_tointegerx(L, -2, &isint);
        if ((isint && k >= 1 && k <= *n) ||
            (named && lua_type(L, -2) == LUA_TSTRING)) {
            lua_pop(L, 1);
            continue;
        }
        key = show(L, -2, SHOW_VALUE, buf); /* copied out of Lua */
        lua_pop(L, 2);
        return ag__task_fail(
            ld, "%s must be a list%s (got key [%s])", name,
            named ? " of names and name = options entries" : "", key);
    }
    if (*n > TASK_MAX_LIST)
        return ag__task_fail(ld, "%s has more than %d entries", name,
                             TASK_MAX_LIST);
    return 0;
}

/* ---- tool names --------------------------------------------------------- */

static int is_name(const char *s)
{
    return *s && s[strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuv"
                             "wxyz0123456789_-")] == '\0';
}

/* The string at idx when it is a tool name ([A-Za-z0-9_-]+), else NULL. */
static const char *name_at(lua_State *L, int idx)
{
    const char *s;
    size_t n;

    if (lua_type(L, idx) != LUA_TSTRING)
        return NULL;
    s = lua_tolstring(L, idx, &n);
    return strlen(s) == n && is_name(s) ? s : NULL;
}

/* ---- the task table ----------------------------------------------------- */

/* model.timeouts = {connect, first_byte, idle} and model.retries =
 * {attempts, backoff, max_backoff, total}: seconds (attempts a count). */
static int parse_net(struct ag__task_loader *ld, int m)
{
    struct ag_task_net *n = &ld->t->net;
    static const char *const pos = "must be a positive number of seconds";
    lua_State *L = ld->L;
    long attempts = 0;
    int rc, tb;

    if ((rc = get_table(ld, m, "model.timeouts")) < 0)
        return rc;
    if (rc) {
        tb = lua_gettop(L);
        if ((rc = check_keys(ld, tb, "model.timeouts.", timeout_fields)) < 0 ||
            (rc = get_num(ld, tb, "model.timeouts.connect", 0, 1, 86400, pos,
                          &n->connect)) < 0 ||
            (rc = get_num(ld, tb, "model.timeouts.first_byte", 0, 1, 86400, pos,
                          &n->first_byte)) < 0 ||
            (rc = get_num(ld, tb, "model.timeouts.idle", 0, 1, 86400, pos,
                          &n->idle)) < 0)
            return rc;
        lua_pop(L, 1);
    }
    if ((rc = get_table(ld, m, "model.retries")) < 0)
        return rc;
    if (rc) {
        tb = lua_gettop(L);
        if ((rc = check_keys(ld, tb, "model.retries.", retry_fields)) < 0 ||
            (rc = get_int(ld, tb, "model.retries.attempts", 1, 100,
                          &attempts)) < 0 ||
            (rc = get_num(ld, tb, "model.retries.backoff", 0, 1, 3600, pos,
                          &n->backoff)) < 0 ||
            (rc = get_num(ld, tb, "model.retries.max_backoff", 0, 1, 3600, pos,
                          &n->max_backoff)) < 0 ||
            (rc = get_num(ld, tb, "model.retries.total", 0, 1, 86400, pos,
                          &n->total)) < 0)
            return rc;
        n->attempts = attempts;
        lua_pop(L, 1);
    }
    return 0;
}

static int parse_model_table(struct ag__task_loader *ld, int m)
{
    struct ag_task *t = ld->t;
    lua_State *L = ld->L;
    char *file = NULL;
    long v = 0;
    int rc, p;

    if ((rc = check_keys(ld, m, "model.", model_fields)) < 0)
        return rc;
    if (field(L, m, "model.provider") == LUA_TNIL)
        return ag__task_fail(ld, "model.provider is required");
    if (lua_type(L, -1) != LUA_TSTRING ||
        !ag__task_is_provider(lua_tostring(L, -1)))
        return bad(ld, -1, "model.provider",
                   "must be one of " AG__TASK_PROVIDER_LIST, SHOW_VALUE);
    t->provider = ag_xstrdup(lua_tostring(L, -1));
    lua_pop(L, 1);

    if (strcmp(t->provider, "script") == 0) {
        if (field(L, m, "model.name") != LUA_TNIL)
            return bad(ld, -1, "model.name", "is not used by provider script",
                       SHOW_VALUE);
        lua_pop(L, 1);
        if ((rc = get_str(ld, m, "model.file", STR_NONEMPTY, &file)) <= 0)
            return rc < 0 ? rc
                          : ag__task_fail(ld,
                                          "model.file is required for provider "
                                          "script");
        t->script = ag__task_join_path(t->dir, file);
        free(file);
    } else {
        if (field(L, m, "model.file") != LUA_TNIL)
            return bad(ld, -1, "model.file", "is only used by provider script",
                       SHOW_VALUE);
        lua_pop(L, 1);
        if ((rc = get_str(ld, m, "model.name", STR_NONEMPTY, &t->model)) <= 0)
            return rc < 0
                       ? rc
                       : ag__task_fail(ld,
                                       "model.name is required for provider %s",
                                       t->provider);
    }

    if ((rc = get_str(ld, m, "model.base_url", 0, &t->base_url)) < 0)
        return rc;
    if (rc && strncmp(t->base_url, "http://", 7) != 0 &&
        strncmp(t->base_url, "https://", 8) != 0) {
        field(L, m, "model.base_url");
        return bad(ld, -1, "model.base_url",
                   "must start with http:// or https://", SHOW_VALUE);
    }
    if ((rc = get_str(ld, m, "model.api_key", STR_SECRET, &t->api_key)) < 0 ||
        (rc = get_bool(ld, m, "model.stream", &t->stream)) < 0 ||
        (rc = get_int(ld, m, "model.max_tokens", 1, INT_MAX, &v)) < 0 ||
        (rc = get_num(ld, m, "model.temperature", 0, 0, 2,
                      "must be a number from 0 to 2", &t->temperature)) < 0 ||
        (rc = get_int(ld, m, "model.context", 1, LONG_MAX, &t->context)) < 0)
        return rc;
    t->max_tokens = (int)v;
    if ((rc = parse_net(ld, m)) < 0)
        return rc;

    if ((rc = get_table(ld, m, "model.price")) <= 0)
        return rc;
    p = lua_gettop(L);
    if ((rc = check_keys(ld, p, "model.price.", price_fields)) < 0)
        return rc;
    if ((rc = get_num(ld, p, "model.price.input", 0, 0, HUGE_VAL,
                      "must be a non-negative number", &t->price_in)) <= 0)
        return rc < 0 ? rc : ag__task_fail(ld, "model.price.input is required");
    if ((rc = get_num(ld, p, "model.price.output", 0, 0, HUGE_VAL,
                      "must be a non-negative number", &t->price_out)) <= 0)
        return rc < 0 ? rc
                      : ag__task_fail(ld, "model.price.output is required");
    lua_pop(L, 1);
    return 0;
}

static int parse_model(struct ag__task_loader *ld, int top)
{
    struct ag_task *t = ld->t;
    lua_State *L = ld->L;
    const char *env;
    char msg[512];
    int type = field(L, top, "model"), rc = 0;

    if (type == LUA_TNIL) {
        env = getenv("AGENT_MODEL");
        t->provider = ag_xstrdup("openai");
        t->model = ag_xstrdup(env && *env ? env : DEFAULT_MODEL);
    } else if (type == LUA_TSTRING) {
        if (ag__task_parse_spec(lua_tostring(L, -1), t->dir, &t->provider,
                                &t->model, &t->script, msg, sizeof msg) < 0)
            rc = ag__task_fail(ld, "model %s", msg);
    } else if (type == LUA_TTABLE) {
        rc = parse_model_table(ld, lua_gettop(L));
    } else {
        rc = bad(ld, -1, "model",
                 "must be a table or a \"provider:name\" string", SHOW_VALUE);
    }
    lua_pop(L, 1);
    return rc;
}

static int cmp_tool(const void *a, const void *b)
{
    return strcmp(((const struct ag_task_tool *)a)->name,
                  ((const struct ag_task_tool *)b)->name);
}

/* Converts the options of the named tools (t->tools[from..]) to JSON. */
static int tool_options(struct ag__task_loader *ld, int tl, int from)
{
    struct ag_task *t = ld->t;
    lua_State *L = ld->L;
    char field_name[128], msg[512];
    int i, rc;

    for (i = from; i < t->ntools; i++) {
        snprintf(field_name, sizeof field_name, "tools.%s", t->tools[i].name);
        lua_pushstring(L, t->tools[i].name);
        if (lua_rawget(L, tl) != LUA_TTABLE)
            return bad(ld, -1, field_name, "must be a table of options",
                       SHOW_VALUE);
        rc = ag_json_from_lua(L, -1, &t->tools[i].opts, msg, sizeof msg);
        if (rc < 0 && strncmp(msg, "value: ", 7) == 0) /* the table itself */
            return ag__task_fail(ld, "%s: %s", field_name, msg + 7);
        if (rc < 0)
            return ag__task_fail(ld, "%s%s%s", field_name,
                                 msg[0] == '[' ? "" : ".", msg);
        if (!cJSON_IsObject(t->tools[i].opts))
            return bad(ld, -1, field_name,
                       "must be a table of name = value options", SHOW_VALUE);
        lua_pop(L, 1);
    }
    return 0;
}

static int parse_tools(struct ag__task_loader *ld, int top)
{
    struct ag_task *t = ld->t;
    lua_State *L = ld->L;
    char name[32];
    lua_Integer n, k;
    int rc, tl, nlist, i, j, cap;

    if ((rc = get_table(ld, top, "tools")) <= 0)
        return rc;
    tl = lua_gettop(L);
    if ((rc = check_list(ld, tl, "tools", 1, &n)) < 0)
        return rc;
    cap = (int)n + 8;
    t->tools = ag_xcalloc((size_t)cap, sizeof *t->tools);
    for (k = 1; k <= n; k++) {
        snprintf(name, sizeof name, "tools[%lld]", (long long)k);
        lua_rawgeti(L, tl, k);
        if (!name_at(L, -1))
            return bad(ld, -1, name, "must be a tool name", SHOW_VALUE);
        t->tools[t->ntools++].name = ag_xstrdup(lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    nlist = t->ntools;

    lua_pushnil(L);
    while (lua_next(L, tl)) {
        if (lua_type(L, -2) == LUA_TSTRING) {
            if (!name_at(L, -2))
                return bad(ld, -2, "tools", "has a key that is not a tool name",
                           SHOW_VALUE);
            if (t->ntools == TASK_MAX_LIST)
                return ag__task_fail(ld, "tools has more than %d entries",
                                     TASK_MAX_LIST);
            if (t->ntools == cap) {
                cap *= 2;
                t->tools =
                    ag_xrealloc(t->tools, (size_t)cap * sizeof *t->tools);
            }
            t->tools[t->ntools].name = ag_xstrdup(lua_tostring(L, -2));
            t->tools[t->ntools++].opts = NULL;
        }
        lua_pop(L, 1);
    }
    qsort(t->tools + nlist, (size_t)(t->ntools - nlist), sizeof *t->tools,
          cmp_tool);
    if ((rc = tool_options(ld, tl, nlist)) < 0)
        return rc;

    for (j = 1; j < t->ntools; j++)
        for (i = 0; i < j; i++)
            if (strcmp(t->tools[i].name, t->tools[j].name) == 0)
                return ag__task_fail(ld, "tools lists \"%s\" twice",
                                     t->tools[j].name);
    lua_pop(L, 1);
    return 0;
}

static int has_tool(const struct ag_task *t, const char *name, size_t n)
{
    int i;

    for (i = 0; i < t->ntools; i++)
        if (strlen(t->tools[i].name) == n &&
            strncmp(t->tools[i].name, name, n) == 0)
            return 1;
    return 0;
}

/* approve: "tool" or "tool.function", naming a tool the task lists (a typo
 * here would otherwise let the function run without asking). */
static int check_approve(struct ag__task_loader *ld, int idx, const char *name)
{
    const char *s = NULL, *dot;
    char tool[AG__TASK_SHOW_BUF];
    size_t n;

    if (lua_type(ld->L, idx) == LUA_TSTRING &&
        strlen(lua_tostring(ld->L, idx)) == lua_rawlen(ld->L, idx))
        s = lua_tostring(ld->L, idx);
    dot = s ? strchr(s, '.') : NULL;
    n = s ? (dot ? (size_t)(dot - s) : strlen(s)) : 0;
    if (!s || n == 0 || n >= sizeof tool || (dot && !is_name(dot + 1)))
        return bad(ld, idx, name, "must be \"tool\" or \"tool.function\"",
                   SHOW_VALUE);
    memcpy(tool, s, n);
    tool[n] = '\0';
    if (!is_name(tool))
        return bad(ld, idx, name, "must be \"tool\" or \"tool.function\"",
                   SHOW_VALUE);
    if (!has_tool(ld->t, s, n))
        return ag__task_fail(ld, "%s names tool \"%s\", which is not in tools",
                             name, tool);
    return 0;
}

/* approve and secrets: lists of strings. */
static int parse_strlist(struct ag__task_loader *ld, int top, const char *name,
                         char ***out, int *count)
{
    lua_State *L = ld->L;
    char item[64];
    lua_Integer n, i;
    int rc, tl;

    if ((rc = get_table(ld, top, name)) <= 0)
        return rc;
    tl = lua_gettop(L);
    if ((rc = check_list(ld, tl, name, 0, &n)) < 0)
        return rc;
    *out = ag_xcalloc((size_t)n + 1, sizeof **out);
    for (i = 1; i <= n; i++) {
        snprintf(item, sizeof item, "%s[%lld]", name, (long long)i);
        lua_rawgeti(L, tl, i);
        if (strncmp(name, "approve", 7) == 0)
            rc = check_approve(ld, -1, item);
        else if (lua_type(L, -1) != LUA_TSTRING || lua_rawlen(L, -1) == 0 ||
                 strlen(lua_tostring(L, -1)) != lua_rawlen(L, -1))
            rc = bad(ld, -1, item, "must be a non-empty string",
                     lua_type(L, -1) == LUA_TSTRING && lua_rawlen(L, -1) == 0
                         ? SHOW_VALUE  /* "" is safe to show */
                         : SHOW_TYPE); /* anything else may be the secret */
        if (rc < 0)
            return rc;
        (*out)[(*count)++] = ag_xstrdup(lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return 0;
}

static int parse_limits(struct ag__task_loader *ld, int top)
{
    struct ag_task_limits *lim = &ld->t->limits;
    int rc, l;

    if ((rc = get_table(ld, top, "limits")) <= 0)
        return rc;
    l = lua_gettop(ld->L);
    if ((rc = check_keys(ld, l, "limits.", limit_fields)) < 0 ||
        (rc = get_int(ld, l, "limits.steps", 1, LONG_MAX, &lim->steps)) < 0 ||
        (rc = get_int(ld, l, "limits.tokens", 0, LONG_MAX, &lim->tokens)) < 0 ||
        (rc = get_num(ld, l, "limits.seconds", 0, 1, HUGE_VAL,
                      "must be a positive number", &lim->seconds)) < 0 ||
        (rc = get_num(ld, l, "limits.cost", 0, 0, HUGE_VAL,
                      "must be a non-negative number", &lim->cost)) < 0 ||
        (rc = get_int(ld, l, "limits.repeat_calls", 0, LONG_MAX,
                      &lim->repeat_calls)) < 0)
        return rc;
    lua_pop(ld->L, 1);
    return 0;
}

/* audit = { file = "run.jsonl", content = "full", fsync = "step" } */
static int parse_audit(struct ag__task_loader *ld, int top)
{
    struct ag_task *t = ld->t;
    struct ag_audit_cfg cfg;
    char *file = NULL;
    int rc, a;

    if ((rc = get_table(ld, top, "audit")) <= 0)
        return rc;
    a = lua_gettop(ld->L);
    if ((rc = check_keys(ld, a, "audit.", audit_fields)) < 0 ||
        (rc = get_str(ld, a, "audit.file", STR_NONEMPTY, &file)) < 0 ||
        (rc = get_str(ld, a, "audit.content", 0, &t->audit_content)) < 0 ||
        (rc = get_str(ld, a, "audit.fsync", 0, &t->audit_fsync)) < 0) {
        free(file);
        return rc;
    }
    if (file) {
        t->audit_file = ag__task_join_path(t->dir, file);
        free(file);
    }
    if (t->audit_content && ag_audit_parse_content(t->audit_content, &cfg) < 0)
        return ag__task_fail(ld,
                             "audit.content must be \"full\", \"hash\" or "
                             "\"truncate:N\" (got \"%s\")",
                             t->audit_content);
    if (t->audit_fsync && ag_audit_parse_fsync(t->audit_fsync, &cfg) < 0)
        return ag__task_fail(ld,
                             "audit.fsync must be \"step\", \"always\" or "
                             "\"never\" (got \"%s\")",
                             t->audit_fsync);
    lua_pop(ld->L, 1);
    return 0;
}

/* Walks the value the file returned (argument 2; argument 1 is the loader).
 * Runs under lua_pcall; the outcome goes to ld->rc. */
int ag__task_check_table(lua_State *L)
{
    struct ag__task_loader *ld = lua_touserdata(L, 1);
    struct ag_task *t = ld->t;
    int rc;

    if (!lua_istable(L, 2)) {
        char buf[AG__TASK_SHOW_BUF];

        ld->rc = ag__task_fail(ld, "must return a table (got %s)",
                               show(L, 2, SHOW_VALUE, buf));
        return 0;
    }
    if ((rc = check_keys(ld, 2, "", top_fields)) < 0 ||
        (rc = get_str(ld, 2, "name", STR_NONEMPTY, &t->name)) < 0 ||
        (rc = get_str(ld, 2, "goal", STR_NONEMPTY, &t->goal)) < 0)
        goto out;
    if (rc == 0) {
        rc = ag__task_fail(ld, "goal is required");
        goto out;
    }
    if ((rc = get_str(ld, 2, "system", 0, &t->system)) < 0 ||
        (rc = parse_model(ld, 2)) < 0 || (rc = parse_tools(ld, 2)) < 0 ||
        (rc = parse_limits(ld, 2)) < 0 ||
        (rc = parse_strlist(ld, 2, "approve", &t->approve, &t->napprove)) < 0 ||
        (rc = parse_strlist(ld, 2, "approve_tainted", &t->approve_tainted,
                            &t->napprove_tainted)) < 0 ||
        (rc = parse_strlist(ld, 2, "secrets", &t->secrets, &t->nsecrets)) < 0 ||
        (rc = parse_audit(ld, 2)) < 0)
        goto out;
    rc = 0;
out:
    ld->rc = rc;
    return 0;
}
