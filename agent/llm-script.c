/*
 * llm-script.c: the scripted stand-in model. A Lua file plays the model:
 * given the conversation, it returns the final answer or tool calls. It is
 * deterministic and offline, and serves the examples, the tests and the
 * benchmarks. The file is the user's own (trusted, like a task file) and
 * runs in the agent process with the standard libraries; replies are always
 * marked as coming from a stand-in.
 *
 *   return function(ctx)
 *     if ctx.step == 1 then
 *       return { text = "Let me add.", tool_calls = {
 *                  { name = "calc", arguments = { expr = "2+2" } } } }
 *     end
 *     return "The answer is " .. ctx.messages[#ctx.messages].content
 *   end
 */
#include "llm-client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "json.h"

struct ag_script {
    lua_State *L;
    int fn_ref; /* the reply function */
    char *path;
    unsigned long calls;
};

static const char *const role_names[] = {"system", "user", "assistant", "tool"};

static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
    return 1;
}

int ag_script_new(const char *path, struct ag_script **out, char *err,
                  size_t errlen)
{
    struct ag_script *s;
    lua_State *L;
    char *src;
    size_t n;
    int rc;

    *out = NULL;
    if ((rc = ag_read_file(path, 16u << 20, &src, &n)) < 0) {
        snprintf(err, errlen, "%s: cannot read: %s", path, ag_strerror(rc));
        return rc;
    }
    if (!(L = luaL_newstate())) {
        free(src);
        return -ENOMEM;
    }
    luaL_openlibs(L);
    ag_json_open(L);
    lua_setglobal(L, "json");
    lua_pushfstring(L, "@%s", path);
    rc = luaL_loadbufferx(L, src, n, lua_tostring(L, -1), "t");
    free(src);
    if (rc == LUA_OK)
        rc = lua_pcall(L, 0, 1, 0);
    if (rc != LUA_OK) {
        snprintf(err, errlen, "%s", lua_tostring(L, -1));
        lua_close(L);
        return AG_ELUA;
    }
    if (lua_istable(L, -1))
        lua_getfield(L, -1, "reply");
    if (!lua_isfunction(L, -1)) {
        snprintf(err, errlen,
                 "%s: a script model must return a function (or a table "
                 "with a reply function)",
                 path);
        lua_close(L);
        return AG_ELUA;
    }
    s = ag_xcalloc(1, sizeof *s);
    s->L = L;
    s->fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    s->path = ag_xstrdup(path);
    lua_settop(L, 0);
    *out = s;
    return 0;
}

void ag_script_free(struct ag_script *s)
{
    if (!s)
        return;
    lua_close(s->L);
    free(s->path);
    free(s);
}

const char *ag_script_path(const struct ag_script *s)
{
    return s->path;
}

/* Pushes JSON text as a Lua value, or the text itself when it is not JSON
 * (a model may send broken arguments; the script should see them). */
static void push_json_text(lua_State *L, const char *text)
{
    cJSON *v = text ? cJSON_Parse(text) : NULL;

    if (v) {
        ag_json_push(L, v);
        cJSON_Delete(v);
    } else {
        lua_pushstring(L, text ? text : "");
    }
}

static void push_ctx(lua_State *L, const struct ag_llm_req *req)
{
    int step = req->step + 1;

    lua_createtable(L, 0, 5);
    lua_createtable(L, req->nmsgs, 0);
    for (int i = 0; i < req->nmsgs; i++) {
        const struct ag_msg *m = &req->msgs[i];
        lua_createtable(L, 0, 4);
        lua_pushstring(L, role_names[m->role]);
        lua_setfield(L, -2, "role");
        if (m->text) {
            lua_pushstring(L, m->text);
            lua_setfield(L, -2, "content");
        }
        if (m->ncalls) {
            lua_createtable(L, m->ncalls, 0);
            for (int k = 0; k < m->ncalls; k++) {
                lua_createtable(L, 0, 3);
                lua_pushstring(L, m->calls[k].id ? m->calls[k].id : "");
                lua_setfield(L, -2, "id");
                lua_pushstring(L, m->calls[k].name);
                lua_setfield(L, -2, "name");
                push_json_text(L, m->calls[k].args);
                lua_setfield(L, -2, "arguments");
                lua_rawseti(L, -2, k + 1);
            }
            lua_setfield(L, -2, "tool_calls");
        }
        if (m->role == AG_ROLE_TOOL) {
            lua_pushstring(L, m->call_id ? m->call_id : "");
            lua_setfield(L, -2, "tool_call_id");
            lua_pushstring(L, m->name ? m->name : "");
            lua_setfield(L, -2, "name");
            lua_pushboolean(L, m->is_error);
            lua_setfield(L, -2, "is_error");
        }
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "messages");
    lua_createtable(L, req->ntools, 0);
    for (int i = 0; i < req->ntools; i++) {
        lua_pushstring(L, req->tools[i].name);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "tools");
    lua_pushinteger(L, step);
    lua_setfield(L, -2, "step");
    lua_pushstring(L, req->model ? req->model : "script");
    lua_setfield(L, -2, "model");
}

