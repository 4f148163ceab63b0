/*
 * llm-embed.h: embeddings, for the relevance part of the simulation's
 * memory retrieval (the cosine of two texts' vectors). Three parts:
 *
 * - A client for an endpoint's /embeddings (OpenAI's format, which local
 *   servers such as vLLM, llama.cpp and Ollama also speak), on the loop,
 *   through the same retrying POST as the chat client (llm-client.h): the
 *   same retries, backoff, Retry-After and timeouts from struct ag_llm_cfg.
 * - A local embedder, deterministic and offline: a hashed bag of words. It
 *   answers for the stand-ins (a script or a replay), and tests/standin
 *   computes exactly the same vectors on its /v1/embeddings, so a run
 *   against the HTTP stand-in embeds like a run with the in-process script.
 * - A cache of vectors keyed by the SHA-256 of (model, text), bounded in
 *   bytes, least recently used out first.
 *
 * The local embedder. A text's words are its maximal runs of ASCII letters
 * and digits and of bytes >= 0x80 (so UTF-8 words stay whole); ASCII is
 * lower-cased. Its features are each word ("w:" + word) and each pair of
 * neighbouring words ("b:" + word + " " + next). A feature's 64-bit hash
 * is FNV-1a of those bytes passed through the SplitMix64 finaliser: the
 * hash modulo dims picks a bucket, its top bit a sign (set: -1), and the
 * bucket gains that sign. Only the first AG_EMBED_MAX_WORDS words count.
 * The counts are then divided by their L2 norm, in double precision, and
 * rounded to float: every step is exact or correctly rounded, so the
 * vectors are the same on every IEEE machine and compiler. A text without
 * words gives the zero vector. Texts that share words share features and
 * come out similar; texts that share none are nearly orthogonal.
 */
#ifndef AG_LLM_EMBED_H
#define AG_LLM_EMBED_H

#include <stdint.h>

#include "llm-client.h"

#define AG_EMBED_DIMS      64      /* the local embedder's usual size */
#define AG_EMBED_MAX_DIMS  8192    /* longest vector taken, either way */
#define AG_EMBED_MAX_TEXTS 2048    /* texts per request (OpenAI's limit) */
#define AG_EMBED_MAX_WORDS 1000000 /* words of a text the local one reads */

/* ---- the local embedder ------------------------------------------------ */

/* Writes the local embedding of text (NUL-terminated; NULL is "") into
 * out[0, dims). Returns the number of words read (0 for a text without
 * words: out is then all zeros), or -EINVAL when dims is outside
 * 1..AG_EMBED_MAX_DIMS or out is NULL (out untouched). */
int ag_embed_local(const char *text, int dims, float *out);

/* The cosine similarity of a and b (dims floats each), in [-1, 1]; 0 when
 * either is the zero vector. */
double ag_embed_cosine(const float *a, const float *b, int dims);

/* Projects in (from floats) to out (to floats) with a fixed random +-1
 * matrix (the same for the same sizes), then L2-normalises out: cosines are
 * kept roughly (Johnson-Lindenstrauss), so vectors of a server that ignores
 * "dimensions" can still be compared with each other. */
void ag_embed_project(const float *in, int from, float *out, int to);

/* ---- the client -------------------------------------------------------- */

struct ag_embed_reply {
    float *vecs; /* n rows of dims floats, row i the vector of texts[i];
                    malloc'd, NULL when empty */
    int n, dims;
    long tokens;        /* usage.prompt_tokens; -1 when the endpoint did not say
                           (the local embedder counts words) */
    int stand_in;       /* answered by the local embedder, not an endpoint */
    int projected_from; /* the endpoint's size when it was not the size
                           asked and the vectors were projected; else 0 */
};

/* Frees what r owns (not r) and leaves it empty: vecs NULL, counts 0,
 * tokens -1. NULL is a no-op. */
void ag_embed_reply_clear(struct ag_embed_reply *r);

/* Parses a whole /embeddings response body into *out (cleared first, so it
 * must hold a reply or be zeroed; left empty on failure). want is the
 * number of texts asked for (0: take what comes). Items are placed by
 * their "index" (their position when absent); every index from 0 to
 * want - 1 must appear once, and every vector must have the same length,
 * at most AG_EMBED_MAX_DIMS. On failure returns AG_EPARSE, or AG_EPROTO for
 * an error reply, with a message in err naming what was wrong ("invalid
 * JSON in reply at byte ...", "data[1].embedding[3] is not a number",
 * "data has 2 items for 3 texts"); err may be NULL or errlen 0. */
