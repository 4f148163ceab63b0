/*
 * standin.c: the stand-in LLM endpoint that the tests and benchmarks talk to.
 *
 * A small HTTP/1.1 server on libuv that speaks just enough of the OpenAI
 * chat-completions and Anthropic messages APIs for the agent to use it over a
 * real socket. In script mode it plays a JSON file of replies, one per model
 * request, faults included (error statuses, cut or stalled streams, hangs,
 * dropped connections); in bench mode it answers every request at once with a
 * tool call or, after a tool result, with a final text. With --log it appends
 * each request as one JSON line so that tests can check what the client sent.
 *
 * It also serves OpenAI's /v1/embeddings, in both modes, with the vectors of
 * the agent's local embedder (agent/llm-embed.h), computed here a second time
 * by the same algorithm; a script can put faults before them.
 *
 * Life of a connection: bytes are read into one per-connection buffer and a
 * request (head, then a Content-Length body) is parsed in place. The answer
 * is rendered into a per-connection output buffer as a body, a list of piece
 * boundaries (one per SSE event) and a head stored after the body. It is then
 * sent piece by piece, each piece a separate write and, when the response is
 * chunked, a separate chunk; timers provide delays, gaps and stalls. Only when
 * the last write has completed is the next request on the connection looked
 * at, so a connection has at most one response in flight. Nothing blocks the
 * loop except the request log, which is written and flushed synchronously.
 *
 * The file links with libuv and cJSON only, never with libagent, so that the
 * client under test and its stand-in share no code.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <uv.h>

#define IN_INIT     4096        /* first size of a connection's input buffer */
#define HEAD_MAX    32768       /* request line and headers, in bytes */
#define MAX_HEADERS 100         /* header lines per request */
#define BODY_MAX    (64u << 20) /* larger request bodies are refused (413) */
#define KEEP_MAX    (1u << 20)  /* larger buffers shrink after a request */
#define SCRIPT_MAX  (64u << 20) /* largest script file */
#define MAX_CALLS   32          /* tool calls in one reply */
#define BACKLOG     8192

enum mode { MODE_SCRIPT, MODE_BENCH };
enum api { API_OPENAI, API_ANTHROPIC };
enum route {
    ROUTE_NONE,
    ROUTE_HEALTH,
    ROUTE_OPENAI,
    ROUTE_ANTHROPIC,
    ROUTE_EMBED
};

/* The whole server's state; there is one loop and one listener. */
static struct {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_signal_t sigterm, sigint;
    enum mode mode;
    uint64_t delay_ms;      /* default delay before each answer */
    FILE *log;              /* request log, or NULL */
    const char *first_file; /* --first-request-file, or NULL */
    bool first_seen;
    cJSON *script;        /* the parsed script file, owned */
    const cJSON *replies; /* its array of replies (borrowed from script) */
    int nreplies, next_reply;
    const cJSON *embeds; /* its "embeddings" array, or NULL (borrowed) */
    int nembeds, next_embed;
    bool repeat_last;
    unsigned long seq; /* complete requests so far: the log's "n" */
} srv;

/* A growable byte buffer; allocation failure aborts (this is a test tool). */
struct out {
    char *p;
    size_t len, cap;
};

/* A byte range borrowed from a request. */
struct span {
    const char *p;
    size_t n;
};

/* One header line of the current request, as offsets into conn.in. */
struct hdr {
    uint16_t name, name_len, value, value_len;
};

/*
 * A client connection. Invariants: in[0, in_len) holds the current request
 * followed by any bytes that came after it; head_len is 0 until the current
 * request's head has been parsed; busy is set from the moment a complete
 * request is handled until its response has been written (or forever, for a
 * "hang" reply). While busy, out[0, head_off) is the response body,
 * out[head_off, out.len) its head, and cuts[] the ends of its pieces.
 */
struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;   /* delays, gaps and stalls of the response */
    uv_write_t wreq;    /* the one response write in flight */
    uv_shutdown_t sreq; /* graceful close after a response */
    int open_handles;   /* freed when tcp and timer have both closed */
    bool closing, reading;

    char *in;
    size_t in_len, in_cap;
    size_t scan;     /* where the search for the end of the head resumes */
    size_t head_len; /* 0 until the head has been parsed */
    size_t body_len; /* Content-Length */
    uint16_t method_len, target_off, target_len;
    struct hdr hdrs[MAX_HEADERS];
    int nhdrs;
    bool keep_alive, expect_continue;
    bool busy, dispatching;
    const char *err; /* why the head was refused */

    struct out out;
    size_t head_off;
    size_t *cuts; /* ascending ends of the body's pieces */
    int ncuts, cuts_cap, cut_i;
    size_t split;       /* when non-zero, pieces are this long instead */
    size_t sent;        /* body bytes written so far */
    long long truncate; /* close after this many body bytes, or -1 */
    int pieces;         /* pieces written so far */
    uint64_t gap_ms, stall_ms;
    bool chunked, head_sent, finished, aborting, close_after;
    char frame[24]; /* the chunk-size line of the piece in flight */
};

/* A model answer, independent of the wire format it is rendered in. */
struct call {
    const char *id, *name;
    const char *args; /* JSON text as the model "wrote" it, maybe invalid */
    bool args_json;   /* args parses as JSON */
    char *owned;      /* args when printed from a JSON value, else NULL */
    char idbuf[40];
};

struct reply {
    const char *text; /* NULL when the answer has no text */
    size_t text_len;
    char *text_owned;
    struct call calls[MAX_CALLS];
    int ncalls;
    const char *finish; /* NULL: the API's default */
    long long input, output;
    int text_pieces, args_pieces;
    bool omit_done;
    const char *usage_choices; /* "empty", "null" or "absent" */
};

/* What a model request asked for, found by scanning its body. */
struct req {
    struct span model; /* contents of the "model" string, still escaped */
    bool stream, include_usage;
    struct span last; /* the last element of "messages" */
};

/* Everything the renderers need besides the reply. */
struct ctx {
    enum api api;
    bool stream, include_usage;
    unsigned long seq;
    long long created;
    struct span model;
    const char *nl; /* SSE line end: "\n", or "\r\n" with "crlf" */
};

static void conn_close(struct conn *c);
static void process_input(struct conn *c);
static void send_step(struct conn *c);

/* ---- small utilities ---- */

static void *xrealloc(void *p, size_t n)
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

static void out_put(struct out *o, const void *s, size_t n)
{
    if (n == 0) /* o->p may still be NULL: memcpy must not see it */
        return;
    out_reserve(o, n);
    memcpy(o->p + o->len, s, n);
    o->len += n;
}

static void out_str(struct out *o, const char *s)
{
    out_put(o, s, strlen(s));
}

