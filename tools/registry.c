/*
 * registry.c: finding tool files, reading their descriptors and building
 * the model's tool list (see registry.h). A descriptor is read in the same
 * restricted Lua state tools run in, with an instruction and memory cap, so
 * a tool file's top level cannot reach files, processes or the network of
 * the agent process either.
 */
#include "registry.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>

#include "audit.h"
#include "json.h"
#include "sandbox.h"
#include "schema.h"

#define DEFAULT_TIMEOUT      10.0
#define DEFAULT_MEMORY       (64u << 20)
#define DEFAULT_INSTRUCTIONS 200000000L
#define DEFAULT_OUTPUT       (1u << 20)

/* Lua cannot tell an empty list from an empty map; in a schema these keys
 * always hold lists. */
static void fix_empty_lists(cJSON *schema, int depth)
{
    static const char *const lists[] = {"required", "enum", "type"};
    cJSON *c;

    if (!cJSON_IsObject(schema) || depth > 32)
        return;
    for (size_t i = 0; i < AG_ARRAY_SIZE(lists); i++) {
        c = cJSON_GetObjectItemCaseSensitive(schema, lists[i]);
        if (cJSON_IsObject(c) && !c->child)
            cJSON_ReplaceItemInObjectCaseSensitive(schema, lists[i],
                                                   cJSON_CreateArray());
    }
    c = cJSON_GetObjectItemCaseSensitive(schema, "properties");
    if (cJSON_IsObject(c))
        for (cJSON *p = c->child; p; p = p->next)
            fix_empty_lists(p, depth + 1);
    fix_empty_lists(cJSON_GetObjectItemCaseSensitive(schema, "items"),
                    depth + 1);
    fix_empty_lists(
        cJSON_GetObjectItemCaseSensitive(schema, "additionalProperties"),
        depth + 1);
}

static double num_field(lua_State *L, int idx, const char *key, double def,
                        int *bad)
{
    double v = def;

    lua_getfield(L, idx, key);
    if (lua_isnumber(L, -1)) {
        v = lua_tonumber(L, -1);
        if (v <= 0)
            *bad = 1;
    } else if (!lua_isnil(L, -1)) {
        *bad = 1;
    }
    lua_pop(L, 1);
    return v;
}

/* Reads policy = {timeout, memory, instructions, output} at idx. */
static int read_policy(lua_State *L, int idx, struct ag_tool_policy *p,
                       const char *where, char *err, size_t errlen)
{
    int bad = 0;

    p->timeout = DEFAULT_TIMEOUT;
    p->memory = DEFAULT_MEMORY;
    p->instructions = DEFAULT_INSTRUCTIONS;
    p->max_output = DEFAULT_OUTPUT;
    p->fresh = 0;
    lua_getfield(L, idx, "policy");
    if (lua_istable(L, -1)) {
        int t = lua_gettop(L);
        p->timeout = num_field(L, t, "timeout", p->timeout, &bad);
        p->memory = (size_t)num_field(L, t, "memory", (double)p->memory, &bad);
        p->instructions = (long)num_field(L, t, "instructions",
                                          (double)p->instructions, &bad);
        p->max_output =
            (size_t)num_field(L, t, "output", (double)p->max_output, &bad);
        lua_getfield(L, t, "isolation");
        if (lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), "process") == 0)
            p->fresh = 1;
        else if (!lua_isnil(L, -1) &&
                 !(lua_isstring(L, -1) &&
                   strcmp(lua_tostring(L, -1), "state") == 0))
            bad = 2;
        lua_pop(L, 1);
    } else if (!lua_isnil(L, -1)) {
        bad = 1;
    }
    lua_pop(L, 1);
    if (bad == 2) {
        snprintf(err, errlen,
                 "%s: policy.isolation must be \"state\" (a fresh Lua state "
                 "per call, the default) or \"process\" (a fresh worker)",
                 where);
        return AG_ETASK;
    }
    if (bad) {
        snprintf(err, errlen,
                 "%s: policy must be a table of positive numbers (timeout, "
                 "memory, instructions, output)",
                 where);
        return AG_ETASK;
    }
    return 0;
}

