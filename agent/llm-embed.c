/*
 * llm-embed.c: embeddings (see llm-embed.h): the local hashed bag of words,
 * the parser of /embeddings replies, the client that sends one request
 * through the retrying POST of llm.c, and the cache of vectors.
 *
 * The local embedder has a twin in tests/standin.c, written apart on
 * purpose (the stand-in does not link libagent); tests/test-embed.c checks
 * that both give the same floats for many texts. Change one, change both.
 *
 * The cache is a chained hash table over the first bytes of each key (a
 * SHA-256, so already well spread) plus a doubly linked list in order of
 * use; both are O(1) per operation.
 */
#include "llm-embed.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

/* ---- the local embedder ------------------------------------------------ */

#define FNV_OFFSET 0xcbf29ce484222325ULL
#define FNV_PRIME  0x100000001b3ULL

static int word_byte(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
           (ch >= '0' && ch <= '9') || ch >= 0x80;
}

/* FNV-1a over s[0, n), ASCII lower-cased, continuing from h. */
static uint64_t fnv(uint64_t h, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch >= 'A' && ch <= 'Z')
            ch = (unsigned char)(ch - 'A' + 'a');
        h ^= ch;
        h *= FNV_PRIME;
    }
    return h;
}

/* SplitMix64's finaliser: spreads FNV's weak low and high bits. */
static uint64_t mix(uint64_t z)
{
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static void add_feature(float *out, int dims, uint64_t h)
{
    h = mix(h);
    out[h % (uint64_t)dims] += (h >> 63) ? -1.0f : 1.0f;
}

void ag_embed_project(const float *in, int from, float *out, int to)
{
    double norm = 0;

    for (int k = 0; k < to; k++) {
        double acc = 0;
        for (int i = 0; i < from; i++) {
            /* splitmix64 of (k, i): the sign of one entry of the matrix */
            uint64_t z = ((uint64_t)k << 32 | (uint32_t)i) +
                         UINT64_C(0x9e3779b97f4a7c15);
            z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
            z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
            acc += ((z ^ (z >> 31)) & 1) ? in[i] : -in[i];
        }
        out[k] = (float)acc;
        norm += acc * acc;
    }
    norm = sqrt(norm);
    for (int k = 0; k < to && norm > 0; k++)
        out[k] = (float)(out[k] / norm);
}

int ag_embed_local(const char *text, int dims, float *out)
{
    const char *p = text ? text : "", *prev = NULL;
    size_t prev_len = 0;
    double sumsq = 0, norm;
    int words = 0;

    if (!out || dims < 1 || dims > AG_EMBED_MAX_DIMS)
        return -EINVAL;
    memset(out, 0, (size_t)dims * sizeof *out);
    while (*p && words < AG_EMBED_MAX_WORDS) {
        const char *w;
        size_t n;

        while (*p && !word_byte((unsigned char)*p))
            p++;
        if (!*p)
            break;
        for (w = p; *p && word_byte((unsigned char)*p); p++)
            ;
        n = (size_t)(p - w);
        add_feature(out, dims, fnv(fnv(FNV_OFFSET, "w:", 2), w, n));
        if (prev) {
            uint64_t h = fnv(FNV_OFFSET, "b:", 2);
            h = fnv(h, prev, prev_len);
            h = fnv(h, " ", 1);
            add_feature(out, dims, fnv(h, w, n));
        }
        prev = w;
        prev_len = n;
        words++;
    }
    /* The counts are integers far below 2^24, their squares' sum below
     * 2^53: exact in any order. */
    for (int i = 0; i < dims; i++)
        sumsq += (double)out[i] * (double)out[i];
    if (sumsq > 0) {
        norm = sqrt(sumsq);
        for (int i = 0; i < dims; i++)
            out[i] = (float)((double)out[i] / norm);
    }
    return words;
}

double ag_embed_cosine(const float *a, const float *b, int dims)
{
    double ab = 0, aa = 0, bb = 0, c;

    for (int i = 0; i < dims; i++) {
        ab += (double)a[i] * b[i];
        aa += (double)a[i] * a[i];
        bb += (double)b[i] * b[i];
    }
    if (aa <= 0 || bb <= 0)
        return 0;
    c = ab / (sqrt(aa) * sqrt(bb));
    return c > 1 ? 1 : c < -1 ? -1 : c;
}

/* ---- the reply --------------------------------------------------------- */

void ag_embed_reply_clear(struct ag_embed_reply *r)
{
    if (!r)
        return;
    free(r->vecs);
    memset(r, 0, sizeof *r);
    r->tokens = -1;
}

/* Checks one item of "data" and copies its vector into row idx. */
static int parse_item(const cJSON *it, int i, int want,
                      struct ag_embed_reply *out, unsigned char *seen,
                      char *err, size_t errlen)
{
    const cJSON *ix = cJSON_GetObjectItemCaseSensitive(it, "index");
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(it, "embedding"), *v;
    int idx = i, d, k = 0;

    if (!cJSON_IsObject(it)) {
        ag_seterr(err, errlen, "data[%d] is not an object", i);
        return AG_EPARSE;
    }
    if (ix) {
        if (!cJSON_IsNumber(ix) || ix->valuedouble != (double)ix->valueint ||
            ix->valueint < 0 || ix->valueint >= want) {
            ag_seterr(err, errlen,
                      "data[%d].index is not an integer from 0 to %d", i,
                      want - 1);
            return AG_EPARSE;
        }
        idx = ix->valueint;
    }
    if (seen[idx]) {
        ag_seterr(err, errlen, "data[%d].index %d repeats", i, idx);
        return AG_EPARSE;
    }
    seen[idx] = 1;
    if (!e) {
        ag_seterr(err, errlen, "data[%d].embedding missing", i);
        return AG_EPARSE;
    }
    if (!cJSON_IsArray(e)) {
        ag_seterr(err, errlen, "data[%d].embedding is not an array%s", i,
                  cJSON_IsString(e) ? " (base64?)" : "");
        return AG_EPARSE;
    }
    d = cJSON_GetArraySize(e);
    if (d < 1 || d > AG_EMBED_MAX_DIMS) {
        ag_seterr(err, errlen,
                  "data[%d].embedding has %d numbers (want 1 to %d)", i, d,
                  AG_EMBED_MAX_DIMS);
        return AG_EPARSE;
    }
    if (!out->vecs) {
        out->dims = d;
        out->vecs = calloc((size_t)want * (size_t)d, sizeof *out->vecs);
        if (!out->vecs)
            return ag__codec_fail(-ENOMEM, err, errlen);
    } else if (d != out->dims) {
        ag_seterr(err, errlen,
                  "data[%d].embedding has %d numbers, the first one %d", i, d,
                  out->dims);
        return AG_EPARSE;
    }
    cJSON_ArrayForEach(v, e)
    {
        if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble)) {
            ag_seterr(err, errlen, "data[%d].embedding[%d] is not a number", i,
                      k);
            return AG_EPARSE;
        }
        out->vecs[(size_t)idx * (size_t)d + (size_t)k++] =
            (float)v->valuedouble;
    }
    return 0;
}

