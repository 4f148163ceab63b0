/*
 * standin-embed.c: OpenAI's /v1/embeddings on the stand-in, in every mode.
 * The n-th embeddings request gets the n-th "embeddings" reply of the
 * script or faults file (a raw answer, a fault, or {} for the vectors, with
 * the delivery keys); once they run out, or when there are none, the
 * computed vectors.
 *
 * The vectors are those of the agent's local embedder, by the algorithm
 * documented in agent/llm-embed.h, written out again here (this file does not
 * link libagent; tests/test-embed.c checks that both give the same floats):
 * words are runs of ASCII letters, digits and bytes >= 0x80, ASCII
 * lower-cased; the features "w:WORD" and "b:WORD NEXT" are hashed with
 * FNV-1a 64 and the SplitMix64 finaliser; hash % dims is the bucket, the
 * top bit the sign; the first 1000000 words count; the integer counts are
 * divided by their L2 norm in double and rounded to float. The floats are
 * printed with 9 significant digits, which read back to the same float.
 */
#include <stdlib.h>
#include <string.h>

#include "standin.h"

#define EMBED_DIMS      64
#define EMBED_MAX_DIMS  8192
#define EMBED_MAX_WORDS 1000000

static bool embed_byte(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
           (ch >= 'A' && ch <= 'Z') || ch >= 0x80;
}

static uint64_t embed_fnv(uint64_t h, const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        h = (h ^ (ch >= 'A' && ch <= 'Z' ? ch | 0x20 : ch)) * 0x100000001b3ULL;
    }
    return h;
}

/*
 * sqrt(s) rounded to the nearest double, which is what IEEE sqrt gives, for
 * an integer 0 < s < 2^53; done with integers because this file links no
 * libm. s is scaled by 4^k so that its root has 54 bits, the root is taken
 * bit by bit, then rounded to 53 bits (no ties: the root of an integer is an
 * integer, with trailing zeros once scaled, or irrational).
 */
