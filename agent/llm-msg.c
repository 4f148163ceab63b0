/*
 * llm-msg.c: the provider-neutral side of the codecs. Freeing messages,
 * tool calls and replies; the stream accumulator that the codecs fill one
 * SSE event at a time (struct ag_stream, bounded as a whole by its max);
 * the codec table; and the few helpers both codecs share: JSON parsing with
 * a message that points at the fault, recognising an endpoint's error
 * reply, reading token counts, and a small JSON writer for request bodies
 * (written straight into the bounded body buffer, so that every failure is
 * seen and the size limit holds while writing).
 */
#include "llm.h"
#include "json.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- freeing ----------------------------------------------------------- */

void ag_toolcall_clear(struct ag_toolcall *c)
{
    if (!c)
        return;
    free(c->id);
    free(c->name);
    free(c->args);
    c->id = c->name = c->args = NULL;
}

static void free_calls(struct ag_toolcall *calls, int n)
{
    for (int i = 0; i < n; i++)
        ag_toolcall_clear(&calls[i]);
    free(calls);
}

void ag_msg_clear(struct ag_msg *m)
{
    if (!m)
        return;
    free(m->text);
    free_calls(m->calls, m->ncalls);
    free(m->call_id);
    free(m->name);
    memset(m, 0, sizeof *m);
}

void ag_llm_reply_clear(struct ag_llm_reply *r)
{
    if (!r)
        return;
    free(r->text);
    free_calls(r->calls, r->ncalls);
    free(r->finish);
    memset(r, 0, sizeof *r);
    r->usage.input = r->usage.output = -1;
}

/* ---- the stream accumulator -------------------------------------------- */

void ag_stream_init(struct ag_stream *s, size_t max)
{
    /* Leave room for a buffer's NUL and growth arithmetic. */
    if (max > SIZE_MAX / 4)
        max = SIZE_MAX / 4;
    memset(s, 0, sizeof *s);
    ag_buf_init(&s->text, max);
    s->max = max;
    s->cur = -1;
    s->usage.input = s->usage.output = -1;
}

static void free_stream_calls(struct ag_stream *s)
{
    for (int i = 0; i < s->ncalls; i++) {
        ag_buf_free(&s->calls[i].id);
        ag_buf_free(&s->calls[i].name);
        ag_buf_free(&s->calls[i].args);
    }
    free(s->calls);
    s->calls = NULL;
    s->ncalls = s->capcalls = 0;
}

void ag_stream_free(struct ag_stream *s)
{
    if (!s)
        return;
    ag_buf_free(&s->text);
    free_stream_calls(s);
    free(s->finish);
    s->finish = NULL;
    s->used = 0;
}

struct ag_stream_call *ag_stream_call(struct ag_stream *s, int index)
{
    struct ag_stream_call *c;

    for (int i = 0; i < s->ncalls; i++)
        if (s->calls[i].index == index)
            return &s->calls[i];
    if (s->ncalls >= AG_STREAM_MAXCALLS)
        return NULL;
    if (s->ncalls == s->capcalls) {
        int cap = s->capcalls ? s->capcalls * 2 : 4;
        void *p = realloc(s->calls, (size_t)cap * sizeof *s->calls);

        if (!p)
            return NULL;
        s->calls = p;
        s->capcalls = cap;
    }
    c = &s->calls[s->ncalls++];
    ag_buf_init(&c->id, s->max);
    ag_buf_init(&c->name, s->max);
    ag_buf_init(&c->args, s->max);
    c->index = index;
    return c;
}

int ag_stream_add(struct ag_stream *s, struct ag_buf *b, const char *p,
                  size_t n)
{
    int rc;

    if (n > s->max - s->used)
        return AG_ETOOBIG;
    if ((rc = ag_buf_add(b, p, n)) < 0)
        return rc;
    s->used += n;
    return 0;
}

int ag_stream_text(struct ag_stream *s, const char *p, size_t n)
{
    int rc;

    if (n == 0)
        return 0;
    if ((rc = ag_stream_add(s, &s->text, p, n)) < 0)
        return rc;
    if (s->on_text)
        s->on_text(s->ud, p, n);
    return 0;
}

