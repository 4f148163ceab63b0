/*
 * http.c: libcurl's multi-socket interface on a libuv loop (see http.h).
 *
 * curl tells us which sockets to watch (on_socket) and when to call it back
 * (on_curl_timeout); we keep one uv_poll_t per socket and one uv_timer_t for
 * the multi handle. Each request also has a watchdog timer for the
 * first-byte and idle limits, which curl lacks; it is re-armed lazily (each
 * received byte only records the time). Easy handles are recycled so that
 * a busy loop does not allocate one per request.
 *
 * Bursts: curl (7.88) finds a connection to reuse by walking every
 * connection to the host, in use or not, and trims its cache by walking
 * every connection; both are O(connections) per request, so 10,000
 * concurrent requests cost O(n^2), seconds of CPU. Past BURST requests in
 * flight, a request to a plain http:// endpoint (a local server speaking
 * HTTP/1.1) therefore takes a fresh connection and closes it after use,
 * which keeps the cache (and those walks) small; https endpoints are left
 * alone, since they may multiplex over HTTP/2. The receive buffer is
 * small for the same reason: every request in flight holds one, and model
 * replies arrive in small pieces.
 *
 * Lifetimes: a request is freed in its watchdog's close callback; the
 * client is freed when its last handle (timer, polls, watchdogs) closes.
 */
#include "http.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ag.h"

#define FREE_EASY_MAX 256
#define BURST         64    /* requests in flight before reuse stops */
#define RECV_BUFFER   2048L /* curl's receive buffer per transfer */

struct sock_ctx {
    uv_poll_t poll;
    curl_socket_t fd;
    struct ag_http *h;
};

struct ag_http {
    uv_loop_t *loop;
    CURLM *multi;
    uv_timer_t timer;
    struct ag_http_req *active; /* doubly linked */
    int nactive;
    CURL *free_easy[FREE_EASY_MAX];
    int nfree;
    int closing;
    int refs; /* open handles */
};

struct ag_http_req {
    struct ag_http *h;
    struct ag_http_req *prev, *next;
    CURL *easy;
    struct ag_http_opts o;
    uv_timer_t watchdog;
    uint64_t t_start_ns, t_first_ns;
    uint64_t last_ms; /* loop time of the last byte */
    long status;
    int streaming; /* 2xx and on_data: bytes go to on_data */
    int decided;   /* streaming was decided */
    int err;       /* set when we abort the transfer */
    int truncated; /* truncate_body: the body was cut at max_body */
    double retry_after;
    char ctype[128];
    char errbuf[CURL_ERROR_SIZE];
    char errmsg[256];
    struct ag_buf body;
    struct ag_buf headers; /* with want_headers */
    int custom;            /* the caller's easy handle: not ours to keep */
};

static void http_unref(struct ag_http *h)
{
    if (--h->refs > 0)
        return;
    free(h);
}

static void on_closed_unref(uv_handle_t *hd)
{
    http_unref(hd->data);
}

static void on_sock_closed(uv_handle_t *hd)
{
    struct sock_ctx *c = hd->data;
    struct ag_http *h = c->h;

    free(c);
    http_unref(h);
}

/* ---- finishing a request ----------------------------------------------- */

static void on_req_closed(uv_handle_t *hd)
{
    struct ag_http_req *r = hd->data;
    struct ag_http *h = r->h;

    ag_buf_free(&r->body);
    ag_buf_free(&r->headers);
    free(r);
    http_unref(h);
}

static void req_unlink(struct ag_http_req *r)
{
    struct ag_http *h = r->h;

    if (r->prev)
        r->prev->next = r->next;
    else
        h->active = r->next;
    if (r->next)
        r->next->prev = r->prev;
    h->nactive--;
}

/* Detaches the easy handle (recycling it) and closes the request. */
static void req_release(struct ag_http_req *r)
{
    struct ag_http *h = r->h;

    req_unlink(r);
    curl_multi_remove_handle(h->multi, r->easy);
    if (r->custom) {
        /* the caller cleans it up in its on_done */
    } else if (h->nfree < FREE_EASY_MAX && !h->closing) {
        curl_easy_reset(r->easy);
        h->free_easy[h->nfree++] = r->easy;
    } else {
        curl_easy_cleanup(r->easy);
    }
    r->easy = NULL;
    uv_close((uv_handle_t *)&r->watchdog, on_req_closed);
}