static double embed_sqrt(uint64_t s)
{
    unsigned __int128 t = s, x, r = 0, bit = (unsigned __int128)1 << 106;
    uint64_t q;
    int k = 0;

    while (t < bit) {
        t <<= 2;
        k++;
    }
    for (x = t; bit; bit >>= 2) {
        if (x >= r + bit) {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
    }
    q = (uint64_t)(r >> 1);
    if ((r & 1) && (x != 0 || (q & 1)))
        q++;
    return (double)q / (double)((uint64_t)1 << (k - 1));
}

static void embed_count(float *v, int dims, uint64_t h)
{
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
    h ^= h >> 31;
    v[h % (uint64_t)dims] += (h >> 63) ? -1.0f : 1.0f;
}

/* Embeds the NUL-terminated s into v[0, dims); returns its word count. */
static long embed_text(const char *s, int dims, float *v)
{
    const uint64_t w0 = embed_fnv(0xcbf29ce484222325ULL, "w:", 2);
    const uint64_t b0 = embed_fnv(0xcbf29ce484222325ULL, "b:", 2);
    const char *last = NULL;
    size_t last_n = 0;
    double sum = 0, norm;
    long words = 0;
    int i;

    memset(v, 0, (size_t)dims * sizeof *v);
    while (*s && words < EMBED_MAX_WORDS) {
        const char *w;
        size_t n;

        if (!embed_byte((unsigned char)*s)) {
            s++;
            continue;
        }
        for (w = s; *s && embed_byte((unsigned char)*s); s++)
            ;
        n = (size_t)(s - w);
        embed_count(v, dims, embed_fnv(w0, w, n));
        if (last) {
            uint64_t h = embed_fnv(b0, last, last_n);
            h = embed_fnv(h, " ", 1);
            embed_count(v, dims, embed_fnv(h, w, n));
        }
        last = w;
        last_n = n;
        words++;
    }
    for (i = 0; i < dims; i++)
        sum += (double)v[i] * (double)v[i];
    if (sum > 0) {
        norm = embed_sqrt((uint64_t)sum);
        for (i = 0; i < dims; i++)
            v[i] = (float)((double)v[i] / norm);
    }
    return words;
}

/* Why an embeddings request cannot be answered, or NULL; sets *dims. */
static const char *embed_check(const cJSON *q, int *dims)
{
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(q, "input"), *t;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(q, "dimensions");
    const char *format = json_str(q, "encoding_format");

    if (!cJSON_IsObject(q))
        return "request body is not a JSON object";
    if (cJSON_IsArray(input) && cJSON_GetArraySize(input) > 0) {
        cJSON_ArrayForEach(t, input)
        {
            if (!cJSON_IsString(t))
                return "input must be a string or an array of strings";
        }
    } else if (!cJSON_IsString(input)) {
        return "input must be a string or a non-empty array of strings";
    }
    *dims = EMBED_DIMS;
    if (d && (!cJSON_IsNumber(d) || d->valuedouble != (double)d->valueint ||
              d->valueint < 1 || d->valueint > EMBED_MAX_DIMS))
        return "dimensions must be an integer from 1 to 8192";
    if (d)
        *dims = d->valueint;
    if (cJSON_GetObjectItemCaseSensitive(q, "encoding_format") &&
        (!format || strcmp(format, "float") != 0))
        return "encoding_format must be \"float\" (base64 is not supported)";
    return NULL;
}

/* One item of "data": the vector of text; returns the text's words. */
static long put_embedding(struct out *o, int index, const char *text, int dims)
{
    static float v[EMBED_MAX_DIMS];
    long words = embed_text(text, dims, v);
    int k;

    out_fmt(o, "%s{\"object\":\"embedding\",\"index\":%d,\"embedding\":[",
            index ? "," : "", index);
    for (k = 0; k < dims; k++)
        out_fmt(o, k ? ",%.9g" : "%.9g", (double)v[k]);
    out_str(o, "]}");
    return words;
}

/* {"object": "list", "data": [{"object", "index", "embedding"}], "model",
 * "usage"} for the request's texts. */
static void plan_embeddings(struct conn *c, const cJSON *q, int dims,
                            const cJSON *headers)
{
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(q, "input"), *t;
    const char *model = json_str(q, "model");
    struct out *o = &c->out;
    long words = 0;
    int i = 0;

    out_str(o, "{\"object\":\"list\",\"data\":[");
    if (cJSON_IsString(input))
        words += put_embedding(o, i++, input->valuestring, dims);
    else
        cJSON_ArrayForEach(t, input)
        {
            words += put_embedding(o, i++, t->valuestring, dims);
        }
    out_str(o, "],\"model\":");
    out_jsons(o, model ? model : "standin-embed");
    out_fmt(o, ",\"usage\":{\"prompt_tokens\":%ld,\"total_tokens\":%ld}}",
            words, words);
    c->chunked = false;
    plan_head(c, 200, "application/json", headers);
}

void answer_embeddings(struct conn *c)
{
    const cJSON *E = NULL;
    const char *why;
    cJSON *q;
    int dims = EMBED_DIMS;

    if (srv.mode != MODE_BENCH && srv.next_embed < srv.nembeds)
        E = cJSON_GetArrayItem(srv.embeds, srv.next_embed++);
    if (json_flag(E, "close")) {
        conn_close(c);
        return;
    }
    if (json_flag(E, "hang"))
        return; /* busy for good; the connection ends when the client goes */
    if (E && has_any(E, raw_keys)) {
        plan_raw(c, E);
    } else {
        q = parse_json(c->in + c->head_len, c->body_len);
        if ((why = embed_check(q, &dims))) {
            cJSON_Delete(q);
            plan_error(c, API_OPENAI, 400, "invalid_request_error", why);
            plan_send(c, 0);
            return;
        }
        if (srv.embed_dims)
            dims = srv.embed_dims;
        plan_embeddings(c, q, dims,
                        cJSON_GetObjectItemCaseSensitive(E, "headers"));
        cJSON_Delete(q);
    }
    if (E)
        plan_options(c, E);
    plan_send(c, (uint64_t)json_num(E, "delay_ms", (double)srv.delay_ms));
}
