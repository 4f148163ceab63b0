/*
 * html-url.c: URL resolution for the converter's links (ag_html_resolve,
 * contract in html.h) and the pieces the walk shares (html-private.h):
 * splitting a URL into its five components, and appending to one with
 * percent-encoding.
 *
 * Resolution follows RFC 3986 §5.2 (merging paths, §5.2.4's removal of
 * dot segments) with the leniencies browsers show the web: spaces and C0
 * controls trimmed around the reference, tabs and newlines within it
 * dropped, "\" read as "/" before the query in http(s), an empty path
 * after an http(s) authority written "/", the scheme lowercased, and
 * spaces, controls, quotes, angle brackets, backticks and non-ASCII bytes
 * percent-encoded. A reference or merged path longer than
 * AG__HTML_URL_MAX, or a result longer than the caller's buffer, is
 * refused with AG_ETOOBIG.
 */
#include "html.h"
#include "html-private.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "ag.h"

void ag__html_url_split(const char *s, struct ag__html_url *u)
{
    const char *p = s;

    memset(u, 0, sizeof *u);
    if (isalpha((unsigned char)*p)) {
        while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' ||
               *p == '.')
            p++;
        if (*p == ':') {
            u->scheme = s;
            u->sl = (size_t)(p - s);
            s = p + 1;
        }
    }
    if (s[0] == '/' && s[1] == '/') {
        u->auth = s + 2;
        u->al = strcspn(u->auth, "/?#");
        s = u->auth + u->al;
    }
    u->path = s;
    u->pl = strcspn(s, "?#");
    s += u->pl;
    if (*s == '?') {
        u->query = s + 1;
        u->ql = strcspn(u->query, "#");
        s = u->query + u->ql;
    }
    if (*s == '#') {
        u->frag = s + 1;
        u->fl = strlen(u->frag);
    }
}

/* RFC 3986 §5.2.4, from in (n bytes) to out (which has room for n + 1). */
static size_t remove_dots(const char *in, size_t n, char *out)
{
    char tmp[AG__HTML_URL_MAX + 2];
    size_t o = 0;
    const char *p = tmp, *end;

    memcpy(tmp, in, n);
    tmp[n] = '\0';
    /* a final "." or ".." segment works as if followed by "/" */
    if ((n >= 2 && strcmp(tmp + n - 2, "/.") == 0) ||
        (n >= 3 && strcmp(tmp + n - 3, "/..") == 0) || strcmp(tmp, ".") == 0 ||
        strcmp(tmp, "..") == 0)
        tmp[n++] = '/', tmp[n] = '\0';
    end = tmp + n;
    while (p < end) {
        if (strncmp(p, "../", 3) == 0) {
            p += 3;
        } else if (strncmp(p, "./", 2) == 0 || strncmp(p, "/./", 3) == 0) {
            p += 2;
        } else if (strncmp(p, "/../", 4) == 0) {
            p += 3;
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
        } else {
            if (*p == '/')
                out[o++] = *p++;
            while (p < end && *p != '/')
                out[o++] = *p++;
        }
    }
    out[o] = '\0';
    return o;
}

/* Appends n bytes to out, percent-encoding what may not appear raw. */
int ag__html_url_put(char *out, size_t *o, size_t outlen, const char *s,
                     size_t n, int enc)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (enc && (c <= 0x20 || c >= 0x7F || c == '"' || c == '<' ||
                    c == '>' || c == '`')) {
            if (*o + 4 > outlen)
                return AG_ETOOBIG;
            snprintf(out + *o, 4, "%%%02X", c);
            *o += 3;
        } else {
            if (*o + 2 > outlen)
                return AG_ETOOBIG;
            out[(*o)++] = enc ? (char)c : (char)tolower(c);
        }
    }
    out[*o] = '\0';
    return 0;
}

int ag_html_resolve(const char *base, const char *ref, char *out, size_t outlen)
{
    char r[AG__HTML_URL_MAX + 1], path[2 * AG__HTML_URL_MAX + 2],
        clean[2 * AG__HTML_URL_MAX + 4];
    struct ag__html_url b, u, t;
    size_t k = 0, n, o = 0;
    int special;

    if (!outlen)
        return AG_ETOOBIG;
    out[0] = '\0';
    /* trim C0 and spaces around, drop tabs and newlines within */
    while (*ref && (unsigned char)*ref <= 0x20)
        ref++;
    for (; *ref; ref++)
        if (*ref != '\t' && *ref != '\n' && *ref != '\r') {
            if (k >= AG__HTML_URL_MAX)
                return AG_ETOOBIG;
            r[k++] = *ref;
        }
    while (k && (unsigned char)r[k - 1] <= 0x20)
        k--;
    r[k] = '\0';
    ag__html_url_split(base ? base : "", &b);
    ag__html_url_split(r, &u);
    special = (u.scheme ? u.sl : b.sl) >= 4 &&
              strncasecmp(u.scheme ? u.scheme : b.scheme, "http", 4) == 0;
    if (special) { /* "\" is "/" before the query */
        for (size_t i = 0; i < k && r[i] != '?' && r[i] != '#'; i++)
            if (r[i] == '\\')
                r[i] = '/';
        ag__html_url_split(r, &u);
    }
    if (!u.scheme && !b.scheme)
        return AG_EPARSE;
    t = u;
    if (!u.scheme) {
        t.scheme = b.scheme;
        t.sl = b.sl;
        if (!u.auth) {
            t.auth = b.auth;
            t.al = b.al;
            if (u.pl == 0) {
                t.path = b.path;
                t.pl = b.pl;
                if (!u.query) {
                    t.query = b.query;
                    t.ql = b.ql;
                }
            } else if (u.path[0] != '/') { /* merge */
                size_t dir = b.pl;
                while (dir > 0 && b.path[dir - 1] != '/')
                    dir--;
                if (b.auth && b.pl == 0)
                    n = (size_t)snprintf(path, sizeof path, "/%.*s", (int)u.pl,
                                         u.path);
                else
                    n = (size_t)snprintf(path, sizeof path, "%.*s%.*s",
                                         (int)dir, b.path, (int)u.pl, u.path);
                if (n >= AG__HTML_URL_MAX)
                    return AG_ETOOBIG;
                t.path = path;
                t.pl = n;
            }
        }
    }
    if (t.pl > AG__HTML_URL_MAX)
        return AG_ETOOBIG;
    t.pl = remove_dots(t.path, t.pl, clean);
    t.path = clean;
    if (ag__html_url_put(out, &o, outlen, t.scheme, t.sl, 0) < 0 ||
        ag__html_url_put(out, &o, outlen, ":", 1, 0) < 0)
        return AG_ETOOBIG;
    if (t.auth && (ag__html_url_put(out, &o, outlen, "//", 2, 0) < 0 ||
                   ag__html_url_put(out, &o, outlen, t.auth, t.al, 1) < 0))
        return AG_ETOOBIG;
    if (t.auth && special && t.pl == 0)
        t.path = "/", t.pl = 1;
    if (ag__html_url_put(out, &o, outlen, t.path, t.pl, 1) < 0)
        return AG_ETOOBIG;
    if (t.query && (ag__html_url_put(out, &o, outlen, "?", 1, 0) < 0 ||
                    ag__html_url_put(out, &o, outlen, t.query, t.ql, 1) < 0))
        return AG_ETOOBIG;
    if (t.frag && (ag__html_url_put(out, &o, outlen, "#", 1, 0) < 0 ||
                   ag__html_url_put(out, &o, outlen, t.frag, t.fl, 1) < 0))
        return AG_ETOOBIG;
    return 0;
}