/* A buffer's contents as a fresh string, or NULL when it is empty. */
static char *take_or_null(struct ag_buf *b)
{
    char *p = b->len ? ag_buf_steal(b) : NULL;

    ag_buf_free(b);
    return p;
}

static int by_index(const void *a, const void *b)
{
    const struct ag_stream_call *x = a, *y = b;

    return (x->index > y->index) - (x->index < y->index);
}

void ag_stream_take(struct ag_stream *s, struct ag_llm_reply *out)
{
    ag_llm_reply_clear(out);
    out->text = take_or_null(&s->text);
    /* Indices are unique, so an unstable sort is still deterministic. */
    if (s->ncalls > 1)
        qsort(s->calls, (size_t)s->ncalls, sizeof *s->calls, by_index);
    if (s->ncalls > 0) {
        out->calls = ag_xcalloc((size_t)s->ncalls, sizeof *out->calls);
        out->ncalls = s->ncalls;
    }
    for (int i = 0; i < s->ncalls; i++) {
        struct ag_stream_call *c = &s->calls[i];
        struct ag_toolcall *t = &out->calls[i];

        t->id = take_or_null(&c->id);
        t->name = ag_buf_steal(&c->name);
        t->args = take_or_null(&c->args);
        if (!t->args)
            t->args = ag_xstrdup("{}");
    }
    free_stream_calls(s);
    out->finish = s->finish;
    s->finish = NULL;
    out->usage = s->usage;
    s->usage.input = s->usage.output = -1;
    s->used = 0;
    s->cur = -1;
}

/* ---- the codec table --------------------------------------------------- */

static const struct ag_codec *const codecs[] = {
    &ag_codec_openai,
    &ag_codec_anthropic,
};

const struct ag_codec *ag_codec_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < AG_ARRAY_SIZE(codecs); i++)
        if (strcmp(codecs[i]->name, name) == 0)
            return codecs[i];
    return NULL;
}

/* ---- helpers shared by the codecs -------------------------------------- */

/* Copies up to n bytes of p into out (of size outlen) as printable ASCII:
 * other bytes become '?', so that an excerpt is safe to show in a log. */
