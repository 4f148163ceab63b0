/*
 * test-sim-memory.c: the memory stream of the simulation (agent/sim-memory.c)
 * through the private API of sim-private.h: the recency pin (0.995 ^ game
 * hours since last access, newer first), importance, relevance (cosine of the
 * local embedder's vectors), the weights, access times, degenerate streams
 * (no NaN) and the evidence of thoughts.
 */
#include "ag.h"
#include "llm-embed.h"
#include "sim-private.h"
#include "tap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define is_near(got, want, eps, name)                                          \
    do {                                                                       \
        double g_ = (got), w_ = (want);                                        \
        if (!tap_ok(fabs(g_ - w_) <= (eps), __FILE__, __LINE__, (name)))       \
            printf("#   got %.17g, want %.17g\n", g_, w_);                     \
    } while (0)

#define DIMS 64
#define T0   INT64_C(1676271600) /* 2023-02-13 07:00 */
#define HOUR 3600

static struct ag__sim_settings defaults(void)
{
    struct ag__sim_settings set;

    memset(&set, 0, sizeof set);
    set.recency_decay = 0.995;
    set.w_recency = set.w_importance = set.w_relevance = 1;
    set.retrieve = 30;
    set.dims = DIMS;
    return set;
}

static int add(struct ag__sim_stream *s, const char *text, int importance,
               int64_t now)
{
    float v[DIMS];

    ag_embed_local(text, DIMS, v);
    return ag__sim_mem_add(s, AG__MEM_OBSERVATION, text, importance, now, v,
                           DIMS, NULL, 0);
}

static int retrieve(struct ag__sim_stream *s, const char *query, int64_t now,
                    const struct ag__sim_settings *set, int k, int *out)
{
    float q[DIMS];

    ag_embed_local(query, DIMS, q);
    return ag__sim_mem_retrieve(s, q, DIMS, now, set, k, out);
}

static void test_recency(void)
{
    struct ag__sim_settings set = defaults();
    struct ag__sim_stream s = {0};
    struct ag__sim_mem_score sc[4];
    int out[4], n;

    /* THE PIN: same text, same importance, same creation; the first was
     * used an hour later than the second. Newer access ranks first, even
     * against the tie-break, which favours the newer memory. */
    add(&s, "Ann had coffee at the cafe", 5, T0);
    add(&s, "Ann had coffee at the cafe", 5, T0);
    s.m[0].accessed = T0 + HOUR;
    n = retrieve(&s, "coffee", T0 + 2 * HOUR, &set, 2, out);
    ok(n == 2 && out[0] == 0 && out[1] == 1,
       "recency: the memory accessed an hour later ranks first");
    ag__sim_stream_free(&s);
    add(&s, "Ann had coffee at the cafe", 5, T0);
    add(&s, "Ann had coffee at the cafe", 5, T0 + HOUR);
    s.m[1].accessed = T0;
    s.m[0].accessed = T0 + HOUR;
    n = retrieve(&s, "coffee", T0 + 5 * HOUR, &set, 2, out);
    ok(n == 2 && out[0] == 0,
       "recency: last access counts, not creation (older memory, newer use)");
    ag__sim_stream_free(&s);

    /* the raw factor: exactly 0.995 ^ hours since last access */
    add(&s, "a", 5, T0);
    add(&s, "b", 5, T0 + 9 * HOUR);
    add(&s, "c", 5, T0 + 10 * HOUR - 1800);
    add(&s, "d", 5, T0 + 10 * HOUR);
    n = ag__sim_mem_score(&s, NULL, DIMS, T0 + 10 * HOUR, &set, sc);
    is_int(n, 4, "score: one score per memory");
    ok(sc[0].recency == pow(0.995, 10),
       "score: 10 hours since last access: 0.995^10");
    ok(sc[1].recency == 0.995, "score: 1 hour: 0.995");
    ok(sc[2].recency == pow(0.995, 0.5), "score: 30 minutes: 0.995^0.5");
    ok(sc[3].recency == 1, "score: accessed now: 1");
    is_near(sc[0].recency,
            0.995 * 0.995 * 0.995 * 0.995 * 0.995 * 0.995 * 0.995 * 0.995 *
                0.995 * 0.995,
            1e-15, "score: 0.995^10 is ten hourly decays");
    ok(sc[0].recency < sc[1].recency && sc[1].recency < sc[2].recency &&
           sc[2].recency < sc[3].recency,
       "score: newer access, higher recency");
    n = ag__sim_mem_score(&s, NULL, DIMS, T0, &set, sc);
    ok(sc[3].recency == 1, "score: an access after now counts as now");
    set.recency_decay = 0.9;
    ag__sim_mem_score(&s, NULL, DIMS, T0 + 10 * HOUR, &set, sc);
    ok(sc[0].recency == pow(0.9, 10) && sc[1].recency == 0.9,
       "score: the decay is the setting's");
    set = defaults();
    ag__sim_stream_free(&s);

    /* the normalised ranking depends on the exponent: accessed 0, 1 and 2
     * hours ago, recency alone: 1, (0.995 - 0.995^2) / (1 - 0.995^2), 0;
     * a linear decay would put the middle at exactly 0.5 */
    add(&s, "x", 5, T0);
    add(&s, "x", 5, T0 + HOUR);
    add(&s, "x", 5, T0 + 2 * HOUR);
    set.w_importance = set.w_relevance = 0;
    ag__sim_mem_score(&s, NULL, DIMS, T0 + 2 * HOUR, &set, sc);
    ok(sc[2].score == 1 && sc[0].score == 0,
       "score: recency min-max normalised to 0..1");
    is_near(sc[1].score, (0.995 - 0.995 * 0.995) / (1 - 0.995 * 0.995), 1e-12,
            "score: the middle memory's normalised recency is geometric");
    ok(sc[1].score < 0.4988, "score: ... and below a linear decay's 0.5");
    n = retrieve(&s, "x", T0 + 2 * HOUR, &set, 3, out);
    ok(n == 3 && out[0] == 2 && out[1] == 1 && out[2] == 0,
       "recency: retrieval order follows the last access");
    ag__sim_stream_free(&s);
}