/* The task may narrow a policy, never widen it. */
static void narrow(struct ag_tool_policy *p, const cJSON *opts)
{
    double v;

    if ((v = ag_json_num(opts, "timeout", 0)) > 0 && v < p->timeout)
        p->timeout = v;
    if ((v = ag_json_num(opts, "memory", 0)) > 0 && v < (double)p->memory)
        p->memory = (size_t)v;
    if (ag_json_str(opts, "isolation") &&
        strcmp(ag_json_str(opts, "isolation"), "process") == 0)
        p->fresh = 1; /* the task may ask for more isolation, never less */
    if ((v = ag_json_num(opts, "output", 0)) > 0 && v < (double)p->max_output)
        p->max_output = (size_t)v;
}

/* Reads one callable (the table at the top of the stack) into t. */
static int read_callable(lua_State *L, struct ag_tool *t, const char *where,
                         char *err, size_t errlen)
{
    char jerr[300], serr[300];
    int top = lua_gettop(L);

    lua_getfield(L, top, "description");
    if (!lua_isstring(L, -1) || !*lua_tostring(L, -1)) {
        snprintf(err, errlen, "%s: description must be a non-empty string",
                 where);
        return AG_ETASK;
    }
    t->description = ag_xstrdup(lua_tostring(L, -1));
    lua_pop(L, 1);
    if (lua_getfield(L, top, "run") != LUA_TFUNCTION) {
        snprintf(err, errlen, "%s: run must be a function", where);
        return AG_ETASK;
    }
    lua_pop(L, 1);
    lua_getfield(L, top, "parameters");
    if (lua_isnil(L, -1)) {
        t->parameters = cJSON_Parse("{\"type\":\"object\",\"properties\":{}}");
    } else if (!lua_istable(L, -1)) {
        snprintf(err, errlen, "%s: parameters must be a table (a JSON schema)",
                 where);
        return AG_ETASK;
    } else if (ag_json_from_lua(L, -1, &t->parameters, jerr, sizeof jerr) < 0) {
        snprintf(err, errlen, "%s: parameters: %s", where, jerr);
        return AG_ETASK;
    }
    lua_pop(L, 1);
    fix_empty_lists(t->parameters, 0);
    if (ag_schema_check(t->parameters, serr, sizeof serr) < 0) {
        snprintf(err, errlen, "%s: parameters: %s", where, serr);
        return AG_ETASK;
    }
    if (!cJSON_IsObject(t->parameters) ||
        !cJSON_IsString(
            cJSON_GetObjectItemCaseSensitive(t->parameters, "type")) ||
        strcmp(ag_json_str(t->parameters, "type"), "object") != 0) {
        snprintf(err, errlen, "%s: parameters must have type \"object\"",
                 where);
        return AG_ETASK;
    }
    t->schema_text = cJSON_PrintUnformatted(t->parameters);
    return 0;
}

static int valid_name(const char *s)
{
    if (!*s || strlen(s) > 64)
        return 0;
    for (; *s; s++)
        if (!(*s >= 'a' && *s <= 'z') && !(*s >= 'A' && *s <= 'Z') &&
            !(*s >= '0' && *s <= '9') && *s != '_' && *s != '-')
            return 0;
    return 1;
}

static struct ag_tool *add_tool(struct ag_registry *r)
{
    r->tools =
        ag_xrealloc(r->tools, sizeof *r->tools * (size_t)(r->ntools + 1));
    memset(&r->tools[r->ntools], 0, sizeof r->tools[0]);
    return &r->tools[r->ntools++];
}

/* Reads the descriptor's policy table as JSON and checks the network
 * part of it, narrowed by the task's options, once for the whole file. */
static int net_policy(lua_State *L, int idx, const char *family,
                      const cJSON *opts, cJSON **out, char *err, size_t errlen)
{
    struct ag_tool_net probe;
    char jerr[300], perr[400];
    int rc;

    *out = NULL;
    lua_getfield(L, idx, "policy");
    if (lua_istable(L, -1) &&
        ag_json_from_lua(L, -1, out, jerr, sizeof jerr) < 0) {
        snprintf(err, errlen, "tool %s: policy: %s", family, jerr);
        lua_pop(L, 1);
        return AG_ETASK;
    }
    lua_pop(L, 1);
    rc = ag_broker_policy(*out, opts, &probe, perr, sizeof perr);
    ag_broker_policy_free(&probe);
    if (rc < 0)
        snprintf(err, errlen, "tool %s: %s", family, perr);
    return rc;
}

