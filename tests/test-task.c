/*
 * test-task.c: the task file loader (agent/task.c). Good files are checked
 * field by field; broken ones are data: every tests/data/tasks/bad-*.lua
 * starts with a line "-- expect: MESSAGE" and must fail with exactly
 * "<path>: MESSAGE" (or "<path>:MESSAGE" when MESSAGE starts with a line
 * number, as Lua's own errors do). Then the cases that need a file made at
 * run time (a binary chunk, a path longer than Lua keeps), and the
 * command-line side: ag_task_set_model and ag_task_check.
 *
 * Data is found under $SRCDIR (default ".").
 */
#include "ag.h"
#include "task.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lua.h>

#include "tap.h"

static const char *srcdir;

static char *data(const char *name)
{
    return ag_xasprintf("%s/tests/data/tasks/%s", srcdir, name);
}

/* Loads a good fixture; NULL (and a failed check) when it does not load. */
static struct ag_task *load_ok(const char *name)
{
    struct ag_task *t = NULL;
    char err[512], *path = data(name);
    int rc = ag_task_load(path, &t, err, sizeof err);

    if (!ok(rc == 0 && t, name))
        printf("#   rc %d: %s\n", rc, err);
    free(path);
    return t;
}

static void test_full(void)
{
    struct ag_task *t = load_ok("full.lua");
    char *dir = data(""), *opts;

    if (!t)
        return;
    dir[strlen(dir) - 1] = '\0';
    is_str(t->dir, dir, "full: dir is the file's directory");
    is_str(t->name, "trip", "full: name");
    is_str(t->system, "You are a travel assistant.", "full: system");
    has_str(t->goal, "SFO to JFK", "full: goal");
    is_str(t->provider, "openai", "full: provider");
    is_str(t->model, "gpt-4o", "full: model name");
    ok(t->script == NULL, "full: no script");
    is_str(t->base_url, "http://127.0.0.1:8080/v1", "full: base_url");
    is_str(t->api_key, "sk-test", "full: api_key");
    is_int(t->stream, 0, "full: stream = false");
    is_int(t->context, 128000, "full: context");
    is_int(t->max_tokens, 1024, "full: max_tokens");
    ok(t->temperature == 0.2, "full: temperature");
    ok(t->price_in == 0.15 && t->price_out == 0.6, "full: price");
    is_int(t->limits.steps, 12, "full: steps given as 12.0");
    is_int(t->limits.tokens, 50000, "full: tokens");
    ok(t->limits.seconds == 120.5, "full: seconds");
    ok(t->limits.cost == 0.5, "full: cost");
    is_int(t->limits.repeat_calls, 0, "full: repeat_calls = 0");

    /* list entries in order, then keyed ones sorted by name */
    is_int(t->ntools, 4, "full: four tools");
    if (t->ntools == 4) {
        is_str(t->tools[0].name, "booking", "full: tools[0] booking");
        is_str(t->tools[1].name, "email", "full: tools[1] email");
        is_str(t->tools[2].name, "calc", "full: tools[2] calc");
        is_str(t->tools[3].name, "web_fetch", "full: tools[3] web_fetch");
        ok(!t->tools[0].opts && !t->tools[1].opts,
           "full: list entries have no options");
        opts = cJSON_PrintUnformatted(t->tools[3].opts);
        is_str(opts, "{\"allow_hosts\":[\"example.org\"]}",
               "full: web_fetch options as JSON");
        free(opts);
        opts = cJSON_PrintUnformatted(t->tools[2].opts);
        is_str(opts, "{\"timeout\":2}", "full: calc options as JSON");
        free(opts);
    }
    is_int(t->napprove, 2, "full: two approvals");
    if (t->napprove == 2) {
        is_str(t->approve[0], "booking.book_reservation", "full: approve[0]");
        is_str(t->approve[1], "email", "full: approve[1]");
    }
    is_int(t->nsecrets, 2, "full: two secrets");
    if (t->nsecrets == 2)
        is_str(t->secrets[1], "s3cr3t", "full: secrets[1]");
    ag_task_free(t);
    free(dir);
}

