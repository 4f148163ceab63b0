/*
 * test-pool.c: the worker pool against real processes: a real zygote (this
 * test binary re-executed in zygote mode), real workers, real kills. Checks
 * results, tool errors, every limit's verdict, crash handling, replacement
 * of lost workers, the restricted Lua environment and per-call isolation.
 */
#include "pool.h"
#include "sandbox.h"
#include "tap.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

struct call {
    struct ag_job job;
    int finished, ok;
    char *value, *message, *verdict;
    int kill_on_log;
    struct ag_pool *pool;
};

static int pending;

static void on_done(struct ag_job *job, const struct ag_job_result *r)
{
    struct call *c = (struct call *)job;

    c->finished = 1;
    c->ok = r->ok;
    c->value = r->value ? strdup(r->value) : NULL;
    c->message = r->message ? strdup(r->message) : NULL;
    c->verdict = r->verdict ? strdup(r->verdict) : NULL;
    pending--;
}

static uv_timer_t killer; /* kills the worker once its pid is known */

static void on_killer(uv_timer_t *t)
{
    struct call *c = t->data;
    int pid = c->finished ? 0 : ag_pool_job_pid(&c->job);

    if (pid > 0 || c->finished) {
        if (pid > 0)
            kill(pid, SIGKILL);
        uv_timer_stop(t);
    }
}

static void on_log(struct ag_job *job, const char *msg)
{
    struct call *c = (struct call *)job;

    /* The zygote's "spawned" message may come after the worker's first
     * words, so the pid is polled for rather than read once. */
    if (c->kill_on_log && strcmp(msg, "started") == 0) {
        killer.data = c;
        uv_timer_start(&killer, on_killer, 0, 5);
    }
}

static void call_init(struct call *c, const char *tool, const char *args)
{
    memset(c, 0, sizeof *c);
    c->job.tool = tool;
    c->job.args = cJSON_Parse(args ? args : "{}");
    c->job.timeout = 5;
    c->job.done = on_done;
    c->job.log = on_log;
}

static void call_free(struct call *c)
{
    cJSON_Delete((cJSON *)c->job.args);
    free(c->value);
    free(c->message);
    free(c->verdict);
}

/* Runs one call to completion. */
static void run1(uv_loop_t *loop, struct ag_pool *p, struct call *c)
{
    pending++;
    ok(ag_pool_submit(p, &c->job) == 0, "submit");
    while (!c->finished)
        uv_run(loop, UV_RUN_ONCE);
}

static const char *TOOLS =
    "{"
    "\"echo\": \"return { run = function(a) return a end }\","
    "\"fail\": \"return { run = function(a) return nil, 'no such city: ' .. "
    "a.city end }\","
    "\"raise\": \"return { run = function(a) error('boom') end }\","
    "\"spin\": \"return { run = function(a) log('started') while true do end "
    "end }\","
    "\"spin_pcall\": \"return { run = function(a) while true do "
    "pcall(function()"
    " while true do end end) end end }\","
    "\"hog\": \"return { run = function(a) local t = {} for i = 1, 1e8 do t[i] "
    "= string.rep('x', 1000) .. i end end }\","
    "\"big\": \"return { run = function(a) return string.rep('y', 3000000) end "
    "}\","
    "\"env\": \"return { run = function(a) return { io = type(io), os_exec = "
    "type(os.execute), require = type(require), debug = type(debug), dofile ="
    " type(dofile), package = type(package), dump = type(string.dump), "
    "binload = select(2, load('\\\\27Lua')) or 'loaded', time = type(os.time) "
    "} end }\","
    "\"chatty\": \"return { run = function(a) log(string.rep('z', 3000000)) "
    "return 1 end }\","
    "\"counter\": \"return { run = function(a) counter = (counter or 0) + 1 "
    "return counter end }\","
    "\"family\": \"return { functions = { add = { run = function(a) return "
    "a.x + a.y end } } }\""
    "}";