static void req_finish(struct ag_http_req *r, int err, const char *msg)
{
    struct ag_http_result res;
    uint64_t now = ag_now_ns();

    memset(&res, 0, sizeof res);
    res.err = err;
    res.errmsg = err ? msg : "";
    res.status = r->status;
    res.retry_after = r->retry_after;
    res.content_type = r->ctype;
    res.body = ag_buf_cstr(&r->body);
    res.body_len = r->body.len;
    res.truncated = r->truncated;
    res.headers = ag_buf_cstr(&r->headers);
    res.ms_first_byte =
        r->t_first_ns ? (double)(r->t_first_ns - r->t_start_ns) / 1e6 : -1;
    res.ms_total = (double)(now - r->t_start_ns) / 1e6;
    uv_timer_stop(&r->watchdog);
    /* Release first so that on_done may start a new request at once. The
     * request memory stays valid until the close callback. */
    req_release(r);
    r->o.on_done(r->o.ud, &res);
}

static void check_done(struct ag_http *h)
{
    CURLMsg *m;
    int left;

    while ((m = curl_multi_info_read(h->multi, &left))) {
        struct ag_http_req *r;
        CURLcode rc = m->data.result;
        int err = 0;
        const char *msg = "";

        if (m->msg != CURLMSG_DONE)
            continue;
        curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&r);
        if (!r->status)
            curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
        if (rc == CURLE_OK || (rc == CURLE_WRITE_ERROR && r->truncated)) {
            err = 0;
        } else if (r->err) {
            err = r->err;
            msg = r->errmsg;
        } else {
            const char *detail =
                r->errbuf[0] ? r->errbuf : curl_easy_strerror(rc);
            if (rc == CURLE_OPERATION_TIMEDOUT)
                err = AG_ETIMEOUT;
            else if (r->t_first_ns && r->status &&
                     (rc == CURLE_PARTIAL_FILE || rc == CURLE_RECV_ERROR))
                err = AG_ETRUNC;
            else
                err = AG_ECONNECT;
            snprintf(r->errmsg, sizeof r->errmsg, "%s", detail);
            msg = r->errmsg;
        }
        req_finish(r, err, msg);
    }
}

/* Aborts a request from our side (watchdog, size cap, consumer error). */
static void req_abort(struct ag_http_req *r, int err, const char *msg)
{
    snprintf(r->errmsg, sizeof r->errmsg, "%s", msg);
    req_finish(r, err, r->errmsg);
}

/* ---- curl callbacks ---------------------------------------------------- */

static void on_watchdog(uv_timer_t *t);

/* Notes that bytes arrived. The first ones end the wait for a first byte:
 * from then on the watchdog looks for silence, so a stream that stalls
 * early is caught after idle_ms, not only once first_byte_ms has passed. */
static void got_bytes(struct ag_http_req *r)
{
    r->last_ms = uv_now(r->h->loop);
    if (!r->t_first_ns) {
        r->t_first_ns = ag_now_ns();
        uv_timer_start(&r->watchdog, on_watchdog, (uint64_t)r->o.idle_ms, 0);
    }
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
    struct ag_http_req *r = ud;
    size_t len = size * n;

    got_bytes(r);
    if (len > 5 && strncmp(p, "HTTP/", 5) == 0) {
        /* a new response (after 100 Continue or a redirect) */
        r->retry_after = -1;
        r->ctype[0] = '\0';
        r->status = 0;
        ag_buf_reset(&r->headers);
        return len;
    }
    if (r->o.want_headers && len > 2 && ag_buf_add(&r->headers, p, len) < 0) {
        r->err = AG_ETOOBIG;
        snprintf(r->errmsg, sizeof r->errmsg, "response headers too large");
        return 0;
    }
    if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
        char v[64];
        size_t k = len - 12 < sizeof v - 1 ? len - 12 : sizeof v - 1;
        char *end;
        double secs;
        memcpy(v, p + 12, k);
        v[k] = '\0';
        secs = strtod(v, &end);
        if (end != v && secs >= 0) {
            r->retry_after = secs;
        } else {
            time_t when = curl_getdate(v, NULL);
            if (when > 0)
                r->retry_after = difftime(when, time(NULL)) > 0
                                     ? difftime(when, time(NULL))
                                     : 0;
        }
    } else if (len > 13 && strncasecmp(p, "Content-Type:", 13) == 0) {
        size_t i = 13, k = 0;
        while (i < len && (p[i] == ' ' || p[i] == '\t'))
            i++;
        while (i < len && p[i] != '\r' && p[i] != '\n' &&
               k < sizeof r->ctype - 1)
            r->ctype[k++] = p[i++];
        r->ctype[k] = '\0';
    }
    return len;
}

