/*
 * standin-util.c: the stand-in's small helpers: growable output buffers
 * (struct out; allocation failure aborts, this is a test tool), JSON
 * accessors and file helpers, and a lenient scanner that finds what a model
 * request asks for without building a tree of its body.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "standin.h"

/* ---- small utilities ---- */

void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p) {
        fprintf(stderr, "standin: out of memory\n");
        abort();
    }
    return p;
}

static void out_reserve(struct out *o, size_t more)
{
    size_t cap = o->cap ? o->cap : 1024;

    if (o->len + more <= o->cap)
        return;
    while (cap < o->len + more)
        cap *= 2;
    o->p = xrealloc(o->p, cap);
    o->cap = cap;
}

void out_put(struct out *o, const void *s, size_t n)
{
    if (n == 0) /* o->p may still be NULL: memcpy must not see it */
        return;
    out_reserve(o, n);
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

void out_str(struct out *o, const char *s)
{
    out_put(o, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) void out_fmt(struct out *o,
                                                   const char *fmt, ...)
{
    va_list ap;
    int n;

    out_reserve(o, 128);
    va_start(ap, fmt);
    n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n >= o->cap - o->len) {
        out_reserve(o, (size_t)n + 1);
        va_start(ap, fmt);
        n = vsnprintf(o->p + o->len, o->cap - o->len, fmt, ap);
        va_end(ap);
    }
    if (n > 0)
        o->len += (size_t)n;
}

/* Appends s[0, n) as a quoted JSON string. Bytes >= 0x80 pass as they are. */
void out_json(struct out *o, const char *s, size_t n)
{
    size_t i, start = 0;
    char u[8];

    out_put(o, "\"", 1);
    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        const char *esc = u;

        if (ch >= 0x20 && ch != '"' && ch != '\\')
            continue;
        out_put(o, s + start, i - start);
        start = i + 1;
        switch (ch) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\r':
            esc = "\\r";
            break;
        case '\t':
            esc = "\\t";
            break;
        default:
            snprintf(u, sizeof u, "\\u%04x", ch);
        }
        out_str(o, esc);
    }
    out_put(o, s + start, n - start);
    out_put(o, "\"", 1);
}

void out_jsons(struct out *o, const char *s)
{
    out_json(o, s, strlen(s));
}

/* Parses s[0, n) as one JSON value with nothing but white space after it. */
cJSON *parse_json(const char *s, size_t n)
{
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(s, n, &end, 0);

    while (v && end < s + n && isspace((unsigned char)*end))
        end++;
    if (v && end != s + n) {
        cJSON_Delete(v);
        v = NULL;
    }
    return v;
}

/* Writes text to path through a temporary name, so readers never see half. */
int write_file_atomic(const char *path, const char *text)
{
    char tmp[4096];
    FILE *f;
    int ok;

    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    f = fopen(tmp, "w");
    if (!f)
        return -errno;
    ok = fputs(text, f) >= 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok || rename(tmp, path) != 0) {
        int e = errno;
        unlink(tmp);
        return -e;
    }
    return 0;
}

