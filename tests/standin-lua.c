/*
 * standin-lua.c: the Lua model of the stand-in (--lua FILE).
 *
 * FILE is a scripted stand-in model of the kind that agent's in-process
 * script: provider runs (agent/llm-script.c), so that the same model can be
 * played in process or over HTTP, for example examples/sim/town-model.lua
 * for the simulation. The file returns function(ctx), or a table with a
 * reply function; it is called once per chat request with
 *
 *   ctx = { messages = { { role = "system"|"user"|"assistant"|"tool",
 *                          content = TEXT (absent when there is none),
 *                          tool_calls = { { id, name, arguments } },
 *                          tool_call_id, name, is_error (tool results) } },
 *           tools = { NAME, ... }, step = N, model = "...",
 *           api = "openai"|"anthropic", stream = BOOL, request = N }
 *
 * built from the request as it came over the wire: OpenAI's messages as
 * they are (content parts joined, arguments decoded when they are JSON, a
 * tool result's name found from the call it answers); Anthropic's system
 * field first, then each message, with a user message's tool_result blocks
 * as "tool" messages followed by its text blocks. step is 1 + the number of
 * assistant messages, which is what agent's own step count is; request is
 * the request's number in the log (--log). The last four fields do not
 * exist in process.
 *
 * It returns the answer text, or { text =, tool_calls = { { id?, name,
 * arguments? } }, finish =, usage = { input =, output = } }; arguments is
 * a string sent as it is, or a value encoded with json.encode. Without
 * usage the tokens are estimated as agent does: bytes / 4 + 1 of the
 * messages' texts, calls and tool descriptions, and of the answer.
 *
 * agent gives models a global `json` from libagent, which the stand-in must
 * not link; it is loaded instead from a pure-Lua copy (--lua-json, by
 * default the source tree's tests/data/sim/json.lua): json.encode (object
 * keys sorted, numbers as cJSON prints them), json.decode (arrays marked,
 * null as json.null), json.array and json.null.
 *
 * The model runs on the loop, synchronously, in one Lua state with the
 * standard libraries (the file is the user's own, as in agent). Everything
 * it is given or gives back is handled inside one protected call; a Lua
 * error, or a reply of the wrong shape, answers 500 with the message (which
 * names the file and line) and the traceback goes to standard error.
 */
#include <stdlib.h>
#include <string.h>

#include <lauxlib.h>
#include <lualib.h>

#include "standin.h"

static struct {
    lua_State *L;
    const char *path;
    int fn_ref;                 /* the reply function */
    int encode_ref, decode_ref; /* json.encode and json.decode */
} lm;

/* One request on its way to the model. tmp is a C string that Lua may
 * still be reading when it raises an error; luamodel_reply frees it. */
struct build {
    const cJSON *body;
    enum api api;
    unsigned long seq;
    struct reply *r;
    size_t bytes; /* the request's text, for the usage estimate */
    int assistants;
    char *tmp;
};

static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);

    luaL_traceback(L, L, msg ? msg : "(error object is not a string)", 1);
    return 1;
}

int luamodel_load(const char *path, const char *json_path)
{
    lua_State *L = luaL_newstate();

    if (!L) {
        fprintf(stderr, "standin: out of memory\n");
        return -1;
    }
    luaL_openlibs(L);
    if (luaL_loadfilex(L, json_path, "t") != LUA_OK ||
        lua_pcall(L, 0, 1, 0) != LUA_OK) {
        fprintf(stderr, "standin: json for the Lua model: %s\n",
                lua_tostring(L, -1));
        goto fail;
    }
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "encode");
        lua_getfield(L, -2, "decode");
    }
    if (!lua_isfunction(L, -1) || !lua_isfunction(L, -2)) {
        fprintf(stderr,
                "standin: %s: must return a table with encode and "
                "decode functions\n",
                json_path);
        goto fail;
    }
    lm.decode_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lm.encode_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_setglobal(L, "json");
    if (luaL_loadfilex(L, path, "t") != LUA_OK ||
        lua_pcall(L, 0, 1, 0) != LUA_OK) {
        fprintf(stderr, "standin: %s\n", lua_tostring(L, -1));
        goto fail;
    }
    if (lua_istable(L, -1))
        lua_getfield(L, -1, "reply");
    if (!lua_isfunction(L, -1)) {
        fprintf(stderr,
                "standin: %s: a script model must return a function (or a "
                "table with a reply function)\n",
                path);
        goto fail;
    }
    lm.fn_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_settop(L, 0);
    lm.L = L;
    lm.path = path;
    return 0;
