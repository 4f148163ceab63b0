/*
 * mime-decode.c: a small MIME decoder for the tests (tests/mime-decode.h),
 * written apart from agent/mime.c's encoder so that a round trip checks
 * one against the other: headers unfolded, RFC 2047 encoded-words,
 * quoted-printable and base64 bodies, line checks.
 */
#include "mime-decode.h"

#include <stdlib.h>
#include <string.h>

#include "ag.h"

static int unhex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int unb64(int c)
{
    const char *a =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c ? strchr(a, c) : NULL;
    return p ? (int)(p - a) : -1;
}

/* Decodes base64 text (line breaks skipped) into out. */
static void b64_decode(const char *s, size_t n, struct ag_buf *out)
{
    unsigned long v = 0;
    int bits = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        int d = unb64((unsigned char)s[i]);
        if (d < 0)
            continue;
        v = v << 6 | (unsigned long)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            ag_buf_addc(out, (char)(v >> bits & 0xff));
        }
    }
}

/* Decodes quoted-printable (soft breaks removed). */
static void qp_decode(const char *s, size_t n, struct ag_buf *out)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] == '=' && i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
            i += 2;
        } else if (s[i] == '=' && i + 2 < n && unhex(s[i + 1]) >= 0 &&
                   unhex(s[i + 2]) >= 0) {
            ag_buf_addc(out, (char)(unhex(s[i + 1]) * 16 + unhex(s[i + 2])));
            i += 2;
        } else {
            ag_buf_addc(out, s[i]);
        }
    }
}

/* The unfolded value of header name (leading space dropped), or NULL. */
char *mime_header(const char *msg, const char *name)
{
    size_t nl = strlen(name);
    const char *p = msg, *end = strstr(msg, "\r\n\r\n");
    struct ag_buf b;

    while (p && p < end) {
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            p += nl + 1;
            if (*p == ' ')
                p++;
            ag_buf_init(&b, 1 << 20);
            for (;;) {
                const char *e = strstr(p, "\r\n");
                ag_buf_add(&b, p, (size_t)(e - p));
                p = e + 2;
                if (*p != ' ' && *p != '\t')
                    break;
            }
            return ag_buf_steal(&b);
        }
        p = strstr(p, "\r\n");
        p = p ? p + 2 : NULL;
    }
    return NULL;
}

/* Decodes the encoded-words of a header value; white space between two
 * encoded-words is dropped (RFC 2047 §6.2). Returns a malloc'd string. */
char *mime_words_decode(const char *s)
{
    struct ag_buf out, ws;
    int after_word = 0;

    ag_buf_init(&out, 1 << 20);
    ag_buf_init(&ws, 1 << 20);
    while (*s) {
        const char *q, *e;
        if (*s == ' ' || *s == '\t') {
            ag_buf_addc(&ws, *s++);
            continue;
        }
        if (strncasecmp(s, "=?UTF-8?", 8) == 0 && s[9] == '?' && (q = s + 10) &&
            (e = strstr(q, "?="))) {
            if (!after_word && ws.len)
                ag_buf_add(&out, ws.data, ws.len);
            ag_buf_reset(&ws);
            if (s[8] == 'B' || s[8] == 'b') {
                b64_decode(q, (size_t)(e - q), &out);
            } else {
                for (; q < e; q++) {
                    if (*q == '_')
                        ag_buf_addc(&out, ' ');
                    else if (*q == '=' && q + 2 < e + 1) {
                        ag_buf_addc(&out,
                                    (char)(unhex(q[1]) * 16 + unhex(q[2])));
                        q += 2;
                    } else
                        ag_buf_addc(&out, *q);
                }
            }
            after_word = 1;
            s = e + 2;
            continue;
        }
        if (ws.len)
            ag_buf_add(&out, ws.data, ws.len);
        ag_buf_reset(&ws);
        ag_buf_addc(&out, *s++);
        after_word = 0;
    }
    if (ws.len)
        ag_buf_add(&out, ws.data, ws.len);
    ag_buf_free(&ws);
    return ag_buf_steal(&out);
}

/* The decoded body (by Content-Transfer-Encoding), malloc'd. */
char *mime_body_decode(const char *msg)
{
    const char *b = strstr(msg, "\r\n\r\n");
    char *cte = mime_header(msg, "Content-Transfer-Encoding");
    struct ag_buf out;

    ag_buf_init(&out, 1 << 24);
    b = b ? b + 4 : "";
    if (cte && strcmp(cte, "base64") == 0)
        b64_decode(b, strlen(b), &out);
    else if (cte && strcmp(cte, "quoted-printable") == 0)
        qp_decode(b, strlen(b), &out);
    else
        ag_buf_adds(&out, b);
    free(cte);
    return ag_buf_steal(&out);
}

/* 1 when every line ends with CRLF, no CR or LF stands alone, and no line
 * is longer than max characters. */
int mime_lines_ok(const char *s, size_t max)
{
    size_t col = 0;

    for (; *s; s++) {
        if (*s == '\r') {
            if (s[1] != '\n')
                return 0;
            s++;
            col = 0;
        } else if (*s == '\n') {
            return 0;
        } else if (++col > max) {
            return 0;
        }
    }
    return col == 0;
}

/* Text with line ends made CRLF and one at the end (what the body becomes). */
char *mime_crlf(const char *s)
{
    struct ag_buf b;

    ag_buf_init(&b, 1 << 24);
    while (*s) {
        size_t k = strcspn(s, "\r\n");
        ag_buf_add(&b, s, k);
        ag_buf_adds(&b, "\r\n");
        s += k;
        if (s[0] == '\r' && s[1] == '\n')
            s++;
        if (*s)
            s++;
    }
    return ag_buf_steal(&b);
}