static int parse_root(const cJSON *root, int want, struct ag_embed_reply *out,
                      char *err, size_t errlen)
{
    const cJSON *data = cJSON_GetObjectItemCaseSensitive(root, "data"), *it;
    unsigned char *seen;
    int count, i = 0, rc = 0;

    if (!data) {
        ag_seterr(err, errlen, "data missing");
        return AG_EPARSE;
    }
    if (!cJSON_IsArray(data)) {
        ag_seterr(err, errlen, "data is not an array");
        return AG_EPARSE;
    }
    count = cJSON_GetArraySize(data);
    if (want <= 0)
        want = count;
    if (count != want || count < 1 || count > AG_EMBED_MAX_TEXTS) {
        ag_seterr(err, errlen, "data has %d items for %d texts", count, want);
        return AG_EPARSE;
    }
    if (!(seen = calloc((size_t)want, 1)))
        return ag__codec_fail(-ENOMEM, err, errlen);
    cJSON_ArrayForEach(it, data)
    {
        if ((rc = parse_item(it, i++, want, out, seen, err, errlen)) < 0)
            break;
    }
    free(seen);
    if (rc < 0)
        return rc;
    out->n = want;
    out->tokens = ag__codec_count(
        cJSON_GetObjectItemCaseSensitive(root, "usage"), "prompt_tokens");
    return 0;
}