__attribute__((format(printf, 2, 3))) static void out_fmt(struct out *o,
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
static void out_json(struct out *o, const char *s, size_t n)
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

static void out_jsons(struct out *o, const char *s)
{
    out_json(o, s, strlen(s));
}

/* Parses s[0, n) as one JSON value with nothing but white space after it. */
static cJSON *parse_json(const char *s, size_t n)
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
static int write_file_atomic(const char *path, const char *text)
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

static bool json_flag(const cJSON *o, const char *key)
{
    return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static double json_num(const cJSON *o, const char *key, double def)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    return cJSON_IsNumber(v) ? v->valuedouble : def;
}

static const char *json_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    return cJSON_IsString(v) ? v->valuestring : NULL;
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
static int scan_request(const char *p, size_t n, struct req *q)
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

/* ---- the response plan: body, pieces, head ---- */

static void plan_reset(struct conn *c)
{
    c->out.len = 0;
    c->head_off = 0;
    c->ncuts = 0;
    c->cut_i = 0;
    c->split = 0;
    c->sent = 0;
    c->truncate = -1;
    c->pieces = 0;
    c->gap_ms = 0;
    c->stall_ms = 0;
    c->chunked = false;
    c->head_sent = false;
    c->finished = false;
    c->aborting = false;
}

/* Ends a piece of the body here (an SSE event, a scripted chunk). */
static void plan_cut(struct conn *c)
{
    if (c->ncuts && c->cuts[c->ncuts - 1] >= c->out.len)
        return;
    if (c->ncuts == c->cuts_cap) {
        c->cuts_cap = c->cuts_cap ? 2 * c->cuts_cap : 16;
        c->cuts = xrealloc(c->cuts, (size_t)c->cuts_cap * sizeof *c->cuts);
    }
    c->cuts[c->ncuts++] = c->out.len;
}

static const struct {
    int status;
    const char *text;
} reasons[] = {
    {100, "Continue"},
    {200, "OK"},
    {201, "Created"},
    {204, "No Content"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {408, "Request Timeout"},
    {413, "Content Too Large"},
    {417, "Expectation Failed"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
    {529, "Overloaded"},
};

static const char *reason(int status)
{
    size_t i;

    for (i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].status == status)
            return reasons[i].text;
    return "Status";
}

/* Framing headers are the server's business; a script cannot set them. */
static bool framing_header(const char *name)
{
    return !strcasecmp(name, "content-length") ||
           !strcasecmp(name, "transfer-encoding") ||
           !strcasecmp(name, "connection");
}

/*
 * Closes the body and appends the head after it. ctype may be NULL (no
 * Content-Type); headers (may be NULL) is a script's object of extra
 * headers, whose own Content-Type replaces ctype.
 */
static void plan_head(struct conn *c, int status, const char *ctype,
                      const cJSON *headers)
{
    struct out *o = &c->out;
    const cJSON *h;

    c->head_off = o->len;
    cJSON_ArrayForEach(h, headers)
    {
        if (!strcasecmp(h->string, "content-type"))
            ctype = NULL;
        else if (!strcasecmp(h->string, "connection") && cJSON_IsString(h) &&
                 !strcasecmp(h->valuestring, "close"))
            c->close_after = true;
    }
    out_fmt(o, "HTTP/1.1 %d %s\r\n", status, reason(status));
    if (ctype)
        out_fmt(o, "Content-Type: %s\r\n", ctype);
    if (c->chunked)
        out_str(o, "Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\n");
    else
        out_fmt(o, "Content-Length: %zu\r\n", c->head_off);
    out_str(o, c->close_after ? "Connection: close\r\n"
                              : "Connection: keep-alive\r\n");
    cJSON_ArrayForEach(h, headers)
    {
        if (framing_header(h->string))
            continue;
        if (cJSON_IsString(h))
            out_fmt(o, "%s: %s\r\n", h->string, h->valuestring);
        else
            out_fmt(o, "%s: %.17g\r\n", h->string, h->valuedouble);
    }
    out_str(o, "\r\n");
}

/* A JSON error body in the API's shape, not streamed. */
static void plan_error(struct conn *c, enum api api, int status,
                       const char *type, const char *msg)
{
    struct out *o = &c->out;

    if (api == API_ANTHROPIC) {
        out_str(o, "{\"type\":\"error\",\"error\":{\"type\":");
        out_jsons(o, type);
        out_str(o, ",\"message\":");
        out_jsons(o, msg);
        out_str(o, "}}");
    } else {
        out_str(o, "{\"error\":{\"message\":");
        out_jsons(o, msg);
        out_str(o, ",\"type\":");
        out_jsons(o, type);
        out_str(o, ",\"code\":null}}");
    }
    c->chunked = false;
    plan_head(c, status, "application/json", NULL);
}

/* ---- sending the plan ---- */

static void on_timer(uv_timer_t *t)
{
    send_step(t->data);
}

static void plan_send(struct conn *c, uint64_t delay_ms)
{
    if (delay_ms)
        uv_timer_start(&c->timer, on_timer, delay_ms, 0);
    else
        send_step(c);
}

static void conn_shutdown_cb(uv_shutdown_t *req, int status)
{
    (void)status;
    conn_close(req->data);
}

/* Closes gracefully: pending writes finish, then FIN, then close. */
static void conn_shutdown(struct conn *c)
{
    uv_read_stop((uv_stream_t *)&c->tcp);
    c->reading = false;
    c->sreq.data = c;
    if (uv_shutdown(&c->sreq, (uv_stream_t *)&c->tcp, conn_shutdown_cb) < 0)
        conn_close(c);
}

static void maybe_read(struct conn *c);

/* The response is out: get ready for the next request on the connection. */
static void response_done(struct conn *c)
{
    size_t used = c->head_len + c->body_len;

    if (c->close_after) {
        conn_shutdown(c);
        return;
    }
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
    c->head_len = 0;
    c->body_len = 0;
    c->scan = 0;
    c->busy = false;
    if (c->in_cap > KEEP_MAX && c->in_len <= IN_INIT) {
        c->in = xrealloc(c->in, IN_INIT);
        c->in_cap = IN_INIT;
    }
    if (c->out.cap > KEEP_MAX) {
        free(c->out.p);
        memset(&c->out, 0, sizeof c->out);
    }
    if (!c->dispatching)
        process_input(c);
}

static void after_write(struct conn *c)
{
    uint64_t wait = c->gap_ms;

    if (c->aborting) {
        conn_close(c);
        return;
    }
    if (c->finished) {
        response_done(c);
        return;
    }
    if (c->pieces == 1 && c->stall_ms)
        wait = c->stall_ms;
    uv_timer_start(&c->timer, on_timer, wait, 0);
}

static void on_write(uv_write_t *req, int status)
{
    struct conn *c = req->data;

    if (c->closing)
        return;
    if (status < 0)
        conn_close(c);
    else
        after_write(c);
}

/* Writes now if the socket takes it all, else queues the rest. */
static void conn_write(struct conn *c, uv_buf_t *b, int n)
{
    uv_stream_t *s = (uv_stream_t *)&c->tcp;
    int i = 0, r;

    r = n ? uv_try_write(s, b, (unsigned)n) : 0;
    if (r == UV_EAGAIN)
        r = 0;
    if (r < 0) {
        conn_close(c);
        return;
    }
    while (i < n && (size_t)r >= b[i].len)
        r -= (int)b[i++].len;
    if (i == n) {
        after_write(c);
        return;
    }
    b[i].base += r;
    b[i].len -= (size_t)r;
    c->wreq.data = c;
    if (uv_write(&c->wreq, s, b + i, (unsigned)(n - i), on_write) < 0)
        conn_close(c);
}

static size_t next_cut(struct conn *c)
{
    size_t end = c->head_off;

    if (c->split)
        return c->sent + c->split < end ? c->sent + c->split : end;
    while (c->cut_i < c->ncuts && c->cuts[c->cut_i] <= c->sent)
        c->cut_i++;
    return c->cut_i < c->ncuts ? c->cuts[c->cut_i] : end;
}

/*
 * Writes the next piece: the head goes with the first one, the last chunk
 * with the only one (or alone after several). One call, one write.
 */
static void send_step(struct conn *c)
{
    static char crlf[] = "\r\n", last_chunk[] = "0\r\n\r\n";
    size_t end = c->head_off;
    uv_buf_t b[5];
    int n = 0;

    if (!c->head_sent) {
        b[n++] = uv_buf_init(c->out.p + end, (unsigned)(c->out.len - end));
        c->head_sent = true;
    }
    if (c->sent < end) {
        size_t from = c->sent, to = next_cut(c);
        if (c->truncate >= 0 && to >= (size_t)c->truncate) {
            to = (size_t)c->truncate;
            c->aborting = true;
        }
        if (to > from && c->chunked) {
            int k = snprintf(c->frame, sizeof c->frame, "%zx\r\n", to - from);
            b[n++] = uv_buf_init(c->frame, (unsigned)k);
        }
        if (to > from)
            b[n++] = uv_buf_init(c->out.p + from, (unsigned)(to - from));
        if (to > from && c->chunked)
            b[n++] = uv_buf_init(crlf, 2);
        c->sent = to;
        c->pieces++;
    }
    if (c->sent == end && !c->aborting) {
        if (c->truncate >= 0) {
            c->aborting = true;
        } else if (!c->chunked) {
            c->finished = true;
        } else if (n == 0 || c->pieces <= 1) {
            b[n++] = uv_buf_init(last_chunk, 5);
            c->finished = true;
        }
    }
    conn_write(c, b, n);
}

/* ---- replies: building them ---- */

static void reply_init(struct reply *r)
{
    memset(r, 0, sizeof *r);
    r->input = 10;
    r->output = 5;
    r->text_pieces = 1;
    r->args_pieces = 1;
    r->usage_choices = "empty";
}

static void reply_free(struct reply *r)
{
    int i;

    for (i = 0; i < r->ncalls; i++)
        free(r->calls[i].owned);
    free(r->text_owned);
}

static void call_id(struct call *k, enum api api, unsigned long seq, int i)
{
    snprintf(k->idbuf, sizeof k->idbuf, "%s_%lu_%d",
             api == API_ANTHROPIC ? "toolu_standin" : "call_standin", seq,
             i + 1);
    k->id = k->idbuf;
}

/* Fills r from a high-level scripted reply (already checked at load). */
static void reply_from_json(const cJSON *R, enum api api, unsigned long seq,
                            struct reply *r)
{
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(R, "usage");
    const cJSON *tc;

    reply_init(r);
    if ((r->text = json_str(R, "text")))
        r->text_len = strlen(r->text);
    r->finish = json_str(R, "finish");
    r->input = (long long)json_num(usage, "input", 10);
    r->output = (long long)json_num(usage, "output", 5);
    r->text_pieces = (int)json_num(R, "text_pieces", 1);
    r->args_pieces = (int)json_num(R, "args_pieces", 1);
    r->omit_done = json_flag(R, "omit_done");
    if (json_str(R, "usage_choices"))
        r->usage_choices = json_str(R, "usage_choices");
    cJSON_ArrayForEach(tc, cJSON_GetObjectItemCaseSensitive(R, "tool_calls"))
    {
        struct call *k = &r->calls[r->ncalls];
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(tc, "arguments");

        k->name = json_str(tc, "name");
        if (!(k->id = json_str(tc, "id")))
            call_id(k, api, seq, r->ncalls);
        if (cJSON_IsString(a)) {
            cJSON *v = parse_json(a->valuestring, strlen(a->valuestring));
            k->args = a->valuestring;
            k->args_json = v != NULL;
            cJSON_Delete(v);
        } else if (a) {
            k->args = k->owned = cJSON_PrintUnformatted(a);
            k->args_json = true;
        } else {
            k->args = "{}";
            k->args_json = true;
        }
        r->ncalls++;
    }
}

/* The text of a tool result: a string, or the text parts of an array. */
static char *content_text(const cJSON *content)
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

/* The content of the tool result in message m, or NULL if there is none. */
static char *tool_result(const cJSON *m, enum api api)
{
    const char *role = json_str(m, "role");
    const cJSON *block, *found = NULL;

    if (!role)
        return NULL;
    if (api == API_OPENAI)
        return strcmp(role, "tool") == 0
                   ? content_text(
                         cJSON_GetObjectItemCaseSensitive(m, "content"))
                   : NULL;
    if (strcmp(role, "user") != 0)
        return NULL;
    cJSON_ArrayForEach(block, cJSON_GetObjectItemCaseSensitive(m, "content"))
    {
        const char *type = json_str(block, "type");
        if (type && strcmp(type, "tool_result") == 0)
            found = block;
    }
    return found ? content_text(
                       cJSON_GetObjectItemCaseSensitive(found, "content"))
                 : NULL;
}

/* The bench model: a calc call, or "done: RESULT" after a tool result. */
static void reply_bench(const struct req *q, enum api api, unsigned long seq,
                        struct reply *r)
{
    cJSON *last = q->last.n ? parse_json(q->last.p, q->last.n) : NULL;
    char *result = last ? tool_result(last, api) : NULL;

    reply_init(r);
    if (result) {
        size_t n = strlen(result);
        r->text_owned = xrealloc(NULL, n + 7);
        memcpy(r->text_owned, "done: ", 6);
        memcpy(r->text_owned + 6, result, n + 1);
        r->text = r->text_owned;
        r->text_len = n + 6;
    } else {
        struct call *k = &r->calls[r->ncalls++];
        k->name = "calc";
        k->args = "{\"expr\":\"6*7\"}";
        k->args_json = true;
        call_id(k, api, seq, 0);
    }
    free(result);
    cJSON_Delete(last);
}

/* ---- replies: rendering them ---- */

/* Cuts s[0, len) into n nearly equal pieces, never inside a UTF-8 char. */
struct pieces {
    const char *s;
    size_t len, from;
    int n, k;
};

static bool next_piece(struct pieces *it, const char **p, size_t *len)
{
    while (it->k < it->n) {
        size_t to = it->len * (size_t)++it->k / (size_t)it->n;
        while (to < it->len && ((unsigned char)it->s[to] & 0xc0) == 0x80)
            to++;
        if (to > it->from) {
            *p = it->s + it->from;
            *len = to - it->from;
            it->from = to;
            return true;
        }
    }
    return false;
}

static struct pieces pieces_of(const char *s, size_t len, int n)
{
    struct pieces it = {s, len, 0, n < 1 ? 1 : n, 0};

    if ((size_t)it.n > len)
        it.n = len ? (int)len : 1;
    return it;
}

static void put_model(struct out *o, const struct ctx *x)
{
    out_put(o, "\"", 1);
    if (x->model.n)
        out_put(o, x->model.p, x->model.n);
    else
        out_str(o, "standin");
    out_put(o, "\"", 1);
}

static const char *finish_of(const struct reply *r, enum api api)
{
    if (r->finish)
        return r->finish;
    if (api == API_ANTHROPIC)
        return r->ncalls ? "tool_use" : "end_turn";
    return r->ncalls ? "tool_calls" : "stop";
}

static void event_end(struct conn *c, const struct ctx *x)
{
    out_str(&c->out, x->nl);
    out_str(&c->out, x->nl);
    plan_cut(c);
}

static void oa_usage(struct out *o, const struct reply *r)
{
    out_fmt(o,
            "{\"prompt_tokens\":%lld,\"completion_tokens\":%lld,"
            "\"total_tokens\":%lld}",
            r->input, r->output, r->input + r->output);
}

static void oa_chunk_open(struct conn *c, const struct ctx *x)
{
    out_fmt(&c->out,
            "data: {\"id\":\"chatcmpl-standin-%lu\","
            "\"object\":\"chat.completion.chunk\",\"created\":%lld,"
            "\"model\":",
            x->seq, x->created);
    put_model(&c->out, x);
}

static void oa_delta_open(struct conn *c, const struct ctx *x)
{
    oa_chunk_open(c, x);
    out_str(&c->out, ",\"choices\":[{\"index\":0,\"delta\":");
}

static void oa_delta_close(struct conn *c, const struct ctx *x,
                           const char *finish)
{
    out_str(&c->out, ",\"logprobs\":null,\"finish_reason\":");
    if (finish)
        out_jsons(&c->out, finish);
    else
        out_str(&c->out, "null");
    out_str(&c->out, "}]}");
    event_end(c, x);
}

static void oa_stream(struct conn *c, const struct ctx *x,
                      const struct reply *r)
{
    struct out *o = &c->out;
    struct pieces it;
    const char *p;
    size_t n;
    int i;

    oa_delta_open(c, x);
    out_str(o, r->text ? "{\"role\":\"assistant\",\"content\":\"\"}"
                       : "{\"role\":\"assistant\",\"content\":null}");
    oa_delta_close(c, x, NULL);
    it = pieces_of(r->text, r->text_len, r->text_pieces);
    while (r->text && next_piece(&it, &p, &n)) {
        oa_delta_open(c, x);
        out_str(o, "{\"content\":");
        out_json(o, p, n);
        out_str(o, "}");
        oa_delta_close(c, x, NULL);
    }
    for (i = 0; i < r->ncalls; i++) {
        const struct call *k = &r->calls[i];
        oa_delta_open(c, x);
        out_fmt(o, "{\"tool_calls\":[{\"index\":%d,\"id\":", i);
        out_jsons(o, k->id);
        out_str(o, ",\"type\":\"function\",\"function\":{\"name\":");
        out_jsons(o, k->name);
        out_str(o, ",\"arguments\":");
        out_jsons(o, r->args_pieces ? "" : k->args);
        out_str(o, "}}]}");
        oa_delta_close(c, x, NULL);
        it = pieces_of(k->args, strlen(k->args), r->args_pieces);
        while (r->args_pieces && next_piece(&it, &p, &n)) {
            oa_delta_open(c, x);
            out_fmt(o,
                    "{\"tool_calls\":[{\"index\":%d,"
                    "\"function\":{\"arguments\":",
                    i);
            out_json(o, p, n);
            out_str(o, "}}]}");
            oa_delta_close(c, x, NULL);
        }
    }
    oa_delta_open(c, x);
    out_str(o, "{}");
    oa_delta_close(c, x, finish_of(r, x->api));
    if (x->include_usage) {
        oa_chunk_open(c, x);
        if (!strcmp(r->usage_choices, "null"))
            out_str(o, ",\"choices\":null");
        else if (strcmp(r->usage_choices, "absent") != 0)
            out_str(o, ",\"choices\":[]");
        out_str(o, ",\"usage\":");
        oa_usage(o, r);
        out_str(o, "}");
        event_end(c, x);
    }
    if (!r->omit_done) {
        out_str(o, "data: [DONE]");
        event_end(c, x);
    }
}

static void oa_message(struct conn *c, const struct ctx *x,
                       const struct reply *r)
{
    struct out *o = &c->out;
    int i;

    out_fmt(o,
            "{\"id\":\"chatcmpl-standin-%lu\",\"object\":\"chat.completion\","
            "\"created\":%lld,\"model\":",
            x->seq, x->created);
    put_model(o, x);
    out_str(o, ",\"choices\":[{\"index\":0,\"message\":{\"role\":"
               "\"assistant\",\"content\":");
    if (r->text)
        out_json(o, r->text, r->text_len);
    else
        out_str(o, "null");
    for (i = 0; i < r->ncalls; i++) {
        out_str(o, i ? "," : ",\"tool_calls\":[");
        out_str(o, "{\"id\":");
        out_jsons(o, r->calls[i].id);
        out_str(o, ",\"type\":\"function\",\"function\":{\"name\":");
        out_jsons(o, r->calls[i].name);
        out_str(o, ",\"arguments\":");
        out_jsons(o, r->calls[i].args);
        out_str(o, "}}");
    }
    out_str(o, r->ncalls ? "]}," : "},");
    out_str(o, "\"logprobs\":null,\"finish_reason\":");
    out_jsons(o, finish_of(r, x->api));
    out_str(o, "}],\"usage\":");
    oa_usage(o, r);
    out_str(o, "}");
}

static void an_event(struct conn *c, const struct ctx *x, const char *type)
{
    out_fmt(&c->out, "event: %s%sdata: {\"type\":\"%s\"", type, x->nl, type);
}

static void an_block_stop(struct conn *c, const struct ctx *x, int index)
{
    an_event(c, x, "content_block_stop");
    out_fmt(&c->out, ",\"index\":%d}", index);
    event_end(c, x);
}

static void an_stream(struct conn *c, const struct ctx *x,
                      const struct reply *r)
{
    struct out *o = &c->out;
    struct pieces it;
    const char *p;
    size_t n;
    int i, block = 0;

    an_event(c, x, "message_start");
    out_fmt(o,
            ",\"message\":{\"id\":\"msg_standin_%lu\",\"type\":\"message\","
            "\"role\":\"assistant\",\"model\":",
            x->seq);
    put_model(o, x);
    out_fmt(o,
            ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,"
            "\"usage\":{\"input_tokens\":%lld,\"output_tokens\":1}}}",
            r->input);
    event_end(c, x);
    an_event(c, x, "ping");
    out_str(o, "}");
    event_end(c, x);
    if (r->text) {
        an_event(c, x, "content_block_start");
        out_fmt(o,
                ",\"index\":%d,\"content_block\":{\"type\":\"text\","
                "\"text\":\"\"}}",
                block);
        event_end(c, x);
        it = pieces_of(r->text, r->text_len, r->text_pieces);
        while (next_piece(&it, &p, &n)) {
            an_event(c, x, "content_block_delta");
            out_fmt(o,
                    ",\"index\":%d,\"delta\":{\"type\":\"text_delta\","
                    "\"text\":",
                    block);
            out_json(o, p, n);
            out_str(o, "}}");
            event_end(c, x);
        }
        an_block_stop(c, x, block++);
    }
    for (i = 0; i < r->ncalls; i++, block++) {
        const struct call *k = &r->calls[i];
        an_event(c, x, "content_block_start");
        out_fmt(o,
                ",\"index\":%d,\"content_block\":{\"type\":\"tool_use\","
                "\"id\":",
                block);
        out_jsons(o, k->id);
        out_str(o, ",\"name\":");
        out_jsons(o, k->name);
        out_str(o, ",\"input\":{}}}");
        event_end(c, x);
        it = pieces_of(k->args, strlen(k->args), r->args_pieces);
        while (r->args_pieces && next_piece(&it, &p, &n)) {
            an_event(c, x, "content_block_delta");
            out_fmt(o,
                    ",\"index\":%d,\"delta\":{\"type\":\"input_json_delta\","
                    "\"partial_json\":",
                    block);
            out_json(o, p, n);
            out_str(o, "}}");
            event_end(c, x);
        }
        an_block_stop(c, x, block);
    }
    an_event(c, x, "message_delta");
    out_str(o, ",\"delta\":{\"stop_reason\":");
    out_jsons(o, finish_of(r, x->api));
    out_fmt(o, ",\"stop_sequence\":null},\"usage\":{\"output_tokens\":%lld}}",
            r->output);
    event_end(c, x);
    if (!r->omit_done) {
        an_event(c, x, "message_stop");
        out_str(o, "}");
        event_end(c, x);
    }
}

static void an_message(struct conn *c, const struct ctx *x,
                       const struct reply *r)
{
    struct out *o = &c->out;
    int i;

    out_fmt(o,
            "{\"id\":\"msg_standin_%lu\",\"type\":\"message\","
            "\"role\":\"assistant\",\"model\":",
            x->seq);
    put_model(o, x);
    out_str(o, ",\"content\":[");
    if (r->text) {
        out_str(o, "{\"type\":\"text\",\"text\":");
        out_json(o, r->text, r->text_len);
        out_str(o, "}");
    }
    for (i = 0; i < r->ncalls; i++) {
        const struct call *k = &r->calls[i];
        out_str(o, i || r->text ? ",{\"type\":\"tool_use\",\"id\":"
                                : "{\"type\":\"tool_use\",\"id\":");
        out_jsons(o, k->id);
        out_str(o, ",\"name\":");
        out_jsons(o, k->name);
        out_str(o, ",\"input\":");
        if (k->args_json) /* as written, even when it is not an object */
            out_str(o, k->args);
        else
            out_jsons(o, k->args);
        out_str(o, "}");
    }
    out_str(o, "],\"stop_reason\":");
    out_jsons(o, finish_of(r, x->api));
    out_fmt(o,
            ",\"stop_sequence\":null,\"usage\":{\"input_tokens\":%lld,"
            "\"output_tokens\":%lld}}",
            r->input, r->output);
}

/* Renders r in the request's format, streamed or not, and adds the head. */
static void plan_reply(struct conn *c, const struct ctx *x,
                       const struct reply *r, const cJSON *headers)
{
    c->chunked = x->stream;
    if (x->stream && x->api == API_ANTHROPIC)
        an_stream(c, x, r);
    else if (x->stream)
        oa_stream(c, x, r);
    else if (x->api == API_ANTHROPIC)
        an_message(c, x, r);
    else
        oa_message(c, x, r);
    plan_head(c, 200, x->stream ? "text/event-stream" : "application/json",
              headers);
}

/* A raw scripted reply: status, headers, and a body or hand-made chunks. */
static void plan_raw(struct conn *c, const cJSON *R)
{
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(R, "body");
    const cJSON *chunks = cJSON_GetObjectItemCaseSensitive(R, "chunks");
    const cJSON *s;
    const char *ctype = NULL;

    if (chunks) {
        cJSON_ArrayForEach(s, chunks)
        {
            out_str(&c->out, s->valuestring);
            plan_cut(c);
        }
        c->chunked = true;
        ctype = "text/event-stream";
    } else if (cJSON_IsString(body)) {
        out_str(&c->out, body->valuestring);
        ctype = "text/plain; charset=utf-8";
    } else if (body) {
        char *text = cJSON_PrintUnformatted(body);
        out_str(&c->out, text);
        free(text);
        ctype = "application/json";
    }
    plan_head(c, (int)json_num(R, "status", 200), ctype,
              cJSON_GetObjectItemCaseSensitive(R, "headers"));
}

/* ---- the script ----
 * A script file is {"replies": [R1, R2, ...], "repeat_last": false,
 * "embeddings": [E1, ...]} (or just the array of replies). The n-th model
 * request gets Rn, whatever its route; after the last one a 500 "stand-in
 * script exhausted" (or Rlast again with repeat_last). Embeddings requests
 * do not use the replies: the n-th gets En, and once they run out (or when
 * there are none) the computed vectors. An E is a raw answer, a fault, or
 * {} for the vectors, each with the delivery keys; model keys are errors.
 * Each R and E is checked at start-up: unknown keys, wrong types and mixed
 * kinds are errors (exit 2); keys starting with "_" are comments.
 *
 *   model answer: text, tool_calls [{id?, name, arguments?}] (arguments: a
 *       JSON value, or a string sent as it is, valid JSON or not), finish,
 *       usage {input, output}; streaming shape: text_pieces, args_pieces,
 *       omit_done, usage_choices, crlf.
 *   raw answer: status, body (a string, or a JSON value sent as JSON) or
 *       chunks (strings, sent chunked one by one; empty ones are skipped).
 *   delivery, for both: headers, delay_ms, split, gap_ms, stall_ms,
 *       truncate_after.
 *   fault: {"close": true} drops the connection, {"hang": true} never
 *       answers.
 */

/* The keys a reply may have, by kind; a reply is raw when it has a raw key,
 * a fault when it has "close" or "hang", else a high-level model answer. */
static const char *const model_keys[] = {
    "text",        "tool_calls", "finish",        "usage", "text_pieces",
    "args_pieces", "omit_done",  "usage_choices", "crlf",  NULL};
static const char *const raw_keys[] = {"status", "body", "chunks", NULL};
static const char *const fault_keys[] = {"close", "hang", NULL};
static const char *const delivery_keys[] = {
    "split",   "gap_ms", "truncate_after", "stall_ms", "delay_ms",
    "headers", NULL};
static const char *const num_keys[] = {
    "split",          "gap_ms",   "text_pieces", "args_pieces",
    "truncate_after", "stall_ms", "delay_ms",    NULL};

static bool in_list(const char *const *list, const char *key)
{
    for (; *list; list++)
        if (strcmp(*list, key) == 0)
            return true;
    return false;
}

static bool has_any(const cJSON *R, const char *const *list)
{
    for (; *list; list++)
        if (cJSON_GetObjectItemCaseSensitive(R, *list))
            return true;
    return false;
}

static bool is_comment(const char *key)
{
    return key[0] == '_' || strcmp(key, "comment") == 0;
}

static bool clean_text(const char *s)
{
    return !strpbrk(s, "\r\n");
}

/* Checks one reply; returns NULL or what is wrong with it. */
static const char *check_reply(const cJSON *R)
{
    static char why[160];
    const cJSON *v, *tc;
    bool fault = json_flag(R, "close") || json_flag(R, "hang");
    int i;

    if (!cJSON_IsObject(R))
        return "a reply must be an object";
    cJSON_ArrayForEach(v, R)
    {
        const char *k = v->string;
        bool known = in_list(model_keys, k) || in_list(raw_keys, k) ||
                     in_list(delivery_keys, k) || in_list(fault_keys, k);

        if (is_comment(k) || (fault ? in_list(fault_keys, k) : known))
            continue;
        snprintf(why, sizeof why,
                 known ? "\"%s\" does not go with close or hang"
                       : "unknown key \"%s\"",
                 k);
        return why;
    }
    if (has_any(R, raw_keys) && has_any(R, model_keys))
        return "status, body and chunks (raw) do not mix with text, "
               "tool_calls and the other model keys";
    if (cJSON_GetObjectItemCaseSensitive(R, "body") &&
        cJSON_GetObjectItemCaseSensitive(R, "chunks"))
        return "body and chunks do not mix";
    for (i = 0; num_keys[i]; i++) {
        v = cJSON_GetObjectItemCaseSensitive(R, num_keys[i]);
        if (v &&
            (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e9))
            return "split, *_ms, *_pieces and truncate_after must be "
                   "numbers from 0 to 1e9";
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(R, "status")) &&
        (!cJSON_IsNumber(v) || v->valueint < 100 || v->valueint > 999))
        return "status must be a number from 100 to 999";
    if ((v = cJSON_GetObjectItemCaseSensitive(R, "text")) && !cJSON_IsString(v))
        return "text must be a string";
    if ((v = cJSON_GetObjectItemCaseSensitive(R, "finish")) &&
        !cJSON_IsString(v))
        return "finish must be a string";
    if ((v = cJSON_GetObjectItemCaseSensitive(R, "usage")) &&
        !cJSON_IsObject(v))
        return "usage must be an object {\"input\": N, \"output\": N}";
    if ((v = cJSON_GetObjectItemCaseSensitive(R, "usage_choices")) &&
        (!cJSON_IsString(v) ||
         (strcmp(v->valuestring, "empty") && strcmp(v->valuestring, "null") &&
          strcmp(v->valuestring, "absent"))))
        return "usage_choices must be \"empty\", \"null\" or \"absent\"";
    if ((v = cJSON_GetObjectItemCaseSensitive(R, "tool_calls"))) {
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > MAX_CALLS)
            return "tool_calls must be an array of at most 32 calls";
        cJSON_ArrayForEach(tc, v)
        {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(tc, "id");
            if (!json_str(tc, "name"))
                return "each tool call needs a \"name\" string";
            if (id && !cJSON_IsString(id))
                return "a tool call's id must be a string";
        }
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(R, "headers"))) {
        const cJSON *h;
        if (!cJSON_IsObject(v))
            return "headers must be an object";
        cJSON_ArrayForEach(h, v)
        {
            if (!h->string[0] || !clean_text(h->string) ||
                strchr(h->string, ':') ||
                !(cJSON_IsNumber(h) ||
                  (cJSON_IsString(h) && clean_text(h->valuestring))))
                return "header values must be strings or numbers, without "
                       "CR or LF";
        }
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(R, "chunks"))) {
        const cJSON *s;
        if (!cJSON_IsArray(v))
            return "chunks must be an array of strings";
        cJSON_ArrayForEach(s, v)
        {
            if (!cJSON_IsString(s))
                return "chunks must be an array of strings";
        }
    }
    return NULL;
}

