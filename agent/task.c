/*
 * task.c: loading a task file and adjusting the task afterwards (DESIGN §3;
 * contract in task.h).
 *
 * The file is trusted Lua: it runs in a fresh lua_State with the standard
 * libraries, loaded as text only ("@path" as chunk name, so Lua's own
 * "path:line: message" form comes through), under a message handler that
 * adds no traceback. The returned table is then walked by
 * ag__task_check_table() (task-check.c), itself run under lua_pcall so that
 * a memory error inside Lua cannot escape. Everything the walk keeps is
 * copied into the struct ag_task, which owns it; on failure that struct is
 * freed whole.
 *
 * This file also holds what the walk shares with ag_task_set_model and
 * ag_task_check (declared in task-private.h): messages that start with the
 * path, strings quoted so that a reader can retype them, and the reading of
 * "PROVIDER:NAME" model specs.
 */
#include "task.h"
#include "task-private.h"

#include "ag.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>
#include <lualib.h>

#define TASK_MAX_BYTES (1024 * 1024) /* a task file is small text */
#define SHOW_MAX       40            /* bytes of a string shown in a message */

static const char *const providers[] = {"openai", "anthropic", "script"};

/* ---- messages ----------------------------------------------------------- */

/* Writes "<path>: <message>" and returns AG_ETASK. */
int ag__task_fail(struct ag__task_loader *ld, const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ag_seterr(ld->err, ld->errlen, "%s: %s", ld->path, msg);
    return AG_ETASK;
}

/* Quotes n bytes of s the way a reader can retype them, cut at SHOW_MAX bytes
 * (on a UTF-8 boundary) with "..." inside the quotes. buf holds
 * AG__TASK_SHOW_BUF bytes. */
const char *ag__task_show_str(const char *s, size_t n, char *buf)
{
    size_t cut = n, o = 0, i;

    if (n > SHOW_MAX) {
        cut = SHOW_MAX;
        while (cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80)
            cut--;
    }
    buf[o++] = '"';
    for (i = 0; i < cut; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"' || c == '\\')
            o += (size_t)sprintf(buf + o, "\\%c", c);
        else if (c == '\n')
            o += (size_t)sprintf(buf + o, "\\n");
        else if (c == '\t')
            o += (size_t)sprintf(buf + o, "\\t");
        else if (c < 0x20 || c == 0x7F)
            o += (size_t)sprintf(
                buf + o,
                i + 1 < cut && s[i + 1] >= '0' && s[i + 1] <= '9' ? "\\%03u"
                                                                  : "\\%u",
                c);
        else
            buf[o++] = (char)c;
    }
    if (cut < n)
        o += (size_t)sprintf(buf + o, "...");
    buf[o++] = '"';
    buf[o] = '\0';
    return buf;
}

/* ---- paths and model specs ---------------------------------------------- */

int ag__task_is_provider(const char *s)
{
    size_t i;

    for (i = 0; s && i < AG_ARRAY_SIZE(providers); i++)
        if (strcmp(s, providers[i]) == 0)
            return 1;
    return 0;
}

/* file relative to dir unless absolute or dir is NULL or ".". */
char *ag__task_join_path(const char *dir, const char *file)
{
    if (file[0] == '/' || !dir || strcmp(dir, ".") == 0)
        return ag_xstrdup(file);
    return ag_xasprintf("%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
                        file);
}

static char *dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');

    if (!slash)
        return ag_xstrdup(".");
    if (slash == path)
        return ag_xstrdup("/");
    return ag_xstrndup(path, (size_t)(slash - path));
}

static char *default_name(const char *path)
{
    const char *base = strrchr(path, '/');
    size_t n;

    base = base ? base + 1 : path;
    n = strlen(base);
    if (n > 4 && strcmp(base + n - 4, ".lua") == 0)
        n -= 4;
    return ag_xstrndup(base, n);
}

/* Parses "PROVIDER:NAME" (the name may hold further colons, as Ollama's and
 * fine-tuned model names do). A script NAME is a path taken relative to dir.
 * On failure writes a message that reads after the word "model". */
