/*
 * html-charset.c: a fetched body's charset, found and decoded to UTF-8
 * (see html-private.h for the interface, html.h for the contract). The
 * charset comes from a BOM, the Content-Type header's charset parameter, a
 * <meta> in the first 1024 bytes (read as the WHATWG "prescan a byte
 * stream" does), else UTF-8 when the bytes are mostly UTF-8 and
 * windows-1252 when they are not.
 *
 * The decoders are written here, without iconv (which loads modules from
 * files at run time, which the sandbox forbids): UTF-8 (each maximal
 * invalid subpart becomes one U+FFFD), windows-1252 (also for the
 * iso-8859-1 and us-ascii labels, as browsers do), iso-8859-15, UTF-16LE
 * and UTF-16BE. Control characters but tab, LF, FF and CR are dropped
 * while decoding. The decoded body goes into an arena block of exactly its
 * size, counted by a first pass.
 */
#include "html.h"
#include "html-private.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "ag.h"

/* ---- decoded text -------------------------------------------------------- */

/* Decoded text: a first pass with p NULL counts the bytes, the second
 * writes them into a block of exactly that size. */
struct mbuf {
    char *p;
    size_t len;
};

static void mbuf_add(struct mbuf *b, const void *s, size_t n)
{
    if (b->p)
        memcpy(b->p + b->len, s, n);
    b->len += n;
}

/* C0 controls but tab, LF, FF and CR; DEL; the C1 controls: dropped while
 * decoding (gumbo would make each a U+FFFD). */
static int dropped(unsigned long cp)
{
    return (cp < 0x20 && cp != '\t' && cp != '\n' && cp != '\r' &&
            cp != '\f') ||
           (cp >= 0x7F && cp < 0xA0);
}