static void excerpt(const char *p, size_t n, char *out, size_t outlen)
{
    size_t i;

    for (i = 0; i < n && i + 1 < outlen; i++) {
        unsigned char c = (unsigned char)p[i];

        out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    out[i] = '\0';
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int ag__codec_json(const char *p, size_t n, cJSON **out, char *err,
                   size_t errlen)
{
    const char *end = NULL;
    char near[48];
    size_t pos, from;
    cJSON *v;

    *out = NULL;
    pos = 0;
    while (pos < n && is_space(p[pos]))
        pos++;
    if (pos == n) {
        ag_seterr(err, errlen, "invalid JSON in reply: empty");
        return AG_EPARSE;
    }
    v = cJSON_ParseWithLengthOpts(p, n, &end, 0);
    if (v) {
        pos = end ? (size_t)(end - p) : n;
        while (pos < n && is_space(p[pos]))
            pos++;
        if (pos < n) {
            excerpt(p + pos, n - pos < 32 ? n - pos : 32, near, sizeof near);
            ag_seterr(err, errlen,
                      "invalid JSON in reply at byte %zu of %zu: "
                      "trailing data '%s'",
                      pos, n, near);
            cJSON_Delete(v);
            return AG_EPARSE;
        }
        if (!cJSON_IsObject(v)) {
            cJSON_Delete(v);
            ag_seterr(err, errlen, "invalid JSON in reply: not an object");
            return AG_EPARSE;
        }
        *out = v;
        return 0;
    }
    pos = (end && end >= p && end <= p + n) ? (size_t)(end - p) : 0;
    from = pos > 16 ? pos - 16 : 0;
    excerpt(p + from, n - from < 32 ? n - from : 32, near, sizeof near);
    ag_seterr(err, errlen,
              "invalid JSON in reply at byte %zu of %zu: near '%s'", pos, n,
              near);
    return AG_EPARSE;
}

/* A string member, or NULL. */
static const char *str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int ag__codec_error(const cJSON *root, char *err, size_t errlen)
{
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
    const char *type = NULL, *msg = NULL;

    if (cJSON_IsString(e)) {
        msg = e->valuestring; /* Ollama, some proxies: {"error": "..."} */
    } else if (cJSON_IsObject(e)) {
        type = str(e, "type");
        msg = str(e, "message");
        if (!type)
            type = str(e, "code");
    } else if (e && !cJSON_IsNull(e) && !cJSON_IsFalse(e)) {
        msg = "(unreadable error)";
    } else {
        /* vLLM: {"object": "error", "type": ..., "message": ...}. */
        const char *obj = str(root, "object"), *t = str(root, "type");

        if ((obj && strcmp(obj, "error") == 0) || (t && !strcmp(t, "error"))) {
            type = obj ? t : NULL;
            msg = str(root, "message");
        } else {
            return 0;
        }
    }
    if (!msg)
        msg = "(no message)";
    if (type && *type)
        ag_seterr(err, errlen, "error from endpoint: %s: %s", type, msg);
    else
        ag_seterr(err, errlen, "error from endpoint: %s", msg);
    return AG_EPROTO;
}

int ag__codec_header(struct curl_slist **hdrs, const char *name,
                     const char *value)
{
    struct curl_slist *n;
    char *line;

    for (const unsigned char *p = (const unsigned char *)value; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return -EINVAL;
    line = ag_xasprintf("%s: %s", name, value);
    n = curl_slist_append(*hdrs, line);
    explicit_bzero(line, strlen(line));
    free(line);
    if (!n)
        return -ENOMEM;
    *hdrs = n;
    return 0;
}

long ag__codec_count(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    double d;

    if (!cJSON_IsNumber(v))
        return -1;
    d = v->valuedouble;
    if (!isfinite(d) || d < 0 || d > 1e15)
        return -1;
    return (long)d;
}

/* ---- the JSON writer --------------------------------------------------- */

void ag__jw_init(struct ag__jw *w, struct ag_buf *b)
{
    w->b = b;
    w->rc = 0;
    w->comma = 0;
}

static void jw_add(struct ag__jw *w, const char *p, size_t n)
{
    if (w->rc == 0)
        w->rc = ag_buf_add(w->b, p, n);
}

/* Starts a value: the separator from the previous one, if any. */
static void jw_value(struct ag__jw *w)
{
    if (w->comma)
        jw_add(w, ",", 1);
    w->comma = 1;
}

void ag__jw_open(struct ag__jw *w, char c)
{
    jw_value(w);
    jw_add(w, &c, 1);
    w->comma = 0;
}

void ag__jw_close(struct ag__jw *w, char c)
{
    jw_add(w, &c, 1);
    w->comma = 1;
}

static void jw_quoted(struct ag__jw *w, const char *s)
{
    jw_add(w, "\"", 1);
    if (w->rc == 0)
        w->rc = ag_buf_add_json_str(w->b, s, strlen(s));
    jw_add(w, "\"", 1);
}

void ag__jw_key(struct ag__jw *w, const char *key)
{
    jw_value(w);
    jw_quoted(w, key);
    jw_add(w, ":", 1);
    w->comma = 0;
}

void ag__jw_str(struct ag__jw *w, const char *s)
{
    jw_value(w);
    if (s)
        jw_quoted(w, s);
    else
        jw_add(w, "null", 4);
}

void ag__jw_raw(struct ag__jw *w, const char *json)
{
    jw_value(w);
    jw_add(w, json, strlen(json));
}

void ag__jw_num(struct ag__jw *w, double d)
{
    char t[40];

    if (!isfinite(d))
        d = 0;
    /* The shortest form that reads back the same: 0.7, not 0.69999... */
    snprintf(t, sizeof t, "%.15g", d);
    if (strtod(t, NULL) != d)
        snprintf(t, sizeof t, "%.17g", d);
    ag__jw_raw(w, t);
}

void ag__jw_json(struct ag__jw *w, const cJSON *v)
{
    char *t;

    if (w->rc < 0)
        return;
    if (!(t = cJSON_PrintUnformatted(v))) {
        w->rc = -ENOMEM;
        return;
    }
    ag__jw_raw(w, t);
    free(t);
}

void ag__jw_kstr(struct ag__jw *w, const char *key, const char *s)
{
    ag__jw_key(w, key);
    ag__jw_str(w, s);
}

void ag__jw_kraw(struct ag__jw *w, const char *key, const char *json)
{
    ag__jw_key(w, key);
    ag__jw_raw(w, json);
}

int ag__codec_parse(const char *body, size_t n, struct ag_llm_reply *out,
                    int (*parse_message)(const cJSON *root, size_t n,
                                         struct ag_llm_reply *out, char *err,
                                         size_t errlen),
                    char *err, size_t errlen)
{
    cJSON *root;
    int rc;

    ag_llm_reply_clear(out);
    if ((rc = ag__codec_root(body, n, &root, err, errlen)) < 0)
        return rc;
    rc = parse_message(root, n, out, err, errlen);
    cJSON_Delete(root);
    if (rc < 0)
        ag_llm_reply_clear(out);
    return rc;
}

int ag__codec_root(const char *body, size_t n, cJSON **root, char *err,
                   size_t errlen)
{
    int rc;

    *root = NULL;
    if (!body) {
        ag_seterr(err, errlen, "invalid JSON in reply: empty");
        return AG_EPARSE;
    }
    if ((rc = ag__codec_json(body, n, root, err, errlen)) < 0)
        return rc;
    if ((rc = ag__codec_error(*root, err, errlen)) < 0) {
        cJSON_Delete(*root);
        *root = NULL;
    }
    return rc;
}

int ag__codec_fail(int rc, char *err, size_t errlen)
{
    if (rc == AG_ETOOBIG)
        ag_seterr(err, errlen, "reply too large");
    else if (rc == -ENOMEM)
        ag_seterr(err, errlen, "out of memory");
    return rc;
}

int ag_llm_req_canonical(const struct ag_llm_req *req, struct ag_buf *out)
{
    static const char *const roles[] = {"system", "user", "assistant", "tool"};
    cJSON *root = cJSON_CreateObject(), *msgs, *tools;
    int rc;

    msgs = cJSON_AddArrayToObject(root, "messages");
    for (int i = 0; i < req->nmsgs; i++) {
        const struct ag_msg *m = &req->msgs[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "role", roles[m->role]);
        if (m->text)
            cJSON_AddStringToObject(o, "content", m->text);
        if (m->ncalls) {
            cJSON *calls = cJSON_AddArrayToObject(o, "tool_calls");
            for (int k = 0; k < m->ncalls; k++) {
                cJSON *c = cJSON_CreateObject();
                cJSON_AddStringToObject(c, "id",
                                        m->calls[k].id ? m->calls[k].id : "");
                cJSON_AddStringToObject(c, "name", m->calls[k].name);
                cJSON_AddStringToObject(c, "arguments", m->calls[k].args);
                cJSON_AddItemToArray(calls, c);
            }
        }
        if (m->role == AG_ROLE_TOOL) {
            cJSON_AddStringToObject(o, "tool_call_id",
                                    m->call_id ? m->call_id : "");
            cJSON_AddStringToObject(o, "name", m->name ? m->name : "");
            cJSON_AddBoolToObject(o, "is_error", m->is_error);
        }
        cJSON_AddItemToArray(msgs, o);
    }
    cJSON_AddStringToObject(root, "model", req->model ? req->model : "");
    tools = cJSON_AddArrayToObject(root, "tools");
    for (int i = 0; i < req->ntools; i++)
        cJSON_AddItemToArray(tools, cJSON_CreateString(req->tools[i].name));
    rc = ag_json_canonical(root, out);
    cJSON_Delete(root);
    return rc;
}