fail:
    lua_close(L);
    return -1;
}

void luamodel_close(void)
{
    if (lm.L)
        lua_close(lm.L);
    lm.L = NULL;
}

/* ---- the request, as ctx ---- */

/* Keeps a C string for Lua to copy; the previous one is freed. */
static const char *keep(struct build *b, char *s)
{
    free(b->tmp);
    b->tmp = s;
    return s ? s : "";
}

static void set_str(lua_State *L, const char *key, const char *v)
{
    lua_pushstring(L, v);
    lua_setfield(L, -2, key);
}

/* Sets content to the text of a JSON content (a string, or text parts). */
static void set_content(lua_State *L, struct build *b, const cJSON *content)
{
    const char *text;

    if (!content || cJSON_IsNull(content))
        return;
    text = keep(b, content_text(content));
    b->bytes += strlen(text);
    set_str(L, "content", text);
}

/* Pushes JSON text as a Lua value, or the text itself when it is not JSON
 * (a model may send broken arguments; the script should see them). */
static void push_json_text(lua_State *L, const char *text)
{
    lua_rawgeti(L, LUA_REGISTRYINDEX, lm.decode_ref);
    lua_pushstring(L, text);
    lua_call(L, 1, 1);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushstring(L, text);
    }
}

/* Pushes {id, name, arguments} and counts its bytes. */
static void push_call(lua_State *L, struct build *b, const char *id,
                      const char *name, const char *args)
{
    b->bytes += strlen(name) + strlen(args);
    lua_createtable(L, 0, 3);
    set_str(L, "id", id ? id : "");
    set_str(L, "name", name);
    push_json_text(L, args);
    lua_setfield(L, -2, "arguments");
}

/* The name of the tool that call id asked for, from the earlier messages. */
static const char *tool_name(const cJSON *msgs, const char *id, enum api api)
{
    const cJSON *m, *t;

    cJSON_ArrayForEach(m, msgs)
    {
        const char *key = api == API_OPENAI ? "tool_calls" : "content";
        cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(m, key))
        {
            const cJSON *fn = cJSON_GetObjectItemCaseSensitive(t, "function");
            const char *tid = json_str(t, "id");
            if (tid && id && strcmp(tid, id) == 0)
                return json_str(api == API_OPENAI ? fn : t, "name");
        }
    }
    return NULL;
}

/* Pushes a tool result message. */
static void push_result(lua_State *L, struct build *b, const cJSON *m,
                        const char *id, const cJSON *content)
{
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(b->body, "messages");
    const char *name = tool_name(msgs, id, b->api);

    if (!name)
        name = json_str(m, "name");
    lua_createtable(L, 0, 5);
    set_str(L, "role", "tool");
    set_content(L, b, content);
    set_str(L, "tool_call_id", id ? id : "");
    set_str(L, "name", name ? name : "");
    lua_pushboolean(L, json_flag(m, "is_error"));
    lua_setfield(L, -2, "is_error");
}

