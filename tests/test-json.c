/* test-json.c: Lua <-> JSON conversion, the json module, canonical text,
 * setting paths and merging (--set), "did you mean" suggestions, and the
 * bounded buffer. */
#include "json.h"
#include "tap.h"

#include <errno.h>
#include <lauxlib.h>
#include <lualib.h>
#include <stdlib.h>

static char *roundtrip(lua_State *L, const char *lua_expr)
{
    char err[256] = "";
    cJSON *v = NULL;
    char *s;

    if (luaL_dostring(L, lua_expr) != LUA_OK) {
        printf("# lua: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
        return NULL;
    }
    if (ag_json_from_lua(L, -1, &v, err, sizeof err) < 0) {
        lua_pop(L, 1);
        return strdup(err);
    }
    lua_pop(L, 1);
    s = cJSON_PrintUnformatted(v);
    cJSON_Delete(v);
    return s;
}

static void check(lua_State *L, const char *expr, const char *want,
                  const char *name)
{
    char *got = roundtrip(L, expr);
    is_str(got, want, name);
    free(got);
}

static void canon_is(const char *json, const char *want, const char *name)
{
    cJSON *v = cJSON_Parse(json);
    struct ag_buf b;

    ag_buf_init(&b, 1 << 20);
    ok(v != NULL, "canonical input parses");
    ag_json_canonical(v, &b);
    is_str(ag_buf_cstr(&b), want, name);
    ag_buf_free(&b);
    cJSON_Delete(v);
}

int main(void)
{
    lua_State *L = luaL_newstate();
    struct ag_buf b;

    luaL_openlibs(L);
    ag_json_open(L);
    lua_setglobal(L, "json");

    check(L, "return {1,2,3}", "[1,2,3]", "list becomes array");
    check(L, "return {a=1}", "{\"a\":1}", "map becomes object");
    check(L, "return {}", "{}", "empty table becomes object");
    check(L, "return json.array({})", "[]", "marked empty table is array");
    check(L, "return {x=json.null}", "{\"x\":null}", "json.null");
    check(L, "return 1.5", "1.5", "float");
    check(L, "return {[1]=1,[3]=3}", "value: mixed array and object keys",
          "sparse array refused");
    check(L, "return {f=print}", "f: cannot encode a function",
          "function refused with path");
    check(L, "return {a={b={0/0}}}", "a.b[1]: cannot encode NaN",
          "NaN refused with path");
    check(L, "local t = {} t.t = t return t",
          "t.t.t.t.t.t.t.t.t.t.t.t.t.t"
          ".t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t"
          ".t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t.t: nesting deeper than 64",
          "cycle stops at depth limit");

    /* decode then encode keeps arrays, even empty ones */
    check(L, "return json.decode('{\"a\":[],\"b\":[1,{\"c\":null}]}')",
          "{\"a\":[],\"b\":[1,{\"c\":null}]}", "decode/encode round trip");
    check(L, "return select(2, json.decode('{\"a\":'))",
          "\"invalid JSON near byte 5\"", "decode error at end");
    check(L, "return select(2, json.decode('[1,}'))",
          "\"invalid JSON near byte 4\"", "decode error names the byte");
    check(L, "return json.encode({1,'x',true})", "\"[1,\\\"x\\\",true]\"",
          "json.encode");

    canon_is("{\"b\":1,\"a\":{\"d\":[1,2.5,\"x\"],\"c\":null}}",
             "{\"a\":{\"c\":null,\"d\":[1,2.5,\"x\"]},\"b\":1}",
             "canonical sorts keys recursively");
    canon_is("\"tab\\tq\\\"\\u0001\"", "\"tab\\tq\\\"\\u0001\"",
             "canonical escapes minimally");
    canon_is("[1e3, -0.1, 12345678901234, 5.356894, 0.30000000000000004]",
             "[1000,-0.1,12345678901234,5.356894,0.30000000000000004]",
             "canonical numbers: shortest round-trip form");

    /* --set: paths, values read as JSON or kept as text, merging */
    {
        static const char *const known[] = {"memory", "attention", "weights",
                                            "goal",   "limits",    NULL};
        cJSON *set = cJSON_CreateObject(), *into;
        char *txt;

        is_int(ag_json_set_path(set, "memory=false"), 0, "set_path: a bool");
        ag_json_set_path(set, "weights.recency=2");
        ag_json_set_path(set, "weights.relevance=0.5");
        ag_json_set_path(set, "name=Town 2");
        ag_json_set_path(set, "list=[1, \"a\"]");
        ag_json_set_path(set, "two=1 2");
        ag_json_set_path(set, "memory=true");
        txt = cJSON_PrintUnformatted(set);
        is_str(
            txt,
            "{\"weights\":{\"recency\":2,\"relevance\":0.5},"
            "\"name\":\"Town 2\",\"list\":[1,\"a\"],\"two\":\"1 2\","
            "\"memory\":true}",
            "set_path: nested objects, JSON values, text otherwise, last wins");
        free(txt);
        is_int(ag_json_set_path(set, "memory"), -EINVAL, "set_path: no =");
        is_int(ag_json_set_path(set, "=1"), -EINVAL, "set_path: no key");
        is_int(ag_json_set_path(set, "a..b=1"), -EINVAL,
               "set_path: empty part");
        is_int(ag_json_set_path(set, "a.=1"), -EINVAL, "set_path: ends in .");
        into = cJSON_Parse("{\"weights\":{\"recency\":1,\"importance\":3},"
                           "\"memory\":false,\"attention\":4}");
        ag_json_merge(into, set);
        txt = cJSON_PrintUnformatted(into);
        is_str(txt,
               "{\"weights\":{\"recency\":2,\"importance\":3,"
               "\"relevance\":0.5},\"memory\":true,\"attention\":4,"
               "\"name\":\"Town 2\",\"list\":[1,\"a\"],\"two\":\"1 2\"}",
               "merge: objects merged member by member, others replaced");
        free(txt);
        cJSON_Delete(into);
        cJSON_Delete(set);

        is_str(ag_suggest("memry", known), "memory",
               "suggest: a letter missing");
        is_str(ag_suggest("gaol", known), "goal",
               "suggest: two letters swapped");
        ok(ag_suggest("x", known) == NULL, "suggest: nothing for a short word");
        ok(ag_suggest("colour", known) == NULL, "suggest: nothing far off");
        ok(ag_is_known("limits", known) && !ag_is_known("limit", known),
           "is_known");
    }

    ag_buf_init(&b, 8);
    is_int(ag_buf_adds(&b, "12345678"), 0, "buffer fills to max");
    is_int(ag_buf_addc(&b, '9'), AG_ETOOBIG, "buffer refuses past max");
    is_str(ag_buf_cstr(&b), "12345678", "buffer unchanged after refusal");
    ag_buf_free(&b);

    lua_close(L);
    return tap_done();
}