bool json_flag(const cJSON *o, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

double json_num(const cJSON *o, const char *key, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

const char *json_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Reads a whole JSON file (see standin.h). */
cJSON *read_json_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    struct out text = {0};
    char chunk[65536];
    size_t n;
    cJSON *v;

    if (!f) {
        fprintf(stderr, "standin: %s: %s\n", path, strerror(errno));
        return NULL;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && text.len <= SCRIPT_MAX)
        out_put(&text, chunk, n);
    fclose(f);
    v = text.len <= SCRIPT_MAX ? parse_json(text.p, text.len) : NULL;
    free(text.p);
    if (!v)
        fprintf(stderr, "standin: %s: not valid JSON\n", path);
    return v;
}

/* The text of a message content (see standin.h). */
char *content_text(const cJSON *content)
{
    struct out o = {0};
    const cJSON *part;

    if (cJSON_IsString(content)) {
        out_str(&o, content->valuestring);
    } else if (cJSON_IsArray(content)) {
        cJSON_ArrayForEach(part, content)
        {
            const char *t = json_str(part, "text");
            if (t)
                out_str(&o, t);
        }
    } else if (content && !cJSON_IsNull(content)) {
        char *s = cJSON_PrintUnformatted(content);
        out_str(&o, s);
        free(s);
    }
    out_put(&o, "", 1);
    return o.p;
}

/* ---- a lenient scanner for the top level of a request body ----
 * It matches brackets and strings without building anything, so a bench
 * request costs one pass over its bytes plus the parse of its last message.
 */

static const char *skip_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* p is at a '"'; returns the byte after the closing quote, or NULL. */
static const char *skip_string(const char *p, const char *e)
{
    for (p++; p < e; p++) {
        if (*p == '\\') {
            if (++p == e)
                return NULL;
        } else if (*p == '"') {
            return p + 1;
        }
    }
    return NULL;
}

/* Returns the end of the JSON value at p, or NULL if there is none. */
static const char *skip_value(const char *p, const char *e)
{
    int depth = 0;

    if (p >= e)
        return NULL;
    if (*p == '"')
        return skip_string(p, e);
    if (*p != '{' && *p != '[') {
        const char *s = p;
        while (p < e && !strchr(",:]} \t\r\n", *p))
            p++;
        return p > s ? p : NULL;
    }
    for (; p < e; p++) {
        if (*p == '"') {
            if (!(p = skip_string(p, e)))
                return NULL;
            p--;
        } else if (*p == '{' || *p == '[') {
            depth++;
        } else if ((*p == '}' || *p == ']') && --depth == 0) {
            return p + 1;
        }
    }
    return NULL;
}

static bool key_is(const char *k, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(k, want, n) == 0;
}

/* Notes what a request asks for. Returns -1 if the body is not an object. */
int scan_request(const char *p, size_t n, struct req *q)
{
    const char *e = p + n;

    memset(q, 0, sizeof *q);
    p = skip_ws(p, e);
    if (p == e || *p != '{')
        return -1;
    p = skip_ws(p + 1, e);
    if (p < e && *p == '}')
        return 0;
    for (;;) {
        const char *k = p, *v, *ve;
        size_t klen;

        if (p == e || *p != '"' || !(p = skip_string(p, e)))
            return -1;
        klen = (size_t)(p - k) - 2;
        k++;
        p = skip_ws(p, e);
        if (p == e || *p != ':')
            return -1;
        v = skip_ws(p + 1, e);
        if (!(ve = skip_value(v, e)))
            return -1;
        if (key_is(k, klen, "model") && *v == '"') {
            q->model.p = v + 1;
            q->model.n = (size_t)(ve - v) - 2;
        } else if (key_is(k, klen, "stream")) {
            q->stream = ve - v == 4 && memcmp(v, "true", 4) == 0;
        } else if (key_is(k, klen, "stream_options")) {
            cJSON *so = parse_json(v, (size_t)(ve - v));
            q->include_usage = json_flag(so, "include_usage");
            cJSON_Delete(so);
        } else if (key_is(k, klen, "messages") && *v == '[') {
            const char *a = skip_ws(v + 1, ve), *ae;
            while (a < ve && *a != ']') {
                if (!(ae = skip_value(a, ve)))
                    return -1;
                q->last.p = a;
                q->last.n = (size_t)(ae - a);
                a = skip_ws(ae, ve);
                if (a < ve && *a == ',')
                    a = skip_ws(a + 1, ve);
            }
        }
        p = skip_ws(ve, e);
        if (p < e && *p == ',') {
            p = skip_ws(p + 1, e);
            continue;
        }
        return p < e && *p == '}' ? 0 : -1;
    }
}
