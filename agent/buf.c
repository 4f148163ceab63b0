/*
 * buf.c: the bounded byte buffer (see ag.h). A buffer is created with the
 * largest size it may reach; an append that would pass it fails with
 * AG_ETOOBIG and changes nothing. Growth is geometric. The contents are kept
 * NUL-terminated so that text buffers can be handed to C string functions.
 */
#include "ag.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void ag_buf_init(struct ag_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void ag_buf_free(struct ag_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void ag_buf_reset(struct ag_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static int grow(struct ag_buf *b, size_t need)
{
    size_t cap;
    char *p;

    if (need > b->max || need == SIZE_MAX)
        return AG_ETOOBIG;
    if (need + 1 <= b->cap)
        return 0;
    cap = b->cap ? b->cap : 64;
    while (cap < need + 1 && cap <= SIZE_MAX / 2)
        cap *= 2;
    if (cap < need + 1)
        cap = need + 1;
    /* never past max + 1 (the NUL), computed without overflow */
    if (b->max < SIZE_MAX && cap > b->max + 1)
        cap = b->max + 1;
    p = realloc(b->data, cap);
    if (!p)
        return -ENOMEM;
    b->data = p;
    b->cap = cap;
    return 0;
}

int ag_buf_add(struct ag_buf *b, const void *p, size_t n)
{
    int rc;

    if (n > b->max - b->len)
        return AG_ETOOBIG;
    if ((rc = grow(b, b->len + n)) < 0)
        return rc;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return 0;
}

int ag_buf_adds(struct ag_buf *b, const char *s)
{
    return ag_buf_add(b, s, strlen(s));
}

int ag_buf_addc(struct ag_buf *b, char c)
{
    return ag_buf_add(b, &c, 1);
}

int ag_buf_printf(struct ag_buf *b, const char *fmt, ...)
{
    va_list ap;
    char small[256];
    int n, rc;

    va_start(ap, fmt);
    n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return -EINVAL;
    if ((size_t)n < sizeof small)
        return ag_buf_add(b, small, (size_t)n);
    if ((size_t)n > b->max - b->len)
        return AG_ETOOBIG;
    if ((rc = grow(b, b->len + (size_t)n)) < 0)
        return rc;
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
    return 0;
}

int ag_buf_add_json_str(struct ag_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    size_t i, start = 0;
    int rc;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[7];
        size_t elen = 2;

        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        if ((rc = ag_buf_add(b, s + start, i - start)) < 0)
            return rc;
        esc[0] = '\\';
        switch (c) {
        case '"':
            esc[1] = '"';
            break;
        case '\\':
            esc[1] = '\\';
            break;
        case '\n':
            esc[1] = 'n';
            break;
        case '\r':
            esc[1] = 'r';
            break;
        case '\t':
            esc[1] = 't';
            break;
        case '\b':
            esc[1] = 'b';
            break;
        case '\f':
            esc[1] = 'f';
            break;
        default:
            memcpy(esc + 1, "u00", 3);
            esc[4] = hex[c >> 4];
            esc[5] = hex[c & 15];
            elen = 6;
        }
        if ((rc = ag_buf_add(b, esc, elen)) < 0)
            return rc;
        start = i + 1;
    }
    return ag_buf_add(b, s + start, n - start);
}

void ag_buf_consume(struct ag_buf *b, size_t n)
{
    if (n >= b->len) {
        ag_buf_reset(b);
        return;
    }
    memmove(b->data, b->data + n, b->len - n);
    b->len -= n;
    b->data[b->len] = '\0';
}

const char *ag_buf_cstr(struct ag_buf *b)
{
    return b->data ? b->data : "";
}

char *ag_buf_steal(struct ag_buf *b)
{
    char *p = b->data;

    if (!p)
        p = ag_xstrdup("");
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return p;
}