static void push_openai(lua_State *L, struct build *b, const cJSON *msgs,
                        int *n)
{
    const cJSON *m, *tc;

    cJSON_ArrayForEach(m, msgs)
    {
        const char *role = json_str(m, "role");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");
        const cJSON *calls = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
        int k = 0;

        if (role && strcmp(role, "tool") == 0) {
            push_result(L, b, m, json_str(m, "tool_call_id"), content);
            lua_rawseti(L, -2, ++*n);
            continue;
        }
        lua_createtable(L, 0, 3);
        set_str(L, "role", role ? role : "user");
        set_content(L, b, content);
        if (cJSON_GetArraySize(calls) > 0) {
            lua_createtable(L, cJSON_GetArraySize(calls), 0);
            cJSON_ArrayForEach(tc, calls)
            {
                const cJSON *fn =
                    cJSON_GetObjectItemCaseSensitive(tc, "function");
                const cJSON *a =
                    cJSON_GetObjectItemCaseSensitive(fn, "arguments");
                const char *name = json_str(fn, "name");
                const char *args = cJSON_IsString(a) ? a->valuestring
                                   : a ? keep(b, cJSON_PrintUnformatted(a))
                                       : "{}";
                push_call(L, b, json_str(tc, "id"), name ? name : "", args);
                lua_rawseti(L, -2, ++k);
            }
            lua_setfield(L, -2, "tool_calls");
        }
        if (role && strcmp(role, "assistant") == 0)
            b->assistants++;
        lua_rawseti(L, -2, ++*n);
    }
}

/* An Anthropic assistant message: its text blocks joined, its tool_use
 * blocks as tool_calls. */
static void push_an_assistant(lua_State *L, struct build *b,
                              const cJSON *content)
{
    struct out text = {0};
    const cJSON *block;
    bool has_text = false;
    int k = 0;

    cJSON_ArrayForEach(block, content)
    {
        const char *type = json_str(block, "type"),
                   *t = json_str(block, "text");
        if (type && strcmp(type, "text") == 0 && t) {
            out_str(&text, t);
            has_text = true;
        }
    }
    out_put(&text, "", 1);
    keep(b, text.p);
    lua_createtable(L, 0, 3);
    set_str(L, "role", "assistant");
    if (has_text) {
        b->bytes += strlen(text.p);
        set_str(L, "content", text.p);
    }
    lua_newtable(L);
    cJSON_ArrayForEach(block, content)
    {
        const char *type = json_str(block, "type"), *name;
        const cJSON *input = cJSON_GetObjectItemCaseSensitive(block, "input");
        if (!type || strcmp(type, "tool_use") != 0)
            continue;
        name = json_str(block, "name");
        push_call(L, b, json_str(block, "id"), name ? name : "",
                  input ? keep(b, cJSON_PrintUnformatted(input)) : "{}");
        lua_rawseti(L, -2, ++k);
    }
    if (k > 0)
        lua_setfield(L, -2, "tool_calls");
    else
        lua_pop(L, 1);
    b->assistants++;
}

static void push_anthropic(lua_State *L, struct build *b, const cJSON *msgs,
                           int *n)
{
    const cJSON *system = cJSON_GetObjectItemCaseSensitive(b->body, "system");
    const cJSON *m, *block;

    if (cJSON_IsString(system) || cJSON_IsArray(system)) {
        lua_createtable(L, 0, 2);
        set_str(L, "role", "system");
        set_content(L, b, system);
        lua_rawseti(L, -2, ++*n);
    }
    cJSON_ArrayForEach(m, msgs)
    {
        const char *role = json_str(m, "role");
        const cJSON *content = cJSON_GetObjectItemCaseSensitive(m, "content");

        role = role ? role : "user";
        if (cJSON_IsArray(content) && strcmp(role, "assistant") == 0) {
            push_an_assistant(L, b, content);
            lua_rawseti(L, -2, ++*n);
            continue;
        }
        if (!cJSON_IsArray(content)) {
            b->assistants += strcmp(role, "assistant") == 0;
            lua_createtable(L, 0, 2);
            set_str(L, "role", role);
            set_content(L, b, content);
            lua_rawseti(L, -2, ++*n);
            continue;
        }
        cJSON_ArrayForEach(block, content)
        {
            const char *type = json_str(block, "type");
            if (!type || strcmp(type, "tool_result") != 0)
                continue;
            push_result(L, b, block, json_str(block, "tool_use_id"),
                        cJSON_GetObjectItemCaseSensitive(block, "content"));
            lua_rawseti(L, -2, ++*n);
        }
        cJSON_ArrayForEach(block, content)
        {
            const char *type = json_str(block, "type");
            if (!type || strcmp(type, "text") != 0)
                continue;
            lua_createtable(L, 0, 2);
            set_str(L, "role", role);
            set_content(L, b, cJSON_GetObjectItemCaseSensitive(block, "text"));
            lua_rawseti(L, -2, ++*n);
        }
    }
}

