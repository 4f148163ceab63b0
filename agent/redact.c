/*
 * redact.c: replacing secrets in text (see redact.h). Secrets are few and
 * texts mostly hold none, so the common path is one memmem() per secret and
 * no copy beyond the one the caller asked for.
 */
#include "redact.h"

#include <string.h>

#include "ag.h"

static int usable(const char *s)
{
    return s && strlen(s) >= 4;
}

int ag_redact_needed(const struct ag_redactor *r, const char *s, size_t n)
{
    for (int k = 0; r && k < r->n; k++)
        if (usable(r->secrets[k]) &&
            memmem(s, n, r->secrets[k], strlen(r->secrets[k])))
            return 1;
    return 0;
}

char *ag_redact(const struct ag_redactor *r, const char *s, size_t n)
{
    struct ag_buf b;
    size_t i = 0;

    if (!ag_redact_needed(r, s, n))
        return ag_xstrndup(s, n);
    ag_buf_init(&b, (size_t)-1 / 2);
    while (i < n) {
        /* the earliest secret from i on (the longest when two start there) */
        const char *best = NULL;
        size_t blen = 0;
        for (int k = 0; k < r->n; k++) {
            const char *sec = r->secrets[k], *hit;
            size_t len;
            if (!usable(sec))
                continue;
            len = strlen(sec);
            hit = memmem(s + i, n - i, sec, len);
            if (hit && (!best || hit < best || (hit == best && len > blen))) {
                best = hit;
                blen = len;
            }
        }
        if (!best) {
            ag_buf_add(&b, s + i, n - i);
            break;
        }
        ag_buf_add(&b, s + i, (size_t)(best - (s + i)));
        ag_buf_adds(&b, "[redacted]");
        i = (size_t)(best - s) + blen;
    }
    return ag_buf_steal(&b);
}
