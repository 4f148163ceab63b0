/*
 * sim-embed.c: the embeddings behind the relevance part of memory
 * retrieval. With a scripted model (or settings.embeddings = "local") they
 * come from the local embedder at once (llm-embed.h). With an endpoint they
 * come from its /v1/embeddings: a text not in the cache is queued and the
 * agent waits for it as it waits for a model answer (the Lua side yields);
 * the texts queued during a round go out together, in one request per
 * AG_EMBED_MAX_TEXTS, when the round's model calls do. Vectors are cached
 * by the SHA-256 of (model, text); every vector fetched is written to the
 * audit log (embed.response), so that a replay or a resumed run has them
 * all without an endpoint. When the endpoint fails for good, the local
 * embedder stands in for that batch, loudly (a warning, a failure in the
 * usage, "fallback" in the audit record), and the run goes on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "llm-embed.h"
#include "sim-private.h"

#define ECACHE_BYTES ((size_t)512 << 20)

struct ag__sim_etext { /* a text waited for */
    char *text;
    int *agents;
    int nagents;
};

struct ag__sim_ebatch { /* a request in flight */
    struct ag__sim_ebatch *next;
    struct ag__sim *s;
    struct ag__sim_etext *t;
    int n;
    int projected_from; /* the endpoint's vectors were of this size */
    uint64_t t0;
};

int ag__sim_embed_init(struct ag__sim *s, char *err, size_t errlen)
{
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(s->w.json, "settings");
    const char *mode = ag_json_str(set, "embeddings");
    const char *model = ag_json_str(set, "embedding_model");

    if (mode && strcmp(mode, "local") != 0 && strcmp(mode, "endpoint") != 0) {
        snprintf(err, errlen,
                 "%s: settings.embeddings: must be \"local\" or \"endpoint\" "
                 "(got \"%s\")",
                 s->w.path, mode);
        return AG_ETASK;
    }
    s->embed_remote = !s->script && !(mode && strcmp(mode, "local") == 0);
    if (s->embed_remote && strcmp(s->provider, "anthropic") == 0) {
        if (mode) {
            snprintf(err, errlen,
                     "%s: settings.embeddings: Anthropic's API has no "
                     "embeddings; use \"local\"",
                     s->w.path);
            return AG_ETASK;
        }
        ag_warn("sim: Anthropic's API has no embeddings: memory relevance "
                "uses the local embedder (set settings.embeddings = "
                "\"local\" to say so)");
        s->embed_remote = 0;
    }
    s->embed_model = ag_xstrdup(model             ? model
                                : s->embed_remote ? "text-embedding-3-small"
                                                  : "local");
    return ag_embed_cache_new(ECACHE_BYTES, &s->ecache);
}

static void etext_free(struct ag__sim_etext *t, int n)
{
    for (int i = 0; i < n; i++) {
        free(t[i].text);
        free(t[i].agents);
    }
    free(t);
}

void ag__sim_embed_free(struct ag__sim *s)
{
    etext_free(s->epending, s->nepending);
    s->epending = NULL;
    s->nepending = 0;
    while (s->ebatches) { /* none after a run that ended normally */
        struct ag__sim_ebatch *b = s->ebatches;
        s->ebatches = b->next;
        etext_free(b->t, b->n);
        free(b);
    }
    ag_embed_cache_free(s->ecache);
    s->ecache = NULL;
    free(s->embed_model);
}

/* Is text waited for already (queued, or in a batch in flight)? Then the
 * agent waits for it too. */
static int join(struct ag__sim *s, int agent, const char *text)
{
    struct ag__sim_etext *hit = NULL;

    for (int i = 0; i < s->nepending && !hit; i++)
        if (strcmp(s->epending[i].text, text) == 0)
            hit = &s->epending[i];
    for (struct ag__sim_ebatch *b = s->ebatches; b && !hit; b = b->next)
        for (int i = 0; i < b->n && !hit; i++)
            if (strcmp(b->t[i].text, text) == 0)
                hit = &b->t[i];
    if (!hit)
        return 0;
    hit->agents = ag_xrealloc(hit->agents,
                              sizeof *hit->agents * (size_t)(hit->nagents + 1));
    hit->agents[hit->nagents++] = agent;
    return 1;
}

