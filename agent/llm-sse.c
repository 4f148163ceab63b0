/*
 * llm-sse.c: the incremental Server-Sent Events parser (see llm-sse.h).
 *
 * Bytes go through two steps. Splitting finds line ends with memchr, never
 * byte by byte: the next \n and the next \r are each looked up once and
 * remembered until the cursor passes them, so a feed costs O(n) however its
 * lines end. A line that lies whole inside one feed is interpreted in place;
 * only the unfinished tail of a feed is copied into the line buffer, and the
 * next feed completes it there. A \r that ends a feed sets a flag so that a
 * \n at the start of the next feed is taken as the rest of a \r\n pair.
 * Interpreting a line appends data to the event's buffers, which are reset,
 * not freed, after each event: once grown, a stream allocates nothing more.
 *
 * Limits: a line longer than max, or an event whose joined data would pass
 * max, fails with AG_ETOOBIG at the same point whatever the feed boundaries.
 */
#include "llm-sse.h"

#include <string.h>

#define BOM_DONE 3

static const unsigned char bom_bytes[3] = {0xEF, 0xBB, 0xBF};

void ag_sse_init(struct ag_sse *p, size_t max, ag_sse_cb cb, void *ud)
{
    ag_buf_init(&p->line, max);
    ag_buf_init(&p->data, max);
    ag_buf_init(&p->event, max);
    p->cb = cb;
    p->ud = ud;
    p->max = max;
    p->err = 0;
    p->bom = 0;
    p->cr = 0;
    p->has_data = 0;
    p->fields = 0;
}

void ag_sse_free(struct ag_sse *p)
{
    ag_buf_free(&p->line);
    ag_buf_free(&p->data);
    ag_buf_free(&p->event);
}

/* Back to the start of a stream; allocations are kept. */
static void reset_stream(struct ag_sse *p)
{
    ag_buf_reset(&p->line);
    ag_buf_reset(&p->data);
    ag_buf_reset(&p->event);
    p->err = 0;
    p->bom = 0;
    p->cr = 0;
    p->has_data = 0;
    p->fields = 0;
}

/* An empty line: hand the event over if it has data, then start afresh. */
static int dispatch(struct ag_sse *p)
{
    int rc = 0;

    if (p->has_data) {
        /* The name is handed over as a C string, so a NUL ends it. */
        const char *event =
            p->event.len && p->event.data[0] ? p->event.data : "message";

        rc = p->cb(p->ud, event, ag_buf_cstr(&p->data), p->data.len);
        if (rc > 0)
            rc = 0;
    }
    ag_buf_reset(&p->data);
    ag_buf_reset(&p->event);
    p->has_data = 0;
    p->fields = 0;
    return rc;
}

/* Interprets one complete line (terminator removed). */
static int line(struct ag_sse *p, const char *s, size_t n)
{
    const char *colon, *value;
    size_t flen, vlen;
    int rc;

    if (n == 0)
        return dispatch(p);
    if (s[0] == ':')
        return 0; /* comment */
    p->fields = 1;
    colon = memchr(s, ':', n);
    if (colon) {
        flen = (size_t)(colon - s);
        value = colon + 1;
        vlen = n - flen - 1;
        if (vlen && *value == ' ') {
            value++;
            vlen--;
        }
    } else {
        flen = n;
        value = s + n;
        vlen = 0;
    }
    if (flen == 4 && memcmp(s, "data", 4) == 0) {
        if (p->has_data && (rc = ag_buf_addc(&p->data, '\n')) < 0)
            return rc;
        if ((rc = ag_buf_add(&p->data, value, vlen)) < 0)
            return rc;
        p->has_data = 1;
    } else if (flen == 5 && memcmp(s, "event", 5) == 0) {
        ag_buf_reset(&p->event);
        if ((rc = ag_buf_add(&p->event, value, vlen)) < 0)
            return rc;
    }
    /* "id", "retry" and unknown fields are ignored. */
    return 0;
}

/* Consumes the start of a stream while it matches the BOM. Bytes that began
 * like a BOM but turn out not to be one belong to the first line. Returns
 * the number of bytes used, or a negative code. */
static long skip_bom(struct ag_sse *p, const char *buf, size_t n)
{
    size_t i = 0;
    int rc;

    while (p->bom < BOM_DONE && i < n) {
        if ((unsigned char)buf[i] == bom_bytes[p->bom]) {
            p->bom++;
            i++;
            continue;
        }
        if (p->bom && (rc = ag_buf_add(&p->line, bom_bytes, p->bom)) < 0)
            return rc;
        p->bom = BOM_DONE;
    }
    return (long)i;
}

static int feed(struct ag_sse *p, const char *s, const char *end)
{
    const char *nl, *cr, *eol;
    int rc;

    if (p->cr && s < end) {
        p->cr = 0;
        if (*s == '\n')
            s++;
    }
    if (s == end)
        return 0;
    nl = memchr(s, '\n', (size_t)(end - s));
    cr = memchr(s, '\r', (size_t)(end - s));
    if (!nl)
        nl = end;
    if (!cr)
        cr = end;
    while (s < end) {
        if (nl < s && !(nl = memchr(s, '\n', (size_t)(end - s))))
            nl = end;
        if (cr < s && !(cr = memchr(s, '\r', (size_t)(end - s))))
            cr = end;
        eol = nl < cr ? nl : cr;
        if (eol == end)
            return ag_buf_add(&p->line, s, (size_t)(end - s));
        if (p->line.len) {
            if ((rc = ag_buf_add(&p->line, s, (size_t)(eol - s))) < 0)
                return rc;
            rc = line(p, p->line.data, p->line.len);
            ag_buf_reset(&p->line);
        } else if ((size_t)(eol - s) > p->max) {
            return AG_ETOOBIG;
        } else {
            rc = line(p, s, (size_t)(eol - s));
        }
        if (rc < 0)
            return rc;
        s = eol + 1;
        if (*eol == '\r') {
            if (s == end)
                p->cr = 1;
            else if (*s == '\n')
                s++;
        }
    }
    return 0;
}

int ag_sse_feed(struct ag_sse *p, const char *buf, size_t n)
{
    long used = 0;
    int rc;

    if (p->err)
        return p->err;
    if (n == 0)
        return 0;
    if (p->bom < BOM_DONE && (used = skip_bom(p, buf, n)) < 0) {
        p->err = (int)used;
        return p->err;
    }
    rc = feed(p, buf + used, buf + n);
    if (rc < 0)
        p->err = rc;
    return rc;
}

int ag_sse_finish(struct ag_sse *p)
{
    int rc = p->err;

    if (!rc && (p->line.len || p->fields || (p->bom && p->bom < BOM_DONE)))
        rc = AG_ETRUNC;
    reset_stream(p);
    return rc;
}