int ag_embed_parse(const char *body, size_t n, int want,
                   struct ag_embed_reply *out, char *err, size_t errlen)
{
    cJSON *root;
    int rc;

    ag_embed_reply_clear(out);
    if ((rc = ag__codec_root(body, n, &root, err, errlen)) < 0)
        return rc;
    rc = parse_root(root, want, out, err, errlen);
    cJSON_Delete(root);
    if (rc < 0)
        ag_embed_reply_clear(out);
    return rc;
}

/* ---- the client -------------------------------------------------------- */

/* Invariant: ended is set once on_done has run or the call was cancelled;
 * the call is freed by the post's release. */
struct ag_embed_call {
    struct ag_embed_cb cb;
    struct ag__post *post;
    int n, dims; /* texts sent; dimensions asked for (0: not said) */
    int local;   /* the local embedder answered: reply holds it */
    char err[512];
    struct ag_embed_reply reply;
    int ended;
};

static void embed_begin(void *ud)
{
    struct ag_embed_call *c = ud;

    c->err[0] = '\0';
    ag_embed_reply_clear(&c->reply);
}

static int embed_finish(void *ud, const char *body, size_t n, char *err,
                        size_t errlen, int *retry)
{
    struct ag_embed_call *c = ud;
    int rc;

    AG_UNUSED(retry);
    if (c->local)
        return 0;
    rc = ag_embed_parse(body, n, c->n, &c->reply, c->err, sizeof c->err);
    if (rc == 0 && c->dims && c->reply.dims != c->dims) {
        /* a server that ignores "dimensions": bring its vectors to the
         * size asked, so that they compare with the others */
        struct ag_embed_reply *r = &c->reply;
        float *v = ag_xmalloc(sizeof *v * (size_t)r->n * (size_t)c->dims);
        for (int i = 0; i < r->n; i++)
            ag_embed_project(r->vecs + (size_t)i * (size_t)r->dims, r->dims,
                             v + (size_t)i * (size_t)c->dims, c->dims);
        free(r->vecs);
        r->vecs = v;
        r->projected_from = r->dims;
        r->dims = c->dims;
    }
    if (rc < 0)
        snprintf(err, errlen, "malformed reply: %s", c->err);
    return rc;
}

static void embed_attempt(void *ud, const struct ag_llm_attempt *a)
{
    struct ag_embed_call *c = ud;

    if (c->cb.on_attempt)
        c->cb.on_attempt(c->cb.ud, a);
}

static void embed_done(void *ud, int err, const char *msg, int attempts)
{
    struct ag_embed_call *c = ud;

    c->ended = 1;
    c->cb.on_done(c->cb.ud, err, &c->reply, msg, attempts);
}

static void embed_release(void *ud)
{
    struct ag_embed_call *c = ud;

    ag_embed_reply_clear(&c->reply);
    free(c);
}

static const struct ag__post_ops embed_ops = {
    .begin = embed_begin,
    .data = NULL, /* collected whole */
    .finish = embed_finish,
    .attempt = embed_attempt,
    .done = embed_done,
    .release = embed_release,
};

/* {"model", "input", "encoding_format", "dimensions"} into body. */
static int build_body(const char *model, const char *const *texts, int n,
                      int dims, struct ag_buf *body)
{
    struct ag__jw w;

    ag__jw_init(&w, body);
    ag__jw_open(&w, '{');
    if (model)
        ag__jw_kstr(&w, "model", model);
    ag__jw_key(&w, "input");
    ag__jw_open(&w, '[');
    for (int i = 0; i < n; i++)
        ag__jw_str(&w, texts[i]);
    ag__jw_close(&w, ']');
    ag__jw_kstr(&w, "encoding_format", "float");
    if (dims) {
        ag__jw_key(&w, "dimensions");
        ag__jw_num(&w, dims);
    }
    ag__jw_close(&w, '}');
    return w.rc;
}