static void test_importance_relevance(void)
{
    struct ag__sim_settings set = defaults();
    struct ag__sim_stream s = {0};
    struct ag__sim_mem_score sc[5];
    int out[5], n;

    add(&s, "Tom saw a bird", 2, T0);
    add(&s, "Tom saw a bird", 9, T0);
    add(&s, "Tom saw a bird", 5, T0);
    n = retrieve(&s, "bird", T0 + HOUR, &set, 3, out);
    ok(n == 3 && out[0] == 1 && out[1] == 2 && out[2] == 0,
       "importance: decides when recency and relevance are equal");
    ag__sim_mem_score(&s, NULL, DIMS, T0, &set, sc);
    ok(sc[1].importance == 0.9 && sc[0].importance == 0.2,
       "importance: the raw part is importance / 10");
    set.w_recency = set.w_relevance = 0;
    ag__sim_mem_score(&s, NULL, DIMS, T0, &set, sc);
    ok(sc[0].score == 0 && sc[1].score == 1,
       "importance: min-max normalised to 0..1");
    is_near(sc[2].score, 3.0 / 7, 1e-12, "importance: 5 between 2 and 9");
    set = defaults();
    ag__sim_stream_free(&s);

    /* relevance: the party memory is the oldest, so neither recency nor
     * the tie-break can put it first */
    add(&s, "Isabella is hosting a Valentine's Day party at Hobbs Cafe", 5, T0);
    add(&s, "Tom repaired the garden fence", 5, T0);
    add(&s, "Maria read a book about chemistry", 5, T0);
    add(&s, "Klaus walked the dog along the river", 5, T0);
    n = retrieve(&s, "party at the cafe", T0 + HOUR, &set, 4, out);
    ok(n == 4 && out[0] == 0,
       "relevance: \"party at the cafe\" finds the party first");
    {
        float q[DIMS];
        ag_embed_local("party at the cafe", DIMS, q);
        ag__sim_mem_score(&s, q, DIMS, T0 + HOUR, &set, sc);
        is_near(sc[0].relevance, ag_embed_cosine(q, s.m[0].vec, DIMS), 1e-9,
                "relevance: the raw part is the cosine of the embeddings");
        ok(sc[0].relevance > sc[1].relevance &&
               sc[0].relevance > sc[2].relevance &&
               sc[0].relevance > sc[3].relevance,
           "relevance: the party is the most similar");
        set.w_recency = set.w_importance = 0;
        ag__sim_mem_score(&s, q, DIMS, T0 + HOUR, &set, sc);
        ok(sc[0].score == 1 &&
               (sc[1].score == 0 || sc[2].score == 0 || sc[3].score == 0),
           "relevance: min-max normalised to 0..1");
        set = defaults();
        ag__sim_mem_score(&s, NULL, DIMS, T0 + HOUR, &set, sc);
        ok(sc[0].relevance == 0 && sc[0].score == sc[1].score,
           "relevance: without a query it is 0 for all");
    }
    ag__sim_stream_free(&s);
}