static int load_script(const char *path)
{
    FILE *f = fopen(path, "rb");
    struct out text = {0};
    char chunk[65536];
    size_t n;
    const cJSON *R, *v;
    const char *why = NULL;
    int i = 0;

    if (!f) {
        fprintf(stderr, "standin: %s: %s\n", path, strerror(errno));
        return -1;
    }
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0 && text.len <= SCRIPT_MAX)
        out_put(&text, chunk, n);
    fclose(f);
    srv.script = text.len <= SCRIPT_MAX ? parse_json(text.p, text.len) : NULL;
    free(text.p);
    if (!srv.script) {
        fprintf(stderr, "standin: %s: not valid JSON\n", path);
        return -1;
    }
    if (cJSON_IsArray(srv.script)) {
        srv.replies = srv.script;
    } else {
        cJSON_ArrayForEach(v, srv.script)
        {
            if (strcmp(v->string, "replies") &&
                strcmp(v->string, "repeat_last") &&
                strcmp(v->string, "embeddings") && !is_comment(v->string))
                why = "unknown top-level key";
        }
        srv.replies = cJSON_GetObjectItemCaseSensitive(srv.script, "replies");
        srv.repeat_last = json_flag(srv.script, "repeat_last");
        srv.embeds = cJSON_GetObjectItemCaseSensitive(srv.script, "embeddings");
        if (!cJSON_IsArray(srv.replies))
            why = "expected {\"replies\": [...], \"repeat_last\": false}";
        else if (srv.embeds && !cJSON_IsArray(srv.embeds))
            why = "\"embeddings\" must be an array of replies";
    }
    if (why) {
        fprintf(stderr, "standin: %s: %s\n", path, why);
        return -1;
    }
    cJSON_ArrayForEach(R, srv.replies)
    {
        i++;
        if ((why = check_reply(R))) {
            fprintf(stderr, "standin: %s: reply %d: %s\n", path, i, why);
            return -1;
        }
    }
    srv.nreplies = i;
    i = 0;
    cJSON_ArrayForEach(R, srv.embeds)
    {
        i++;
        if (!(why = check_reply(R)) && has_any(R, model_keys))
            why = "an embeddings reply takes no model keys: {} answers with "
                  "the vectors";
        if (why) {
            fprintf(stderr, "standin: %s: embeddings reply %d: %s\n", path, i,
                    why);
            return -1;
        }
    }
    srv.nembeds = i;
    return 0;
}