static void test_defaults(void)
{
    struct ag_task *t;

    unsetenv("AGENT_MODEL");
    if (!(t = load_ok("minimal.lua")))
        return;
    is_str(t->name, "minimal", "defaults: name from the file name");
    ok(t->system == NULL, "defaults: no system prompt");
    is_str(t->provider, "openai", "defaults: provider openai");
    is_str(t->model, "gpt-4o-mini", "defaults: model gpt-4o-mini");
    ok(!t->script && !t->base_url && !t->api_key,
       "defaults: no script, base_url, api_key");
    is_int(t->stream, 1, "defaults: stream");
    is_int(t->context, 0, "defaults: context");
    is_int(t->max_tokens, 0, "defaults: max_tokens");
    ok(t->temperature < 0, "defaults: temperature not sent");
    ok(t->price_in == -1 && t->price_out == -1, "defaults: price -1");
    is_int(t->limits.steps, 20, "defaults: steps 20");
    is_int(t->limits.tokens, 0, "defaults: tokens 0");
    ok(t->limits.seconds == 600, "defaults: seconds 600");
    ok(t->limits.cost == 0, "defaults: cost 0");
    is_int(t->limits.repeat_calls, 3, "defaults: repeat_calls 3");
    ok(t->ntools == 0 && t->napprove == 0 && t->nsecrets == 0,
       "defaults: no tools, approvals or secrets");
    ag_task_free(t);

    setenv("AGENT_MODEL", "llama3:8b", 1);
    if ((t = load_ok("minimal.lua")))
        is_str(t->model, "llama3:8b", "defaults: model from AGENT_MODEL");
    ag_task_free(t);
    unsetenv("AGENT_MODEL");
}

static void test_shorthand(void)
{
    struct ag_task *t;
    char *want;

    if ((t = load_ok("shorthand.lua"))) {
        is_str(t->provider, "anthropic", "shorthand: provider");
        is_str(t->model, "claude-sonnet-4-5", "shorthand: name");
    }
    ag_task_free(t);

    if ((t = load_ok("shorthand-script.lua"))) {
        want = data("model.lua");
        is_str(t->provider, "script", "shorthand script: provider");
        ok(t->model == NULL, "shorthand script: no model name");
        is_str(t->script, want, "shorthand script: path next to the task");
        free(want);
    }
    ag_task_free(t);

    if ((t = load_ok("script.lua"))) {
        want = data("model.lua");
        is_str(t->script, want, "script table: path next to the task");
        free(want);
    }
    ag_task_free(t);
}

static void test_env(void)
{
    struct ag_task *t;

    setenv("AG_TEST_TASK_GOAL", "from the environment", 1);
    if ((t = load_ok("env.lua"))) {
        is_str(t->goal, "FROM THE ENVIRONMENT", "env: os.getenv and string");
        is_int(t->limits.steps, 10, "env: computed value");
    }
    ag_task_free(t);
    unsetenv("AG_TEST_TASK_GOAL");
}

static int is_bad_fixture(const struct dirent *d)
{
    size_t n = strlen(d->d_name);

    return strncmp(d->d_name, "bad-", 4) == 0 && n > 4 &&
           strcmp(d->d_name + n - 4, ".lua") == 0;
}

/* Every bad-*.lua must fail with the message on its first line. */
static void test_bad_fixtures(void)
{
    static const char tag[] = "-- expect: ";
    struct dirent **list = NULL;
    char *dir = data(""), *path, *text, *nl, want[600], err[600], name[300];
    struct ag_task *t;
    int n, i, rc;

    n = scandir(dir, &list, is_bad_fixture, alphasort);
    ok(n >= 40, "bad fixtures found");
    for (i = 0; i < n; i++) {
        path = data(list[i]->d_name);
        if (ag_read_file(path, 65536, &text, NULL) < 0 ||
            strncmp(text, tag, strlen(tag)) != 0) {
            ok(0, list[i]->d_name);
            tap_diag("no \"-- expect: \" first line");
            free(path);
            free(list[i]);
            continue;
        }
        if ((nl = strchr(text, '\n')))
            *nl = '\0';
        snprintf(want, sizeof want, "%s%s%s", path,
                 text[strlen(tag)] >= '0' && text[strlen(tag)] <= '9' ? ":"
                                                                      : ": ",
                 text + strlen(tag));
        t = (struct ag_task *)1;
        rc = ag_task_load(path, &t, err, sizeof err);
        snprintf(name, sizeof name, "%s: fails with AG_ETASK, no task",
                 list[i]->d_name);
        ok(rc == AG_ETASK && t == NULL, name);
        snprintf(name, sizeof name, "%s: message", list[i]->d_name);
        is_str(err, want, name);
        free(text);
        free(path);
        free(list[i]);
    }
    free(list);
    free(dir);
}

