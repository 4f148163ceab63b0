/*
 * fuzz-sse.c: fuzz target for the SSE parser (llm-sse.c), for libFuzzer
 * (./configure --enable-fuzzing CC=clang) or for the standalone driver in
 * fuzz-main.c that `make check` runs.
 *
 * The whole input is the stream. A hash of its first four bytes picks the
 * parser's maximum size, whether the callback stops the parse after the
 * first, second or third event, and the pattern of feed sizes. The input is
 * parsed twice with one parser: fed whole and finished, then (the parser
 * being back at the start of a stream) fed in those pieces and finished.
 * Both runs must see the same events and the same codes. The callback
 * checks what the header promises about its arguments. Every feed comes
 * from an exact-size heap copy so that ASan sees any read past it. Any
 * violation aborts.
 */
#include "llm-sse.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define STOP_RC (-1234) /* what the callback returns to stop the parse */

extern const char *fuzz_corpus_name;
const char *fuzz_corpus_name = "sse";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What one run saw. */
struct trace {
    uint64_t hash; /* FNV-1a over every event's name and data */
    size_t events;
    size_t stop_at; /* 1-based event that returns STOP_RC; 0 never */
    size_t max;
    int feed_rc, finish_rc;
};

static void fold(uint64_t *h, const void *p, size_t n)
{
    const unsigned char *s = p;
    size_t i;

    for (i = 0; i < n; i++)
        *h = (*h ^ s[i]) * 0x100000001b3ULL;
}

static int on_event(void *ud, const char *event, const char *data, size_t len)
{
    struct trace *t = *(struct trace **)ud;
    size_t elen;

    if (!event || !data || data[len] != '\0' || len > t->max)
        abort();
    elen = strlen(event);
    /* A name is "message" or a line's value: never empty, no line end. */
    if (elen == 0 || strpbrk(event, "\r\n") ||
        (elen > t->max && strcmp(event, "message") != 0))
        abort();
    /* \r always ends a line, so it never reaches data. */
    if (memchr(data, '\r', len))
        abort();
    fold(&t->hash, event, elen + 1);
    fold(&t->hash, &len, sizeof len);
    fold(&t->hash, data, len);
    t->events++;
    return t->stop_at && t->events == t->stop_at ? STOP_RC : 0;
}

static int feed_copy(struct ag_sse *p, const uint8_t *d, size_t n)
{
    char *c = malloc(n ? n : 1);
    int rc;

    if (!c)
        abort();
    if (n)
        memcpy(c, d, n);
    rc = ag_sse_feed(p, c, n);
    free(c);
    return rc;
}

static void check_codes(const struct trace *t)
{
    if (t->feed_rc != 0 && t->feed_rc != AG_ETOOBIG && t->feed_rc != STOP_RC &&
        t->feed_rc != -ENOMEM)
        abort();
    if (t->feed_rc ? t->finish_rc != t->feed_rc
                   : t->finish_rc != 0 && t->finish_rc != AG_ETRUNC)
        abort();
    if (t->feed_rc == STOP_RC && t->events != t->stop_at)
        abort();
}

static uint32_t next(uint32_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 17;
    *s ^= *s << 5;
    return *s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const size_t maxes[16] = {
        1u << 20, 1u << 20, 1u << 20, 1u << 20, 1u << 20, 1u << 20,
        1u << 20, 1u << 20, 1u << 20, 1u << 20, 4096,     4096,
        300,      64,       7,        0,
    };
    struct trace whole = {0}, split = {0}, *cur = &whole;
    struct ag_sse p;
    uint32_t h = 2166136261u, rng;
    size_t i, pos, n, limit;
    int rc = 0;

    for (i = 0; i < size && i < 4; i++)
        h = (h ^ data[i]) * 16777619u;
    whole.max = split.max = maxes[h & 15];
    whole.stop_at = split.stop_at = (h >> 4 & 7) > 4 ? (h >> 4 & 7) - 4 : 0;
    whole.hash = split.hash = 0xcbf29ce484222325ULL;
    limit = (size_t)1 << (h >> 8 & 15);
    rng = h | 1;

    ag_sse_init(&p, whole.max, on_event, &cur);
    whole.feed_rc = feed_copy(&p, data, size);
    whole.finish_rc = ag_sse_finish(&p);

    cur = &split;
    for (pos = 0; pos < size && rc == 0; pos += n) {
        uint32_t r = next(&rng);

        n = r % 8 == 0 ? 0 : 1 + (r >> 3) % limit;
        if (n > size - pos)
            n = size - pos;
        rc = feed_copy(&p, data + pos, n);
    }
    split.feed_rc = rc;
    split.finish_rc = ag_sse_finish(&p);
    ag_sse_free(&p);

    check_codes(&whole);
    check_codes(&split);
    if (whole.events != split.events || whole.hash != split.hash ||
        whole.feed_rc != split.feed_rc || whole.finish_rc != split.finish_rc)
        abort();
    return 0;
}