/* The reply for the next model request, or NULL when the script is done. */
static const cJSON *next_reply(void)
{
    int i = srv.next_reply++;

    if (i >= srv.nreplies && srv.repeat_last && srv.nreplies)
        i = srv.nreplies - 1;
    if (i >= srv.nreplies) {
        fprintf(stderr, "standin: script exhausted at model request %d\n",
                i + 1);
        return NULL;
    }
    return cJSON_GetArrayItem(srv.replies, i);
}

/* ---- requests ---- */

static bool is_tchar(int ch)
{
    return ch > 0 && (isalnum(ch) || strchr("!#$%&'*+-.^_`|~", ch));
}

static bool has_token(const char *v, size_t n, const char *token)
{
    size_t t = strlen(token), i = 0;

    while (i < n) {
        size_t j;
        while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
            i++;
        for (j = i; j < n && v[j] != ','; j++)
            ;
        while (j > i && (v[j - 1] == ' ' || v[j - 1] == '\t'))
            j--;
        if (j - i == t && !strncasecmp(v + i, token, t))
            return true;
        while (i < n && v[i] != ',')
            i++;
    }
    return false;
}

static int bad(struct conn *c, int status, const char *why)
{
    c->err = why;
    return status;
}

/* The known headers of the request; returns 0 or a status to fail with. */
static int read_headers(struct conn *c)
{
    bool have_length = false;
    int i;

    for (i = 0; i < c->nhdrs; i++) {
        const struct hdr *h = &c->hdrs[i];
        const char *name = c->in + h->name, *v = c->in + h->value;
        size_t n = h->value_len, j, len = 0;

        if (h->name_len == 14 && !strncasecmp(name, "content-length", 14)) {
            if (n == 0)
                return bad(c, 400, "bad Content-Length");
            for (j = 0; j < n; j++) {
                if (!isdigit((unsigned char)v[j]))
                    return bad(c, 400, "bad Content-Length");
                if (len <= 2 * (size_t)BODY_MAX)
                    len = len * 10 + (size_t)(v[j] - '0');
            }
            if (have_length && len != c->body_len)
                return bad(c, 400, "conflicting Content-Length headers");
            c->body_len = len;
            have_length = true;
        } else if (h->name_len == 17 &&
                   !strncasecmp(name, "transfer-encoding", 17)) {
            return bad(c, 501, "chunked request bodies are not supported");
        } else if (h->name_len == 10 && !strncasecmp(name, "connection", 10)) {
            if (has_token(v, n, "close"))
                c->keep_alive = false;
            else if (has_token(v, n, "keep-alive"))
                c->keep_alive = true;
        } else if (h->name_len == 6 && !strncasecmp(name, "expect", 6)) {
            if (n != 12 || strncasecmp(v, "100-continue", 12))
                return bad(c, 417, "only Expect: 100-continue is supported");
            c->expect_continue = true;
        }
    }
    return 0;
}