static size_t on_write(char *p, size_t size, size_t n, void *ud)
{
    struct ag_http_req *r = ud;
    size_t len = size * n;
    int rc;

    got_bytes(r);
    if (!r->decided) {
        curl_easy_getinfo(r->easy, CURLINFO_RESPONSE_CODE, &r->status);
        r->streaming = r->o.on_data && r->status >= 200 && r->status < 300;
        r->decided = 1;
    }
    if (r->streaming) {
        if ((rc = r->o.on_data(r->o.ud, p, len)) < 0) {
            r->err = rc;
            snprintf(r->errmsg, sizeof r->errmsg, "%s", ag_strerror(rc));
            return 0;
        }
        return len;
    }
    if (r->o.truncate_body && len > r->body.max - r->body.len) {
        /* keep what fits and end the transfer as a success */
        if ((rc = ag_buf_add(&r->body, p, r->body.max - r->body.len)) < 0)
            r->err = rc;
        r->truncated = rc == 0;
        return 0;
    }
    if ((rc = ag_buf_add(&r->body, p, len)) < 0) {
        r->err = rc;
        snprintf(r->errmsg, sizeof r->errmsg,
                 "response body larger than %zu bytes", r->o.max_body);
        return 0;
    }
    return len;
}

/* Lets the caller refuse an address before curl connects to it: the check
 * is made on the address actually used, after DNS, so a name that resolves
 * somewhere it should not gets nowhere. */
static curl_socket_t on_opensocket(void *ud, curlsocktype purpose,
                                   struct curl_sockaddr *a)
{
    struct ag_http_req *r = ud;
    char why[200] = "";

    if (purpose == CURLSOCKTYPE_IPCXN && r->o.check_addr &&
        r->o.check_addr(r->o.ud, &a->addr, why, sizeof why) < 0) {
        r->err = AG_EPOLICY;
        snprintf(r->errmsg, sizeof r->errmsg, "%s",
                 why[0] ? why : "address refused");
        return CURL_SOCKET_BAD;
    }
    return socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
}

static void on_watchdog(uv_timer_t *t)
{
    struct ag_http_req *r = t->data;
    uint64_t now = uv_now(r->h->loop), idle;
    char msg[96];

    if (!r->t_first_ns) {
        snprintf(msg, sizeof msg, "no response within %ld ms",
                 r->o.first_byte_ms);
        req_abort(r, AG_ETIMEOUT, msg);
        return;
    }
    idle = now - r->last_ms;
    if (idle >= (uint64_t)r->o.idle_ms) {
        snprintf(msg, sizeof msg, "response stalled for %ld ms", r->o.idle_ms);
        req_abort(r, AG_ETIMEOUT, msg);
        return;
    }
    uv_timer_start(t, on_watchdog, (uint64_t)r->o.idle_ms - idle, 0);
}

static void on_poll(uv_poll_t *p, int status, int events)
{
    struct sock_ctx *c = p->data;
    struct ag_http *h = c->h;
    int flags = 0, running;

    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    curl_multi_socket_action(h->multi, c->fd, flags, &running);
    check_done(h);
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp,
                     void *socketp)
{
    struct ag_http *h = userp;
    struct sock_ctx *c = socketp;
    int events = 0;

    AG_UNUSED(e);
    if (what == CURL_POLL_REMOVE) {
        if (c) {
            uv_poll_stop(&c->poll);
            uv_close((uv_handle_t *)&c->poll, on_sock_closed);
            curl_multi_assign(h->multi, s, NULL);
        }
        return 0;
    }
    if (!c) {
        c = ag_xcalloc(1, sizeof *c);
        c->fd = s;
        c->h = h;
        if (uv_poll_init_socket(h->loop, &c->poll, s) < 0) {
            free(c);
            return -1;
        }
        c->poll.data = c;
        h->refs++;
        curl_multi_assign(h->multi, s, c);
    }
    if (what & CURL_POLL_IN)
        events |= UV_READABLE;
    if (what & CURL_POLL_OUT)
        events |= UV_WRITABLE;
    uv_poll_start(&c->poll, events, on_poll);
    return 0;
}

static void on_timer(uv_timer_t *t)
{
    struct ag_http *h = t->data;
    int running;

    curl_multi_socket_action(h->multi, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(h);
}

static int on_curl_timeout(CURLM *m, long ms, void *userp)
{
    struct ag_http *h = userp;

    AG_UNUSED(m);
    if (ms < 0)
        uv_timer_stop(&h->timer);
    else
        uv_timer_start(&h->timer, on_timer, (uint64_t)ms, 0);
    return 0;
}

/* ---- public ------------------------------------------------------------ */

int ag_http_new(uv_loop_t *loop, struct ag_http **out)
{
    static int curl_ready;
    struct ag_http *h;

    if (!curl_ready) {
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
            return -ENOMEM;
        curl_ready = 1;
    }
    h = ag_xcalloc(1, sizeof *h);
    h->loop = loop;
    if (!(h->multi = curl_multi_init())) {
        free(h);
        return -ENOMEM;
    }
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
    curl_multi_setopt(h->multi, CURLMOPT_SOCKETDATA, h);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERFUNCTION, on_curl_timeout);
    curl_multi_setopt(h->multi, CURLMOPT_TIMERDATA, h);
    uv_timer_init(loop, &h->timer);
    h->timer.data = h;
    h->refs = 1;
    *out = h;
    return 0;
}

