/*
 * bench-task.c: what a full task costs the runtime, measured in-process
 * against the stand-in endpoint in bench mode (tests/standin --mode bench),
 * where a full task is two model calls with one calc tool call, run in a
 * sandboxed worker, in between. Agents are built as `agent run` builds them
 * (cmd-run.c), with no event sinks: the fast path.
 *
 *   --tasks N (the default mode): N tasks one after another on one loop.
 *     Prints the CPU time per task, user + system of this process and of its
 *     children (the zygote and the workers, reaped when the pool closes),
 *     and the wall time per task: median, min and max over --runs runs,
 *     after one warm-up run that is not counted.
 *   --agents N: N agents started at once, one run. Prints one record: wall
 *     time until all are done, RSS before the agents were created and at
 *     peak, bytes per agent, and whether each ended DONE with the expected
 *     answer. A peak RSS is only clean in a fresh process, so run.sh runs
 *     this once per process and summarises.
 *
 * The stand-in must not be a child of this process, or its CPU would be
 * counted (run.sh starts it). This process makes itself a child subreaper so
 * that workers orphaned when the pool kills the zygote are reparented here
 * and reaped, and their CPU counted as well.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent.h"
#include "sandbox.h"

#define MAX_RUNS     1000
#define REAP_WAIT_MS 5000

static const char expected_prefix[] = "done: ";
static const char expected_value[] = "42";

static struct {
    const char *url;
    const char *tools;
    long tasks, runs, agents, workers;
    int stream;
} opt = {NULL, NULL, 2000, 5, 0, 2, 1};

/* One run's agents and how they ended. */
struct bench {
    uv_loop_t *loop;
    struct ag_rt rt;
    const struct ag_agent_cfg *cfg;
    struct ag_agent *agents;
    long n, started, ended, failed;
    int sequential;
    int stop_loop;     /* warm-up: stop the loop when the agent ends */
    uint64_t t_end_ns; /* when the last agent ended */
    double *ends;      /* --agents: when each agent ended, ms from t0 */
    double t0;
    char first_failure[600];
};

static double now_ms(void)
{
    return (double)ag_now_ns() / 1e6;
}

static double cpu_ms(int who)
{
    struct rusage ru;

    getrusage(who, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* Resident set size now, in KiB, from /proc/self/statm; 0 if unknown. */
static long rss_now_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size, resident = 0;

    if (!f)
        return 0;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2)
        resident = 0;
    fclose(f);
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static long rss_peak_kb(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

static void raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            fprintf(stderr, "bench-task: cannot raise RLIMIT_NOFILE: %s\n",
                    strerror(errno));
    }
}

/* Reaps every child left (workers orphaned by the zygote's end). Returns 0,
 * or -1 when some did not end in time: then a child that is no worker (the
 * stand-in?) is running and its CPU would be counted. */
static int reap_children(void)
{
    for (int waited = 0; waited < REAP_WAIT_MS;) {
        pid_t pid = waitpid(-1, NULL, WNOHANG);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid < 0)
            return 0; /* ECHILD: none left */
        if (pid == 0) {
            struct timespec ms = {0, 1000000};
            nanosleep(&ms, NULL);
            waited++;
        }
    }
    return -1;
}

/* ---- agents ------------------------------------------------------------ */

static void check_end(struct bench *b, struct ag_agent *a)
{
    const char *ans = a->answer;

    if (a->outcome == AG_OUT_DONE && ans &&
        strncmp(ans, expected_prefix, sizeof expected_prefix - 1) == 0 &&
        strstr(ans, expected_value))
        return;
    if (b->failed++ == 0)
        snprintf(b->first_failure, sizeof b->first_failure,
                 "agent %u ended %s: %s%s%s", a->id,
                 ag_outcome_name(a->outcome), a->reason ? a->reason : "?",
                 ans ? "; answer: " : "", ans ? ans : "");
}

static void on_end(struct ag_agent *a);

static void start_agent(struct bench *b, long i)
{
    struct ag_agent *a = &b->agents[i];
    int rc;

    ag_agent_init(a, &b->rt, b->cfg, "What is 6*7? Use the calc tool.",
                  (unsigned)i);
    a->on_end = on_end;
    a->data = b;
    b->started++;
    if ((rc = ag_agent_start(a)) < 0)
        ag_agent_stop(a, ag_strerror(rc));
}

