/*
 * worker.c: the tool worker, a process forked by the zygote that serves tool
 * calls one at a time over its socket, and the restricted Lua state that
 * tool code runs in (also used by the registry to read descriptors).
 *
 * Each call gets a fresh Lua state: nothing one call leaves behind (globals,
 * metatables, upvalues) reaches the next. The state's allocator refuses past
 * the call's memory cap and a count hook stops the code past its instruction
 * budget; once the budget is spent the hook fires on every instruction, so a
 * `pcall` in a loop cannot swallow the stop. The wall-clock limit is enforced
 * from outside: the agent process kills a worker that overstays.
 */
#include "sandbox.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "ipc.h"
#include "html.h"
#include "json.h"

#define HOOK_EVERY 1000

/* What the count hook needs; lives in the state's extra space. */
struct hook_state {
    long left;          /* instructions left; < 0 when unlimited */
    int hit;            /* the instruction limit was passed */
    const int *refused; /* the allocator refused memory: a hard stop too */
};

static struct hook_state *hook_of(lua_State *L)
{
    return *(struct hook_state **)lua_getextraspace(L);
}

static void count_hook(lua_State *L, lua_Debug *ar)
{
    struct hook_state *h = hook_of(L);

    AG_UNUSED(ar);
    if (!h)
        return;
    if (h->refused && *h->refused) {
        /* like the instruction limit: raised at every instruction, so that
         * a pcall catching "not enough memory" cannot carry on */
        lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
        luaL_error(L, "tool exceeded its memory limit");
    }
    if (h->left < 0)
        return;
    if (!h->hit) {
        h->left -= HOOK_EVERY;
        if (h->left > 0)
            return;
        h->hit = 1;
        /* from now on, stop at every instruction */
        lua_sethook(L, count_hook, LUA_MASKCOUNT, 1);
    }
    luaL_error(L, "tool exceeded its instruction limit");
}

int ag_lua_limit_hit(lua_State *L)
{
    struct hook_state *h = hook_of(L);
    return h && h->hit;
}

/* A worker's arena for one call's state. Sanitizer builds go without, so
 * that AddressSanitizer sees every block of the Lua heap. */
#if defined(__SANITIZE_ADDRESS__)
#define ARENA_SIZE 0u
#else
#define ARENA_SIZE (1u << 20)
#endif

/* Moves a block to (or within) the arena, or to the heap. */
static void *arena_realloc(struct ag_lua_alloc *a, void *ptr, size_t old,
                           size_t nsize, int in)
{
    size_t need = (nsize + 15) & ~(size_t)15;
    char *end = a->arena + a->arena_top;
    void *p;

    if (in && nsize <= old)
        return ptr;
    /* the last block grows in place */
    if (in && (char *)ptr + ((old + 15) & ~(size_t)15) == end &&
        (char *)ptr + need <= a->arena + a->arena_cap) {
        a->arena_top = (size_t)((char *)ptr + need - a->arena);
        return ptr;
    }
    if (a->arena_top + need <= a->arena_cap) {
        p = end;
        a->arena_top += need;
    } else if (!in) {
        return realloc(ptr, nsize);
    } else if (!(p = malloc(nsize))) {
        return NULL;
    }
    if (ptr) {
        memcpy(p, ptr, old < nsize ? old : nsize);
        if (!in)
            free(ptr);
    }
    return p;
}

static void *capped_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct ag_lua_alloc *a = ud;
    size_t old = ptr ? osize : 0;
    int in = a->arena && ptr && (char *)ptr >= a->arena &&
             (char *)ptr < a->arena + a->arena_cap;
    void *p;

    if (nsize == 0) {
        if (!in)
            free(ptr);
        a->used -= old;
        return NULL;
    }
    if (a->limit && nsize > old && a->used + (nsize - old) > a->limit) {
        a->refused = 1;
        return NULL;
    }
    p = a->arena ? arena_realloc(a, ptr, old, nsize, in) : realloc(ptr, nsize);
    if (!p)
        return NULL;
    a->used = a->used - old + nsize;
    return p;
}

/* xpcall(f, msgh, ...) whose handler runs after the stack is unwound, with
 * the instruction hook on: Lua's own runs the handler where the error was
 * raised, which for an error raised by the hook means with hooks off, and
 * a loop there would escape the instruction limit. */