static int load_file(struct ag_registry *r, const char *family,
                     const char *path, const cJSON *opts, char *err,
                     size_t errlen)
{
    cJSON *policy_json = NULL;
    struct ag_lua_limits lim = {64u << 20, 50000000L};
    struct ag_lua_alloc alloc = {0};
    struct ag_tool_policy pol;
    char where[600];
    lua_State *L;
    char *src;
    size_t n;
    int rc;

    if ((rc = ag_read_file(path, 4u << 20, &src, &n)) < 0) {
        snprintf(err, errlen, "%s: cannot read: %s", path, ag_strerror(rc));
        return rc;
    }
    if (!(L = ag_lua_sandbox_new(&lim, &alloc))) {
        free(src);
        return -ENOMEM;
    }
    lua_pushfstring(L, "@%s", path);
    rc = luaL_loadbufferx(L, src, n, lua_tostring(L, -1), "t");
    if (rc == LUA_OK)
        rc = lua_pcall(L, 0, 1, 0);
    if (rc != LUA_OK) {
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
        goto fail;
    }
    if (!lua_istable(L, -1)) {
        snprintf(err, errlen, "%s: a tool file must return a table", path);
        goto fail;
    }
    if (read_policy(L, lua_gettop(L), &pol, path, err, errlen) < 0)
        goto fail;
    narrow(&pol, opts);
    if (net_policy(L, lua_gettop(L), family, opts, &policy_json, err, errlen) <
        0)
        goto fail;
    lua_getfield(L, -1, "functions");
    if (lua_istable(L, -1)) {
        /* a family: one tool per function, in name order for a stable list */
        int ft = lua_gettop(L);
        cJSON *names = cJSON_CreateArray();
        lua_pushnil(L);
        while (lua_next(L, ft)) {
            lua_pop(L, 1);
            if (lua_type(L, -1) == LUA_TSTRING)
                cJSON_AddItemToArray(names,
                                     cJSON_CreateString(lua_tostring(L, -1)));
        }
        /* insertion sort of a short list */
        for (cJSON *a = names->child; a; a = a->next)
            for (cJSON *b = a->next; b; b = b->next)
                if (strcmp(a->valuestring, b->valuestring) > 0) {
                    char *tmp = a->valuestring;
                    a->valuestring = b->valuestring;
                    b->valuestring = tmp;
                }
        for (cJSON *fnv = names->child; fnv; fnv = fnv->next) {
            struct ag_tool *t;
            const char *fn = fnv->valuestring;
            snprintf(where, sizeof where, "%s: functions.%s", path, fn);
            if (!valid_name(fn)) {
                snprintf(err, errlen, "%s: not a valid tool name", where);
                cJSON_Delete(names);
                goto fail;
            }
            lua_getfield(L, ft, fn);
            if (!lua_istable(L, -1)) {
                snprintf(err, errlen, "%s: must be a table", where);
                cJSON_Delete(names);
                goto fail;
            }
            t = add_tool(r);
            t->family = ag_xstrdup(family);
            t->fn = ag_xstrdup(fn);
            t->name = ag_xstrdup(fn);
            t->qualname = ag_xasprintf("%s.%s", family, fn);
            t->path = ag_xstrdup(path);
            ag_sha256_hex(src, n, t->sha256);
            t->policy = pol;
            t->opts = opts ? cJSON_Duplicate(opts, 1) : NULL;
            ag_broker_policy(policy_json, opts, &t->net, err, errlen);
            if (read_callable(L, t, where, err, errlen) < 0) {
                cJSON_Delete(names);
                goto fail;
            }
            lua_pop(L, 1);
        }
        cJSON_Delete(names);
    } else {
        struct ag_tool *t = add_tool(r);
        lua_pop(L, 1);
        lua_getfield(L, -1, "name");
        if (lua_isstring(L, -1) && strcmp(lua_tostring(L, -1), family) != 0) {
            snprintf(err, errlen,
                     "%s: name is \"%s\" but the file is named for \"%s\"",
                     path, lua_tostring(L, -1), family);
            goto fail;
        }
        lua_pop(L, 1);
        t->family = ag_xstrdup(family);
        t->name = ag_xstrdup(family);
        t->qualname = ag_xstrdup(family);
        t->path = ag_xstrdup(path);
        ag_sha256_hex(src, n, t->sha256);
        t->policy = pol;
        t->opts = opts ? cJSON_Duplicate(opts, 1) : NULL;
        ag_broker_policy(policy_json, opts, &t->net, err, errlen);
        if (read_callable(L, t, path, err, errlen) < 0)
            goto fail;
    }
    cJSON_AddItemToObject(r->sources, family, cJSON_CreateString(src));
    cJSON_Delete(policy_json);
    free(src);
    lua_close(L);
    return 0;
fail:
    cJSON_Delete(policy_json);
    free(src);
    lua_close(L);
    return AG_ETASK;
}