static void on_end(struct ag_agent *a)
{
    struct bench *b = a->data;

    check_end(b, a);
    if (b->ends && b->ended < b->n)
        b->ends[b->ended] = now_ms() - b->t0;
    b->ended++;
    if (b->stop_loop) {
        uv_stop(b->loop);
        return;
    }
    if (b->sequential && b->started < b->n) {
        long i = b->started;
        start_agent(b, i);
        /* free the one before the agent that just ended: nothing of it
         * is on the stack any more */
        if (i >= 2)
            ag_agent_free(&b->agents[i - 2]);
    }
    if (b->ended == b->n) {
        b->t_end_ns = ag_now_ns();
        ag_rt_close(&b->rt);
    }
}

static int rt_start(struct bench *b, const struct ag_registry *reg)
{
    struct ag_pool_cfg pc = {NULL, (int)opt.workers, 0};
    int rc;

    if ((rc = ag_rt_init(&b->rt, b->loop, reg->sources, &pc)) < 0)
        fprintf(stderr, "bench-task: cannot start the runtime: %s\n",
                ag_strerror(rc));
    return rc;
}

/* Frees the agents not yet freed and lets their handles close. */
static void free_agents(struct bench *b, long from)
{
    for (long i = from; i < b->started; i++)
        ag_agent_free(&b->agents[i]);
    uv_run(b->loop, UV_RUN_DEFAULT);
    free(b->agents);
    b->agents = NULL;
}

/* ---- (a): tasks one after another --------------------------------------- */

struct seq_result {
    double cpu_self_ms, cpu_children_ms, wall_ms;
    long failed;
};

static int run_sequential(const struct ag_agent_cfg *cfg,
                          const struct ag_registry *reg, long n,
                          struct seq_result *res)
{
    struct bench b;
    double self0, child0, t0;

    memset(&b, 0, sizeof b);
    b.loop = uv_default_loop();
    b.cfg = cfg;
    b.n = n;
    b.sequential = 1;
    b.agents = ag_xcalloc((size_t)n, sizeof *b.agents);

    self0 = cpu_ms(RUSAGE_SELF);
    child0 = cpu_ms(RUSAGE_CHILDREN);
    if (rt_start(&b, reg) < 0) {
        free(b.agents);
        return -1;
    }
    t0 = now_ms();
    start_agent(&b, 0);
    /* runs the tasks, then the pool's close until the zygote is reaped */
    uv_run(b.loop, UV_RUN_DEFAULT);
    free_agents(&b, b.started >= 2 ? b.started - 2 : 0);
    if (reap_children() < 0)
        fprintf(stderr,
                "bench-task: children still running after %d ms: "
                "is the stand-in a child of this process? Its CPU "
                "would be counted.\n",
                REAP_WAIT_MS);
    res->cpu_self_ms = cpu_ms(RUSAGE_SELF) - self0;
    res->cpu_children_ms = cpu_ms(RUSAGE_CHILDREN) - child0;
    res->wall_ms = (double)b.t_end_ns / 1e6 - t0;
    res->failed = b.failed;
    if (b.failed)
        fprintf(stderr, "bench-task: %ld of %ld tasks failed; first: %s\n",
                b.failed, n, b.first_failure);
    if (b.ended != n)
        fprintf(stderr, "bench-task: only %ld of %ld tasks ended\n", b.ended,
                n);
    return b.ended == n ? 0 : -1;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;

    return a < b ? -1 : a > b;
}

/* Median, min and max of v[0, n) (sorts v). */
static void spread(double *v, int n, double *med, double *lo, double *hi)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    *med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    *lo = v[0];
    *hi = v[n - 1];
}

