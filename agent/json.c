/*
 * json.c: JSON values between cJSON and Lua, the "json" module that tools
 * and scripted models use, and canonical JSON text for hashing. The rules for
 * telling arrays from objects are in json.h.
 */
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>

#define MAX_DEPTH 64

/* Registry key of the metatable that marks a table as a JSON array. */
static const char ARRAY_MT[] = "agent.json.array";

static void push_array_mt(lua_State *L)
{
    if (luaL_newmetatable(L, ARRAY_MT)) {
        lua_pushstring(L, "array");
        lua_setfield(L, -2, "__jsontype");
    }
}

static void push_value(lua_State *L, const cJSON *v, int depth)
{
    const cJSON *c;
    lua_Integer i = 1;

    if (depth > MAX_DEPTH) {
        lua_pushnil(L);
        return;
    }
    luaL_checkstack(L, 4, "json nesting");
    if (!v || cJSON_IsNull(v)) {
        lua_pushlightuserdata(L, NULL);
    } else if (cJSON_IsBool(v)) {
        lua_pushboolean(L, cJSON_IsTrue(v));
    } else if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == floor(d) && fabs(d) < 9007199254740992.0)
            lua_pushinteger(L, (lua_Integer)d);
        else
            lua_pushnumber(L, d);
    } else if (cJSON_IsString(v)) {
        lua_pushstring(L, v->valuestring);
    } else if (cJSON_IsArray(v)) {
        lua_createtable(L, cJSON_GetArraySize(v), 0);
        cJSON_ArrayForEach(c, v)
        {
            push_value(L, c, depth + 1);
            lua_rawseti(L, -2, i++);
        }
        push_array_mt(L);
        lua_setmetatable(L, -2);
    } else if (cJSON_IsObject(v)) {
        lua_createtable(L, 0, 4);
        cJSON_ArrayForEach(c, v)
        {
            push_value(L, c, depth + 1);
            lua_setfield(L, -2, c->string);
        }
    } else {
        lua_pushnil(L);
    }
}

void ag_json_push(lua_State *L, const cJSON *v)
{
    if (!v) {
        lua_pushnil(L);
        return;
    }
    push_value(L, v, 0);
}

/* ---- Lua to JSON ------------------------------------------------------- */

struct conv {
    lua_State *L;
    char *err;
    size_t errlen;
    char path[256];
};

static int fail(struct conv *c, const char *what)
{
    if (c->errlen)
        snprintf(c->err, c->errlen, "%s: %s", c->path[0] ? c->path : "value",
                 what);
    return AG_EPARSE;
}

/* Appends a path element; returns the old length to restore later. */
static size_t path_push_key(struct conv *c, const char *key)
{
    size_t n = strlen(c->path);
    snprintf(c->path + n, sizeof c->path - n, "%s%s", n ? "." : "", key);
    return n;
}

static size_t path_push_index(struct conv *c, lua_Integer i)
{
    size_t n = strlen(c->path);
    snprintf(c->path + n, sizeof c->path - n, "[%lld]", (long long)i);
    return n;
}

static int is_marked_array(lua_State *L, int idx)
{
    int r = 0;

    if (lua_getmetatable(L, idx)) {
        luaL_getmetatable(L, ARRAY_MT);
        r = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
    }
    return r;
}

/* Returns n > 0 when the table's keys are exactly 1..n, 0 when empty,
 * -1 otherwise. */
static lua_Integer array_length(lua_State *L, int idx)
{
    lua_Integer n = 0, max = 0;

    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) == LUA_TNUMBER && lua_isinteger(L, -1)) {
            lua_Integer k = lua_tointeger(L, -1);
            if (k < 1) {
                lua_pop(L, 1);
                return -1;
            }
            if (k > max)
                max = k;
            n++;
        } else {
            lua_pop(L, 1);
            return -1;
        }
    }
    return n == max ? n : -1;
}

static int conv_value(struct conv *c, int idx, int depth, cJSON **out);
static int conv_object(struct conv *c, int idx, int depth, cJSON **out);