static void test_weights(void)
{
    struct ag__sim_settings set = defaults();
    struct ag__sim_stream s = {0};
    int out[3], n;

    add(&s, "Isabella is hosting a party at the cafe", 1, T0);
    add(&s, "Tom repaired the garden fence", 10, T0);
    add(&s, "Maria read a book about chemistry", 4, T0 + 2 * HOUR);
    set.w_recency = 0;
    set.w_importance = 0;
    n = retrieve(&s, "party at the cafe", T0 + 3 * HOUR, &set, 3, out);
    ok(n == 3 && out[0] == 0, "weights: relevance alone: the party first");
    set = defaults();
    set.w_relevance = 0;
    set.w_recency = 0;
    n = retrieve(&s, "party at the cafe", T0 + 3 * HOUR, &set, 3, out);
    ok(n == 3 && out[0] == 1 && out[1] == 2 && out[2] == 0,
       "weights: relevance 0, importance alone: by importance");
    set = defaults();
    set.w_relevance = 0;
    set.w_importance = 0;
    s.m[0].accessed = s.m[1].accessed = T0;
    s.m[2].accessed = T0 + 2 * HOUR;
    n = retrieve(&s, "party at the cafe", T0 + 3 * HOUR, &set, 1, out);
    ok(n == 1 && out[0] == 2, "weights: recency alone: the latest used");
    set = defaults();
    set.w_relevance = 5;
    s.m[0].accessed = s.m[1].accessed = s.m[2].accessed = T0;
    n = retrieve(&s, "party at the cafe", T0 + 3 * HOUR, &set, 3, out);
    ok(n == 3 && out[0] == 0, "weights: a heavy relevance beats importance");
    set.w_relevance = 1;
    set.w_importance = 5;
    n = retrieve(&s, "party at the cafe", T0 + 3 * HOUR, &set, 3, out);
    ok(n == 3 && out[0] == 1, "weights: a heavy importance beats relevance");
    ag__sim_stream_free(&s);
}

static void test_access(void)
{
    struct ag__sim_settings set = defaults();
    struct ag__sim_stream s = {0};
    int out[5], n, others = 1, returned = 1;

    for (int i = 0; i < 5; i++)
        add(&s, i == 2 || i == 4 ? "the party at the cafe" : "a quiet walk", 5,
            T0 + i * 60);
    n = retrieve(&s, "party at the cafe", T0 + 5 * HOUR, &set, 2, out);
    ok(n == 2 && ((out[0] == 4 && out[1] == 2) || (out[0] == 2 && out[1] == 4)),
       "access: the two relevant memories are returned");
    for (int i = 0; i < n; i++)
        returned &= s.m[out[i]].accessed == T0 + 5 * HOUR;
    ok(returned, "access: what is returned is marked accessed now");
    others = s.m[0].accessed == T0 && s.m[1].accessed == T0 + 60 &&
             s.m[3].accessed == T0 + 180;
    ok(others, "access: what is not returned keeps its last access");
    ok(s.m[2].created == T0 + 120 && s.m[4].created == T0 + 240,
       "access: creation times do not change");
    {
        struct ag__sim_mem_score sc[5];
        int64_t before = s.m[0].accessed;
        ag__sim_mem_score(&s, NULL, DIMS, T0 + 9 * HOUR, &set, sc);
        ok(s.m[0].accessed == before, "access: scoring changes nothing");
    }
    ag__sim_stream_free(&s);
}

static int finite_scores(const struct ag__sim_mem_score *sc, int n)
{
    for (int i = 0; i < n; i++)
        if (!isfinite(sc[i].score) || !isfinite(sc[i].recency) ||
            !isfinite(sc[i].relevance))
            return 0;
    return 1;
}

