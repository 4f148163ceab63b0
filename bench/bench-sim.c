/*
 * bench-sim.c: the 25-person town (examples/sim/town.lua) for two game
 * days with its scripted stand-in model, in process, as `agent sim` runs
 * it. Prints, per run and as medians: wall time, model calls (and cache
 * hits), timeline events, game minutes per wall second, and the peak
 * resident memory of the process. The target is under 30 s a run.
 *
 *   bench-sim [--world FILE] [--days N] [--runs N] [--out DIR]
 *
 * SRCDIR (the source tree) finds the world when --world is not given.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "sim.h"

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {{"world", required_argument, 0, 'w'},
                                         {"days", required_argument, 0, 'd'},
                                         {"runs", required_argument, 0, 'r'},
                                         {"out", required_argument, 0, 'o'},
                                         {0, 0, 0, 0}};
    const char *src = getenv("SRCDIR"), *out = NULL;
    char world[4096], until[32], err[1024], outdir[4096];
    int days = 2, runs = 3, c;
    double walls[64];
    long calls = 0, hits = 0, events = 0;
    struct rusage ru;

    snprintf(world, sizeof world, "%s/examples/sim/town.lua",
             src && *src ? src : ".");
    while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (c) {
        case 'w':
            snprintf(world, sizeof world, "%s", optarg);
            break;
        case 'd':
            days = atoi(optarg);
            break;
        case 'r':
            runs = atoi(optarg);
            break;
        case 'o':
            out = optarg;
            break;
        default:
            fprintf(stderr, "usage: bench-sim [--world FILE] [--days N] "
                            "[--runs N] [--out DIR]\n");
            return 2;
        }
    }
    if (days < 1 || days > 30 || runs < 1 || runs > 64) {
        fprintf(stderr, "bench-sim: --days 1..30, --runs 1..64\n");
        return 2;
    }
    /* town.lua starts 2023-02-13 07:00 */
    snprintf(until, sizeof until, "2023-02-%02d 07:00", 13 + days);
    snprintf(outdir, sizeof outdir, "%s", out ? out : "/tmp/bench-sim.out");
    printf("bench-sim: %s, %d game days (until %s), %d runs\n", world, days,
           until, runs);
    for (int r = 0; r < runs; r++) {
        struct ag_sim_opts o = {0};
        struct ag_sim_result res;
        double t0 = now_s();
        int rc;

        o.world = world;
        o.out = outdir;
        o.until = until;
        o.seed = 1;
        o.tick = -1;
        rc = ag_sim_run(&o, &res, err, sizeof err);
        walls[r] = now_s() - t0;
        if (rc != 0) {
            fprintf(stderr, "bench-sim: run %d failed (%d): %s\n", r + 1, rc,
                    err);
            return 1;
        }
        calls = res.calls;
        hits = res.cache_hits;
        events = res.events;
        printf("  run %d: %.2f s wall, %ld model calls, %ld cache hits, %ld "
               "events, %.0f game minutes per wall second\n",
               r + 1, walls[r], calls, hits, events, days * 1440.0 / walls[r]);
        fflush(stdout);
    }
    qsort(walls, (size_t)runs, sizeof *walls, cmp_d);
    getrusage(RUSAGE_SELF, &ru);
    printf("sim: 25 agents x %d game days: median %.2f s wall (min %.2f, max "
           "%.2f; target < 30 s), %ld model calls, %ld cache hits, %ld events, "
           "peak RSS %.1f MiB\n",
           days, walls[runs / 2], walls[0], walls[runs - 1], calls, hits,
           events, ru.ru_maxrss / 1024.0);
    return 0;
}