static void test_missing(void)
{
    struct ag_task *t = (struct ag_task *)1;
    char err[512], want[600], *path = data("no-such-task.lua");
    int rc;

    rc = ag_task_load(path, &t, err, sizeof err);
    is_int(rc, -ENOENT, "missing file: -ENOENT");
    ok(t == NULL, "missing file: no task");
    snprintf(want, sizeof want, "%s: cannot read: No such file or directory",
             path);
    is_str(err, want, "missing file: message");
    free(path);

    path = data("");
    rc = ag_task_load(path, &t, err, sizeof err);
    is_int(rc, -EISDIR, "directory: -EISDIR");
    has_str(err, "cannot read: Is a directory", "directory: message");
    free(path);

    rc = ag_task_load("no-such-task.lua", &t, NULL, 0);
    is_int(rc, -ENOENT, "missing file: no error buffer is fine");
}

static int write_chunk(lua_State *L, const void *p, size_t n, void *ud)
{
    AG_UNUSED(L);
    return fwrite(p, 1, n, ud) != n;
}

/* Files made at run time in a temporary directory. */
static void test_runtime_files(void)
{
    char tmp[] = "/tmp/test-task-XXXXXX", err[512], want[700];
    char *path, *deep, *deeppath;
    struct ag_task *t;
    lua_State *L;
    FILE *f;
    int rc;

    if (!mkdtemp(tmp)) {
        ok(0, "mkdtemp");
        return;
    }

    /* a precompiled chunk is refused: mode "t" */
    path = ag_xasprintf("%s/binary.lua", tmp);
    L = luaL_newstate();
    f = fopen(path, "wb");
    if (L && f && luaL_loadstring(L, "return { goal = 'g' }") == LUA_OK)
        lua_dump(L, write_chunk, f, 1);
    if (f)
        fclose(f);
    if (L)
        lua_close(L);
    rc = ag_task_load(path, &t, err, sizeof err);
    is_int(rc, AG_ETASK, "binary chunk: refused");
    snprintf(want, sizeof want,
             "%s: attempt to load a binary chunk (mode is 't')", path);
    is_str(err, want, "binary chunk: message");
    unlink(path);
    free(path);

    /* Lua shortens long chunk names; the message still has the full path */
    deep = ag_xasprintf("%s/a-directory-name-long-enough-that-lua-shortens-"
                        "the-chunk-name-in-its-messages",
                        tmp);
    deeppath = ag_xasprintf("%s/t.lua", deep);
    mkdir(deep, 0700);
    if ((f = fopen(deeppath, "w"))) {
        fputs("return {\n  goal = 'g' x\n}\n", f);
        fclose(f);
    }
    rc = ag_task_load(deeppath, &t, err, sizeof err);
    is_int(rc, AG_ETASK, "long path: fails");
    snprintf(want, sizeof want,
             "%s:2: '}' expected (to close '{' at line 1) "
             "near 'x'",
             deeppath);
    is_str(err, want, "long path: full path in the message");
    unlink(deeppath);
    rmdir(deep);
    free(deeppath);
    free(deep);

    /* a file in the current directory: dir ".", name from the file */
    path = ag_xasprintf("%s/cwd-task.lua", tmp);
    if ((f = fopen(path, "w"))) {
        fputs("return { goal = 'g', model = 'script:m.lua' }\n", f);
        fclose(f);
    }
    if (chdir(tmp) == 0) {
        rc = ag_task_load("cwd-task.lua", &t, err, sizeof err);
        is_int(rc, 0, "file in cwd: loads");
        if (rc == 0) {
            is_str(t->dir, ".", "file in cwd: dir is .");
            is_str(t->name, "cwd-task", "file in cwd: name");
            is_str(t->script, "m.lua", "file in cwd: script path as given");
            ag_task_free(t);
        }
    }
    unlink(path);
    free(path);
    rmdir(tmp);
}