static int l_xpcall(lua_State *L)
{
    int n = lua_gettop(L);

    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_pushvalue(L, 1); /* f */
    for (int i = 3; i <= n; i++)
        lua_pushvalue(L, i);
    if (lua_pcall(L, n - 2, LUA_MULTRET, 0) == LUA_OK) {
        lua_pushboolean(L, 1);
        lua_replace(L, n); /* true goes before f's results */
        return lua_gettop(L) - n + 1;
    }
    lua_pushvalue(L, 2); /* msgh(err) */
    lua_insert(L, -2);
    lua_pcall(L, 1, 1, 0); /* a failing handler's error is the result */
    lua_pushboolean(L, 0);
    lua_insert(L, -2);
    return 2;
}

/* setmetatable refusing finalizers: Lua runs __gc with hooks off, so a
 * loop in one would escape the instruction limit. */
static int l_setmetatable(lua_State *L)
{
    if (lua_istable(L, 2) && lua_getfield(L, 2, "__gc") != LUA_TNIL)
        return luaL_error(L, "finalizers (__gc) are not allowed in tools");
    lua_settop(L, 2);
    lua_getfield(L, LUA_REGISTRYINDEX, "ag.setmetatable");
    lua_insert(L, 1);
    lua_call(L, 2, 1);
    return 1;
}

/* load() for text chunks only. */
static int l_load_text(lua_State *L)
{
    size_t n;
    const char *s = luaL_checklstring(L, 1, &n);
    const char *name = luaL_optstring(L, 2, "=(load)");
    int env = !lua_isnone(L, 4);

    if (luaL_loadbufferx(L, s, n, name, "t") != LUA_OK) {
        lua_pushnil(L);
        lua_insert(L, -2);
        return 2;
    }
    if (env) {
        lua_pushvalue(L, 4);
        if (!lua_setupvalue(L, -2, 1))
            lua_pop(L, 1);
    }
    return 1;
}

static void keep_only(lua_State *L, const char *lib, const char *const *keep)
{
    lua_getglobal(L, lib);
    lua_newtable(L);
    for (; *keep; keep++) {
        lua_getfield(L, -2, *keep);
        lua_setfield(L, -2, *keep);
    }
    lua_setglobal(L, lib);
    lua_pop(L, 1);
}

lua_State *ag_lua_sandbox_new(const struct ag_lua_limits *limits,
                              struct ag_lua_alloc *alloc)
{
    static const luaL_Reg libs[] = {
        {LUA_GNAME, luaopen_base},       {LUA_STRLIBNAME, luaopen_string},
        {LUA_TABLIBNAME, luaopen_table}, {LUA_MATHLIBNAME, luaopen_math},
        {LUA_UTF8LIBNAME, luaopen_utf8}, {LUA_COLIBNAME, luaopen_coroutine},
        {LUA_OSLIBNAME, luaopen_os},     {NULL, NULL}};
    static const char *const os_keep[] = {"time", "clock", "date", "difftime",
                                          NULL};
    static const char *const drop[] = {"dofile",         "loadfile", "require",
                                       "collectgarbage", "print",    NULL};
    struct hook_state *h;
    lua_State *L;

    alloc->used = 0;
    alloc->limit = limits ? limits->memory : 0;
    alloc->refused = 0;
    alloc->arena_top = 0;
    if (!(L = lua_newstate(capped_alloc, alloc)))
        return NULL;
    /* Opening the libraries can fail only by running out of memory. */
    h = lua_newuserdatauv(L, sizeof *h, 0);
    h->left = limits && limits->instructions > 0 ? limits->instructions : -1;
    h->hit = 0;
    h->refused = &alloc->refused;
    luaL_ref(L, LUA_REGISTRYINDEX); /* keep it alive for the state's life */
    *(struct hook_state **)lua_getextraspace(L) = h;

    for (const luaL_Reg *l = libs; l->func; l++) {
        luaL_requiref(L, l->name, l->func, 1);
        lua_pop(L, 1);
    }
    for (const char *const *d = drop; *d; d++) {
        lua_pushnil(L);
        lua_setglobal(L, *d);
    }
    lua_pushcfunction(L, l_load_text);
    lua_setglobal(L, "load");
    lua_pushcfunction(L, l_xpcall);
    lua_setglobal(L, "xpcall");
    /* the original setmetatable, reachable from C only */
    lua_getglobal(L, "setmetatable");
    lua_setfield(L, LUA_REGISTRYINDEX, "ag.setmetatable");
    lua_pushcfunction(L, l_setmetatable);
    lua_setglobal(L, "setmetatable");
    keep_only(L, LUA_OSLIBNAME, os_keep);
    /* string.dump would let code make bytecode; nothing may load it, but
     * there is no reason to offer it either. */
    lua_getglobal(L, LUA_STRLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "dump");
    lua_pop(L, 1);
    ag_json_open(L);
    lua_setglobal(L, "json");
    lua_sethook(L, count_hook, LUA_MASKCOUNT, HOOK_EVERY);
    return L;
}