static void push_ctx(lua_State *L, struct build *b)
{
    const cJSON *body = b->body, *t;
    const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(body, "messages");
    const char *model = json_str(body, "model");
    int n = 0;

    lua_createtable(L, 0, 8);
    lua_newtable(L);
    if (b->api == API_OPENAI)
        push_openai(L, b, msgs, &n);
    else
        push_anthropic(L, b, msgs, &n);
    lua_setfield(L, -2, "messages");
    n = 0;
    lua_newtable(L);
    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(body, "tools"))
    {
        const cJSON *fn = b->api == API_OPENAI
                              ? cJSON_GetObjectItemCaseSensitive(t, "function")
                              : t;
        const char *name = json_str(fn, "name");
        const char *desc = json_str(fn, "description");
        b->bytes += (name ? strlen(name) : 0) + (desc ? strlen(desc) : 0);
        lua_pushstring(L, name ? name : "");
        lua_rawseti(L, -2, ++n);
    }
    lua_setfield(L, -2, "tools");
    lua_pushinteger(L, b->assistants + 1);
    lua_setfield(L, -2, "step");
    set_str(L, "model", model ? model : "standin");
    set_str(L, "api", b->api == API_OPENAI ? "openai" : "anthropic");
    lua_pushboolean(L, json_flag(body, "stream"));
    lua_setfield(L, -2, "stream");
    lua_pushinteger(L, (lua_Integer)b->seq);
    lua_setfield(L, -2, "request");
}

/* ---- the answer, as a struct reply ---- */