int ag__sim_embed_need(struct ag__sim *s, int agent, const char *text)
{
    float one;
    struct ag__sim_etext *t;

    if (!s->w.set.memory)
        return 1;
    s->agents[agent].state = AG__SIM_MODEL;
    s->waiting++;
    /* A vector at hand (the local embedder's, or a cached one) is still
     * given at the end of the round, as one from the endpoint would be: a
     * run is the same run whichever gives the vectors. With room for no
     * float, a cached vector answers "too big". */
    if (!s->embed_remote || ag_embed_cache_get(s->ecache, s->embed_model, text,
                                               &one, 0) == AG_ETOOBIG) {
        s->agents[agent].answer = cJSON_CreateTrue();
        return 0;
    }
    if (join(s, agent, text))
        return 0;
    if (s->nepending == s->capepending) {
        s->capepending = s->capepending ? 2 * s->capepending : 16;
        s->epending = ag_xrealloc(s->epending,
                                  sizeof *s->epending * (size_t)s->capepending);
    }
    t = &s->epending[s->nepending++];
    t->text = ag_xstrdup(text);
    t->agents = ag_xmalloc(sizeof *t->agents);
    t->agents[0] = agent;
    t->nagents = 1;
    return 0;
}

static void audit_batch(struct ag__sim *s, const struct ag__sim_ebatch *b,
                        const float *vecs, int dims, const char *fallback,
                        double ms)
{
    cJSON *d, *in, *out;

    if (!s->audit)
        return;
    d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "model", s->embed_model);
    in = cJSON_AddArrayToObject(d, "inputs");
    out = cJSON_AddArrayToObject(d, "vectors");
    for (int i = 0; i < b->n; i++) {
        cJSON *v = cJSON_CreateArray();
        cJSON_AddItemToArray(in, cJSON_CreateString(b->t[i].text));
        for (int k = 0; k < dims; k++)
            cJSON_AddItemToArray(v, cJSON_CreateNumber(vecs[i * dims + k]));
        cJSON_AddItemToArray(out, v);
    }
    if (fallback)
        cJSON_AddStringToObject(d, "fallback", fallback);
    if (b->projected_from)
        cJSON_AddNumberToObject(d, "projected_from", b->projected_from);
    cJSON_AddNumberToObject(d, "latency_ms", ms);
    ag__sim_audit(s, b->t[0].agents[0], "embed.response", d);
}

static void on_attempt(void *ud, const struct ag_llm_attempt *at)
{
    struct ag__sim_ebatch *b = ud;

    b->s->eusage.retries++;
    ag__sim_audit_attempt(b->s, b->t[0].agents[0], "embed.attempt", at);
}

static void on_done(void *ud, int err, struct ag_embed_reply *r,
                    const char *message, int attempts)
{
    struct ag__sim_ebatch *b = ud, **pp;
    struct ag__sim *s = b->s;
    int dims = s->w.set.dims;
    float *vecs = NULL;
    double ms = (double)(ag_now_ns() - b->t0) / 1e6;

    AG_UNUSED(attempts);
    s->inflight--;
    s->eusage.calls++;
    s->eusage.ms += ms;
    if (err == 0 && r->dims == dims && r->n == b->n) {
        vecs = r->vecs;
        r->vecs = NULL;
        if (r->tokens > 0) {
            s->eusage.tokens_in += r->tokens;
            s->new_tokens += r->tokens;
        }
        if ((b->projected_from = r->projected_from) && !s->eprojected++)
            ag_warn("sim: the embeddings endpoint answers vectors of %d "
                    "numbers, not the %d asked (it ignores \"dimensions\"): "
                    "they are projected to %d, which keeps their cosines "
                    "roughly; settings.dims = %d would use them whole",
                    r->projected_from, dims, dims, r->projected_from);
        audit_batch(s, b, vecs, dims, NULL, ms);
    } else {
        char why[300];
        snprintf(why, sizeof why, "%s",
                 err < 0 ? message
                         : "the endpoint's reply does not fit the texts sent");
        ag_warn("sim: embeddings failed (%s): the local embedder stands in "
                "for %d texts",
                why, b->n);
        s->eusage.failures++;
        vecs = ag_xmalloc(sizeof *vecs * (size_t)(b->n * dims));
        for (int i = 0; i < b->n; i++)
            ag_embed_local(b->t[i].text, dims, vecs + i * dims);
        audit_batch(s, b, vecs, dims, why, ms);
    }
    for (int i = 0; i < b->n; i++) {
        ag_embed_cache_put(s->ecache, s->embed_model, b->t[i].text,
                           vecs + i * dims, dims);
        for (int k = 0; k < b->t[i].nagents; k++) {
            struct ag__sim_agent *a = &s->agents[b->t[i].agents[k]];
            a->answer = cJSON_CreateTrue();
        }
    }
    free(vecs);
    for (pp = &s->ebatches; *pp; pp = &(*pp)->next)
        if (*pp == b) {
            *pp = b->next;
            break;
        }
    etext_free(b->t, b->n);
    free(b);
}

