/*
 * sim-light-graph.c: the social graph of light agents (sim.h, "Light
 * agents"), built once into compressed rows: an offset per agent and
 * uint32 neighbours, each row sorted. "ring" links each agent to the
 * degree / 2 next ones on each side; "small-world" (Watts and Strogatz,
 * 1998) rewires each of those edges with a chance; "random" draws count *
 * degree / 2 distinct edges between uniformly drawn agents. Rewiring and
 * random draws reject self loops and duplicates through an open-addressing
 * set of edges, freed before the run, and are keyed by the graph seed, the
 * agent and the edge (ag_sim_rand), so the same settings give the same
 * graph whatever else changes.
 */
#include "sim-light-private.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define NONE      AG__LIGHT_NONE
#define MAX_TRIES 100 /* draws for one edge before giving up */

/* A set of undirected edges, key min << 32 | max, with open addressing. */
struct edge_set {
    uint64_t *slot, mask;
    int bits;
};
#define EMPTY UINT64_MAX
#define TOMB  (UINT64_MAX - 1) /* a removed key; min can never be 2^32 - 1 */

static inline uint64_t edge_key(uint32_t a, uint32_t b)
{
    return a < b ? (uint64_t)a << 32 | b : (uint64_t)b << 32 | a;
}

static int set_init(struct edge_set *s, uint64_t n)
{
    s->bits = 4;
    while ((1ULL << s->bits) < 2 * n)
        s->bits++;
    s->mask = (1ULL << s->bits) - 1;
    if (!(s->slot = malloc((s->mask + 1) * sizeof *s->slot)))
        return -ENOMEM;
    memset(s->slot, 0xFF, (s->mask + 1) * sizeof *s->slot);
    return 0;
}

/* The slot holding key, or the first free one on its probe path when the
 * key is absent (*found = 0). */
static uint64_t *set_find(struct edge_set *s, uint64_t key, int *found)
{
    uint64_t i = ag__light_mix(key) >> (64 - s->bits), *free_slot = NULL;

    for (;; i = (i + 1) & s->mask) {
        if (s->slot[i] == key) {
            *found = 1;
            return &s->slot[i];
        }
        if (s->slot[i] == TOMB && !free_slot)
            free_slot = &s->slot[i];
        if (s->slot[i] == EMPTY) {
            *found = 0;
            return free_slot ? free_slot : &s->slot[i];
        }
    }
}

