/*
 * llm.c: the model client (see llm-client.h). One ag_llm_call is one logical
 * request: the body is built once, then sent as many times as the retry
 * policy allows. A streamed reply goes through the SSE parser into the
 * codec's event handler; a whole one through the codec's parser. A script
 * stand-in answers through the same callbacks, on the next loop turn.
 *
 * Backoff: attempt n waits a random time in [d/2, d] with
 * d = min(backoff_max, backoff * 2^(n-1)), or what Retry-After asks when
 * the endpoint says (never less). No retry starts past retry_total_ms.
 */
#include "llm-client.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "llm-sse.h"

struct ag_llm_call {
    uv_loop_t *loop;
    struct ag_http *http;
    struct ag_llm_cfg cfg;
    struct ag_llm_cb cb;
    char *url;
    struct ag_buf body;  /* the request body */
    struct ag_buf whole; /* a reply body that is not an event stream */
    struct curl_slist *headers;
    struct ag_http_req *req; /* the attempt in flight */
    uv_timer_t timer;        /* backoff, and the script's deferral */
    int stream;
    int attempt;
    uint64_t t_start_ns, t_attempt_ns;
    struct ag_sse sse;
    struct ag_stream st;
    int sse_mode; /* this attempt's body is an event stream */
    char err[512];
    struct ag_llm_reply reply; /* the script's answer, or the final one */
    int script_rc;
    int cancelled;
};

static uint64_t rng_state;

/* xorshift64*: jitter needs no quality beyond "not in lock step". */
static double rand01(void)
{
    if (!rng_state)
        rng_state = ag_now_ns() | 1;
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return (double)((rng_state * 2685821657736338717ULL) >> 11) /
           9007199254740992.0;
}

static void on_closed(uv_handle_t *h)
{
    struct ag_llm_call *c = h->data;

    ag_buf_free(&c->body);
    ag_buf_free(&c->whole);
    curl_slist_free_all(c->headers);
    free(c->url);
    ag_sse_free(&c->sse);
    ag_stream_free(&c->st);
    ag_llm_reply_clear(&c->reply);
    free(c);
}

static void call_end(struct ag_llm_call *c, int err, const char *msg)
{
    if (!c->cancelled) {
        c->cancelled = 1;
        c->cb.on_done(c->cb.ud, err, &c->reply, msg, c->attempt);
    }
    uv_close((uv_handle_t *)&c->timer, on_closed);
}

static int retryable_status(long s)
{
    return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 ||
           s == 504 || s == 529;
}

static int send_attempt(struct ag_llm_call *c);
static void attempt_failed(struct ag_llm_call *c, int err, long status,
                           double retry_after, const char *msg, int retry);

static void on_backoff(uv_timer_t *t)
{
    struct ag_llm_call *c = t->data;
    int rc = send_attempt(c);

    if (rc < 0)
        attempt_failed(c, AG_ECONNECT, 0, -1, ag_strerror(rc), 1);
}

/* Decides whether to try again after a failed attempt. */
static void attempt_failed(struct ag_llm_call *c, int err, long status,
                           double retry_after, const char *msg, int retry)
{
    struct ag_llm_attempt a;
    double elapsed = (double)(ag_now_ns() - c->t_start_ns) / 1e6, delay = -1;

    if (retry && c->attempt < c->cfg.max_attempts) {
        double d = (double)c->cfg.backoff_ms;
        for (int i = 1; i < c->attempt && d < c->cfg.backoff_max_ms; i++)
            d *= 2;
        if (d > c->cfg.backoff_max_ms)
            d = (double)c->cfg.backoff_max_ms;
        delay = d / 2 + rand01() * d / 2;
        if (retry_after >= 0 && retry_after * 1000.0 > delay)
            delay = retry_after * 1000.0;
        if (elapsed + delay > (double)c->cfg.retry_total_ms)
            delay = -1;
    }
    a.n = c->attempt;
    a.err = err;
    a.status = status;
    a.message = msg;
    a.retry_in_ms = delay;
    a.ms = (double)(ag_now_ns() - c->t_attempt_ns) / 1e6;
    if (c->cb.on_attempt)
        c->cb.on_attempt(c->cb.ud, &a);
    if (c->cancelled)
        return;
    if (delay < 0) {
        char m[700];
        if (retry && c->attempt > 1)
            snprintf(m, sizeof m, "%s (gave up after %d attempts)", msg,
                     c->attempt);
        else
            snprintf(m, sizeof m, "%s", msg);
        call_end(c, err, m);
        return;
    }
    uv_timer_start(&c->timer, on_backoff, (uint64_t)delay, 0);
}

/* ---- streaming --------------------------------------------------------- */

static int on_sse_event(void *ud, const char *event, const char *data, size_t n)
{
    struct ag_llm_call *c = ud;

    return c->cfg.codec->event(&c->st, event, data, n, c->err, sizeof c->err);
}