int main(int argc, char **argv)
{
    uv_loop_t *loop = uv_default_loop();
    struct ag_pool *p = NULL;
    struct ag_pool_stats st;
    cJSON *tools;
    struct call c, many[40];

    if (argc > 1 && strcmp(argv[1], AG_ZYGOTE_ARG) == 0)
        return ag_zygote_main();
    signal(SIGPIPE, SIG_IGN);
    uv_timer_init(loop, &killer);
    tools = cJSON_Parse(TOOLS);
    ok(tools != NULL, "tool table parses");
    ok(ag_pool_new(loop, &(struct ag_pool_cfg){NULL, 2, 1 << 20}, tools, &p) ==
           0,
       "pool starts");

    call_init(&c, "echo", "{\"a\":[1,2],\"b\":\"x\"}");
    run1(loop, p, &c);
    ok(c.ok, "echo succeeds");
    is_str(c.value, "{\"a\":[1,2],\"b\":\"x\"}", "echo returns its arguments");
    call_free(&c);

    call_init(&c, "fail", "{\"city\":\"Atlantis\"}");
    run1(loop, p, &c);
    ok(!c.ok, "nil, message is an error");
    is_str(c.message, "no such city: Atlantis", "tool's own message");
    is_str(c.verdict, NULL, "no sandbox verdict for a tool error");
    call_free(&c);

    call_init(&c, "raise", NULL);
    run1(loop, p, &c);
    has_str(c.message, "raise.lua:1: boom", "error() names file and line");
    call_free(&c);

    call_init(&c, "spin", NULL);
    c.job.timeout = 0.3;
    run1(loop, p, &c);
    is_str(c.verdict, "time", "endless loop stopped by wall clock");
    is_str(c.message, "tool exceeded 0.3 s", "time verdict message");
    call_free(&c);

    call_init(&c, "spin_pcall", NULL);
    c.job.instructions = 2000000;
    run1(loop, p, &c);
    is_str(c.verdict, "cpu", "pcall cannot swallow the instruction limit");
    call_free(&c);

    call_init(&c, "hog", NULL);
    c.job.memory = 4 << 20;
    run1(loop, p, &c);
    is_str(c.verdict, "memory", "memory cap stops a hog");
    has_str(c.message, "memory limit", "memory verdict message");
    call_free(&c);

    call_init(&c, "big", NULL);
    c.job.max_output = 1 << 20;
    run1(loop, p, &c);
    is_str(c.verdict, "output", "oversized result refused");
    call_free(&c);

    call_init(&c, "chatty", NULL);
    run1(loop, p, &c);
    is_str(c.verdict, "output", "a frame over the cap ends the worker");
    has_str(c.message, "message size cap", "oversized frame message");
    call_free(&c);

    call_init(&c, "spin", NULL);
    c.kill_on_log = 1;
    run1(loop, p, &c);
    is_str(c.verdict, "crash", "killed worker gives a crash verdict");
    has_str(c.message, "signal 9", "crash message names the signal");
    call_free(&c);

    call_init(&c, "env", NULL);
    run1(loop, p, &c);
    is_str(c.value,
           "{\"binload\":\"attempt to load a binary chunk (mode is 't')\","
           "\"debug\":\"nil\",\"dofile\":\"nil\",\"dump\":\"nil\","
           "\"io\":\"nil\",\"os_exec\":\"nil\",\"package\":\"nil\","
           "\"require\":\"nil\",\"time\":\"function\"}",
           "restricted environment");
    call_free(&c);

    call_init(&c, "counter", NULL);
    run1(loop, p, &c);
    is_str(c.value, "1", "first call sees a fresh state");
    call_free(&c);
    call_init(&c, "counter", NULL);
    run1(loop, p, &c);
    is_str(c.value, "1", "second call sees a fresh state too");
    call_free(&c);

    call_init(&c, "family", "{\"x\":2,\"y\":40}");
    c.job.fn = "add";
    run1(loop, p, &c);
    is_str(c.value, "42", "function of a tool family");
    call_free(&c);

    call_init(&c, "nosuch", NULL);
    run1(loop, p, &c);
    is_str(c.message, "unknown tool \"nosuch\"", "unknown tool");
    call_free(&c);

    /* isolation "process": each call gets a worker of its own */
    {
        struct call f1, f2;
        int pid1, pid2;
        call_init(&f1, "counter", NULL);
        f1.job.fresh = 1;
        pending++;
        ag_pool_submit(p, &f1.job);
        call_init(&f2, "counter", NULL);
        f2.job.fresh = 1;
        pending++;
        ag_pool_submit(p, &f2.job);
        ag_pool_stats(p, &st);
        pid1 = st.spawned;
        while (pending > 0)
            uv_run(loop, UV_RUN_ONCE);
        ag_pool_stats(p, &st);
        pid2 = st.spawned;
        ok(f1.ok && f2.ok, "fresh-process calls succeed");
        is_str(f2.value, "1", "a fresh process sees a fresh state");
        is_int(pid1, pid2, "the two calls' workers were forked at submit");
        is_int(st.alive, 2, "one-call workers are not kept");
        call_free(&f1);
        call_free(&f2);
    }

    /* many calls at once through two workers */
    for (int i = 0; i < 40; i++) {
        char args[32];
        snprintf(args, sizeof args, "{\"i\":%d}", i);
        call_init(&many[i], "echo", args);
        pending++;
        ag_pool_submit(p, &many[i].job);
    }
    while (pending > 0)
        uv_run(loop, UV_RUN_ONCE);
    {
        int good = 0;
        for (int i = 0; i < 40; i++) {
            char want[32];
            snprintf(want, sizeof want, "{\"i\":%d}", i);
            good += many[i].ok && strcmp(many[i].value, want) == 0;
            call_free(&many[i]);
        }
        is_int(good, 40, "40 queued calls all answered correctly");
    }
    ag_pool_stats(p, &st);
    is_int(st.alive, 2, "lost workers were replaced");
    ok(st.killed >= 2, "killed workers counted");

    ag_pool_close(p);
    uv_close((uv_handle_t *)&killer, NULL);
    uv_run(loop, UV_RUN_DEFAULT);
    ok(uv_loop_close(loop) == 0, "every handle closed");
    cJSON_Delete(tools);
    return tap_done();
}
