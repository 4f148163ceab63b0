/*
 * standin-http.c: the stand-in's HTTP/1.1 connections.
 *
 * Life of a connection: bytes are read into one per-connection buffer and a
 * request (head, then a Content-Length body) is parsed in place. The answer
 * is rendered into a per-connection output buffer as a body, a list of piece
 * boundaries (one per SSE event) and a head stored after the body
 * (standin-wire.c). It is then sent piece by piece, each piece a separate
 * write and, when the response is chunked, a separate chunk; timers provide
 * delays, gaps and stalls. Only when the last write has completed is the
 * next request on the connection looked at, so a connection has at most one
 * response in flight. Nothing blocks the loop except the request log, which
 * is written and flushed synchronously, and a Lua model's answer.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "standin.h"

static void process_input(struct conn *c);
static void send_step(struct conn *c);
static void maybe_read(struct conn *c);

/* ---- sending the plan ---- */

static void on_timer(uv_timer_t *t)
{
    send_step(t->data);
}

void plan_send(struct conn *c, uint64_t delay_ms)
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
void conn_close(struct conn *c)
{
    if (c->closing)
        return;
    c->closing = true;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->tcp, on_conn_closed);
    uv_close((uv_handle_t *)&c->timer, on_conn_closed);
}

void on_connection(uv_stream_t *server, int status)
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