static int on_data(void *ud, const char *p, size_t n)
{
    struct ag_llm_call *c = ud;
    int rc;

    if (c->sse_mode < 0) {
        /* first bytes: a server may ignore "stream" and answer whole */
        const char *ct = ag_http_content_type(c->req);
        c->sse_mode = strstr(ct, "event-stream") != NULL;
    }
    if (!c->sse_mode) {
        if (ag_buf_add(&c->whole, p, n) < 0) {
            snprintf(c->err, sizeof c->err, "reply too large");
            return AG_ETOOBIG;
        }
        return 0;
    }
    rc = ag_sse_feed(&c->sse, p, n);
    if (rc == AG_ETOOBIG && !c->err[0])
        snprintf(c->err, sizeof c->err, "reply too large");
    return rc;
}

/* ---- one attempt ------------------------------------------------------- */

static void endpoint_error(struct ag_llm_call *c,
                           const struct ag_http_result *r, char *m, size_t mlen)
{
    struct ag_llm_reply tmp = {0};
    char detail[400] = "";
    size_t k;

    if (c->cfg.codec->parse(r->body, r->body_len, &tmp, detail,
                            sizeof detail) == AG_EPROTO) {
        /* detail reads "error from endpoint: ..." */
    } else {
        /* not a JSON error: quote the start of the body */
        k = r->body_len < 200 ? r->body_len : 200;
        snprintf(detail, sizeof detail, "%.*s", (int)k, r->body);
        for (char *q = detail; *q; q++)
            if (*q == '\n' || *q == '\r')
                *q = ' ';
    }
    ag_llm_reply_clear(&tmp);
    snprintf(m, mlen, "HTTP %ld%s%s", r->status, detail[0] ? ": " : "", detail);
}

static void on_http_done(void *ud, const struct ag_http_result *r)
{
    struct ag_llm_call *c = ud;
    char m[700];
    int rc;

    c->req = NULL;
    if (r->err) {
        const char *why = r->err == AG_ETIMEOUT   ? "timed out"
                          : r->err == AG_ETRUNC   ? "reply truncated"
                          : r->err == AG_ECONNECT ? "cannot reach endpoint"
                                                  : "reply rejected";
        if (c->err[0] && r->err != AG_ECONNECT && r->err != AG_ETIMEOUT)
            snprintf(m, sizeof m, "%s: %s", why, c->err);
        else
            snprintf(m, sizeof m, "%s: %s", why, r->errmsg);
        /* A reply that cannot be understood or is too large is not worth
         * retrying; an error event in the middle of a stream (overload) is. */
        attempt_failed(c, r->err, r->status, -1, m,
                       r->err == AG_ETIMEOUT || r->err == AG_ETRUNC ||
                           r->err == AG_ECONNECT || r->err == AG_EPROTO);
        return;
    }
    if (r->status < 200 || r->status >= 300) {
        endpoint_error(c, r, m, sizeof m);
        attempt_failed(c, AG_EHTTP, r->status, r->retry_after, m,
                       retryable_status(r->status));
        return;
    }
    if (c->sse_mode == 1) {
        rc = ag_sse_finish(&c->sse);
        if (!c->st.done) {
            snprintf(m, sizeof m,
                     "reply truncated: the stream ended before its final "
                     "event%s",
                     rc == AG_ETRUNC ? " (in the middle of an event)" : "");
            attempt_failed(c, AG_ETRUNC, r->status, -1, m, 1);
            return;
        }
        ag_stream_take(&c->st, &c->reply);
    } else {
        const char *body = r->body_len ? r->body : c->whole.data;
        size_t n = r->body_len ? r->body_len : c->whole.len;
        if (!body || n == 0) {
            attempt_failed(c, AG_EPARSE, r->status, -1,
                           "empty reply from endpoint", 1);
            return;
        }
        rc = c->cfg.codec->parse(body, n, &c->reply, c->err, sizeof c->err);
        if (rc < 0) {
            snprintf(m, sizeof m, "malformed reply: %s", c->err);
            attempt_failed(c, rc, r->status, -1, m, 0);
            return;
        }
        if (c->cb.on_text && c->reply.text)
            c->cb.on_text(c->cb.ud, c->reply.text, strlen(c->reply.text));
    }
    call_end(c, 0, NULL);
}

