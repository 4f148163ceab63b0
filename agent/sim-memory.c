/*
 * sim-memory.c: an agent's memory stream and retrieval, as in the paper:
 * each memory has a kind, a description, an importance (1-10, asked of the
 * model), its creation and last access in game time, and an embedding; a
 * thought keeps the ids of the memories it was drawn from. Retrieval scores
 * every memory by
 *
 *   w_recency * recency + w_importance * importance + w_relevance * relevance
 *
 * with recency = decay ^ (game hours since last access), importance / 10
 * and relevance = the cosine of the query's and the memory's embeddings,
 * each min-max normalised over the stream; the best k are returned and
 * their last access set to now. Ties go to the newer memory.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim-private.h"

int ag__sim_mem_add(struct ag__sim_stream *s, int kind, const char *text,
                    int importance, int64_t now, const float *vec, int dims,
                    const int *evidence, int nevidence)
{
    struct ag__sim_mem *m;

    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 32;
        s->m = ag_xrealloc(s->m, sizeof *s->m * (size_t)s->cap);
    }
    m = &s->m[s->n++];
    memset(m, 0, sizeof *m);
    m->id = s->n;
    m->kind = kind;
    m->text = ag_xstrdup(text);
    m->importance = importance < 1 ? 1 : importance > 10 ? 10 : importance;
    m->created = m->accessed = now;
    if (vec) {
        m->vec = ag_xmalloc(sizeof *m->vec * (size_t)dims);
        memcpy(m->vec, vec, sizeof *m->vec * (size_t)dims);
    }
    if (nevidence > 0) {
        m->evidence = ag_xmalloc(sizeof *m->evidence * (size_t)nevidence);
        memcpy(m->evidence, evidence, sizeof *m->evidence * (size_t)nevidence);
        m->nevidence = nevidence;
    }
    if (kind == AG__MEM_OBSERVATION || kind == AG__MEM_CHAT)
        s->since_reflection += m->importance;
    return m->id;
}

static double cosine(const float *a, const float *b, int dims)
{
    double dot = 0, na = 0, nb = 0;

    if (!a || !b)
        return 0;
    for (int i = 0; i < dims; i++) {
        dot += (double)a[i] * b[i];
        na += (double)a[i] * a[i];
        nb += (double)b[i] * b[i];
    }
    return na > 0 && nb > 0 ? dot / sqrt(na * nb) : 0;
}

struct scored {
    int idx;
    double score;
};

static int by_score(const void *x, const void *y)
{
    const struct scored *a = x, *b = y;

    if (a->score != b->score)
        return a->score > b->score ? -1 : 1;
    return b->idx - a->idx; /* newer first */
}

static void minmax(double *v, int n)
{
    double lo = INFINITY, hi = -INFINITY;

    for (int i = 0; i < n; i++) {
        if (v[i] < lo)
            lo = v[i];
        if (v[i] > hi)
            hi = v[i];
    }
    for (int i = 0; i < n; i++)
        v[i] = hi > lo ? (v[i] - lo) / (hi - lo) : 0.5;
}

int ag__sim_mem_retrieve(struct ag__sim_stream *s, const float *query,
                         int dims, int64_t now,
                         const struct ag__sim_settings *set, int k, int *out)
{
    double *rec, *imp, *rel;
    struct scored *sc;
    int n = s->n;

    if (n == 0 || k <= 0)
        return 0;
    rec = ag_xmalloc(sizeof *rec * (size_t)n * 3);
    imp = rec + n;
    rel = imp + n;
    sc = ag_xmalloc(sizeof *sc * (size_t)n);
    for (int i = 0; i < n; i++) {
        const struct ag__sim_mem *m = &s->m[i];
        double hours = (double)(now - m->accessed) / 3600.0;
        if (hours < 0)
            hours = 0;
        rec[i] = pow(set->recency_decay, hours);
        imp[i] = m->importance / 10.0;
        rel[i] = cosine(query, m->vec, dims);
    }
    minmax(rec, n);
    minmax(imp, n);
    minmax(rel, n);
    for (int i = 0; i < n; i++) {
        sc[i].idx = i;
        sc[i].score = set->w_recency * rec[i] + set->w_importance * imp[i] +
                      set->w_relevance * rel[i];
    }
    qsort(sc, (size_t)n, sizeof *sc, by_score);
    if (k > n)
        k = n;
    for (int i = 0; i < k; i++) {
        out[i] = sc[i].idx;
        s->m[sc[i].idx].accessed = now;
    }
    free(rec);
    free(sc);
    return k;
}

void ag__sim_stream_free(struct ag__sim_stream *s)
{
    for (int i = 0; i < s->n; i++) {
        free(s->m[i].text);
        free(s->m[i].vec);
        free(s->m[i].evidence);
    }
    free(s->m);
    memset(s, 0, sizeof *s);
}