/*
 * Parses the head at the start of in. Returns 0 when more bytes are needed,
 * 200 when the head is complete, or the status to fail with (c->err says why).
 */
static int parse_head(struct conn *c)
{
    char *in = c->in, *p, *end, *stop, *eol;
    int status;

    while (c->in_len >= 2 && in[0] == '\r' && in[1] == '\n') {
        memmove(in, in + 2, c->in_len - 2); /* stray CRLF between requests */
        c->in_len -= 2;
        c->scan = 0;
    }
    end = memmem(in + c->scan, c->in_len - c->scan, "\r\n\r\n", 4);
    if (!end) {
        c->scan = c->in_len > 3 ? c->in_len - 3 : 0;
        return c->in_len >= HEAD_MAX ? bad(c, 431, "request head too large")
                                     : 0;
    }
    if (end + 4 - in > HEAD_MAX)
        return bad(c, 431, "request head too large");
    stop = end + 2; /* header lines end here, each with its CRLF */
    c->nhdrs = 0;
    c->body_len = 0;
    c->expect_continue = false;

    for (p = in; p < end && is_tchar((unsigned char)*p); p++)
        ;
    if (p == in || *p != ' ')
        return bad(c, 400, "bad request line");
    c->method_len = (uint16_t)(p - in);
    c->target_off = (uint16_t)(++p - in);
    while (p<end && * p> ' ' && *p < 0x7f)
        p++;
    if (*p != ' ' || in[c->target_off] != '/')
        return bad(c, 400, "bad request target");
    c->target_len = (uint16_t)(p - in - c->target_off);
    p++;
    eol = memchr(p, '\r', (size_t)(stop - p)); /* found: *end is '\r' */
    if (eol - p != 8 || memcmp(p, "HTTP/1.", 7) ||
        !isdigit((unsigned char)p[7]))
        return bad(c, eol - p >= 5 && !memcmp(p, "HTTP/", 5) ? 505 : 400,
                   "bad HTTP version");
    c->keep_alive = p[7] != '0';

    for (p = eol + 2; p < stop; p = eol + 2) {
        struct hdr *h = &c->hdrs[c->nhdrs];
        char *colon, *v, *ve;

        eol = memchr(p, '\r', (size_t)(stop - p));
        if (!eol || eol[1] != '\n' || memchr(p, '\n', (size_t)(eol - p)))
            return bad(c, 400, "bad line ending in head");
        if (c->nhdrs == MAX_HEADERS)
            return bad(c, 431, "too many header lines");
        for (colon = p; colon < eol && is_tchar((unsigned char)*colon); colon++)
            ;
        if (colon == p || colon == eol || *colon != ':')
            return bad(c, 400, "bad header line");
        for (v = colon + 1; v < eol && (*v == ' ' || *v == '\t'); v++)
            ;
        for (ve = eol; ve > v && (ve[-1] == ' ' || ve[-1] == '\t'); ve--)
            ;
        h->name = (uint16_t)(p - in);
        h->name_len = (uint16_t)(colon - p);
        h->value = (uint16_t)(v - in);
        h->value_len = (uint16_t)(ve - v);
        c->nhdrs++;
    }
    if ((status = read_headers(c)) != 0)
        return status;
    c->head_len = (size_t)(end + 4 - in);
    return 200;
}