/* Adds the edge a-b unless it is a loop or already there; 1 when added. */
static int set_add(struct edge_set *s, uint32_t a, uint32_t b)
{
    uint64_t key = edge_key(a, b), *p;
    int found;

    if (a == b)
        return 0;
    p = set_find(s, key, &found);
    if (found)
        return 0;
    *p = key;
    return 1;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Rows from the set: counts, offsets, fill, sort each row. */
static int rows_from_set(struct ag_sim_light *w, const struct edge_set *s)
{
    uint32_t n = w->count;

    w->edges = 0;
    for (uint64_t i = 0; i <= s->mask; i++)
        if (s->slot[i] < TOMB) {
            w->off[s->slot[i] >> 32]++;
            w->off[(uint32_t)s->slot[i]]++;
            w->edges++;
        }
    if (!(w->nb = malloc((2 * w->edges + 1) * sizeof *w->nb)))
        return -ENOMEM;
    for (uint32_t a = 0, sum = 0; a <= n; a++) { /* off[a]: start of a */
        uint32_t c = w->off[a];
        w->off[a] = sum;
        sum += c;
    }
    for (uint64_t i = 0; i <= s->mask; i++)
        if (s->slot[i] < TOMB) {
            uint32_t a = (uint32_t)(s->slot[i] >> 32), b = (uint32_t)s->slot[i];
            w->nb[w->off[a]++] = b;
            w->nb[w->off[b]++] = a;
        }
    for (uint32_t a = n; a > 0; a--) /* off[a] was the end of a */
        w->off[a] = w->off[a - 1];
    w->off[0] = 0;
    for (uint32_t a = 0; a < n; a++) {
        uint32_t d = w->off[a + 1] - w->off[a];
        if (d <= 32)
            ag__light_sort(w->nb + w->off[a], d);
        else
            qsort(w->nb + w->off[a], d, sizeof *w->nb, cmp_u32);
    }
    return 0;
}

/* Each agent linked to the degree / 2 next ones on each side. */
static int build_ring(struct ag_sim_light *w)
{
    uint32_t n = w->count, k = w->degree, h = k / 2;

    w->edges = (uint64_t)n * h;
    if (!(w->nb = malloc(((uint64_t)n * k + 1) * sizeof *w->nb)))
        return -ENOMEM;
    for (uint32_t a = 0; a <= n; a++)
        w->off[a] = a * k;
    for (uint32_t a = 0; a < n; a++) {
        uint32_t *row = w->nb + (uint64_t)a * k;
        for (uint32_t j = 1; j <= h; j++) {
            row[j - 1] = (a + n - j) % n;
            row[h + j - 1] = (a + j) % n;
        }
        ag__light_sort(row, k);
    }
    return 0;
}

/* Watts-Strogatz: the ring lattice, then each lattice edge a-(a + j), for
 * j = 1 .. degree / 2 and each a, is moved with chance rewire to a-c, c
 * drawn until it is neither a nor a neighbour of a (after MAX_TRIES draws
 * the edge stays). */
static int build_small_world(struct ag_sim_light *w, struct edge_set *s)
{
    uint32_t n = w->count, h = w->degree / 2;

    for (uint32_t a = 0; a < n; a++)
        for (uint32_t j = 1; j <= h; j++)
            set_add(s, a, (a + j) % n);
    for (uint32_t j = 1; j <= h; j++)
        for (uint32_t a = 0; a < n; a++) {
            uint64_t r = ag_sim_rand(w->graph_seed, a, AG__LIGHT_P_REWIRE,
                                     (uint64_t)j << 8);
            if ((double)(r >> 11) * 0x1.0p-53 >= w->rewire)
                continue;
            for (uint64_t t = 1; t <= MAX_TRIES; t++) {
                uint32_t c = ag__light_below(ag_sim_rand(w->graph_seed, a,
                                                         AG__LIGHT_P_REWIRE,
                                                         (uint64_t)j << 8 | t),
                                             n);
                if (set_add(s, a, c)) {
                    int found;
                    *set_find(s, edge_key(a, (a + j) % n), &found) = TOMB;
                    break;
                }
            }
        }
    return rows_from_set(w, s);
}

/* count * degree / 2 edges between uniformly drawn distinct agents. */
static int build_random(struct ag_sim_light *w, struct edge_set *s)
{
    uint64_t m = (uint64_t)w->count * w->degree / 2;

    for (uint64_t i = 0; i < m; i++) {
        uint64_t t = 0, r;
        do {
            if (++t > MAX_TRIES)
                return -EDOM; /* the graph is nearly complete */
            r = ag_sim_rand(w->graph_seed, (uint32_t)i, AG__LIGHT_P_EDGE, t);
        } while (!set_add(s, ag__light_below(r, w->count),
                          ag__light_below(r << 32, w->count)));
    }
    return rows_from_set(w, s);
}

int ag__light_build_graph(struct ag_sim_light *w)
{
    struct edge_set s = {NULL, 0, 0};
    int rc;

    if (!(w->off = calloc((size_t)w->count + 1, sizeof *w->off)) ||
        !(w->ag = malloc((size_t)w->count * sizeof *w->ag)))
        return -ENOMEM;
    for (uint32_t a = 0; a < w->count; a++)
        w->ag[a] = (struct ag__light_agent){0, NONE, 0};
    if (w->graph == AG__LIGHT_RING_GRAPH ||
        (w->graph == AG__LIGHT_SMALL_WORLD && w->rewire == 0))
        return build_ring(w);
    if ((rc = set_init(&s, (uint64_t)w->count * w->degree / 2)) < 0)
        return rc;
    rc = w->graph == AG__LIGHT_RANDOM ? build_random(w, &s)
                                      : build_small_world(w, &s);
    free(s.slot);
    return rc;
}