/* A copy of the string at the top of the stack. */
static char *copy_top(lua_State *L, size_t *len)
{
    size_t n;
    const char *s = lua_tolstring(L, -1, &n);
    char *p = xrealloc(NULL, n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    if (len)
        *len = n;
    return p;
}

/* Reads tool_calls[k + 1], at the top of the stack, into r->calls[k]. */
static void read_call(lua_State *L, struct build *b, int k)
{
    struct call *c = &b->r->calls[k];
    cJSON *v;

    if (!lua_istable(L, -1))
        luaL_error(L, "%s: tool_calls[%d] must be a table", lm.path, k + 1);
    lua_getfield(L, -1, "name");
    if (!lua_isstring(L, -1))
        luaL_error(L, "%s: tool_calls[%d].name must be a string", lm.path,
                   k + 1);
    c->name = c->name_owned = copy_top(L, NULL);
    lua_pop(L, 1);
    lua_getfield(L, -1, "id");
    if (lua_isstring(L, -1))
        c->id = c->id_owned = copy_top(L, NULL);
    else
        call_id(c, b->api, b->seq, k);
    lua_pop(L, 1);
    lua_getfield(L, -1, "arguments");
    if (lua_type(L, -1) == LUA_TSTRING) {
        c->args = c->owned = copy_top(L, NULL);
        v = parse_json(c->args, strlen(c->args));
        c->args_json = v != NULL;
        cJSON_Delete(v);
    } else if (lua_isnil(L, -1)) {
        c->args = "{}";
        c->args_json = true;
    } else {
        lua_rawgeti(L, LUA_REGISTRYINDEX, lm.encode_ref);
        lua_insert(L, -2);
        lua_call(L, 1, 2);
        if (lua_type(L, -2) != LUA_TSTRING)
            luaL_error(L, "%s: tool_calls[%d].arguments: %s", lm.path, k + 1,
                       lua_isstring(L, -1) ? lua_tostring(L, -1)
                                           : "json.encode failed");
        lua_pop(L, 1);
        c->args = c->owned = copy_top(L, NULL);
        c->args_json = true;
    }
    lua_pop(L, 1);
}

/* Reads the model's answer at the top of the stack into b->r. */
static void read_reply(lua_State *L, struct build *b)
{
    struct reply *r = b->r;
    lua_Integer n, k;

    if (lua_type(L, -1) == LUA_TSTRING) {
        r->text = r->text_owned = copy_top(L, &r->text_len);
        return;
    }
    if (!lua_istable(L, -1))
        luaL_error(L, "%s: the model returned %s; expected a string or a table",
                   lm.path, luaL_typename(L, -1));
    lua_getfield(L, -1, "text");
    if (lua_isstring(L, -1))
        r->text = r->text_owned = copy_top(L, &r->text_len);
    lua_pop(L, 1);
    lua_getfield(L, -1, "tool_calls");
    if (lua_istable(L, -1)) {
        n = (lua_Integer)lua_rawlen(L, -1);
        if (n > MAX_CALLS)
            luaL_error(L, "%s: at most %d tool calls in one reply", lm.path,
                       MAX_CALLS);
        for (k = 0; k < n; k++) {
            lua_rawgeti(L, -1, k + 1);
            r->ncalls = (int)k + 1;
            read_call(L, b, (int)k);
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    lua_getfield(L, -1, "usage");
    if (lua_istable(L, -1)) {
        lua_getfield(L, -1, "input");
        if (lua_isinteger(L, -1))
            r->input = (long long)lua_tointeger(L, -1);
        lua_getfield(L, -2, "output");
        if (lua_isinteger(L, -1))
            r->output = (long long)lua_tointeger(L, -1);
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
    lua_getfield(L, -1, "finish");
    if (lua_isstring(L, -1))
        r->finish = r->finish_owned = copy_top(L, NULL);
    lua_pop(L, 1);
}

/* Runs in protected mode: builds ctx, calls the model, reads its answer. */
static int call_model(lua_State *L)
{
    struct build *b = lua_touserdata(L, 1);

    lua_rawgeti(L, LUA_REGISTRYINDEX, lm.fn_ref);
    push_ctx(L, b);
    keep(b, NULL);
    lua_call(L, 1, 1);
    read_reply(L, b);
    return 0;
}

int luamodel_reply(const cJSON *body, enum api api, unsigned long seq,
                   struct reply *r, char *err, size_t errlen)
{
    struct build b = {body, api, seq, r, 0, 0, NULL};
    lua_State *L = lm.L;
    size_t out = 0;
    int i, rc;

    reply_init(r);
    r->input = r->output = -1;
    lua_settop(L, 0);
    lua_pushcfunction(L, traceback);
    lua_pushcfunction(L, call_model);
    lua_pushlightuserdata(L, &b);
    rc = lua_pcall(L, 1, 0, 1);
    keep(&b, NULL);
    if (rc != LUA_OK) {
        const char *msg = lua_tostring(L, -1);
        const char *tb = msg ? strstr(msg, "\nstack traceback:") : NULL;

        msg = msg ? msg : "(error object is not a string)";
        fprintf(stderr, "standin: request %lu: %s\n", seq, msg);
        snprintf(err, errlen, "stand-in Lua model: %.*s",
                 tb ? (int)(tb - msg) : (int)strlen(msg), msg);
        lua_settop(L, 0);
        reply_free(r);
        reply_init(r);
        return -1;
    }
    lua_settop(L, 0);
    if (r->input < 0)
        r->input = (long long)(b.bytes / 4 + 1);
    if (r->output < 0) {
        out = r->text ? r->text_len : 0;
        for (i = 0; i < r->ncalls; i++)
            out += strlen(r->calls[i].name) + strlen(r->calls[i].args);
        r->output = (long long)(out / 4 + 1);
    }
    return 0;
}