/* ---- the worker loop --------------------------------------------------- */

static int worker_fd = -1;
static long rpc_seq;

/* log(...) inside a tool: sends the message to the agent (which may show it
 * at debug level) and waits for the acknowledgement. */
/* Sends an rpc to the agent and waits for its reply. Takes params. Returns
 * the reply (the caller frees it). The worker ends if the agent went away
 * or broke the protocol: there is nothing else it could do. */
static cJSON *rpc(const char *op, cJSON *params)
{
    cJSON *msg = cJSON_CreateObject(), *reply = NULL;
    long id = ++rpc_seq;
    int rc;

    cJSON_AddStringToObject(msg, "type", "rpc");
    cJSON_AddNumberToObject(msg, "id", (double)id);
    cJSON_AddStringToObject(msg, "op", op);
    cJSON_AddItemToObject(msg, "params", params);
    rc = ag_ipc_send(worker_fd, msg);
    cJSON_Delete(msg);
    if (rc == 0)
        rc = ag_ipc_recv(worker_fd, AG_IPC_MAX_FRAME, &reply);
    if (rc <= 0 || strcmp(ag_ipc_type(reply), "rpc.reply") != 0 ||
        (long)ag_json_num(reply, "id", -1) != id)
        _exit(4);
    return reply;
}

/* log(...) inside a tool: sends the message to the agent (which may show it
 * at debug level) and waits for the acknowledgement. */
static int l_log(lua_State *L)
{
    luaL_Buffer b;
    cJSON *params;
    int n = lua_gettop(L);

    luaL_buffinit(L, &b);
    for (int i = 1; i <= n; i++) {
        if (i > 1)
            luaL_addchar(&b, ' ');
        luaL_tolstring(L, i, NULL);
        luaL_addvalue(&b);
    }
    luaL_pushresult(&b);
    params = cJSON_CreateObject();
    cJSON_AddStringToObject(params, "message", lua_tostring(L, -1));
    cJSON_Delete(rpc("log", params));
    return 0;
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    return c == '+' ? 62 : c == '/' ? 63 : -1;
}

/* Pushes the reply's value (a body sent as base64 decoded back into
 * "body"), or nil and the error. */
static int push_reply(lua_State *L, cJSON *reply)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(reply, "value");
    const char *b64;

    if (!v || cJSON_IsNull(v)) {
        const char *e = ag_json_str(reply, "error");
        lua_pushnil(L);
        lua_pushstring(L, e ? e : "the request failed");
        cJSON_Delete(reply);
        return 2;
    }
    ag_json_push(L, v);
    if ((b64 = ag_json_str(v, "body_base64"))) {
        luaL_Buffer b;
        unsigned acc = 0;
        int bits = 0;
        luaL_buffinit(L, &b);
        for (const char *p = b64; *p; p++) {
            int x = b64val((unsigned char)*p);
            if (x < 0)
                continue;
            acc = (acc << 6) | (unsigned)x;
            bits += 6;
            if (bits >= 8) {
                bits -= 8;
                luaL_addchar(&b, (char)((acc >> bits) & 0xFF));
            }
        }
        luaL_pushresult(&b);
        lua_setfield(L, -2, "body");
        lua_pushnil(L);
        lua_setfield(L, -2, "body_base64");
    }
    cJSON_Delete(reply);
    return 1;
}

/* http.request{...} and smtp.send{...}: the broker (agent/broker.h). */
static int broker_call(lua_State *L, const char *op)
{
    char err[300];
    cJSON *params;

    luaL_checktype(L, 1, LUA_TTABLE);
    if (ag_json_from_lua(L, 1, &params, err, sizeof err) < 0 ||
        !cJSON_IsObject(params)) {
        cJSON_Delete(params);
        return luaL_error(L, "%s: %s", op,
                          params ? "expects a table of named fields" : err);
    }
    return push_reply(L, rpc(op, params));
}