/* ---- the request log and the first-request time ---- */

static cJSON *string_item(const char *p, size_t n)
{
    char *s = xrealloc(NULL, n + 1);
    cJSON *v;

    memcpy(s, p, n);
    s[n] = '\0';
    v = cJSON_CreateString(s);
    free(s);
    return v;
}

/* One line: {"n", "method", "path", "headers": {name: value}, "body"}. */
static void log_request(struct conn *c, unsigned long n)
{
    cJSON *o = cJSON_CreateObject(), *headers = cJSON_CreateObject(), *body;
    char name[HEAD_MAX + 1];
    char *line;
    int i;

    cJSON_AddNumberToObject(o, "n", (double)n);
    cJSON_AddItemToObject(o, "method", string_item(c->in, c->method_len));
    cJSON_AddItemToObject(o, "path",
                          string_item(c->in + c->target_off, c->target_len));
    for (i = 0; i < c->nhdrs; i++) {
        const struct hdr *h = &c->hdrs[i];
        const cJSON *seen;
        size_t j;

        for (j = 0; j < h->name_len; j++)
            name[j] = (char)tolower((unsigned char)c->in[h->name + j]);
        name[j] = '\0';
        seen = cJSON_GetObjectItemCaseSensitive(headers, name);
        if (seen) { /* repeated header: join the values with ", " */
            struct out joined = {0};
            out_str(&joined, seen->valuestring);
            out_str(&joined, ", ");
            out_put(&joined, c->in + h->value, h->value_len);
            cJSON_ReplaceItemInObjectCaseSensitive(
                headers, name, string_item(joined.p, joined.len));
            free(joined.p);
        } else {
            cJSON_AddItemToObject(headers, name,
                                  string_item(c->in + h->value, h->value_len));
        }
    }
    cJSON_AddItemToObject(o, "headers", headers);
    if (c->body_len == 0)
        body = cJSON_CreateNull();
    else if (!(body = parse_json(c->in + c->head_len, c->body_len)))
        body = string_item(c->in + c->head_len, c->body_len);
    cJSON_AddItemToObject(o, "body", body);
    line = cJSON_PrintUnformatted(o);
    if (line) {
        fputs(line, srv.log);
        fputc('\n', srv.log);
        fflush(srv.log);
    }
    free(line);
    cJSON_Delete(o);
}