static void test_degenerate(void)
{
    struct ag__sim_settings set = defaults();
    struct ag__sim_stream s = {0};
    struct ag__sim_mem_score sc[3];
    int out[10] = {0}, n, distinct;
    float zero[DIMS];

    n = retrieve(&s, "anything", T0, &set, 5, out);
    is_int(n, 0, "empty stream: nothing retrieved");
    is_int(ag__sim_mem_score(&s, NULL, DIMS, T0, &set, sc), 0,
           "empty stream: nothing scored");
    add(&s, "Ann baked bread", 5, T0);
    n = retrieve(&s, "bread", T0 + HOUR, &set, 10, out);
    ok(n == 1 && out[0] == 0, "one memory: k = 10 returns it");
    ag__sim_mem_score(&s, NULL, DIMS, T0, &set, sc);
    ok(finite_scores(sc, 1) && sc[0].score == 1.5,
       "one memory: zero ranges give 0.5 per part, no NaN");
    add(&s, "Ann baked bread", 5, T0);
    add(&s, "Ann baked bread", 5, T0);
    s.m[0].accessed = T0;
    n = retrieve(&s, "bread", T0, &set, 10, out);
    distinct =
        n == 3 && out[0] != out[1] && out[1] != out[2] && out[0] != out[2];
    ok(distinct, "k larger than the stream: each memory once");
    ok(n == 3 && out[0] == 2 && out[1] == 1 && out[2] == 0,
       "identical memories: newest first");
    ag__sim_mem_score(&s, NULL, DIMS, T0, &set, sc);
    ok(finite_scores(sc, 3), "identical memories: no NaN");
    memset(zero, 0, sizeof zero);
    ag__sim_mem_score(&s, zero, DIMS, T0, &set, sc);
    ok(finite_scores(sc, 3) && sc[0].relevance == 0,
       "a zero query vector: relevance 0, no NaN");
    is_int(retrieve(&s, "bread", T0, &set, 0, out), 0, "k = 0: nothing");
    set.w_recency = NAN;
    set.recency_decay = NAN;
    ag__sim_mem_score(&s, NULL, DIMS, T0 + HOUR, &set, sc);
    ok(finite_scores(sc, 3), "NaN settings give no NaN scores");
    ag__sim_stream_free(&s);
    ag__sim_stream_free(&s); /* twice: a no-op */
}

static void test_add(void)
{
    struct ag__sim_stream s = {0};
    int ev[4] = {1, 2, 99, 0}, id, ids_ok = 1;
    float v[DIMS];

    add(&s, "Ann met Bob at the cafe", 4, T0);
    add(&s, "Bob talked about the party", 6, T0 + 60);
    ag_embed_local("Bob likes parties", DIMS, v);
    id = ag__sim_mem_add(&s, AG__MEM_THOUGHT, "Bob likes parties", 7, T0 + 120,
                         v, DIMS, ev, 4);
    ev[0] = 42; /* the stream has its own copy */
    is_int(id, 3, "add: ids count from 1");
    ok(s.m[2].kind == AG__MEM_THOUGHT && s.m[2].nevidence == 2 &&
           s.m[2].evidence[0] == 1 && s.m[2].evidence[1] == 2,
       "add: a thought keeps the ids of its evidence (earlier memories)");
    is_near(s.since_reflection, 10, 0,
            "add: observations count toward reflection, thoughts do not");
    id = ag__sim_mem_add(&s, AG__MEM_CHAT, "said hello", 0, T0, NULL, DIMS,
                         NULL, 0);
    ok(s.m[id - 1].importance == 1 && s.m[id - 1].vec == NULL,
       "add: importance is at least 1; no vector is fine");
    id = add(&s, "a huge event", 15, T0);
    is_int(s.m[id - 1].importance, 10, "add: importance is at most 10");
    ok(s.m[0].vec &&
           fabs(ag_embed_cosine(s.m[0].vec, s.m[0].vec, DIMS) - 1) < 1e-6,
       "add: the vector is copied");
    for (int i = 0; i < 100; i++)
        ids_ok &= add(&s, "filler", 3, T0) == 6 + i;
    ok(ids_ok && s.n == 105 &&
           strcmp(s.m[0].text, "Ann met Bob at the cafe") == 0 &&
           s.m[2].nevidence == 2,
       "add: the stream grows and keeps what it holds");
    ag__sim_stream_free(&s);
}

int main(void)
{
    test_recency();
    test_importance_relevance();
    test_weights();
    test_access();
    test_degenerate();
    test_add();
    return tap_done();
}