/* The local embedder's answer, in c->reply. */
static int answer_locally(struct ag_embed_call *c, const char *const *texts)
{
    struct ag_embed_reply *r = &c->reply;
    int words;

    r->dims = c->dims ? c->dims : AG_EMBED_DIMS;
    r->vecs = calloc((size_t)c->n * (size_t)r->dims, sizeof *r->vecs);
    if (!r->vecs)
        return -ENOMEM;
    r->n = c->n;
    r->tokens = 0;
    r->stand_in = 1;
    for (int i = 0; i < c->n; i++) {
        words = ag_embed_local(texts[i], r->dims,
                               r->vecs + (size_t)i * (size_t)r->dims);
        r->tokens += words > 0 ? words : 0;
    }
    return 0;
}

int ag_embed_send(uv_loop_t *loop, struct ag_http *http,
                  const struct ag_llm_cfg *cfg, const char *model,
                  const char *const *texts, int n, int dims,
                  const struct ag_embed_cb *cb, struct ag_embed_call **out)
{
    struct ag__post_req pr = {0};
    struct ag_embed_call *c;
    struct ag_buf body;
    int rc;

    if (!cfg || !cb || !cb->on_done || !texts || n < 1 ||
        n > AG_EMBED_MAX_TEXTS || dims < 0 || dims > AG_EMBED_MAX_DIMS)
        return -EINVAL;
    for (int i = 0; i < n; i++)
        if (!texts[i])
            return -EINVAL;
    c = ag_xcalloc(1, sizeof *c);
    c->cb = *cb;
    c->n = n;
    c->dims = dims;
    c->reply.tokens = -1;
    c->local = cfg->script || cfg->replay;
    ag_buf_init(&body, 64u << 20);
    if ((rc = build_body(model, texts, n, dims, &body)) < 0 ||
        (!c->local &&
         (rc = ag_codec_openai.headers(cfg->api_key, &pr.headers)) < 0) ||
        (c->local && (rc = answer_locally(c, texts)) < 0)) {
        curl_slist_free_all(pr.headers);
        ag_buf_free(&body);
        embed_release(c);
        return rc;
    }
    if (cb->on_request)
        cb->on_request(cb->ud, ag_buf_cstr(&body), body.len);
    pr.base = cfg->base_url && *cfg->base_url ? cfg->base_url
                                              : ag_codec_openai.default_url;
    pr.path = "/embeddings";
    pr.body_len = body.len;
    pr.body = ag_buf_steal(&body);
    pr.ops = &embed_ops;
    pr.ud = c;
    pr.local = c->local;
    if ((rc = ag__post_start(loop, http, cfg, &pr, &c->post)) < 0) {
        embed_release(c);
        return rc;
    }
    if (out)
        *out = c;
    return 0;
}

void ag_embed_cancel(struct ag_embed_call *c)
{
    if (!c || c->ended)
        return;
    c->ended = 1;
    ag__post_cancel(c->post);
}

/* ---- the cache --------------------------------------------------------- */

/* An entry's key is the SHA-256 of model, a NUL byte, and text. */
struct entry {
    unsigned char key[32];
    struct entry *chain;         /* next in the same bucket */
    struct entry *newer, *older; /* the order of use */
    size_t cost;
    int dims;
    float vec[];
};

/* Invariant: bytes is the sum of the entries' costs and never passes
 * max_bytes after a call returns; newest and oldest end the use list;
 * nbuckets is a power of two. */
struct ag_embed_cache {
    struct entry **buckets;
    size_t nbuckets;
    struct entry *newest, *oldest;
    struct ag_embed_cache_stats st;
};

static int cache_key(const char *model, const char *text, unsigned char key[32])
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int len = 0;
    int ok;

    if (!ctx)
        return -ENOMEM;
    model = model ? model : "";
    text = text ? text : "";
    ok = EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
         EVP_DigestUpdate(ctx, model, strlen(model) + 1) &&
         EVP_DigestUpdate(ctx, text, strlen(text)) &&
         EVP_DigestFinal_ex(ctx, key, &len);
    EVP_MD_CTX_free(ctx);
    return ok && len == 32 ? 0 : -ENOMEM;
}

static struct entry **slot(struct ag_embed_cache *c, const unsigned char *key)
{
    uint64_t h;
    struct entry **pp;