static int conv_table(struct conv *c, int idx, int depth, cJSON **out)
{
    lua_State *L = c->L;
    lua_Integer n = array_length(L, idx);
    int marked = is_marked_array(L, idx);
    cJSON *t;
    int rc;

    if (marked && n < 0)
        return fail(c, "array has non-integer keys");
    if (marked || n > 0) {
        if (!(t = cJSON_CreateArray()))
            return -ENOMEM;
        for (lua_Integer i = 1; i <= n; i++) {
            size_t mark = path_push_index(c, i);
            cJSON *item;
            lua_rawgeti(L, idx, i);
            rc = conv_value(c, lua_gettop(L), depth + 1, &item);
            lua_pop(L, 1);
            if (rc < 0) {
                cJSON_Delete(t);
                return rc;
            }
            c->path[mark] = '\0';
            cJSON_AddItemToArray(t, item);
        }
        *out = t;
        return 0;
    }
    return conv_object(c, idx, depth, out);
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Objects are built with their keys sorted, so that encoding a Lua table
 * gives the same text on every run (Lua's table order is not stable). */
static int conv_object(struct conv *c, int idx, int depth, cJSON **out)
{
    lua_State *L = c->L;
    const char *small[16], **keys = small;
    size_t n = 0, cap = AG_ARRAY_SIZE(small), i;
    cJSON *t;
    int rc = 0;

    lua_pushnil(L);
    while (lua_next(L, idx)) {
        lua_pop(L, 1);
        if (lua_type(L, -1) != LUA_TSTRING) {
            lua_pop(L, 1);
            rc = fail(c, "mixed array and object keys");
            goto out;
        }
        if (n == cap) {
            const char **k = keys == small ? NULL : keys;
            cap *= 2;
            if (!(k = realloc(k, cap * sizeof *k))) {
                lua_pop(L, 1);
                rc = -ENOMEM;
                goto out;
            }
            if (keys == small)
                memcpy(k, small, sizeof small);
            keys = k;
        }
        /* the table keeps the key string alive while we use it */
        keys[n++] = lua_tostring(L, -1);
    }
    qsort(keys, n, sizeof *keys, cmp_cstr);
    if (!(t = cJSON_CreateObject())) {
        rc = -ENOMEM;
        goto out;
    }
    for (i = 0; i < n; i++) {
        size_t mark = path_push_key(c, keys[i]);
        cJSON *item;
        lua_getfield(L, idx, keys[i]);
        rc = conv_value(c, lua_gettop(L), depth + 1, &item);
        lua_pop(L, 1);
        if (rc < 0) {
            cJSON_Delete(t);
            goto out;
        }
        c->path[mark] = '\0';
        cJSON_AddItemToObject(t, keys[i], item);
    }
    *out = t;
out:
    if (keys != small)
        free(keys);
    return rc;
}

static int conv_value(struct conv *c, int idx, int depth, cJSON **out)
{
    lua_State *L = c->L;
    cJSON *v = NULL;

    *out = NULL;
    if (depth > MAX_DEPTH)
        return fail(c, "nesting deeper than 64");
    luaL_checkstack(L, 6, "json nesting");
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        v = cJSON_CreateNull();
        break;
    case LUA_TBOOLEAN:
        v = cJSON_CreateBool(lua_toboolean(L, idx));
        break;
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx)) {
            v = cJSON_CreateNumber((double)lua_tointeger(L, idx));
        } else {
            double d = lua_tonumber(L, idx);
            if (isnan(d) || isinf(d))
                return fail(c, isnan(d) ? "cannot encode NaN"
                                        : "cannot encode infinity");
            v = cJSON_CreateNumber(d);
        }
        break;
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        if (memchr(s, '\0', n))
            return fail(c, "string contains a NUL byte");
        v = cJSON_CreateString(s);
        break;
    }
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, idx) != NULL)
            return fail(c, "cannot encode a userdata");
        v = cJSON_CreateNull();
        break;
    case LUA_TTABLE:
        return conv_table(c, idx, depth, out);
    default:
        return fail(
            c, lua_pushfstring(L, "cannot encode a %s", luaL_typename(L, idx)));
    }
    if (!v)
        return -ENOMEM;
    *out = v;
    return 0;
}

int ag_json_from_lua(lua_State *L, int idx, cJSON **out, char *err,
                     size_t errlen)
{
    struct conv c = {L, err, errlen, {0}};
    int top = lua_gettop(L), rc;

    idx = lua_absindex(L, idx);
    rc = conv_value(&c, idx, 0, out);
    lua_settop(L, top);
    return rc;
}

/* ---- the Lua module ---------------------------------------------------- */

static int l_encode(lua_State *L)
{
    char err[300];
    cJSON *v;
    char *s;

    luaL_checkany(L, 1);
    if (ag_json_from_lua(L, 1, &v, err, sizeof err) < 0) {
        lua_pushnil(L);
        lua_pushstring(L, err);
        return 2;
    }
    s = lua_toboolean(L, 2) ? cJSON_Print(v) : cJSON_PrintUnformatted(v);
    cJSON_Delete(v);
    if (!s)
        return luaL_error(L, "json.encode: out of memory");
    lua_pushstring(L, s);
    free(s);
    return 1;
}

static int l_decode(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(s, n, &end, 0);

    if (!v) {
        lua_pushnil(L);
        lua_pushfstring(L, "invalid JSON near byte %d",
                        end ? (int)(end - s) + 1 : 1);
        return 2;
    }
    ag_json_push(L, v);
    cJSON_Delete(v);
    return 1;
}

static int l_array(lua_State *L)
{
    if (lua_isnoneornil(L, 1))
        lua_newtable(L);
    else
        luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    push_array_mt(L);
    lua_setmetatable(L, 1);
    return 1;
}

void ag_json_open(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"encode", l_encode}, {"decode", l_decode}, {"array", l_array}, {0}};

    luaL_newlib(L, fns);
    lua_pushlightuserdata(L, NULL);
    lua_setfield(L, -2, "null");
}

/* ---- canonical text ---------------------------------------------------- */

static int cmp_keys(const void *a, const void *b)
{
    const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
    return strcmp(x->string, y->string);
}