static int start(struct ag_http *h, CURL *custom, const struct ag_http_opts *o,
                 struct ag_http_req **out)
{
    struct ag_http_req *r;
    CURL *e;

    if (h->closing || (!o->url && !custom) || !o->on_done)
        return -EINVAL;
    e = custom ? custom
               : (h->nfree ? h->free_easy[--h->nfree] : curl_easy_init());
    if (!e)
        return -ENOMEM;
    r = ag_xcalloc(1, sizeof *r);
    r->h = h;
    r->easy = e;
    r->custom = custom != NULL;
    r->o = *o;
    if (!r->o.connect_ms)
        r->o.connect_ms = 10000;
    if (!r->o.first_byte_ms)
        r->o.first_byte_ms = 120000;
    if (!r->o.idle_ms)
        r->o.idle_ms = 60000;
    if (!r->o.max_body)
        r->o.max_body = 64u << 20;
    r->retry_after = -1;
    ag_buf_init(&r->body, r->o.max_body);
    ag_buf_init(&r->headers, 64u << 10);

    if (o->url)
        curl_easy_setopt(e, CURLOPT_URL, o->url);
    curl_easy_setopt(e, CURLOPT_PRIVATE, r);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, r->errbuf);
    if (!custom) {
        curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
        curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
        curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
    }
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, r->o.connect_ms);
    curl_easy_setopt(e, CURLOPT_BUFFERSIZE, RECV_BUFFER);
    if (!custom)
        curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    if (r->o.total_ms > 0)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, r->o.total_ms);
    if (!custom && h->nactive >= BURST && o->url &&
        strncmp(o->url, "http://", 7) == 0) {
        curl_easy_setopt(e, CURLOPT_FRESH_CONNECT, 1L);
        curl_easy_setopt(e, CURLOPT_FORBID_REUSE, 1L);
    }
    if (o->headers)
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, o->headers);
    if (o->body) {
        curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                         (curl_off_t)o->body_len);
        curl_easy_setopt(e, CURLOPT_POSTFIELDS, o->body);
    }
    if (o->method && strcmp(o->method, "HEAD") == 0)
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    else if (o->method && strcmp(o->method, o->body ? "POST" : "GET") != 0)
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, o->method);
    if (o->check_addr) {
        curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION, on_opensocket);
        curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, r);
    }
    uv_timer_init(h->loop, &r->watchdog);
    r->watchdog.data = r;
    h->refs++;
    r->t_start_ns = ag_now_ns();
    r->last_ms = uv_now(h->loop);
    if (curl_multi_add_handle(h->multi, e) != CURLM_OK) {
        if (!custom)
            curl_easy_cleanup(e);
        r->easy = NULL;
        uv_close((uv_handle_t *)&r->watchdog, on_req_closed);
        return -ENOMEM;
    }
    r->next = h->active;
    if (h->active)
        h->active->prev = r;
    h->active = r;
    h->nactive++;
    /* other protocols have no first byte or stream to watch */
    if (!custom)
        uv_timer_start(&r->watchdog, on_watchdog, (uint64_t)r->o.first_byte_ms,
                       0);
    if (out)
        *out = r;
    return 0;
}

int ag_http_start(struct ag_http *h, const struct ag_http_opts *o,
                  struct ag_http_req **out)
{
    return start(h, NULL, o, out);
}

int ag_http_start_easy(struct ag_http *h, CURL *e, const struct ag_http_opts *o,
                       struct ag_http_req **out)
{
    return start(h, e, o, out);
}

void ag_http_cancel(struct ag_http_req *r)
{
    if (!r || !r->easy)
        return;
    uv_timer_stop(&r->watchdog);
    req_release(r);
}

const char *ag_http_content_type(const struct ag_http_req *r)
{
    return r->ctype;
}

int ag_http_active(const struct ag_http *h)
{
    return h->nactive;
}

void ag_http_close(struct ag_http *h)
{
    if (!h || h->closing)
        return;
    h->closing = 1;
    while (h->active)
        ag_http_cancel(h->active);
    curl_multi_cleanup(h->multi); /* may report sockets to remove */
    h->multi = NULL;
    while (h->nfree)
        curl_easy_cleanup(h->free_easy[--h->nfree]);
    uv_close((uv_handle_t *)&h->timer, on_closed_unref);
}