static int bench_sequential(const struct ag_agent_cfg *cfg,
                            const struct ag_registry *reg)
{
    static double cpu[MAX_RUNS], self[MAX_RUNS], kids[MAX_RUNS], wall[MAX_RUNS];
    struct seq_result r;
    long failed = 0;
    double med, lo, hi;
    int runs = (int)opt.runs;

    /* warm-up: page faults, lazy initialisation, the stand-in's first
     * connection; not counted */
    if (run_sequential(cfg, reg, opt.tasks / 10 + 1, &r) < 0)
        return 1;
    for (int i = 0; i < runs; i++) {
        if (run_sequential(cfg, reg, opt.tasks, &r) < 0)
            return 1;
        cpu[i] = (r.cpu_self_ms + r.cpu_children_ms) / (double)opt.tasks;
        self[i] = r.cpu_self_ms / (double)opt.tasks;
        kids[i] = r.cpu_children_ms / (double)opt.tasks;
        wall[i] = r.wall_ms / (double)opt.tasks;
        failed += r.failed;
    }
    spread(cpu, runs, &med, &lo, &hi);
    printf("cpu per task: median %.3f ms (min %.3f, max %.3f) over %d runs "
           "of %ld tasks, %s\n",
           med, lo, hi, runs, opt.tasks,
           opt.stream ? "streamed" : "not streamed");
    spread(self, runs, &med, &lo, &hi);
    printf("  of which agent process %.3f ms", med);
    spread(kids, runs, &med, &lo, &hi);
    printf(", zygote and workers %.3f ms (medians)\n", med);
    spread(wall, runs, &med, &lo, &hi);
    printf("wall per task: median %.3f ms (min %.3f, max %.3f)\n", med, lo, hi);
    if (failed)
        printf("  FAILED: %ld tasks did not end DONE with the expected "
               "answer\n",
               failed);
    return failed ? 1 : 0;
}

/* ---- (b): many agents at once ------------------------------------------- */

static int bench_many(const struct ag_agent_cfg *cfg,
                      const struct ag_registry *reg)
{
    struct bench b;
    struct ag_agent warm;
    long n = opt.agents, base_kb, peak_kb;
    double wall_s, half_s, first_s, self0, child0;

    memset(&b, 0, sizeof b);
    b.loop = uv_default_loop();
    b.cfg = cfg;
    if (rt_start(&b, reg) < 0)
        return 1;

    /* one agent first, so that lazy initialisation (codec, curl, the pool's
     * workers, the connection's first use) is not counted per agent */
    memset(&warm, 0, sizeof warm);
    ag_agent_init(&warm, &b.rt, cfg, "What is 6*7? Use the calc tool.", 0);
    warm.on_end = on_end;
    warm.data = &b;
    b.stop_loop = 1;
    b.n = 1;
    ag_agent_start(&warm);
    uv_run(b.loop, UV_RUN_DEFAULT);
    ag_agent_free(&warm);
    uv_run(b.loop, UV_RUN_NOWAIT);
    if (b.failed) {
        printf("many agents=%ld FAILED warm-up: %s\n", n, b.first_failure);
        return 1;
    }
    b.stop_loop = 0;
    b.failed = b.ended = 0;
    b.n = n;
    b.ends = ag_xcalloc((size_t)n, sizeof *b.ends); /* not the agents' */

    base_kb = rss_now_kb();
    self0 = cpu_ms(RUSAGE_SELF);
    child0 = cpu_ms(RUSAGE_CHILDREN);
    b.t0 = now_ms();
    b.agents = ag_xcalloc((size_t)n, sizeof *b.agents);
    for (long i = 0; i < n; i++)
        start_agent(&b, i);
    uv_run(b.loop, UV_RUN_DEFAULT);
    wall_s = ((double)b.t_end_ns / 1e6 - b.t0) / 1e3;
    peak_kb = rss_peak_kb();
    free_agents(&b, 0);
    reap_children();
    /* ends[] is in order of ending */
    first_s = b.ended ? b.ends[0] / 1e3 : 0;
    half_s = b.ended ? b.ends[(b.ended - 1) / 2] / 1e3 : 0;
    free(b.ends);

    printf("many agents=%ld done=%ld failed=%ld wall_s=%.3f first_s=%.3f "
           "half_s=%.3f base_kb=%ld peak_kb=%ld per_agent_b=%.0f "
           "cpu_self_s=%.3f cpu_children_s=%.3f\n",
           n, b.ended - b.failed, b.failed + (n - b.ended), wall_s, first_s,
           half_s, base_kb, peak_kb,
           (double)(peak_kb - base_kb) * 1024.0 / (double)n,
           (cpu_ms(RUSAGE_SELF) - self0) / 1e3,
           (cpu_ms(RUSAGE_CHILDREN) - child0) / 1e3);
    if (b.failed)
        printf("first failure: %s\n", b.first_failure);
    return b.failed || b.ended != n ? 1 : 0;
}