/* Sends what the round queued, AG_EMBED_MAX_TEXTS texts a request. */
void ag__sim_embed_flush(struct ag__sim *s)
{
    int done = 0;

    while (done < s->nepending) {
        int n = s->nepending - done, rc;
        struct ag__sim_ebatch *b = ag_xcalloc(1, sizeof *b);
        struct ag_embed_cb cb = {NULL, on_attempt, on_done, b};
        const char **texts;

        if (n > AG_EMBED_MAX_TEXTS)
            n = AG_EMBED_MAX_TEXTS;
        b->s = s;
        b->n = n;
        b->t = ag_xmalloc(sizeof *b->t * (size_t)n);
        memcpy(b->t, s->epending + done, sizeof *b->t * (size_t)n);
        texts = ag_xmalloc(sizeof *texts * (size_t)n);
        for (int i = 0; i < n; i++)
            texts[i] = b->t[i].text;
        b->t0 = ag_now_ns();
        b->next = s->ebatches;
        s->ebatches = b;
        s->inflight++;
        rc = ag_embed_send(s->loop, s->http, &s->llm, s->embed_model, texts, n,
                           s->w.set.dims, &cb, NULL);
        free(texts);
        if (rc < 0) { /* not sent: answer now, from the local embedder */
            struct ag_embed_reply none = {0};
            on_done(b, rc, &none, ag_strerror(rc), 0);
        }
        done += n;
    }
    free(s->epending);
    s->epending = NULL;
    s->nepending = s->capepending = 0;
}

void ag__sim_embed(struct ag__sim *s, const char *text, float *out)
{
    int dims = s->w.set.dims;

    if (s->embed_remote &&
        ag_embed_cache_get(s->ecache, s->embed_model, text, out, dims) == dims)
        return;
    if (s->embed_remote)
        ag_warn("sim: no embedding cached for a text; the local embedder "
                "stands in");
    ag_embed_local(text, dims, out);
}

/* Puts the vectors an audit log recorded into the cache (replay). */
int ag__sim_embed_preload(struct ag__sim *s, const cJSON *data)
{
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(data, "inputs");
    const cJSON *vs = cJSON_GetObjectItemCaseSensitive(data, "vectors");
    int dims = s->w.set.dims, n = 0;
    float *v = ag_xmalloc(sizeof *v * (size_t)dims);

    for (int i = 0; i < cJSON_GetArraySize(in); i++) {
        const cJSON *t = cJSON_GetArrayItem(in, i);
        const cJSON *vec = cJSON_GetArrayItem(vs, i);
        if (!cJSON_IsString(t) || cJSON_GetArraySize(vec) != dims)
            continue;
        for (int k = 0; k < dims; k++)
            v[k] = (float)cJSON_GetArrayItem(vec, k)->valuedouble;
        ag_embed_cache_put(s->ecache, s->embed_model, t->valuestring, v, dims);
        n++;
    }
    free(v);
    return n;
}