static int send_attempt(struct ag_llm_call *c)
{
    struct ag_http_opts o;

    c->attempt++;
    c->t_attempt_ns = ag_now_ns();
    c->err[0] = '\0';
    c->sse_mode = -1;
    ag_sse_free(&c->sse);
    ag_sse_init(&c->sse, c->cfg.max_reply, on_sse_event, c);
    ag_stream_free(&c->st);
    ag_stream_init(&c->st, c->cfg.max_reply);
    c->st.on_text = c->cb.on_text;
    c->st.ud = c->cb.ud;
    ag_llm_reply_clear(&c->reply);
    ag_buf_reset(&c->whole);

    memset(&o, 0, sizeof o);
    o.url = c->url;
    o.headers = c->headers;
    o.body = c->body.data;
    o.body_len = c->body.len;
    o.connect_ms = c->cfg.connect_ms;
    o.first_byte_ms = c->cfg.first_byte_ms;
    o.idle_ms = c->cfg.idle_ms;
    o.max_body = c->cfg.max_reply;
    o.on_data = on_data;
    o.on_done = on_http_done;
    o.ud = c;
    return ag_http_start(c->http, &o, &c->req);
}

/* ---- the script stand-in ----------------------------------------------- */

static void on_script_timer(uv_timer_t *t)
{
    struct ag_llm_call *c = t->data;

    if (c->script_rc < 0) {
        call_end(c, c->script_rc, c->err);
        return;
    }
    if (c->cb.on_text && c->reply.text)
        c->cb.on_text(c->cb.ud, c->reply.text, strlen(c->reply.text));
    call_end(c, 0, NULL);
}

/* ---- public ------------------------------------------------------------ */

int ag_llm_send(uv_loop_t *loop, struct ag_http *http,
                const struct ag_llm_cfg *cfg, const struct ag_llm_req *req,
                const struct ag_llm_cb *cb, struct ag_llm_call **out)
{
    struct ag_llm_call *c;
    const char *base;
    size_t blen;
    int rc;

    if (!cb || !cb->on_done || (!cfg->codec && !cfg->script && !cfg->replay))
        return -EINVAL;
    c = ag_xcalloc(1, sizeof *c);
    c->loop = loop;
    c->http = http;
    c->cfg = *cfg;
    c->cb = *cb;
    if (!c->cfg.max_attempts)
        c->cfg.max_attempts = 5;
    if (!c->cfg.backoff_ms)
        c->cfg.backoff_ms = 500;
    if (!c->cfg.backoff_max_ms)
        c->cfg.backoff_max_ms = 20000;
    if (!c->cfg.retry_total_ms)
        c->cfg.retry_total_ms = 120000;
    if (!c->cfg.max_reply)
        c->cfg.max_reply = 16u << 20;
    c->reply.usage.input = c->reply.usage.output = -1;
    c->t_start_ns = ag_now_ns();
    ag_buf_init(&c->body, 256u << 20);
    ag_buf_init(&c->whole, c->cfg.max_reply);
    ag_sse_init(&c->sse, c->cfg.max_reply, on_sse_event, c);
    ag_stream_init(&c->st, c->cfg.max_reply);
    uv_timer_init(loop, &c->timer);
    c->timer.data = c;

    if (cfg->script || cfg->replay) {
        c->attempt = 1;
        if (cb->on_request) {
            ag_llm_req_canonical(req, &c->body);
            cb->on_request(cb->ud, ag_buf_cstr(&c->body), c->body.len);
        }
        c->script_rc = cfg->script
                           ? ag_script_answer(cfg->script, req, &c->reply,
                                              c->err, sizeof c->err)
                           : ag_replay_answer(cfg->replay, req, &c->reply,
                                              c->err, sizeof c->err);
        uv_timer_start(&c->timer, on_script_timer, 0, 0);
        if (out)
            *out = c;
        return 0;
    }

    base = cfg->base_url && *cfg->base_url ? cfg->base_url
                                           : cfg->codec->default_url;
    blen = strlen(base);
    while (blen > 0 && base[blen - 1] == '/')
        blen--;
    c->url = ag_xasprintf("%.*s%s", (int)blen, base, cfg->codec->path);
    if ((rc = cfg->codec->build(req, &c->body)) < 0 ||
        (rc = cfg->codec->headers(cfg->api_key, &c->headers)) < 0) {
        c->cancelled = 1;
        uv_close((uv_handle_t *)&c->timer, on_closed);
        return rc;
    }
    /* curl would otherwise wait for "100 Continue" on large bodies */
    c->headers = curl_slist_append(c->headers, "Expect:");
    if (cb->on_request)
        cb->on_request(cb->ud, c->body.data, c->body.len);
    c->stream = req->stream;
    if ((rc = send_attempt(c)) < 0) {
        c->cancelled = 1;
        uv_close((uv_handle_t *)&c->timer, on_closed);
        return rc;
    }
    if (out)
        *out = c;
    return 0;
}

void ag_llm_cancel(struct ag_llm_call *c)
{
    if (!c || c->cancelled)
        return;
    c->cancelled = 1;
    if (c->req)
        ag_http_cancel(c->req);
    c->req = NULL;
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_closed);
}
