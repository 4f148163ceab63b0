/*
 * bench-audit.c: records per second appended to the audit log, hash chain
 * included, with the fsync policies "never" and "step". A record is a
 * typical tool.result (a JSON value of about 200 bytes, redaction on, with
 * one secret that does not occur). For "step", every tenth record ends a
 * step: the writer's barrier is awaited (the records written and synced)
 * before the next step starts, as an agent does before its next model call.
 *
 *   bench-audit [--records N] [--runs N] [--dir DIR]
 *
 * Prints the median and spread over the runs for each policy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "json.h"

#define STEP 10

static int released;

static void on_resume(struct ag_agent *a)
{
    (void)a;
    released = 1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Appends n records; returns records per second. */
static double one_run(const char *path, enum ag_fsync policy, long n)
{
    static const char *secret[] = {"sk-this-never-appears-0123456789"};
    struct ag_redactor red = {secret, 1};
    struct ag_audit_cfg cfg = {AG_CONTENT_FULL, 0, policy};
    uv_loop_t *loop = uv_default_loop();
    struct ag_audit *a;
    char err[256], run[33];
    uint64_t t0, t1;

    unlink(path);
    if (ag_audit_open(loop, path, &cfg, &red, &a, err, sizeof err) < 0) {
        fprintf(stderr, "bench-audit: %s\n", err);
        exit(1);
    }
    ag_new_id(run);
    t0 = ag_now_ns();
    for (long i = 0; i < n; i++) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "tool", "calc");
        cJSON_AddStringToObject(d, "call_id", "call_1_1");
        cJSON_AddBoolToObject(d, "ok", 1);
        ag_audit_add_content(
            a, d, "value",
            "{\"expr\":\"round(2500 * 1.035^10, 2)\",\"value\":3526.5,"
            "\"note\":\"a result of typical size for a small tool, about two "
            "hundred bytes of JSON text in all\"}",
            150);
        cJSON_AddNumberToObject(d, "ms", 0.25);
        cJSON_AddNumberToObject(d, "bytes", 150);
        ag_audit_write(a, run, 1, (int)(i / STEP), "tool.result", d);
        if ((i + 1) % STEP == 0) {
            released = 0;
            if (ag_audit_barrier(a, NULL, on_resume))
                while (!released)
                    uv_run(loop, UV_RUN_ONCE);
        }
    }
    uv_run(loop, UV_RUN_DEFAULT);
    ag_audit_close(a);
    t1 = ag_now_ns();
    return (double)n / ((double)(t1 - t0) / 1e9);
}

static void bench(const char *dir, const char *name, enum ag_fsync policy,
                  long n, int runs)
{
    double *v = calloc((size_t)runs, sizeof *v);
    char path[4096];

    snprintf(path, sizeof path, "%s/bench-audit.jsonl", dir);
    one_run(path, policy, n / 10 + 1); /* warm-up */
    for (int r = 0; r < runs; r++)
        v[r] = one_run(path, policy, n);
    qsort(v, (size_t)runs, sizeof *v, cmp_double);
    printf("audit records per second, fsync %s: median %.0f (min %.0f, max "
           "%.0f) over %d runs of %ld records\n",
           name, v[runs / 2], v[0], v[runs - 1], runs, n);
    unlink(path);
    free(v);
}

int main(int argc, char **argv)
{
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    long n = 200000, nstep = 20000;
    int runs = 5;

    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--records") == 0)
            n = atol(argv[i + 1]);
        else if (strcmp(argv[i], "--runs") == 0)
            runs = atoi(argv[i + 1]);
        else if (strcmp(argv[i], "--dir") == 0)
            dir = argv[i + 1];
    }
    if (n < STEP || runs < 1) {
        fprintf(stderr, "usage: bench-audit [--records N] [--runs N] [--dir "
                        "DIR]\n");
        return 2;
    }
    if (nstep > n)
        nstep = n;
    bench(dir, "never", AG_FSYNC_NEVER, n, runs);
    bench(dir, "step (a sync every 10 records)", AG_FSYNC_STEP, nstep, runs);
    uv_loop_close(uv_default_loop());
    return 0;
}