static int l_http_request(lua_State *L)
{
    return broker_call(L, "http");
}

static int l_smtp_send(lua_State *L)
{
    return broker_call(L, "smtp");
}

static void open_broker(lua_State *L)
{
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, l_http_request);
    lua_setfield(L, -2, "request");
    lua_setglobal(L, "http");
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, l_smtp_send);
    lua_setfield(L, -2, "send");
    lua_setglobal(L, "smtp");
}

static void send_error(int fd, double id, const char *message,
                       const char *verdict)
{
    cJSON *m = cJSON_CreateObject();

    cJSON_AddStringToObject(m, "type", "error");
    cJSON_AddNumberToObject(m, "id", id);
    cJSON_AddStringToObject(m, "message", message);
    if (verdict)
        cJSON_AddStringToObject(m, "verdict", verdict);
    if (ag_ipc_send(fd, m) < 0)
        _exit(5);
    cJSON_Delete(m);
}

static const struct ag_tool_code *find_code(const struct ag_tool_code *code,
                                            int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(code[i].name, name) == 0)
            return &code[i];
    return NULL;
}

/* What run_call needs; passed as a light userdata. */
struct call_ctx {
    const char *tool, *fn;
    const char *chunk;
    size_t len;
    int binary;
    const cJSON *args;
    const cJSON *options;
    const cJSON *context;
    double id;
};

/* Protected: loads the tool, finds its run function and calls it with
 * (args, ctx). Leaves run's first two results. */
static int run_call(lua_State *L)
{
    struct call_ctx *cc = lua_touserdata(L, 1);
    char name[128];

    lua_settop(L, 0);
    snprintf(name, sizeof name, "=%s.lua", cc->tool);
    if (luaL_loadbufferx(L, cc->chunk, cc->len, name, cc->binary ? "b" : "t") !=
        LUA_OK)
        return lua_error(L);
    lua_call(L, 0, 1);
    if (!lua_istable(L, 1))
        return luaL_error(L, "%s: the tool file must return a table", cc->tool);
    if (cc->fn) {
        if (lua_getfield(L, 1, "functions") != LUA_TTABLE ||
            lua_getfield(L, -1, cc->fn) != LUA_TTABLE)
            return luaL_error(L, "%s: no function \"%s\"", cc->tool, cc->fn);
    }
    if (lua_getfield(L, -1, "run") != LUA_TFUNCTION)
        return luaL_error(L, "%s%s%s: run is not a function", cc->tool,
                          cc->fn ? "." : "", cc->fn ? cc->fn : "");
    ag_json_push(L, cc->args);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_newtable(L);
    }
    lua_createtable(L, 0, 3);
    lua_pushstring(L, cc->tool);
    lua_setfield(L, -2, "tool");
    if (cc->fn) {
        lua_pushstring(L, cc->fn);
        lua_setfield(L, -2, "fn");
    }
    lua_pushinteger(L, (lua_Integer)cc->id);
    lua_setfield(L, -2, "call_id");
    if (cJSON_IsObject(cc->options))
        ag_json_push(L, cc->options);
    else
        lua_newtable(L);
    lua_setfield(L, -2, "options");
    for (const cJSON *f = cJSON_IsObject(cc->context) ? cc->context->child
                                                      : NULL;
         f; f = f->next) {
        ag_json_push(L, f);
        lua_setfield(L, -2, f->string);
    }
    lua_call(L, 2, 2);
    return 2;
}