static void mbuf_cp(struct mbuf *b, unsigned long cp)
{
    unsigned char u[4];
    size_t n;

    if (dropped(cp))
        return;
    if (cp < 0x80) {
        u[0] = (unsigned char)cp;
        n = 1;
    } else if (cp < 0x800) {
        u[0] = (unsigned char)(0xC0 | cp >> 6);
        u[1] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 2;
    } else if (cp < 0x10000) {
        u[0] = (unsigned char)(0xE0 | cp >> 12);
        u[1] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 3;
    } else {
        u[0] = (unsigned char)(0xF0 | cp >> 18);
        u[1] = (unsigned char)(0x80 | (cp >> 12 & 0x3F));
        u[2] = (unsigned char)(0x80 | (cp >> 6 & 0x3F));
        u[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    mbuf_add(b, u, n);
}

/* ---- charsets ------------------------------------------------------------ */

static const struct {
    const char *label, *name;
    enum ag__html_dec dec;
} labels[] = {
    {"utf-8", "utf-8", AG__HTML_UTF8},
    {"utf8", "utf-8", AG__HTML_UTF8},
    {"unicode-1-1-utf-8", "utf-8", AG__HTML_UTF8},
    {"windows-1252", "windows-1252", AG__HTML_1252},
    {"cp1252", "windows-1252", AG__HTML_1252},
    {"x-cp1252", "windows-1252", AG__HTML_1252},
    {"iso-8859-1", "iso-8859-1", AG__HTML_1252},
    {"iso8859-1", "iso-8859-1", AG__HTML_1252},
    {"iso_8859-1", "iso-8859-1", AG__HTML_1252},
    {"iso88591", "iso-8859-1", AG__HTML_1252},
    {"latin1", "iso-8859-1", AG__HTML_1252},
    {"l1", "iso-8859-1", AG__HTML_1252},
    {"cp819", "iso-8859-1", AG__HTML_1252},
    {"ibm819", "iso-8859-1", AG__HTML_1252},
    {"csisolatin1", "iso-8859-1", AG__HTML_1252},
    {"iso-ir-100", "iso-8859-1", AG__HTML_1252},
    {"us-ascii", "us-ascii", AG__HTML_1252},
    {"ascii", "us-ascii", AG__HTML_1252},
    {"ansi_x3.4-1968", "us-ascii", AG__HTML_1252},
    {"iso-8859-15", "iso-8859-15", AG__HTML_8859_15},
    {"iso8859-15", "iso-8859-15", AG__HTML_8859_15},
    {"iso_8859-15", "iso-8859-15", AG__HTML_8859_15},
    {"latin9", "iso-8859-15", AG__HTML_8859_15},
    {"latin-9", "iso-8859-15", AG__HTML_8859_15},
    {"utf-16le", "utf-16le", AG__HTML_UTF16LE},
    {"utf-16", "utf-16le", AG__HTML_UTF16LE},
    {"ucs-2", "utf-16le", AG__HTML_UTF16LE},
    {"unicode", "utf-16le", AG__HTML_UTF16LE},
    {"utf-16be", "utf-16be", AG__HTML_UTF16BE},
};

/* windows-1252's 0x80..0x9F; the five holes map to the C1 controls. */
static const unsigned short cp1252_c1[32] = {
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
    0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008D, 0x017D, 0x008F,
    0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
    0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178};

static int find_label(const char *label)
{
    for (size_t i = 0; i < AG_ARRAY_SIZE(labels); i++)
        if (strcmp(labels[i].label, label) == 0)
            return (int)i;
    return -1;
}

/* Copies a charset label, trimmed of spaces and quotes and lowercased. */
static void norm_label(const char *s, size_t n, char *out, size_t outlen)
{
    size_t k = 0;

    while (n && (isspace((unsigned char)*s) || *s == '"' || *s == '\'')) {
        s++;
        n--;
    }
    while (n && (isspace((unsigned char)s[n - 1]) || s[n - 1] == '"' ||
                 s[n - 1] == '\''))
        n--;
    for (size_t i = 0; i < n && k + 1 < outlen; i++)
        if (isprint((unsigned char)s[i]))
            out[k++] = (char)tolower((unsigned char)s[i]);
    out[k] = '\0';
}

/* 1: valid UTF-8 throughout; 0: invalid with some valid multi-byte
 * sequences (mostly UTF-8); -1: invalid, no multi-byte sequence. */
static int utf8_state(const unsigned char *s, size_t n)
{
    int multi = 0, bad = 0, k;

    for (size_t i = 0; i < n; i += (size_t)(k < 0 ? -k : k)) {
        if (s[i] < 0x80) {
            k = 1;
            continue;
        }
        k = ag_utf8_seq(s + i, n - i);
        if (k > 1)
            multi = 1;
        else
            bad = 1;
    }
    return !bad ? 1 : multi ? 0 : -1;
}

static void decode(enum ag__html_dec d, const unsigned char *s, size_t n,
                   struct mbuf *b)
{
    size_t i = 0, run;
    int k;

    if (d == AG__HTML_UTF16LE || d == AG__HTML_UTF16BE) {
        for (; i + 1 < n; i += 2) {
            unsigned long u = d == AG__HTML_UTF16LE
                                  ? (unsigned)(s[i] | s[i + 1] << 8)
                                  : (unsigned)(s[i] << 8 | s[i + 1]);
            if (u >= 0xD800 && u < 0xDC00 && i + 3 < n) {
                unsigned long l = d == AG__HTML_UTF16LE
                                      ? (unsigned)(s[i + 2] | s[i + 3] << 8)
                                      : (unsigned)(s[i + 2] << 8 | s[i + 3]);
                if (l >= 0xDC00 && l < 0xE000) {
                    mbuf_cp(b, 0x10000 + ((u - 0xD800) << 10) + (l - 0xDC00));
                    i += 2;
                    continue;
                }
            }
            mbuf_cp(b, u >= 0xD800 && u < 0xE000 ? 0xFFFD : u);
        }
        if (i < n)
            mbuf_cp(b, 0xFFFD);
        return;
    }
    while (i < n) {
        for (run = i; run < n && s[run] < 0x80 && !dropped(s[run]); run++)
            ;
        mbuf_add(b, s + i, run - i);
        if ((i = run) >= n)
            break;
        if (s[i] < 0x80) {
            i++;
            continue;
        }
        if (d == AG__HTML_1252) {
            mbuf_cp(b, s[i] < 0xA0 ? cp1252_c1[s[i] - 0x80] : s[i]);
            i++;
        } else if (d == AG__HTML_8859_15) {
            static const unsigned char at[] = {0xA4, 0xA6, 0xA8, 0xB4,
                                               0xB8, 0xBC, 0xBD, 0xBE};
            static const unsigned short to[] = {0x20AC, 0x0160, 0x0161, 0x017D,
                                                0x017E, 0x0152, 0x0153, 0x0178};
            unsigned long cp = s[i];
            for (size_t j = 0; j < sizeof at; j++)
                if (s[i] == at[j])
                    cp = to[j];
            mbuf_cp(b, cp);
            i++;
        } else if ((k = ag_utf8_seq(s + i, n - i)) > 0) {
            if (k != 2 || s[i] != 0xC2 || s[i + 1] >= 0xA0)
                mbuf_add(b, s + i, (size_t)k);
            i += (size_t)k;
        } else {
            mbuf_cp(b, 0xFFFD);
            i += (size_t)-k;
        }
    }
}

/* Reads the media type (lowercased essence) and the charset parameter. */
void ag__html_parse_ctype(const char *ct, char *type, size_t typelen,
                          char *label, size_t lablen)
{
    const char *semi, *p;

    type[0] = label[0] = '\0';
    if (!ct)
        return;
    semi = strchr(ct, ';');
    norm_label(ct, semi ? (size_t)(semi - ct) : strlen(ct), type, typelen);
    for (p = semi; p && *p;) {
        const char *end = strchr(p + 1, ';');
        const char *q = p + 1;
        while (*q == ' ' || *q == '\t')
            q++;
        if (strncasecmp(q, "charset=", 8) == 0) {
            q += 8;
            norm_label(q, end ? (size_t)(end - q) : strlen(q), label, lablen);
            return;
        }
        p = end;
    }
}

/* ---- meta prescan (after the WHATWG "prescan a byte stream") ------------- */

/* Reads one attribute at *i; 0 when the tag ends (or the input). */
int ag__html_get_attr(const char *s, size_t n, size_t *i, char *name, size_t nl,
                      char *val, size_t vl)
{
    size_t p = *i, k = 0, v = 0;
    char q;

    while (p < n && (ag__html_is_sp(s[p]) || s[p] == '/'))
        p++;
    if (p >= n || s[p] == '>') {
        *i = p;
        return 0;
    }
    while (p < n && !ag__html_is_sp(s[p]) && s[p] != '/' && s[p] != '>' &&
           (s[p] != '=' || k == 0)) {
        if (k + 1 < nl)
            name[k++] = (char)tolower((unsigned char)s[p]);
        p++;
    }
    name[k] = val[0] = '\0';
    while (p < n && ag__html_is_sp(s[p]))
        p++;
    if (p < n && s[p] == '=') {
        for (p++; p < n && ag__html_is_sp(s[p]); p++)
            ;
        if (p < n && (s[p] == '"' || s[p] == '\'')) {
            for (q = s[p++]; p < n && s[p] != q; p++)
                if (v + 1 < vl)
                    val[v++] = s[p];
            p++;
        } else {
            for (; p < n && !ag__html_is_sp(s[p]) && s[p] != '>'; p++)
                if (v + 1 < vl)
                    val[v++] = s[p];
        }
        val[v] = '\0';
    }
    *i = p;
    return 1;
}

/* The charset in content="text/html; charset=x", or "". */
static void content_charset(const char *v, char *label, size_t lablen)
{
    const char *p = v, *e;

    label[0] = '\0';
    while ((p = strcasestr(p, "charset"))) {
        for (p += 7; ag__html_is_sp(*p); p++)
            ;
        if (*p != '=')
            continue;
        for (p++; ag__html_is_sp(*p); p++)
            ;
        if (*p == '"' || *p == '\'') {
            if (!(e = strchr(p + 1, *p)))
                return;
            p++;
        } else {
            for (e = p; *e && !ag__html_is_sp(*e) && *e != ';'; e++)
                ;
        }
        norm_label(p, (size_t)(e - p), label, lablen);
        return;
    }
}

/* Looks for <meta charset> or <meta http-equiv=content-type content=...>
 * in the first 1024 bytes; fills label or leaves it "". */
static void meta_charset(const char *s, size_t n, char *label, size_t lablen)
{
    char name[32], val[128], cs[48];
    size_t i = 0;

    label[0] = '\0';
    if (n > 1024)
        n = 1024;
    while (i < n) {
        const char *e;
        if (s[i] != '<') {
            i++;
        } else if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
            e = memmem(s + i + 2, n - i - 2, "-->", 3);
            i = e ? (size_t)(e - s) + 3 : n;
        } else if (n - i >= 6 && strncasecmp(s + i, "<meta", 5) == 0 &&
                   (ag__html_is_sp(s[i + 5]) || s[i + 5] == '/')) {
            int pragma = 0, need = 0;
            cs[0] = '\0';
            i += 5;
            while (ag__html_get_attr(s, n, &i, name, sizeof name, val,
                                     sizeof val)) {
                if (strcmp(name, "http-equiv") == 0)
                    pragma |= strcasecmp(val, "content-type") == 0;
                else if (strcmp(name, "charset") == 0 && !need) {
                    norm_label(val, strlen(val), cs, sizeof cs);
                    need = 2;
                } else if (strcmp(name, "content") == 0 && !need) {
                    content_charset(val, cs, sizeof cs);
                    need = cs[0] ? 1 : 0;
                }
            }
            if (cs[0] && (need == 2 || (need == 1 && pragma))) {
                snprintf(label, lablen, "%s", cs);
                return;
            }
        } else if (i + 2 < n &&
                   (isalpha((unsigned char)s[i + 1]) ||
                    (s[i + 1] == '/' && isalpha((unsigned char)s[i + 2])))) {
            for (i++; i < n && !ag__html_is_sp(s[i]) && s[i] != '>'; i++)
                ;
            while (
                ag__html_get_attr(s, n, &i, name, sizeof name, val, sizeof val))
                ;
        } else {
            e = memchr(s + i + 1, '>', n - i - 1);
            i = e ? (size_t)(e - s) + 1 : n;
        }
    }
}

/* ---- the choice and the decoding ----------------------------------------- */

/* Picks the decoder: a BOM, the header's charset, a <meta>, else UTF-8 or
 * (for bytes that are not UTF-8 at all) windows-1252. Sets d->charset and
 * *skip (the BOM's length). */
enum ag__html_dec ag__html_pick_charset(struct ag_html_doc *d, const char *body,
                                        size_t len, const char *hlabel,
                                        int html, size_t *skip)
{
    const unsigned char *s = (const unsigned char *)body;
    char mlabel[48] = "";
    const char *unsupported = NULL;
    int li = -1, st;

    *skip = 0;
    if (len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
        li = find_label("utf-8"), *skip = 3;
    else if (len >= 2 && s[0] == 0xFF && s[1] == 0xFE)
        li = find_label("utf-16le"), *skip = 2;
    else if (len >= 2 && s[0] == 0xFE && s[1] == 0xFF)
        li = find_label("utf-16be"), *skip = 2;
    if (li < 0 && hlabel[0] && (li = find_label(hlabel)) < 0)
        unsupported = hlabel;
    if (li < 0 && html) {
        meta_charset(body, len, mlabel, sizeof mlabel);
        /* a <meta> read as ASCII cannot mean UTF-16 */
        if (strncmp(mlabel, "utf-16", 6) == 0 || strcmp(mlabel, "unicode") == 0)
            snprintf(mlabel, sizeof mlabel, "utf-8");
        if (strcmp(mlabel, "x-user-defined") == 0)
            snprintf(mlabel, sizeof mlabel, "windows-1252");
        if (mlabel[0] && (li = find_label(mlabel)) < 0 && !unsupported)
            unsupported = mlabel;
    }
    if (li >= 0) {
        snprintf(d->charset, sizeof d->charset, "%s", labels[li].name);
        return labels[li].dec;
    }
    if (unsupported) {
        snprintf(d->charset, sizeof d->charset,
                 "%.40s (unsupported: decoded as UTF-8)", unsupported);
        return AG__HTML_UTF8;
    }
    if ((st = utf8_state(s, len)) >= 0) {
        snprintf(d->charset, sizeof d->charset, "utf-8");
        return AG__HTML_UTF8;
    }
    snprintf(d->charset, sizeof d->charset,
             "windows-1252 (guessed: not UTF-8)");
    return AG__HTML_1252;
}

/* The body decoded to UTF-8, NUL-terminated, in the arena (two passes: the
 * first counts); NULL when out of memory. */
char *ag__html_decode_body(struct ag__html_mem *m, enum ag__html_dec dc,
                           const char *body, size_t len, size_t *n)
{
    struct mbuf b = {0};

    decode(dc, (const unsigned char *)body, len, &b);
    if (!(b.p = ag__html_mem_alloc(m, b.len + 1)))
        return NULL;
    b.len = 0;
    decode(dc, (const unsigned char *)body, len, &b);
    b.p[b.len] = '\0';
    *n = b.len;
    return b.p;
}