/* The shortest of %.15g, %.16g and %.17g that reads back as the same
 * double: what most languages print, so that other tools can recompute the
 * canonical text. */
static int add_shortest(struct ag_buf *out, double d)
{
    char s[40];

    for (int prec = 15; prec <= 17; prec++) {
        snprintf(s, sizeof s, "%.*g", prec, d);
        if (strtod(s, NULL) == d)
            break;
    }
    return ag_buf_adds(out, s);
}

static int canon(const cJSON *v, struct ag_buf *out, int depth)
{
    int rc = 0;

    if (depth > MAX_DEPTH)
        return AG_ETOOBIG;
    if (cJSON_IsNull(v) || cJSON_IsInvalid(v))
        return ag_buf_adds(out, "null");
    if (cJSON_IsBool(v))
        return ag_buf_adds(out, cJSON_IsTrue(v) ? "true" : "false");
    if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (isnan(d) || isinf(d))
            return ag_buf_adds(out, "null");
        if (d == floor(d) && fabs(d) < 9007199254740992.0)
            return ag_buf_printf(out, "%lld", (long long)d);
        return add_shortest(out, d);
    }
    if (cJSON_IsString(v) || cJSON_IsRaw(v)) {
        const char *s = v->valuestring ? v->valuestring : "";
        if ((rc = ag_buf_addc(out, '"')) < 0 ||
            (rc = ag_buf_add_json_str(out, s, strlen(s))) < 0)
            return rc;
        return ag_buf_addc(out, '"');
    }
    if (cJSON_IsArray(v)) {
        const cJSON *c;
        int first = 1;
        if ((rc = ag_buf_addc(out, '[')) < 0)
            return rc;
        cJSON_ArrayForEach(c, v)
        {
            if (!first && (rc = ag_buf_addc(out, ',')) < 0)
                return rc;
            first = 0;
            if ((rc = canon(c, out, depth + 1)) < 0)
                return rc;
        }
        return ag_buf_addc(out, ']');
    }
    if (cJSON_IsObject(v)) {
        const cJSON *c, *small[16], **keys = small;
        int n = 0, i;
        cJSON_ArrayForEach(c, v) n++;
        if (n > (int)AG_ARRAY_SIZE(small) &&
            !(keys = malloc(sizeof *keys * (size_t)n)))
            return -ENOMEM;
        i = 0;
        cJSON_ArrayForEach(c, v) keys[i++] = c;
        qsort(keys, (size_t)n, sizeof *keys, cmp_keys);
        rc = ag_buf_addc(out, '{');
        for (i = 0; i < n && rc == 0; i++) {
            const char *k = keys[i]->string;
            if (i)
                rc = ag_buf_addc(out, ',');
            if (!rc)
                rc = ag_buf_addc(out, '"');
            if (!rc)
                rc = ag_buf_add_json_str(out, k, strlen(k));
            if (!rc)
                rc = ag_buf_add(out, "\":", 2);
            if (!rc)
                rc = canon(keys[i], out, depth + 1);
        }
        if (keys != small)
            free(keys);
        return rc ? rc : ag_buf_addc(out, '}');
    }
    return ag_buf_adds(out, "null");
}

int ag_json_canonical(const cJSON *v, struct ag_buf *out)
{
    return canon(v, out, 0);
}

const char *ag_json_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

double ag_json_num(const cJSON *obj, const char *key, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

void ag_json_merge(cJSON *into, const cJSON *from)
{
    const cJSON *f;

    cJSON_ArrayForEach(f, from)
    {
        cJSON *t = cJSON_GetObjectItemCaseSensitive(into, f->string);
        if (cJSON_IsObject(f) && cJSON_IsObject(t))
            ag_json_merge(t, f);
        else if (t)
            cJSON_ReplaceItemInObjectCaseSensitive(into, f->string,
                                                   cJSON_Duplicate(f, 1));
        else
            cJSON_AddItemToObject(into, f->string, cJSON_Duplicate(f, 1));
    }
}

int ag_json_set_path(cJSON *obj, const char *assignment)
{
    const char *eq = strchr(assignment, '='), *k = assignment;
    cJSON *v;

    if (!eq || eq == assignment || eq[-1] == '.' || *assignment == '.' ||
        memmem(assignment, (size_t)(eq - assignment), "..", 2))
        return -EINVAL;
    for (const char *dot; (dot = memchr(k, '.', (size_t)(eq - k)));
         k = dot + 1) {
        char *name = ag_xstrndup(k, (size_t)(dot - k));
        cJSON *next = cJSON_GetObjectItemCaseSensitive(obj, name);
        if (!cJSON_IsObject(next)) {
            cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
            next = cJSON_AddObjectToObject(obj, name);
        }
        free(name);
        obj = next;
    }
    if (!(v = cJSON_ParseWithOpts(eq + 1, NULL, 1)))
        v = cJSON_CreateString(eq + 1);
    {
        char *name = ag_xstrndup(k, (size_t)(eq - k));
        cJSON_DeleteItemFromObjectCaseSensitive(obj, name);
        cJSON_AddItemToObject(obj, name, v);
        free(name);
    }
    return 0;
}