/* ---- main -------------------------------------------------------------- */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench-task --url URL [--tasks N | --agents N] [options]\n"
            "\n"
            "Measures full tasks (two model calls, one calc tool call) "
            "against the stand-in\nendpoint (tests/standin --mode bench), "
            "which must not be a child of this process.\n"
            "\n"
            "  --url URL      the stand-in's base URL: "
            "http://127.0.0.1:PORT/v1\n"
            "  --tasks N      N tasks one after another (default 2000): CPU "
            "and wall per task\n"
            "  --runs N       runs of --tasks, after one warm-up (default 5)\n"
            "  --agents N     instead: N agents at once, one run: wall time, "
            "RSS, bytes per agent\n"
            "  --no-stream    ask for whole replies\n"
            "  --workers N    warm tool workers (default 2)\n"
            "  --tools DIR    where calc.lua is (default $SRCDIR/tools)\n");
}

static int parse_count(const char *name, const char *s, long max, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v <= 0 || v > max) {
        fprintf(stderr, "bench-task: %s must be 1 to %ld (got \"%s\")\n", name,
                max, s);
        return -1;
    }
    *out = v;
    return 0;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"url", required_argument, NULL, 'u'},
        {"tasks", required_argument, NULL, 't'},
        {"runs", required_argument, NULL, 'r'},
        {"agents", required_argument, NULL, 'a'},
        {"workers", required_argument, NULL, 'w'},
        {"tools", required_argument, NULL, 'T'},
        {"no-stream", no_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {0}};
    struct ag_task_tool want = {"calc", NULL};
    struct ag_registry *reg = NULL;
    struct ag_agent_cfg cfg;
    char err[1024], *tools_dir = NULL;
    const char *dirs[1];
    int c, status;

    /* the pool re-executes this binary as its zygote */
    if (argc > 1 && strcmp(argv[1], AG_ZYGOTE_ARG) == 0)
        return ag_zygote_main();

    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'u':
            opt.url = optarg;
            break;
        case 'T':
            opt.tools = optarg;
            break;
        case 'S':
            opt.stream = 0;
            break;
        case 't':
            if (parse_count("--tasks", optarg, 100000000, &opt.tasks) < 0)
                return 2;
            break;
        case 'r':
            if (parse_count("--runs", optarg, MAX_RUNS, &opt.runs) < 0)
                return 2;
            break;
        case 'a':
            if (parse_count("--agents", optarg, 10000000, &opt.agents) < 0)
                return 2;
            break;
        case 'w':
            if (parse_count("--workers", optarg, 64, &opt.workers) < 0)
                return 2;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc || !opt.url) {
        usage(stderr);
        return 2;
    }
    if (!opt.tools) {
        const char *src = getenv("SRCDIR");
        tools_dir = ag_xasprintf("%s/tools", src && *src ? src : ".");
        opt.tools = tools_dir;
    }

    signal(SIGPIPE, SIG_IGN);
    raise_nofile();
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        fprintf(stderr,
                "bench-task: cannot become a child subreaper (%s): "
                "workers' CPU may be missed\n",
                strerror(errno));

    dirs[0] = opt.tools;
    if (ag_registry_load(dirs, 1, &want, 1, &reg, err, sizeof err) < 0) {
        fprintf(stderr, "bench-task: %s\n", err);
        free(tools_dir);
        return 2;
    }

    /* as ag_agent_cfg_from_task would fill it for the bench task */
    memset(&cfg, 0, sizeof cfg);
    cfg.name = "bench";
    cfg.model = "bench-model";
    cfg.provider = "openai";
    cfg.stream = opt.stream;
    cfg.temperature = -1;
    cfg.context = 32768;
    cfg.llm.codec = &ag_codec_openai;
    cfg.llm.base_url = opt.url;
    cfg.reg = reg;
    cfg.limits.steps = 5;
    cfg.limits.seconds = 60;
    cfg.limits.repeat_calls = 3;

    status = opt.agents ? bench_many(&cfg, reg) : bench_sequential(&cfg, reg);

    uv_loop_close(uv_default_loop());
    ag_registry_free(reg);
    free(tools_dir);
    return status;
}