int ag__task_parse_spec(const char *spec, const char *dir, char **provider,
                        char **model, char **script, char *msg, size_t len)
{
    const char *colon = strchr(spec, ':');
    char buf[AG__TASK_SHOW_BUF];
    char *p;

    if (!colon) {
        ag_seterr(msg, len,
                  "must be PROVIDER:NAME, e.g. openai:gpt-4o-mini (got %s)",
                  ag__task_show_str(spec, strlen(spec), buf));
        return AG_ETASK;
    }
    p = ag_xstrndup(spec, (size_t)(colon - spec));
    if (!ag__task_is_provider(p)) {
        ag_seterr(msg, len,
                  "provider must be one of " AG__TASK_PROVIDER_LIST " (got %s)",
                  ag__task_show_str(p, strlen(p), buf));
        free(p);
        return AG_ETASK;
    }
    if (!colon[1]) {
        ag_seterr(msg, len, "needs a %s after \"%s:\"",
                  strcmp(p, "script") == 0 ? "file" : "name", p);
        free(p);
        return AG_ETASK;
    }
    *provider = p;
    if (strcmp(p, "script") == 0) {
        *model = NULL;
        *script = ag__task_join_path(dir, colon + 1);
    } else {
        *model = ag_xstrdup(colon + 1);
        *script = NULL;
    }
    return 0;
}

/* ---- running the file --------------------------------------------------- */

/* Message handler: keeps Lua's "file:line: message", adds no traceback. */
static int msgh(lua_State *L)
{
    if (lua_tostring(L, 1))
        return 1;
    if (luaL_callmeta(L, 1, "__tostring") && lua_type(L, -1) == LUA_TSTRING)
        return 1;
    lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    return 1;
}

static int open_libs(lua_State *L)
{
    luaL_openlibs(L);
    return 0;
}

/* Reports the Lua error message at the top of the stack so that it starts
 * with the path as given: Lua shortens long chunk names to "...tail", which
 * is put back whole; a message without a location gets "path: ". */
static int lua_fail(struct ag__task_loader *ld)
{
    const char *msg = lua_tostring(ld->L, -1), *colon;
    size_t plen = strlen(ld->path);

    if (!msg)
        msg = "unknown Lua error";
    if (strncmp(msg, ld->path, plen) == 0 && msg[plen] == ':') {
        ag_seterr(ld->err, ld->errlen, "%s", msg);
    } else if (strncmp(msg, "...", 3) == 0 && (colon = strchr(msg, ':')) &&
               (size_t)(colon - msg - 3) <= plen &&
               strncmp(ld->path + plen - (size_t)(colon - msg - 3), msg + 3,
                       (size_t)(colon - msg - 3)) == 0) {
        ag_seterr(ld->err, ld->errlen, "%s%s", ld->path, colon);
    } else {
        ag_seterr(ld->err, ld->errlen, "%s: %s", ld->path, msg);
    }
    return AG_ETASK;
}

static int run_file(struct ag__task_loader *ld, const char *text, size_t len)
{
    lua_State *L = ld->L;
    char *chunk = ag_xasprintf("@%s", ld->path);
    int rc;

    lua_pushcfunction(L, msgh); /* index 1 */
    rc = luaL_loadbufferx(L, text, len, chunk, "t");
    free(chunk);
    if (rc != LUA_OK || lua_pcall(L, 0, 1, 1) != LUA_OK)
        return lua_fail(ld);
    /* the returned value is at index 2 */
    lua_pushcfunction(L, ag__task_check_table);
    lua_pushlightuserdata(L, ld);
    lua_pushvalue(L, 2);
    if (lua_pcall(L, 2, 0, 1) != LUA_OK)
        return lua_fail(ld);
    return ld->rc;
}

static void set_defaults(struct ag_task *t, const char *path)
{
    t->path = ag_xstrdup(path);
    t->dir = dir_of(path);
    t->name = default_name(path);
    t->stream = 1;
    t->temperature = -1;
    t->price_in = -1;
    t->price_out = -1;
    t->limits.steps = 20;
    t->limits.tokens = 0;
    t->limits.seconds = 600;
    t->limits.cost = 0;
    t->limits.repeat_calls = 3;
}

