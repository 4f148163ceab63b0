/*
 * bench-sim-light.c: one million light agents (agent/sim-light.c) gossiping
 * a rumour on a small-world graph (degree 8, rewire 0.1) until nobody
 * spreads it any more, with the C policy ("builtin:gossip") and with the
 * Lua policy of examples/sim/gossip.lua, which make the same run.
 *
 *   bench-sim-light [--agents N] [--degree K] [--runs N] [--policy c|lua]
 *
 * Each run is a child process of its own, so that its peak RSS is clean.
 * Prints, per policy, the median over the runs (min and max) of:
 *  - agent-events per second: handler calls over the wall time of the event
 *    loop (the graph's build is timed apart);
 *  - bytes per agent: the memory the run holds (graph, agents, queue,
 *    curves, Lua heap) over the number of agents, and the peak RSS of the
 *    child less its RSS before the world was built, over the agents (this
 *    includes the edge set used while the graph is built).
 * The example world is found under $SRCDIR (default "."). Figures are
 * printed, never checked; the exit status is non-zero when a run failed.
 */
#include "ag.h"
#include "sim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>

struct result {
    double eps, build_s, run_s, held_b, peak_b, events, informed;
};

/* A field of /proc/self/status in bytes ("VmRSS", "VmHWM"). */
static double status_bytes(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = 0;
    size_t n = strlen(field);

    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            kb = strtod(line + n + 1, NULL);
    if (f)
        fclose(f);
    return kb * 1024;
}

/* Runs one world in this process and fills *r. */
static int run_one(unsigned agents, unsigned degree, int lua, struct result *r)
{
    const char *srcdir = getenv("SRCDIR") ? getenv("SRCDIR") : ".";
    char *json = ag_xasprintf(
        "{\"count\": %u, \"degree\": %u, \"graph\": \"small-world\", "
        "\"rewire\": 0.1, \"duration\": \"3d\", \"provenance\": false, "
        "\"params\": {\"period\": 60, \"patience\": 3}, \"policy\": "
        "\"%s%s%s\"}",
        agents, degree, lua ? "return dofile('" : "builtin:gossip",
        lua ? srcdir : "",
        lua ? "/examples/sim/gossip.lua').light.policy" : "");
    struct ag_sim_light_opts o = {0};
    struct ag_sim_light_stats st;
    struct ag_sim_light *w;
    cJSON *j = cJSON_Parse(json);
    double base = status_bytes("VmRSS");
    char err[512];
    int rc;

    o.seed = 1;
    rc = ag_sim_light_new(j, &o, &w, err, sizeof err);
    if (rc == 0)
        rc = ag_sim_light_advance(w, 0, err, sizeof err);
    if (rc < 0) {
        fprintf(stderr, "bench-sim-light: %s\n", err);
        return rc;
    }
    ag_sim_light_stats(w, &st);
    r->events = (double)st.events;
    r->informed = st.informed;
    r->build_s = st.build_s;
    r->run_s = st.run_s;
    r->eps = (double)st.events / st.run_s;
    r->held_b = (double)st.bytes / st.agents;
    r->peak_b = (status_bytes("VmHWM") - base) / st.agents;
    ag_sim_light_free(w);
    cJSON_Delete(j);
    free(json);
    return 0;
}

/* Runs one world in a child; 0 and *r, or -1. */
static int run_child(unsigned agents, unsigned degree, int lua,
                     struct result *r)
{
    int fd[2], status;
    pid_t pid;
    ssize_t n;

    if (pipe(fd) < 0 || (pid = fork()) < 0)
        return -1;
    if (pid == 0) {
        close(fd[0]);
        if (run_one(agents, degree, lua, r) < 0)
            _exit(1);
        _exit(write(fd[1], r, sizeof *r) == (ssize_t)sizeof *r ? 0 : 1);
    }
    close(fd[1]);
    n = read(fd[0], r, sizeof *r);
    close(fd[0]);
    if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) ||
        WEXITSTATUS(status) != 0 || n != (ssize_t)sizeof *r)
        return -1;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The median of field off over n results; *lo and *hi the extremes. */
static double median(const struct result *r, int n, size_t off, double *lo,
                     double *hi)
{
    double v[64];

    for (int i = 0; i < n; i++)
        memcpy(&v[i], (const char *)&r[i] + off, sizeof v[i]);
    qsort(v, (size_t)n, sizeof v[0], cmp_double);
    *lo = v[0];
    *hi = v[n - 1];
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static int bench(unsigned agents, unsigned degree, int runs, int lua)
{
    struct result r[64];
    double lo, hi, m;

    for (int i = 0; i < runs; i++)
        if (run_child(agents, degree, lua, &r[i]) < 0) {
            fprintf(stderr, "bench-sim-light: a run failed\n");
            return -1;
        }
    m = median(r, runs, offsetof(struct result, eps), &lo, &hi);
    printf("light agents, %s policy: %.2f M agent-events per second "
           "(median; min %.2f, max %.2f) over %d runs\n",
           lua ? "Lua (examples/sim/gossip.lua)" : "C (builtin:gossip)",
           m / 1e6, lo / 1e6, hi / 1e6, runs);
    printf("  %.0f events in %.2f s, %.0f of %u agents informed; graph "
           "built in %.2f s\n",
           r[0].events,
           median(r, runs, offsetof(struct result, run_s), &lo, &hi),
           r[0].informed, agents,
           median(r, runs, offsetof(struct result, build_s), &lo, &hi));
    m = median(r, runs, offsetof(struct result, held_b), &lo, &hi);
    printf("  bytes per agent: %.0f held (graph, agents, queue, curves, "
           "Lua heap); ",
           m);
    m = median(r, runs, offsetof(struct result, peak_b), &lo, &hi);
    printf("peak RSS %.0f (min %.0f, max %.0f) = (peak - before) / %u\n", m, lo,
           hi, agents);
    return 0;
}

int main(int argc, char **argv)
{
    unsigned agents = 1000000, degree = 8;
    int runs = 3, c = 1, lua = 1, status = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--agents") == 0 && i + 1 < argc)
            agents = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--degree") == 0 && i + 1 < argc)
            degree = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--runs") == 0 && i + 1 < argc)
            runs = atoi(argv[++i]);
        else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc) {
            c = strcmp(argv[++i], "c") == 0;
            lua = strcmp(argv[i], "lua") == 0;
        } else {
            fprintf(stderr, "usage: bench-sim-light [--agents N] [--degree K] "
                            "[--runs N] [--policy c|lua]\n");
            return 2;
        }
    }
    if (runs < 1 || runs > 64 || agents < 2 || (!c && !lua)) {
        fprintf(stderr, "bench-sim-light: runs 1 to 64, agents >= 2, policy "
                        "c or lua\n");
        return 2;
    }
    if (c && bench(agents, degree, runs, 0) < 0)
        status = 1;
    if (lua && bench(agents, degree, runs, 1) < 0)
        status = 1;
    return status;
}