int ag_embed_parse(const char *body, size_t n, int want,
                   struct ag_embed_reply *out, char *err, size_t errlen);

struct ag_embed_cb {
    /* The request body, once per call, from inside ag_embed_send (also for
     * the local embedder, which is given the same body). May be NULL. */
    void (*on_request)(void *ud, const char *body, size_t n);
    /* Each failed attempt; may be NULL. */
    void (*on_attempt)(void *ud, const struct ag_llm_attempt *a);
    /* The end, exactly once, never from inside ag_embed_send. On success
     * err is 0 and reply holds n vectors in the order of the texts; the
     * callee may take reply->vecs (set it to NULL, free() it later). On
     * failure err is negative (AG_ECONNECT, AG_ETIMEOUT, AG_ETRUNC,
     * AG_EHTTP, AG_EPARSE, AG_EPROTO, AG_ETOOBIG) and message says what
     * went wrong. attempts counts the tries. */
    void (*on_done)(void *ud, int err, struct ag_embed_reply *reply,
                    const char *message, int attempts);
    void *ud;
};

struct ag_embed_call;

/* Asks for the embeddings of texts[0, n) (each NUL-terminated; copied into
 * the request body at once) in one request: POST base_url + "/embeddings"
 * with {"model", "input": [...], "encoding_format": "float"} and, when dims
 * is not 0, "dimensions": dims (a reply of another size is then an error).
 * cfg gives the base URL (NULL: OpenAI's), the key (a Bearer token), the
 * timeouts and the retry policy, as for ag_llm_send; cfg->codec is not
 * used: the format is OpenAI's whatever it says. When cfg->script or
 * cfg->replay is set, the local embedder answers instead (dims 0 meaning
 * AG_EMBED_DIMS), on the next loop turn. model may be NULL (not sent).
 * Returns 0, or -EINVAL (n outside 1..AG_EMBED_MAX_TEXTS, a NULL text,
 * dims outside 0..AG_EMBED_MAX_DIMS, no on_done), AG_ETOOBIG (a body over
 * 64 MiB) or another negative code; then no callback runs. *out, when out
 * is not NULL, can be passed to ag_embed_cancel until on_done runs. */
int ag_embed_send(uv_loop_t *loop, struct ag_http *http,
                  const struct ag_llm_cfg *cfg, const char *model,
                  const char *const *texts, int n, int dims,
                  const struct ag_embed_cb *cb, struct ag_embed_call **out);

/* Stops a call; no further callback runs. NULL is a no-op. */
void ag_embed_cancel(struct ag_embed_call *c);

/* ---- the cache --------------------------------------------------------- */

struct ag_embed_cache;

struct ag_embed_cache_stats {
    size_t entries, bytes, max_bytes;
    uint64_t hits, misses, evictions;
};

/* Creates an empty cache holding at most max_bytes (each entry costs its
 * floats plus a small fixed overhead). Returns 0, or -EINVAL for a
 * max_bytes of 0. Free it with ag_embed_cache_free (NULL is a no-op). */
int ag_embed_cache_new(size_t max_bytes, struct ag_embed_cache **out);
void ag_embed_cache_free(struct ag_embed_cache *c);

/* Copies the vector cached for (model, text) into out, which has room for
 * max floats, and marks it most recently used. model and text are
 * NUL-terminated; NULL is "". Returns its dims (> 0), AG_ENOTFOUND when
 * none is cached (a miss), AG_ETOOBIG when it has more than max floats
 * (out untouched), or -ENOMEM. */
int ag_embed_cache_get(struct ag_embed_cache *c, const char *model,
                       const char *text, float *out, int max);

/* Copies vec (dims floats) in as the vector of (model, text), replacing
 * the one there, and evicts the least recently used entries until the
 * cache is within its bound. Returns 0, -EINVAL (dims outside
 * 1..AG_EMBED_MAX_DIMS, vec NULL), AG_ETOOBIG (one entry larger than the
 * whole bound: not stored) or -ENOMEM. */
int ag_embed_cache_put(struct ag_embed_cache *c, const char *model,
                       const char *text, const float *vec, int dims);

/* Counts so far: entries and bytes held, hits, misses, evictions. */
void ag_embed_cache_stats(const struct ag_embed_cache *c,
                          struct ag_embed_cache_stats *out);

#endif