static void test_set_model(void)
{
    struct ag_task *t = load_ok("full.lua");
    char err[512];
    int rc;

    if (!t)
        return;
    rc = ag_task_set_model(t, "openai:gpt-4.1", err, sizeof err);
    is_int(rc, 0, "set_model: openai");
    is_str(t->model, "gpt-4.1", "set_model: new name");
    is_str(t->base_url, "http://127.0.0.1:8080/v1",
           "set_model: same provider keeps base_url");
    ok(t->price_in == -1 && t->price_out == -1,
       "set_model: another model drops the task's price");

    rc = ag_task_set_model(t, "anthropic:claude-sonnet-4-5", err, sizeof err);
    is_int(rc, 0, "set_model: anthropic");
    is_str(t->provider, "anthropic", "set_model: provider");
    ok(!t->base_url && !t->api_key,
       "set_model: another provider drops base_url and api_key");

    rc = ag_task_set_model(t, "openai:ft:gpt-4o:acme::x1", err, sizeof err);
    is_str(t->model, "ft:gpt-4o:acme::x1", "set_model: name keeps colons");

    rc = ag_task_set_model(t, "script:tests/model.lua", err, sizeof err);
    is_int(rc, 0, "set_model: script");
    ok(t->model == NULL, "set_model: script has no model name");
    is_str(t->script, "tests/model.lua", "set_model: script path as given");

    rc = ag_task_set_model(t, "ollama:llama3", err, sizeof err);
    is_int(rc, AG_ETASK, "set_model: unknown provider fails");
    is_str(err,
           "model provider must be one of openai, anthropic, script (got "
           "\"ollama\")",
           "set_model: unknown provider lists the known ones");
    is_str(t->provider, "script", "set_model: failure changes nothing");

    rc = ag_task_set_model(t, "gpt-4o", err, sizeof err);
    is_int(rc, AG_ETASK, "set_model: missing colon fails");
    is_str(err,
           "model must be PROVIDER:NAME, e.g. openai:gpt-4o-mini (got "
           "\"gpt-4o\")",
           "set_model: missing colon gives an example");

    rc = ag_task_set_model(t, "script:", err, sizeof err);
    is_int(rc, AG_ETASK, "set_model: empty script path fails");
    is_str(err, "model needs a file after \"script:\"",
           "set_model: empty script path message");
    ag_task_free(t);
}

static void test_check(void)
{
    struct ag_task *t = load_ok("minimal.lua");
    char err[512], *path, want[600];
    int rc;

    if (!t)
        return;
    is_int(ag_task_check(t, err, sizeof err), 0, "check: openai with a name");

    free(t->model);
    t->model = NULL;
    rc = ag_task_check(t, err, sizeof err);
    is_int(rc, AG_ETASK, "check: openai without a name fails");
    is_str(err, "provider openai needs a model name", "check: name message");

    free(t->provider);
    t->provider = ag_xstrdup("ollama");
    rc = ag_task_check(t, err, sizeof err);
    is_int(rc, AG_ETASK, "check: unknown provider fails");
    is_str(err,
           "model provider must be one of openai, anthropic, script (got "
           "\"ollama\")",
           "check: unknown provider message");
    ag_task_free(t);

    if ((t = load_ok("script.lua")))
        is_int(ag_task_check(t, err, sizeof err), 0,
               "check: script file exists");
    ag_task_free(t);

    if ((t = load_ok("minimal.lua"))) {
        path = data("no-such-model.lua");
        ag_task_set_model(t, "script:x", err, sizeof err);
        free(t->script);
        t->script = path;
        rc = ag_task_check(t, err, sizeof err);
        is_int(rc, AG_ETASK, "check: missing script file fails");
        snprintf(want, sizeof want,
                 "cannot read script model %s: No such file or directory",
                 path);
        is_str(err, want, "check: the message names the file");

        t->script = data("");
        free(path);
        rc = ag_task_check(t, err, sizeof err);
        is_int(rc, AG_ETASK, "check: a directory is no script file");
        has_str(err, "Is a directory", "check: directory message");
    }
    ag_task_free(t);
}

int main(void)
{
    srcdir = getenv("SRCDIR");
    if (!srcdir || !*srcdir)
        srcdir = ".";

    test_full();
    test_defaults();
    test_shorthand();
    test_env();
    test_bad_fixtures();
    test_missing();
    test_set_model();
    test_check();
    test_runtime_files(); /* last: it changes directory */
    ag_task_free(NULL);
    ok(1, "ag_task_free(NULL)");
    return tap_done();
}
