/*
 * bench-tool.c: the round trip of a trivial tool call through the sandbox:
 * from ag_pool_submit to the result, for a warm worker (a fresh Lua state
 * per call, the default) and for a freshly forked worker per call
 * (isolation = "process"); and calls per second with two warm workers kept
 * busy. The tool returns its arguments. This binary is its own zygote.
 *
 *   bench-tool [--calls N] [--fresh N] [--runs N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag.h"
#include "pool.h"
#include "sandbox.h"

struct call {
    struct ag_job job;
    uint64_t t0;
    int done, ok;
};

static double *lat;
static int nlat, inflight, remaining;
static struct ag_pool *pool;
static cJSON *args;

static void on_done(struct ag_job *job, const struct ag_job_result *r);

static void submit(struct call *c, int fresh)
{
    memset(c, 0, sizeof *c);
    c->job.tool = "echo";
    c->job.args = args;
    c->job.timeout = 10;
    c->job.fresh = fresh;
    c->job.done = on_done;
    c->t0 = ag_now_ns();
    inflight++;
    ag_pool_submit(pool, &c->job);
}

static int fresh_mode;

static void on_done(struct ag_job *job, const struct ag_job_result *r)
{
    struct call *c = (struct call *)job;

    c->done = 1;
    c->ok = r->ok;
    lat[nlat++] = (double)(ag_now_ns() - c->t0) / 1e3;
    inflight--;
    if (!r->ok) {
        fprintf(stderr, "bench-tool: call failed: %s\n", r->message);
        exit(1);
    }
    if (remaining > 0) {
        remaining--;
        submit(c, fresh_mode);
    }
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Runs n calls with `parallel` in flight; returns wall seconds. */
static double run(uv_loop_t *loop, int n, int parallel, int fresh)
{
    struct call *calls = calloc((size_t)parallel, sizeof *calls);
    uint64_t t0 = ag_now_ns();

    nlat = 0;
    fresh_mode = fresh;
    remaining = n - parallel;
    for (int i = 0; i < parallel; i++)
        submit(&calls[i], fresh);
    while (inflight > 0)
        uv_run(loop, UV_RUN_ONCE);
    free(calls);
    return (double)(ag_now_ns() - t0) / 1e9;
}

static void report(const char *what, int n)
{
    qsort(lat, (size_t)nlat, sizeof *lat, cmp);
    printf("%s: median %.1f us, p99 %.1f us, min %.1f us over %d calls\n", what,
           lat[nlat / 2], lat[(int)(nlat * 0.99)], lat[0], n);
}

int main(int argc, char **argv)
{
    uv_loop_t *loop = uv_default_loop();
    int calls = 20000, fresh = 500;
    cJSON *tools;
    double secs;

    if (argc > 1 && strcmp(argv[1], AG_ZYGOTE_ARG) == 0)
        return ag_zygote_main();
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--calls") == 0)
            calls = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--fresh") == 0)
            fresh = atoi(argv[i + 1]);
    }
    lat = calloc((size_t)(calls > fresh ? calls : fresh) + 1, sizeof *lat);
    tools = cJSON_Parse("{\"echo\":\"return { run = function(a) return a "
                        "end }\"}");
    args = cJSON_Parse("{\"n\":42,\"s\":\"hello\"}");
    if (ag_pool_new(loop, &(struct ag_pool_cfg){NULL, 2, 0}, tools, &pool) <
        0) {
        fprintf(stderr, "bench-tool: cannot start the pool\n");
        return 1;
    }
    run(loop, 200, 1, 0); /* warm-up: the zygote and both workers up */
    run(loop, calls, 1, 0);
    report("tool call round trip, warm worker (fresh Lua state)", calls);
    secs = run(loop, calls, 4, 0);
    printf("tool calls per second, 2 warm workers kept busy: %.0f\n",
           calls / secs);
    run(loop, fresh, 1, 1);
    report("tool call round trip, isolation \"process\" (fresh worker)", fresh);
    ag_pool_close(pool);
    uv_run(loop, UV_RUN_DEFAULT);
    uv_loop_close(loop);
    cJSON_Delete(tools);
    cJSON_Delete(args);
    free(lat);
    return 0;
}