    memcpy(&h, key, sizeof h);
    pp = &c->buckets[h & (c->nbuckets - 1)];
    while (*pp && memcmp((*pp)->key, key, 32) != 0)
        pp = &(*pp)->chain;
    return pp;
}

static void unlink_use(struct ag_embed_cache *c, struct entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        c->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void link_newest(struct ag_embed_cache *c, struct entry *e)
{
    e->older = c->newest;
    e->newer = NULL;
    if (c->newest)
        c->newest->newer = e;
    c->newest = e;
    if (!c->oldest)
        c->oldest = e;
}

static void drop(struct ag_embed_cache *c, struct entry *e)
{
    struct entry **pp = slot(c, e->key);

    *pp = e->chain;
    unlink_use(c, e);
    c->st.entries--;
    c->st.bytes -= e->cost;
    free(e);
}

/* Doubles the table when it holds more entries than buckets. */
static int grow(struct ag_embed_cache *c)
{
    size_t n = c->nbuckets * 2;
    struct entry **b, *e, *next;

    if (c->st.entries < c->nbuckets)
        return 0;
    if (!(b = calloc(n, sizeof *b)))
        return -ENOMEM;
    for (size_t i = 0; i < c->nbuckets; i++) {
        for (e = c->buckets[i]; e; e = next) {
            uint64_t h;
            next = e->chain;
            memcpy(&h, e->key, sizeof h);
            e->chain = b[h & (n - 1)];
            b[h & (n - 1)] = e;
        }
    }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
    return 0;
}

int ag_embed_cache_new(size_t max_bytes, struct ag_embed_cache **out)
{
    struct ag_embed_cache *c;

    if (!max_bytes || !out)
        return -EINVAL;
    c = ag_xcalloc(1, sizeof *c);
    c->nbuckets = 64;
    c->buckets = ag_xcalloc(c->nbuckets, sizeof *c->buckets);
    c->st.max_bytes = max_bytes;
    *out = c;
    return 0;
}

void ag_embed_cache_free(struct ag_embed_cache *c)
{
    struct entry *e, *next;

    if (!c)
        return;
    for (e = c->newest; e; e = next) {
        next = e->older;
        free(e);
    }
    free(c->buckets);
    free(c);
}

int ag_embed_cache_get(struct ag_embed_cache *c, const char *model,
                       const char *text, float *out, int max)
{
    unsigned char key[32];
    struct entry *e;
    int rc;

    if ((rc = cache_key(model, text, key)) < 0)
        return rc;
    if (!(e = *slot(c, key))) {
        c->st.misses++;
        return AG_ENOTFOUND;
    }
    if (!out || max < e->dims)
        return AG_ETOOBIG;
    memcpy(out, e->vec, (size_t)e->dims * sizeof *out);
    unlink_use(c, e);
    link_newest(c, e);
    c->st.hits++;
    return e->dims;
}

int ag_embed_cache_put(struct ag_embed_cache *c, const char *model,
                       const char *text, const float *vec, int dims)
{
    unsigned char key[32];
    struct entry *e, **pp;
    size_t cost;
    int rc;

    if (!vec || dims < 1 || dims > AG_EMBED_MAX_DIMS)
        return -EINVAL;
    cost = sizeof *e + (size_t)dims * sizeof(float);
    if (cost > c->st.max_bytes)
        return AG_ETOOBIG;
    if ((rc = cache_key(model, text, key)) < 0)
        return rc;
    if ((e = *slot(c, key)))
        drop(c, e);
    while (c->oldest && c->st.bytes + cost > c->st.max_bytes) {
        drop(c, c->oldest);
        c->st.evictions++;
    }
    if ((rc = grow(c)) < 0)
        return rc;
    if (!(e = malloc(cost)))
        return -ENOMEM;
    memcpy(e->key, key, sizeof key);
    e->cost = cost;
    e->dims = dims;
    memcpy(e->vec, vec, (size_t)dims * sizeof *vec);
    pp = slot(c, key);
    e->chain = *pp;
    *pp = e;
    e->newer = e->older = NULL;
    link_newest(c, e);
    c->st.entries++;
    c->st.bytes += cost;
    return 0;
}

void ag_embed_cache_stats(const struct ag_embed_cache *c,
                          struct ag_embed_cache_stats *out)
{
    *out = c->st;
}