static size_t request_bytes(const struct ag_llm_req *req)
{
    size_t n = 0;

    for (int i = 0; i < req->nmsgs; i++) {
        const struct ag_msg *m = &req->msgs[i];
        n += m->text ? strlen(m->text) : 0;
        for (int k = 0; k < m->ncalls; k++)
            n += strlen(m->calls[k].name) + strlen(m->calls[k].args);
    }
    for (int i = 0; i < req->ntools; i++)
        n += strlen(req->tools[i].name) + strlen(req->tools[i].description);
    return n;
}

/* Reads tool_calls[k] at the top of the stack into c. */
static int read_call(lua_State *L, struct ag_toolcall *c, unsigned long seq,
                     int k, char *err, size_t errlen)
{
    char errj[256];
    cJSON *v;

    if (!lua_istable(L, -1)) {
        snprintf(err, errlen, "tool_calls[%d] must be a table", k + 1);
        return AG_ELUA;
    }
    lua_getfield(L, -1, "name");
    if (!lua_isstring(L, -1)) {
        snprintf(err, errlen, "tool_calls[%d].name must be a string", k + 1);
        return AG_ELUA;
    }
    c->name = ag_xstrdup(lua_tostring(L, -1));
    lua_pop(L, 1);
    lua_getfield(L, -1, "id");
    c->id = lua_isstring(L, -1) ? ag_xstrdup(lua_tostring(L, -1))
                                : ag_xasprintf("call_s%lu_%d", seq, k + 1);
    lua_pop(L, 1);
    lua_getfield(L, -1, "arguments");
    if (lua_type(L, -1) == LUA_TSTRING) {
        c->args = ag_xstrdup(lua_tostring(L, -1));
    } else if (lua_isnil(L, -1)) {
        c->args = ag_xstrdup("{}");
    } else {
        if (ag_json_from_lua(L, -1, &v, errj, sizeof errj) < 0) {
            snprintf(err, errlen, "tool_calls[%d].arguments: %s", k + 1, errj);
            return AG_ELUA;
        }
        c->args = cJSON_PrintUnformatted(v);
        cJSON_Delete(v);
    }
    lua_pop(L, 1);
    return 0;
}

static int read_reply(lua_State *L, struct ag_script *s, struct ag_llm_reply *r,
                      char *err, size_t errlen)
{
    int rc = 0;

    if (lua_type(L, -1) == LUA_TSTRING) {
        r->text = ag_xstrdup(lua_tostring(L, -1));
        return 0;
    }
    if (!lua_istable(L, -1)) {
        snprintf(err, errlen,
                 "the script returned %s; expected a string or "
                 "a table",
                 luaL_typename(L, -1));
        return AG_ELUA;
    }
    lua_getfield(L, -1, "text");
    if (lua_isstring(L, -1))
        r->text = ag_xstrdup(lua_tostring(L, -1));
    lua_pop(L, 1);
    lua_getfield(L, -1, "tool_calls");
    if (lua_istable(L, -1)) {
        int n = (int)luaL_len(L, -1);
        r->calls = ag_xcalloc((size_t)(n ? n : 1), sizeof *r->calls);
        for (int k = 0; k < n && rc == 0; k++) {
            lua_rawgeti(L, -1, k + 1);
            r->ncalls = k + 1;
            rc = read_call(L, &r->calls[k], s->calls, k, err, errlen);
            lua_settop(L, lua_gettop(L) - 1);
        }
    }
    lua_pop(L, 1);
    lua_getfield(L, -1, "usage");
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "input");
        r->usage.input = lua_isinteger(L, -1) ? (long)lua_tointeger(L, -1) : -1;
        lua_getfield(L, -2, "output");
        r->usage.output =
            lua_isinteger(L, -1) ? (long)lua_tointeger(L, -1) : -1;
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
    lua_getfield(L, -1, "finish");
    if (lua_isstring(L, -1))
        r->finish = ag_xstrdup(lua_tostring(L, -1));
    lua_pop(L, 1);
    return rc;
}

int ag_script_answer(struct ag_script *s, const struct ag_llm_req *req,
                     struct ag_llm_reply *r, char *err, size_t errlen)
{
    lua_State *L = s->L;
    int rc;

    ag_llm_reply_clear(r);
    r->usage.input = r->usage.output = -1;
    s->calls++;
    lua_settop(L, 0);
    lua_pushcfunction(L, traceback);
    lua_rawgeti(L, LUA_REGISTRYINDEX, s->fn_ref);
    push_ctx(L, req);
    if (lua_pcall(L, 1, 1, 1) != LUA_OK) {
        snprintf(err, errlen, "script model: %s", lua_tostring(L, -1));
        lua_settop(L, 0);
        return AG_ELUA;
    }
    rc = read_reply(L, s, r, err, errlen);
    lua_settop(L, 0);
    if (rc < 0) {
        char m[300];
        snprintf(m, sizeof m, "%s", err);
        snprintf(err, errlen, "script model %s: %s", s->path, m);
        ag_llm_reply_clear(r);
        return rc;
    }
    if (!r->finish)
        r->finish = ag_xstrdup(r->ncalls ? "tool_calls" : "stop");
    if (r->usage.input < 0)
        r->usage.input = (long)(request_bytes(req) / 4 + 1);
    if (r->usage.output < 0) {
        size_t n = r->text ? strlen(r->text) : 0;
        for (int k = 0; k < r->ncalls; k++)
            n += strlen(r->calls[k].name) + strlen(r->calls[k].args);
        r->usage.output = (long)(n / 4 + 1);
    }
    r->stand_in = 1;
    return 0;
}