static void handle_call(int fd, const cJSON *msg,
                        const struct ag_tool_code *code, int ncode)
{
    const cJSON *jid = cJSON_GetObjectItemCaseSensitive(msg, "id");
    const cJSON *lim = cJSON_GetObjectItemCaseSensitive(msg, "limits");
    const char *src = ag_json_str(msg, "source");
    const struct ag_tool_code *c;
    static char *arena;
    struct ag_lua_limits limits;
    struct ag_lua_alloc alloc = {0};
    struct call_ctx cc;
    size_t max_out;
    char err[600];
    lua_State *L;
    cJSON *reply, *value = NULL;
    char *text;
    int rc;

    memset(&cc, 0, sizeof cc);
    cc.id = cJSON_IsNumber(jid) ? jid->valuedouble : 0;
    cc.tool = ag_json_str(msg, "tool");
    cc.fn = ag_json_str(msg, "fn");
    cc.args = cJSON_GetObjectItemCaseSensitive(msg, "args");
    cc.options = cJSON_GetObjectItemCaseSensitive(msg, "options");
    cc.context = cJSON_GetObjectItemCaseSensitive(msg, "context");
    if (!cc.tool) {
        send_error(fd, cc.id, "call without a tool name", NULL);
        return;
    }
    if ((c = find_code(code, ncode, cc.tool))) {
        cc.chunk = c->chunk;
        cc.len = c->len;
        cc.binary = c->binary;
    } else if (src) {
        cc.chunk = src;
        cc.len = strlen(src);
    } else {
        snprintf(err, sizeof err, "unknown tool \"%s\"", cc.tool);
        send_error(fd, cc.id, err, NULL);
        return;
    }
    limits.memory = (size_t)ag_json_num(lim, "memory", 64 << 20);
    limits.instructions = (long)ag_json_num(lim, "instructions", 0);
    max_out = (size_t)ag_json_num(lim, "output", 1 << 20);
    if (!arena && ARENA_SIZE)
        arena = malloc(ARENA_SIZE);
    alloc.arena = arena;
    alloc.arena_cap = arena ? ARENA_SIZE : 0;
    if (!(L = ag_lua_sandbox_new(&limits, &alloc))) {
        send_error(fd, cc.id, "tool exceeded its memory limit", "memory");
        return;
    }
    lua_pushcfunction(L, l_log);
    lua_setglobal(L, "log");
    lua_pushcfunction(L, l_log);
    lua_setglobal(L, "print");
    open_broker(L);
    ag_html_open(L);
    lua_setglobal(L, "html");

    lua_pushcfunction(L, run_call);
    lua_pushlightuserdata(L, &cc);
    rc = lua_pcall(L, 1, 2, 0);
    if (rc != LUA_OK || alloc.refused || ag_lua_limit_hit(L)) {
        const char *verdict = NULL;
        if (alloc.refused) {
            snprintf(err, sizeof err,
                     "tool exceeded its memory limit (%zu bytes)",
                     limits.memory);
            verdict = "memory";
        } else if (ag_lua_limit_hit(L)) {
            snprintf(err, sizeof err,
                     "tool exceeded its instruction limit (%ld)",
                     limits.instructions);
            verdict = "cpu";
        } else {
            const char *m = lua_tostring(L, -1);
            snprintf(err, sizeof err, "%s",
                     m ? m : "error object is not a string");
        }
        lua_close(L);
        send_error(fd, cc.id, err, verdict);
        return;
    }
    /* run returned (value) or (nil, message) */
    if (lua_isnil(L, -2) && !lua_isnil(L, -1)) {
        const char *m = luaL_tolstring(L, -1, NULL);
        snprintf(err, sizeof err, "%s", m);
        lua_close(L);
        send_error(fd, cc.id, err, NULL);
        return;
    }
    rc = ag_json_from_lua(L, -2, &value, err, sizeof err);
    lua_close(L);
    if (rc < 0) {
        char m[700];
        snprintf(m, sizeof m, "tool result cannot be sent as JSON: %s", err);
        send_error(fd, cc.id, m, NULL);
        return;
    }
    reply = cJSON_CreateObject();
    cJSON_AddStringToObject(reply, "type", "result");
    cJSON_AddNumberToObject(reply, "id", cc.id);
    cJSON_AddItemToObject(reply, "value", value);
    text = cJSON_PrintUnformatted(reply);
    cJSON_Delete(reply);
    if (!text) {
        send_error(fd, cc.id, "tool exceeded its memory limit", "memory");
        return;
    }
    if (strlen(text) > max_out + 64) {
        free(text);
        snprintf(err, sizeof err, "tool output exceeded %zu bytes", max_out);
        send_error(fd, cc.id, err, "output");
        return;
    }
    rc = ag_ipc_send_raw(fd, text, strlen(text));
    free(text);
    if (rc < 0)
        _exit(5);
}

void ag_worker_main(int fd, const struct ag_tool_code *code, int ncode)
{
    worker_fd = fd;
    for (;;) {
        cJSON *msg = NULL;
        int rc = ag_ipc_recv(fd, AG_IPC_MAX_FRAME, &msg);

        if (rc == 0)
            _exit(0);
        if (rc < 0)
            _exit(2);
        if (strcmp(ag_ipc_type(msg), "call") != 0)
            _exit(3);
        handle_call(fd, msg, code, ncode);
        cJSON_Delete(msg);
    }
}