static void note_first_request(void)
{
    struct timespec ts;
    char text[32];
    int r;

    srv.first_seen = true;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    snprintf(text, sizeof text, "%lld\n",
             (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec);
    if ((r = write_file_atomic(srv.first_file, text)) < 0)
        fprintf(stderr, "standin: %s: %s\n", srv.first_file, strerror(-r));
}

/* ---- answering a complete request ---- */

static bool path_is(const char *p, size_t n, const char *want)
{
    return n == strlen(want) && memcmp(p, want, n) == 0;
}

static enum route route_of(const struct conn *c)
{
    const char *m = c->in, *p = c->in + c->target_off, *q;
    size_t n = c->target_len;
    bool get = path_is(m, c->method_len, "GET");
    bool post = path_is(m, c->method_len, "POST");

    if ((q = memchr(p, '?', n)))
        n = (size_t)(q - p);
    if (get && path_is(p, n, "/health"))
        return ROUTE_HEALTH;
    if (post && (path_is(p, n, "/v1/chat/completions") ||
                 path_is(p, n, "/chat/completions")))
        return ROUTE_OPENAI;
    if (post && (path_is(p, n, "/v1/messages") || path_is(p, n, "/messages")))
        return ROUTE_ANTHROPIC;
    if (post &&
        (path_is(p, n, "/v1/embeddings") || path_is(p, n, "/embeddings")))
        return ROUTE_EMBED;
    return ROUTE_NONE;
}

/* Applies a scripted reply's delivery options to the plan. */
static void plan_options(struct conn *c, const cJSON *R)
{
    c->split = (size_t)json_num(R, "split", 0);
    c->gap_ms = (uint64_t)json_num(R, "gap_ms", 0);
    c->stall_ms = (uint64_t)json_num(R, "stall_ms", 0);
    c->truncate = (long long)json_num(R, "truncate_after", -1);
}

static void answer_model(struct conn *c, enum api api)
{
    const char *body = c->in + c->head_len;
    const cJSON *R = NULL;
    struct reply r;
    struct req q;
    struct ctx x;

    if (scan_request(body, c->body_len, &q) < 0) {
        plan_error(c, api, 400, "invalid_request_error",
                   "request body is not a JSON object");
        plan_send(c, 0);
        return;
    }
    x.api = api;
    x.stream = q.stream;
    x.include_usage = q.include_usage;
    x.seq = srv.seq;
    x.created = (long long)time(NULL);
    x.model = q.model;
    x.nl = "\n";

    if (srv.mode == MODE_BENCH) {
        reply_bench(&q, api, srv.seq, &r);
        plan_reply(c, &x, &r, NULL);
        reply_free(&r);
        c->ncuts = 0; /* for speed: the whole stream in one chunk, one write */
        plan_send(c, srv.delay_ms);
        return;
    }
    if (!(R = next_reply())) {
        plan_error(c, api, 500,
                   api == API_ANTHROPIC ? "api_error" : "server_error",
                   "stand-in script exhausted");
        plan_send(c, srv.delay_ms);
        return;
    }
    if (json_flag(R, "close")) {
        conn_close(c);
        return;
    }
    if (json_flag(R, "hang"))
        return; /* busy for good; the connection ends when the client goes */
    if (json_flag(R, "crlf"))
        x.nl = "\r\n";
    if (has_any(R, raw_keys)) {
        plan_raw(c, R);
    } else {
        reply_from_json(R, api, srv.seq, &r);
        plan_reply(c, &x, &r, cJSON_GetObjectItemCaseSensitive(R, "headers"));
        reply_free(&r);
    }
    plan_options(c, R);
    plan_send(c, (uint64_t)json_num(R, "delay_ms", (double)srv.delay_ms));
}

/* ---- embeddings ----
 * The vectors of the agent's local embedder, by the algorithm documented in
 * agent/llm-embed.h, written out again here (this file does not link
 * libagent; tests/test-embed.c checks that both give the same floats):
 * words are runs of ASCII letters, digits and bytes >= 0x80, ASCII
 * lower-cased; the features "w:WORD" and "b:WORD NEXT" are hashed with
 * FNV-1a 64 and the SplitMix64 finaliser; hash % dims is the bucket, the
 * top bit the sign; the first 1000000 words count; the integer counts are
 * divided by their L2 norm in double and rounded to float. The floats are
 * printed with 9 significant digits, which read back to the same float.
 */

#define EMBED_DIMS      64
#define EMBED_MAX_DIMS  8192
#define EMBED_MAX_WORDS 1000000

static bool embed_byte(unsigned char ch)
{
    return (ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
           (ch >= 'A' && ch <= 'Z') || ch >= 0x80;
}

static uint64_t embed_fnv(uint64_t h, const char *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        h = (h ^ (ch >= 'A' && ch <= 'Z' ? ch | 0x20 : ch)) * 0x100000001b3ULL;
    }
    return h;
}

/*
 * sqrt(s) rounded to the nearest double, which is what IEEE sqrt gives, for
 * an integer 0 < s < 2^53; done with integers because this file links no
 * libm. s is scaled by 4^k so that its root has 54 bits, the root is taken
 * bit by bit, then rounded to 53 bits (no ties: the root of an integer is an
 * integer, with trailing zeros once scaled, or irrational).
 */
static double embed_sqrt(uint64_t s)
{
    unsigned __int128 t = s, x, r = 0, bit = (unsigned __int128)1 << 106;
    uint64_t q;
    int k = 0;

    while (t < bit) {
        t <<= 2;
        k++;
    }
    for (x = t; bit; bit >>= 2) {
        if (x >= r + bit) {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
    }
    q = (uint64_t)(r >> 1);
    if ((r & 1) && (x != 0 || (q & 1)))
        q++;
    return (double)q / (double)((uint64_t)1 << (k - 1));
}

static void embed_count(float *v, int dims, uint64_t h)
{
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
    h ^= h >> 31;
    v[h % (uint64_t)dims] += (h >> 63) ? -1.0f : 1.0f;
}

/* Embeds the NUL-terminated s into v[0, dims); returns its word count. */
static long embed_text(const char *s, int dims, float *v)
{
    const uint64_t w0 = embed_fnv(0xcbf29ce484222325ULL, "w:", 2);
    const uint64_t b0 = embed_fnv(0xcbf29ce484222325ULL, "b:", 2);
    const char *last = NULL;
    size_t last_n = 0;
    double sum = 0, norm;
    long words = 0;
    int i;

    memset(v, 0, (size_t)dims * sizeof *v);
    while (*s && words < EMBED_MAX_WORDS) {
        const char *w;
        size_t n;

        if (!embed_byte((unsigned char)*s)) {
            s++;
            continue;
        }
        for (w = s; *s && embed_byte((unsigned char)*s); s++)
            ;
        n = (size_t)(s - w);
        embed_count(v, dims, embed_fnv(w0, w, n));
        if (last) {
            uint64_t h = embed_fnv(b0, last, last_n);
            h = embed_fnv(h, " ", 1);
            embed_count(v, dims, embed_fnv(h, w, n));
        }
        last = w;
        last_n = n;
        words++;
    }
    for (i = 0; i < dims; i++)
        sum += (double)v[i] * (double)v[i];
    if (sum > 0) {
        norm = embed_sqrt((uint64_t)sum);
        for (i = 0; i < dims; i++)
            v[i] = (float)((double)v[i] / norm);
    }
    return words;
}

/* Why an embeddings request cannot be answered, or NULL; sets *dims. */
static const char *embed_check(const cJSON *q, int *dims)
{
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(q, "input"), *t;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(q, "dimensions");
    const char *format = json_str(q, "encoding_format");

    if (!cJSON_IsObject(q))
        return "request body is not a JSON object";
    if (cJSON_IsArray(input) && cJSON_GetArraySize(input) > 0) {
        cJSON_ArrayForEach(t, input)
        {
            if (!cJSON_IsString(t))
                return "input must be a string or an array of strings";
        }
    } else if (!cJSON_IsString(input)) {
        return "input must be a string or a non-empty array of strings";
    }
    *dims = EMBED_DIMS;
    if (d && (!cJSON_IsNumber(d) || d->valuedouble != (double)d->valueint ||
              d->valueint < 1 || d->valueint > EMBED_MAX_DIMS))
        return "dimensions must be an integer from 1 to 8192";
    if (d)
        *dims = d->valueint;
    if (cJSON_GetObjectItemCaseSensitive(q, "encoding_format") &&
        (!format || strcmp(format, "float") != 0))
        return "encoding_format must be \"float\" (base64 is not supported)";
    return NULL;
}

/* One item of "data": the vector of text; returns the text's words. */
static long put_embedding(struct out *o, int index, const char *text, int dims)
{
    static float v[EMBED_MAX_DIMS];
    long words = embed_text(text, dims, v);
    int k;

    out_fmt(o, "%s{\"object\":\"embedding\",\"index\":%d,\"embedding\":[",
            index ? "," : "", index);
    for (k = 0; k < dims; k++)
        out_fmt(o, k ? ",%.9g" : "%.9g", (double)v[k]);
    out_str(o, "]}");
    return words;
}

/* {"object": "list", "data": [{"object", "index", "embedding"}], "model",
 * "usage"} for the request's texts. */
static void plan_embeddings(struct conn *c, const cJSON *q, int dims,
                            const cJSON *headers)
{
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(q, "input"), *t;
    const char *model = json_str(q, "model");
    struct out *o = &c->out;
    long words = 0;
    int i = 0;

    out_str(o, "{\"object\":\"list\",\"data\":[");
    if (cJSON_IsString(input))
        words += put_embedding(o, i++, input->valuestring, dims);
    else
        cJSON_ArrayForEach(t, input)
        {
            words += put_embedding(o, i++, t->valuestring, dims);
        }
    out_str(o, "],\"model\":");
    out_jsons(o, model ? model : "standin-embed");
    out_fmt(o, ",\"usage\":{\"prompt_tokens\":%ld,\"total_tokens\":%ld}}",
            words, words);
    c->chunked = false;
    plan_head(c, 200, "application/json", headers);
}

static void answer_embeddings(struct conn *c)
{
    const cJSON *E = NULL;
    const char *why;
    cJSON *q;
    int dims = EMBED_DIMS;

    if (srv.mode == MODE_SCRIPT && srv.next_embed < srv.nembeds)
        E = cJSON_GetArrayItem(srv.embeds, srv.next_embed++);
    if (json_flag(E, "close")) {
        conn_close(c);
        return;
    }
    if (json_flag(E, "hang"))
        return; /* busy for good; the connection ends when the client goes */
    if (E && has_any(E, raw_keys)) {
        plan_raw(c, E);
    } else {
        q = parse_json(c->in + c->head_len, c->body_len);
        if ((why = embed_check(q, &dims))) {
            cJSON_Delete(q);
            plan_error(c, API_OPENAI, 400, "invalid_request_error", why);
            plan_send(c, 0);
            return;
        }
        plan_embeddings(c, q, dims,
                        cJSON_GetObjectItemCaseSensitive(E, "headers"));
        cJSON_Delete(q);
    }
    if (E)
        plan_options(c, E);
    plan_send(c, (uint64_t)json_num(E, "delay_ms", (double)srv.delay_ms));
}

static void handle_request(struct conn *c)
{
    enum route route = route_of(c);
    char msg[256];

    c->busy = true;
    c->close_after = !c->keep_alive;
    plan_reset(c);
    srv.seq++;
    if (srv.first_file && !srv.first_seen && route != ROUTE_HEALTH)
        note_first_request();
    if (srv.log)
        log_request(c, srv.seq);
    switch (route) {
    case ROUTE_HEALTH:
        out_str(&c->out, "ok");
        plan_head(c, 200, "text/plain", NULL);
        plan_send(c, 0);
        break;
    case ROUTE_OPENAI:
        answer_model(c, API_OPENAI);
        break;
    case ROUTE_ANTHROPIC:
        answer_model(c, API_ANTHROPIC);
        break;
    case ROUTE_EMBED:
        answer_embeddings(c);
        break;
    default:
        snprintf(msg, sizeof msg, "no route for %.*s %.*s", (int)c->method_len,
                 c->in, (int)c->target_len, c->in + c->target_off);
        plan_error(c, API_OPENAI, 404, "not_found_error", msg);
        plan_send(c, 0);
    }
}

/* Refuses a request that cannot be read, and closes after the answer. */
static void refuse(struct conn *c, int status)
{
    c->busy = true;
    plan_reset(c);
    c->close_after = true;
    plan_error(c, API_OPENAI, status, "invalid_request_error",
               c->err ? c->err : "bad request");
    plan_send(c, 0);
}

static void free_write(uv_write_t *req, int status)
{
    (void)status;
    free(req);
}

static void send_continue(struct conn *c)
{
    static char msg[] = "HTTP/1.1 100 Continue\r\n\r\n";
    uv_stream_t *s = (uv_stream_t *)&c->tcp;
    uv_buf_t b = uv_buf_init(msg, sizeof msg - 1);
    int r = uv_try_write(s, &b, 1);
    uv_write_t *req;

    if (r == (int)b.len)
        return;
    if (r < 0 && r != UV_EAGAIN) {
        conn_close(c);
        return;
    }
    if (r > 0) {
        b.base += r;
        b.len -= (size_t)r;
    }
    req = xrealloc(NULL, sizeof *req);
    if (uv_write(req, s, &b, 1, free_write) < 0) {
        free(req);
        conn_close(c);
    }
}

/* Answers every complete request in the buffer, one at a time. */
static void process_input(struct conn *c)
{
    c->dispatching = true;
    while (!c->closing && !c->busy) {
        if (!c->head_len) {
            int status = parse_head(c);
            size_t need;

            if (status == 0)
                break;
            if (status != 200) {
                refuse(c, status);
                break;
            }
            if (c->body_len > BODY_MAX) {
                c->err = "request body over 64 MiB";
                refuse(c, 413);
                break;
            }
            need = c->head_len + c->body_len;
            if (need > c->in_cap) {
                c->in = xrealloc(c->in, need);
                c->in_cap = need;
            }
            if (c->expect_continue && c->in_len < need)
                send_continue(c);
        }
        if (c->in_len < c->head_len + c->body_len)
            break;
        handle_request(c);
    }
    c->dispatching = false;
    maybe_read(c);
}

/* ---- connections ---- */

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    struct conn *c = h->data;

    (void)hint;
    if (!c->busy && !c->head_len && c->in_len == c->in_cap &&
        c->in_cap < HEAD_MAX) {
        c->in = xrealloc(c->in, HEAD_MAX);
        c->in_cap = HEAD_MAX;
    }
    *buf = uv_buf_init(c->in + c->in_len, (unsigned)(c->in_cap - c->in_len));
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = s->data;

    (void)buf;
    if (nread == UV_ENOBUFS) { /* busy and full: wait for the response */
        uv_read_stop(s);
        c->reading = false;
        return;
    }
    if (nread < 0) { /* EOF or error: the client has gone */
        conn_close(c);
        return;
    }
    c->in_len += (size_t)nread;
    if (!c->busy)
        process_input(c);
}

static void maybe_read(struct conn *c)
{
    if (c->closing || c->reading || (c->busy && c->in_len == c->in_cap))
        return;
    if (uv_read_start((uv_stream_t *)&c->tcp, on_alloc, on_read) == 0)
        c->reading = true;
    else
        conn_close(c);
}

static void on_conn_closed(uv_handle_t *h)
{
    struct conn *c = h->data;

    if (--c->open_handles > 0)
        return;
    free(c->in);
    free(c->out.p);
    free(c->cuts);
    free(c);
}

/* Closes at once (a FIN, or a reset if unread bytes remain); idempotent. */
static void conn_close(struct conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    uv_close((uv_handle_t *)&c->timer, on_conn_closed);
}

static void on_connection(uv_stream_t *server, int status)
{
    struct conn *c;

    if (status < 0) {
        fprintf(stderr, "standin: accept: %s\n", uv_strerror(status));
        return;
    }
    c = xrealloc(NULL, sizeof *c);
    memset(c, 0, sizeof *c);
    uv_tcp_init(srv.loop, &c->tcp);
    uv_timer_init(srv.loop, &c->timer);
    c->tcp.data = c->timer.data = c;
    c->open_handles = 2;
    c->in = xrealloc(NULL, IN_INIT);
    c->in_cap = IN_INIT;
    if (uv_accept(server, (uv_stream_t *)&c->tcp) < 0) {
        conn_close(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    maybe_read(c);
}

/* ---- start-up and shut-down ---- */

static void close_handle(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (uv_is_closing(h))
        return;
    if (h->data)
        conn_close(h->data);
    else
        uv_close(h, NULL);
}

/* Closes every handle so that the loop ends; closing the signal handles
 * restores the default action, so later signals are ignored instead. */
static void on_signal(uv_signal_t *s, int signum)
{
    (void)signum;
    uv_walk(s->loop, close_handle, NULL);
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
}

/* Lets a benchmark open as many sockets as the hard limit allows. */
static void raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void usage(FILE *f)
{
    fputs(
        "usage: standin [--host 127.0.0.1] [--port N] [--port-file FILE]\n"
        "               [--script FILE] [--mode script|bench] [--delay-ms N]\n"
        "               [--log FILE] [--first-request-file FILE]\n"
        "\n"
        "A stand-in LLM endpoint for tests and benchmarks: HTTP/1.1 with\n"
        "keep-alive on POST /v1/chat/completions, /chat/completions (OpenAI),\n"
        "POST /v1/messages, /messages (Anthropic), POST /v1/embeddings,\n"
        "/embeddings (OpenAI: the vectors of agent's local embedder, 64\n"
        "dimensions unless the request says) and GET /health.\n"
        "Prints \"port N\" once listening (--port 0 picks a free port).\n"
        "\n"
        "script mode: the n-th model request gets reply n of\n"
        "  {\"replies\": [R1, R2, ...], \"repeat_last\": false}; then 500.\n"
        "  R = {\"text\", \"tool_calls\": [{\"id\", \"name\", "
        "\"arguments\"}],\n"
        "       \"finish\", \"usage\": {\"input\", \"output\"}, \"headers\",\n"
        "       \"split\", \"gap_ms\", \"text_pieces\", \"args_pieces\",\n"
        "       \"omit_done\", \"usage_choices\", \"truncate_after\",\n"
        "       \"stall_ms\", \"delay_ms\", \"crlf\"}\n"
        "    | {\"status\", \"headers\", \"body\" | \"chunks\", and the\n"
        "       delivery keys above}\n"
        "    | {\"close\": true} | {\"hang\": true}\n"
        "  Keys starting with \"_\" are comments.\n"
        "  \"embeddings\": [E1, ...] answers the first embeddings requests\n"
        "  (E: the raw and fault forms above, or {} for the vectors, with\n"
        "  the delivery keys); the later ones get the vectors.\n"
        "bench mode: a calc tool call, or \"done: RESULT\" after a tool "
        "result.\n",
        f);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *v)
{
    char *end;

    errno = 0;
    *v = strtoul(s, &end, 10);
    return (*s && !*end && !errno && *v <= max && *s != '-') ? 0 : -1;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"port-file", required_argument, NULL, 'P'},
        {"script", required_argument, NULL, 's'},
        {"mode", required_argument, NULL, 'm'},
        {"delay-ms", required_argument, NULL, 'd'},
        {"log", required_argument, NULL, 'l'},
        {"first-request-file", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *host = "127.0.0.1", *port_file = NULL, *script = NULL;
    unsigned long port = 0, delay = 0;
    struct sockaddr_storage addr;
    int len = sizeof addr, opt, r;
    char text[32];

    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'H':
            host = optarg;
            break;
        case 'P':
            port_file = optarg;
            break;
        case 's':
            script = optarg;
            break;
        case 'f':
            srv.first_file = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'p':
            if (parse_uint(optarg, 65535, &port) == 0)
                break;
            fprintf(stderr, "standin: --port wants 0 to 65535\n");
            return 2;
        case 'd':
            if (parse_uint(optarg, 86400000, &delay) == 0)
                break;
            fprintf(stderr, "standin: --delay-ms wants a number of ms\n");
            return 2;
        case 'm':
            if (!strcmp(optarg, "script") || !strcmp(optarg, "bench")) {
                srv.mode = !strcmp(optarg, "bench") ? MODE_BENCH : MODE_SCRIPT;
                break;
            }
            fprintf(stderr, "standin: --mode is script or bench\n");
            return 2;
        case 'l':
            if ((srv.log = fopen(optarg, "a")))
                break;
            fprintf(stderr, "standin: %s: %s\n", optarg, strerror(errno));
            return 2;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 2;
    }
    srv.delay_ms = delay;
    if (script && load_script(script) < 0)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();

    srv.loop = uv_default_loop();
    uv_tcp_init(srv.loop, &srv.listener);
    r = strchr(host, ':')
            ? uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)&addr)
            : uv_ip4_addr(host, (int)port, (struct sockaddr_in *)&addr);
    if (r == 0)
        r = uv_tcp_bind(&srv.listener, (struct sockaddr *)&addr, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&srv.listener, BACKLOG, on_connection);
    if (r == 0)
        r = uv_tcp_getsockname(&srv.listener, (struct sockaddr *)&addr, &len);
    if (r < 0) {
        fprintf(stderr, "standin: listen on %s:%lu: %s\n", host, port,
                uv_strerror(r));
        return 1;
    }
    port = ntohs(addr.ss_family == AF_INET6
                     ? ((struct sockaddr_in6 *)&addr)->sin6_port
                     : ((struct sockaddr_in *)&addr)->sin_port);
    printf("port %lu\n", port);
    fflush(stdout);
    snprintf(text, sizeof text, "%lu\n", port);
    if (port_file && (r = write_file_atomic(port_file, text)) < 0) {
        fprintf(stderr, "standin: %s: %s\n", port_file, strerror(-r));
        return 1;
    }
    uv_signal_init(srv.loop, &srv.sigterm);
    uv_signal_init(srv.loop, &srv.sigint);
    uv_signal_start(&srv.sigterm, on_signal, SIGTERM);
    uv_signal_start(&srv.sigint, on_signal, SIGINT);

    uv_run(srv.loop, UV_RUN_DEFAULT);
    uv_loop_close(srv.loop);
    cJSON_Delete(srv.script);
    if (srv.log)
        fclose(srv.log);
    return 0;
}
