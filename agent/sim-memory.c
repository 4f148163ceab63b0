/*
 * sim-memory.c: an agent's memory stream and retrieval, as in the paper:
 * each memory has a kind, a description, an importance (1-10, asked of the
 * model), its creation and last access in game time, and an embedding; a
 * thought keeps the ids of the memories it was drawn from. Retrieval scores
 * every memory by
 *
 *   w_recency * recency + w_importance * importance + w_relevance * relevance
 *
 * with recency = decay ^ (game hours since last access), so that what was
 * used lately scores higher, importance / 10 and relevance = the cosine of
 * the query's and the memory's embeddings (0 without them), each min-max
 * normalised over the stream (a part that is the same for every memory
 * gives each 0.5, so that one memory alone scores without dividing by
 * zero); the best k are returned and their last access set to now. Ties go
 * to the newer memory. ag__sim_mem_score shows the parts without touching
 * the stream.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim-private.h"

static const char *const kind_names[] = {"observation", "chat", "thought",
                                         "plan"};

const char *ag__sim_mem_kind_name(int kind)
{
    return kind_names[kind >= 0 && kind < 4 ? kind : 0];
}

int ag__sim_mem_kind(const char *name)
{
    for (int k = 0; name && k < 4; k++)
        if (strcmp(name, kind_names[k]) == 0)
            return k;
    return AG__MEM_OBSERVATION;
}

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
    if (vec && dims > 0) {
        m->vec = ag_xmalloc(sizeof *m->vec * (size_t)dims);
        memcpy(m->vec, vec, sizeof *m->vec * (size_t)dims);
    }
    if (evidence && nevidence > 0) {
        m->evidence = ag_xmalloc(sizeof *m->evidence * (size_t)nevidence);
        for (int i = 0; i < nevidence; i++) /* earlier memories only */
            if (evidence[i] >= 1 && evidence[i] < m->id)
                m->evidence[m->nevidence++] = evidence[i];
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

/* Scales v[0, n) to [0, 1]; all the same (no range): all 0.5. */
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

/* A weight as the score uses it: negative or not a number counts as 0
 * (the world loader lets neither through). */
static double weight(double w)
{
    return w > 0 && isfinite(w) ? w : 0;
}

int ag__sim_mem_score(const struct ag__sim_stream *s, const float *query,
                      int dims, int64_t now, const struct ag__sim_settings *set,
                      struct ag__sim_mem_score *out)
{
    int n = s->n;
    double *v, decay = set->recency_decay;

    if (n == 0)
        return 0;
    if (!(decay >= 0 && decay <= 1)) /* also NaN: the default */
        decay = 0.995;
    v = ag_xmalloc(sizeof *v * (size_t)n * 3);
    for (int i = 0; i < n; i++) {
        const struct ag__sim_mem *m = &s->m[i];
        double hours = (double)(now - m->accessed) / 3600.0;
        out[i].recency = pow(decay, hours > 0 ? hours : 0);
        out[i].importance = m->importance / 10.0;
        out[i].relevance = query && m->vec ? cosine(query, m->vec, dims) : 0;
        if (!isfinite(out[i].relevance))
            out[i].relevance = 0;
        v[i] = out[i].recency;
        v[n + i] = out[i].importance;
        v[2 * n + i] = out[i].relevance;
    }
    minmax(v, n);
    minmax(v + n, n);
    minmax(v + 2 * n, n);
    for (int i = 0; i < n; i++)
        out[i].score = weight(set->w_recency) * v[i] +
                       weight(set->w_importance) * v[n + i] +
                       weight(set->w_relevance) * v[2 * n + i];
    free(v);
    return n;
}

int ag__sim_mem_retrieve(struct ag__sim_stream *s, const float *query, int dims,
                         int64_t now, const struct ag__sim_settings *set, int k,
                         int *out)
{
    struct ag__sim_mem_score *ms;
    struct scored *sc;
    int n = s->n;

    if (n == 0 || k <= 0)
        return 0;
    ms = ag_xmalloc(sizeof *ms * (size_t)n);
    sc = ag_xmalloc(sizeof *sc * (size_t)n);
    ag__sim_mem_score(s, query, dims, now, set, ms);
    for (int i = 0; i < n; i++) {
        sc[i].idx = i;
        sc[i].score = ms[i].score;
    }
    qsort(sc, (size_t)n, sizeof *sc, by_score);
    if (k > n)
        k = n;
    for (int i = 0; i < k; i++) {
        out[i] = sc[i].idx;
        s->m[sc[i].idx].accessed = now;
    }
    free(ms);
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