int ag_registry_load(const char *const *dirs, int ndirs,
                     const struct ag_task_tool *want, int nwant,
                     struct ag_registry **out, char *err, size_t errlen)
{
    struct ag_registry *r = ag_xcalloc(1, sizeof *r);
    int rc = 0;

    *out = NULL;
    r->sources = cJSON_CreateObject();
    for (int i = 0; i < nwant && rc == 0; i++) {
        char *path = NULL;
        for (int d = 0; d < ndirs && !path; d++) {
            char *p = ag_xasprintf("%s/%s.lua", dirs[d], want[i].name);
            if (access(p, R_OK) == 0)
                path = p;
            else
                free(p);
        }
        if (!path) {
            struct ag_buf b;
            ag_buf_init(&b, 2048);
            for (int d = 0; d < ndirs; d++)
                ag_buf_printf(&b, "%s%s", d ? ", " : "", dirs[d]);
            snprintf(err, errlen, "tool \"%s\" not found (looked in %s)",
                     want[i].name, ndirs ? ag_buf_cstr(&b) : "nowhere");
            ag_buf_free(&b);
            rc = AG_ENOTFOUND;
            break;
        }
        rc = load_file(r, want[i].name, path, want[i].opts, err, errlen);
        free(path);
    }
    /* model-facing names must be unique */
    for (int i = 0; i < r->ntools && rc == 0; i++)
        for (int k = i + 1; k < r->ntools; k++)
            if (strcmp(r->tools[i].name, r->tools[k].name) == 0) {
                snprintf(err, errlen, "two tools are called \"%s\" (%s and %s)",
                         r->tools[i].name, r->tools[i].qualname,
                         r->tools[k].qualname);
                rc = AG_ETASK;
                break;
            }
    if (rc < 0) {
        ag_registry_free(r);
        return rc;
    }
    r->defs = ag_xcalloc((size_t)(r->ntools ? r->ntools : 1), sizeof *r->defs);
    for (int i = 0; i < r->ntools; i++) {
        r->defs[i].name = r->tools[i].name;
        r->defs[i].description = r->tools[i].description;
        r->defs[i].parameters = r->tools[i].parameters;
    }
    *out = r;
    return 0;
}

const struct ag_tool *ag_registry_find(const struct ag_registry *r,
                                       const char *name)
{
    for (int i = 0; i < r->ntools; i++)
        if (strcmp(r->tools[i].name, name) == 0)
            return &r->tools[i];
    return NULL;
}

void ag_registry_free(struct ag_registry *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->ntools; i++) {
        struct ag_tool *t = &r->tools[i];
        free(t->name);
        free(t->qualname);
        free(t->family);
        free(t->fn);
        free(t->description);
        cJSON_Delete(t->parameters);
        free(t->schema_text);
        free(t->path);
        cJSON_Delete(t->opts);
        ag_broker_policy_free(&t->net);
    }
    free(r->tools);
    free(r->defs);
    cJSON_Delete(r->sources);
    free(r);
}