int ag_task_load(const char *path, struct ag_task **out, char *err,
                 size_t errlen)
{
    struct ag__task_loader ld = {NULL, path, NULL, err, errlen, 0};
    struct stat st;
    char *text;
    size_t len;
    int rc;

    *out = NULL;
    ag_seterr(err, errlen, "%s", "");
    rc = ag_read_file(path, TASK_MAX_BYTES, &text, &len);
    if (rc == -EIO && stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        rc = -EISDIR;
    if (rc == AG_ETOOBIG)
        return ag__task_fail(&ld, "cannot read: larger than %d bytes",
                             TASK_MAX_BYTES);
    if (rc < 0) {
        ag__task_fail(&ld, "cannot read: %s", ag_strerror(rc));
        return rc;
    }
    rc = ag_task_load_text(path, text, len, out, err, errlen);
    free(text);
    return rc;
}

int ag_task_load_text(const char *path, const char *text, size_t len,
                      struct ag_task **out, char *err, size_t errlen)
{
    struct ag__task_loader ld = {NULL, path, NULL, err, errlen, 0};
    int rc;

    *out = NULL;
    ag_seterr(err, errlen, "%s", "");
    if (len > TASK_MAX_BYTES)
        return ag__task_fail(&ld, "larger than %d bytes", TASK_MAX_BYTES);
    if (!(ld.L = luaL_newstate())) {
        ag__task_fail(&ld, "cannot create a Lua state: %s", strerror(ENOMEM));
        return -ENOMEM;
    }
    ld.t = ag_xcalloc(1, sizeof *ld.t);
    set_defaults(ld.t, path);
    ld.t->source = ag_xstrndup(text, len);
    ld.t->source_len = len;
    lua_pushcfunction(ld.L, open_libs);
    if (lua_pcall(ld.L, 0, 0, 0) != LUA_OK)
        rc = lua_fail(&ld);
    else
        rc = run_file(&ld, text, len);
    lua_close(ld.L);
    if (rc < 0) {
        ag_task_free(ld.t);
        return rc;
    }
    *out = ld.t;
    return 0;
}

/* ---- after the command line --------------------------------------------- */

int ag_task_set_model(struct ag_task *t, const char *spec, char *err,
                      size_t errlen)
{
    char *provider, *model, *script, msg[512];
    int same_provider, same_model;

    if (ag__task_parse_spec(spec, NULL, &provider, &model, &script, msg,
                            sizeof msg) < 0) {
        ag_seterr(err, errlen, "model %s", msg);
        return AG_ETASK;
    }
    same_provider = t->provider && strcmp(t->provider, provider) == 0;
    same_model =
        same_provider && ((!t->model && !model) ||
                          (t->model && model && strcmp(t->model, model) == 0));
    if (!same_provider) {
        /* endpoint and key belong to the provider they were given for */
        free(t->base_url);
        free(t->api_key);
        t->base_url = t->api_key = NULL;
    }
    if (!same_model)
        t->price_in = t->price_out = -1; /* prices belong to the model */
    free(t->provider);
    free(t->model);
    free(t->script);
    t->provider = provider;
    t->model = model;
    t->script = script;
    return 0;
}

int ag_task_check(const struct ag_task *t, char *err, size_t errlen)
{
    char buf[AG__TASK_SHOW_BUF];
    struct stat st;

    if (!t->provider || !ag__task_is_provider(t->provider)) {
        ag_seterr(err, errlen,
                  "model provider must be one of " AG__TASK_PROVIDER_LIST
                  " (got %s)",
                  t->provider
                      ? ag__task_show_str(t->provider, strlen(t->provider), buf)
                      : "nil");
        return AG_ETASK;
    }
    if (strcmp(t->provider, "script") == 0) {
        if (!t->script || !*t->script) {
            ag_seterr(err, errlen, "provider script needs a model file");
            return AG_ETASK;
        }
        if (t->replaying)
            return 0; /* the log answers: the file need not be there now */
        if (stat(t->script, &st) < 0 || access(t->script, R_OK) < 0) {
            ag_seterr(err, errlen, "cannot read script model %s: %s", t->script,
                      strerror(errno));
            return AG_ETASK;
        }
        if (!S_ISREG(st.st_mode)) {
            ag_seterr(err, errlen, "cannot read script model %s: %s", t->script,
                      strerror(S_ISDIR(st.st_mode) ? EISDIR : EINVAL));
            return AG_ETASK;
        }
    } else if (!t->model || !*t->model) {
        ag_seterr(err, errlen, "provider %s needs a model name", t->provider);
        return AG_ETASK;
    }
    return 0;
}

void ag_task_free(struct ag_task *t)
{
    int i;

    if (!t)
        return;
    free(t->source);
    free(t->audit_file);
    free(t->audit_content);
    free(t->audit_fsync);
    for (i = 0; i < t->ntools; i++) {
        free(t->tools[i].name);
        cJSON_Delete(t->tools[i].opts);
    }
    free(t->tools);
    for (i = 0; i < t->napprove; i++)
        free(t->approve[i]);
    free(t->approve);
    for (i = 0; i < t->napprove_tainted; i++)
        free(t->approve_tainted[i]);
    free(t->approve_tainted);
    for (i = 0; i < t->nsecrets; i++)
        free(t->secrets[i]);
    free(t->secrets);
    free(t->path);
    free(t->dir);
    free(t->name);
    free(t->system);
    free(t->goal);
    free(t->provider);
    free(t->model);
    free(t->script);
    free(t->base_url);
    free(t->api_key);
    free(t);
}
