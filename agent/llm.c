/*
 * llm.c: the model client (see llm-client.h), in two layers.
 *
 * The lower layer, struct ag__post, is one logical request with retries:
 * a body built once and POSTed as many times as the retry policy allows,
 * each failure reported, the endpoint's own error message quoted. It knows
 * nothing of what the reply means: the client above plugs in how to read a
 * 2xx body and whether it is good (struct ag__post_ops). The chat client
 * below and the embeddings client (llm-embed.c) are its two users.
 *
 * The chat client, ag_llm_call: a streamed reply goes through the SSE
 * parser into the codec's event handler; a whole one through the codec's
 * parser. A script or replay stand-in answers through the same post, as a
 * local one, on the next loop turn.
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

/* Invariant: ended is set once done has run or the post was cancelled;
 * from then on only release runs, after the timer has closed. req is the
 * attempt in flight, NULL between attempts. */
struct ag__post {
    uv_loop_t *loop;
    struct ag_http *http;
    struct ag_llm_cfg cfg; /* defaults applied */
    const struct ag__post_ops *ops;
    void *ud;
    char *url, *body;
    size_t body_len;
    struct curl_slist *headers;
    struct ag_http_req *req;
    uv_timer_t timer; /* backoff, and a local post's deferral */
    int local;
    int attempt;
    size_t got; /* bytes of this attempt's 2xx body seen by ops->data */
    uint64_t t_start_ns, t_attempt_ns;
    char err[512]; /* what ops->data or ops->finish found wrong */
    int ended;
};

static const struct ag__post_ops no_ops;
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

void ag__llm_cfg_defaults(struct ag_llm_cfg *cfg)
{
    if (!cfg->max_attempts)
        cfg->max_attempts = 5;
    if (!cfg->backoff_ms)
        cfg->backoff_ms = 500;
    if (!cfg->backoff_max_ms)
        cfg->backoff_max_ms = 20000;
    if (!cfg->retry_total_ms)
        cfg->retry_total_ms = 120000;
    if (!cfg->max_reply)
        cfg->max_reply = 16u << 20;
}

/* ---- the post: one logical request with retries ------------------------ */

static void post_closed(uv_handle_t *h)
{
    struct ag__post *p = h->data;
    void (*release)(void *) = p->ops->release;
    void *ud = p->ud;

    curl_slist_free_all(p->headers);
    free(p->url);
    free(p->body);
    free(p);
    if (release)
        release(ud);
}

static void post_end(struct ag__post *p, int err, const char *msg)
{
    if (p->ended)
        return;
    p->ended = 1;
    p->ops->done(p->ud, err, msg, p->attempt);
    uv_close((uv_handle_t *)&p->timer, post_closed);
}

static int retryable_status(long s)
{
    return s == 408 || s == 429 || s == 500 || s == 502 || s == 503 ||
           s == 504 || s == 529;
}

static int send_attempt(struct ag__post *p);
static void attempt_failed(struct ag__post *p, int err, long status,
                           double retry_after, const char *msg, int retry);

static void on_backoff(uv_timer_t *t)
{
    struct ag__post *p = t->data;
    int rc = send_attempt(p);

    if (rc < 0)
        attempt_failed(p, AG_ECONNECT, 0, -1, ag_strerror(rc), 1);
}

/* Decides whether to try again after a failed attempt. */
static void attempt_failed(struct ag__post *p, int err, long status,
                           double retry_after, const char *msg, int retry)
{
    struct ag_llm_attempt a;
    double elapsed = (double)(ag_now_ns() - p->t_start_ns) / 1e6, delay = -1;

    if (retry && p->attempt < p->cfg.max_attempts) {
        double d = (double)p->cfg.backoff_ms;
        for (int i = 1; i < p->attempt && d < p->cfg.backoff_max_ms; i++)
            d *= 2;
        if (d > p->cfg.backoff_max_ms)
            d = (double)p->cfg.backoff_max_ms;
        delay = d / 2 + rand01() * d / 2;
        if (retry_after >= 0 && retry_after * 1000.0 > delay)
            delay = retry_after * 1000.0;
        if (elapsed + delay > (double)p->cfg.retry_total_ms)
            delay = -1;
    }
    a.n = p->attempt;
    a.err = err;
    a.status = status;
    a.message = msg;
    a.retry_in_ms = delay;
    a.ms = (double)(ag_now_ns() - p->t_attempt_ns) / 1e6;
    if (p->ops->attempt)
        p->ops->attempt(p->ud, &a);
    if (p->ended)
        return; /* cancelled from the callback */
    if (delay < 0) {
        char m[700];
        if (retry && p->attempt > 1)
            snprintf(m, sizeof m, "%s (gave up after %d attempts)", msg,
                     p->attempt);
        else
            snprintf(m, sizeof m, "%s", msg);
        post_end(p, err, m);
        return;
    }
    uv_timer_start(&p->timer, on_backoff, (uint64_t)delay, 0);
}

static int post_data(void *ud, const char *s, size_t n)
{
    struct ag__post *p = ud;

    p->got += n;
    return p->ops->data(p->ud, ag_http_content_type(p->req), s, n, p->err,
                        sizeof p->err);
}

/* "HTTP 429: error from endpoint: <type>: <message>" for an error reply in
 * JSON; else the start of the body, on one line. */
static void endpoint_error(const struct ag_http_result *r, char *m, size_t mlen)
{
    char detail[400] = "";
    cJSON *root = NULL;
    size_t k;

    if (!r->body_len ||
        ag__codec_json(r->body, r->body_len, &root, NULL, 0) < 0 ||
        ag__codec_error(root, detail, sizeof detail) != AG_EPROTO) {
        k = r->body_len < 200 ? r->body_len : 200;
        snprintf(detail, sizeof detail, "%.*s", (int)k, r->body);
        for (char *q = detail; *q; q++)
            if (*q == '\n' || *q == '\r')
                *q = ' ';
    }
    cJSON_Delete(root);
    snprintf(m, mlen, "HTTP %ld%s%s", r->status, detail[0] ? ": " : "", detail);
}

static void on_http_done(void *ud, const struct ag_http_result *r)
{
    struct ag__post *p = ud;
    char m[700];
    int rc, retry = 0;

    p->req = NULL;
    if (r->err) {
        const char *why = r->err == AG_ETIMEOUT   ? "timed out"
                          : r->err == AG_ETRUNC   ? "reply truncated"
                          : r->err == AG_ECONNECT ? "cannot reach endpoint"
                                                  : "reply rejected";
        if (p->err[0] && r->err != AG_ECONNECT && r->err != AG_ETIMEOUT)
            snprintf(m, sizeof m, "%s: %s", why, p->err);
        else
            snprintf(m, sizeof m, "%s: %s", why, r->errmsg);
        /* A reply that cannot be understood or is too large is not worth
         * retrying; an error event in the middle of a stream (overload) is. */
        attempt_failed(p, r->err, r->status, -1, m,
                       r->err == AG_ETIMEOUT || r->err == AG_ETRUNC ||
                           r->err == AG_ECONNECT || r->err == AG_EPROTO);
        return;
    }
    if (r->status < 200 || r->status >= 300) {
        endpoint_error(r, m, sizeof m);
        attempt_failed(p, AG_EHTTP, r->status, r->retry_after, m,
                       retryable_status(r->status));
        return;
    }
    if ((p->ops->data ? p->got : r->body_len) == 0) {
        attempt_failed(p, AG_EPARSE, r->status, -1, "empty reply from endpoint",
                       1);
        return;
    }
    rc = p->ops->data
             ? p->ops->finish(p->ud, NULL, 0, p->err, sizeof p->err, &retry)
             : p->ops->finish(p->ud, r->body, r->body_len, p->err,
                              sizeof p->err, &retry);
    if (p->ended)
        return; /* cancelled from inside finish */
    if (rc < 0) {
        attempt_failed(p, rc, r->status, -1, p->err, retry);
        return;
    }
    post_end(p, 0, NULL);
}

static int send_attempt(struct ag__post *p)
{
    struct ag_http_opts o;

    p->attempt++;
    p->t_attempt_ns = ag_now_ns();
    p->err[0] = '\0';
    p->got = 0;
    if (p->ops->begin)
        p->ops->begin(p->ud);

    memset(&o, 0, sizeof o);
    o.url = p->url;
    o.headers = p->headers;
    o.body = p->body;
    o.body_len = p->body_len;
    o.connect_ms = p->cfg.connect_ms;
    o.first_byte_ms = p->cfg.first_byte_ms;
    o.idle_ms = p->cfg.idle_ms;
    o.max_body = p->cfg.max_reply;
    o.on_data = p->ops->data ? post_data : NULL;
    o.on_done = on_http_done;
    o.ud = p;
    return ag_http_start(p->http, &o, &p->req);
}

static void on_local(uv_timer_t *t)
{
    struct ag__post *p = t->data;
    int retry = 0, rc;

    p->err[0] = '\0';
    rc = p->ops->finish(p->ud, NULL, 0, p->err, sizeof p->err, &retry);
    post_end(p, rc < 0 ? rc : 0, rc < 0 ? p->err : NULL);
}

int ag__post_start(uv_loop_t *loop, struct ag_http *http,
                   const struct ag_llm_cfg *cfg, struct ag__post_req *req,
                   struct ag__post **out)
{
    struct ag__post *p = ag_xcalloc(1, sizeof *p);
    size_t blen = req->base ? strlen(req->base) : 0;
    int rc;

    p->loop = loop;
    p->http = http;
    p->cfg = *cfg;
    ag__llm_cfg_defaults(&p->cfg);
    p->ops = req->ops;
    p->ud = req->ud;
    p->body = req->body;
    p->body_len = req->body_len;
    p->headers = req->headers;
    p->local = req->local;
    p->t_start_ns = ag_now_ns();
    while (blen > 0 && req->base[blen - 1] == '/')
        blen--;
    p->url = ag_xasprintf("%.*s%s", (int)blen, req->base ? req->base : "",
                          req->path ? req->path : "");
    uv_timer_init(loop, &p->timer);
    p->timer.data = p;
    if (p->local) {
        p->attempt = 1;
        uv_timer_start(&p->timer, on_local, 0, 0);
    } else {
        /* curl would otherwise wait for "100 Continue" on large bodies */
        p->headers = curl_slist_append(p->headers, "Expect:");
        if ((rc = send_attempt(p)) < 0) {
            p->ended = 1;
            p->ops = &no_ops; /* no callback runs, not even release */
            uv_close((uv_handle_t *)&p->timer, post_closed);
            return rc;
        }
    }
    if (out)
        *out = p;
    return 0;
}

void ag__post_cancel(struct ag__post *p)
{
    if (!p || p->ended)
        return;
    p->ended = 1;
    if (p->req)
        ag_http_cancel(p->req);
    p->req = NULL;
    uv_timer_stop(&p->timer);
    uv_close((uv_handle_t *)&p->timer, post_closed);
}

/* ---- the chat client --------------------------------------------------- */

struct ag_llm_call {
    struct ag_llm_cfg cfg;
    struct ag_llm_cb cb;
    struct ag__post *post;
    struct ag_buf whole; /* a reply body that is not an event stream */
    struct ag_sse sse;
    struct ag_stream st;
    int sse_mode; /* this attempt's body is an event stream; -1 unknown */
    int local;    /* a stand-in answered: script_rc and reply hold it */
    int script_rc;
    char err[512];             /* the codec's message */
    struct ag_llm_reply reply; /* the stand-in's answer, or the final one */
    int ended;                 /* on_done has run, or cancelled */
};

static void call_free(struct ag_llm_call *c)
{
    ag_buf_free(&c->whole);
    ag_sse_free(&c->sse);
    ag_stream_free(&c->st);
    ag_llm_reply_clear(&c->reply);
    free(c);
}

static int on_sse_event(void *ud, const char *event, const char *data, size_t n)
{
    struct ag_llm_call *c = ud;

    return c->cfg.codec->event(&c->st, event, data, n, c->err, sizeof c->err);
}

static void chat_begin(void *ud)
{
    struct ag_llm_call *c = ud;

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
}

static int chat_data(void *ud, const char *ctype, const char *p, size_t n,
                     char *err, size_t errlen)
{
    struct ag_llm_call *c = ud;
    int rc;

    if (c->sse_mode < 0) /* a server may ignore "stream" and answer whole */
        c->sse_mode = strstr(ctype, "event-stream") != NULL;
    if (!c->sse_mode) {
        if (ag_buf_add(&c->whole, p, n) < 0) {
            snprintf(err, errlen, "reply too large");
            return AG_ETOOBIG;
        }
        return 0;
    }
    rc = ag_sse_feed(&c->sse, p, n);
    if (rc < 0)
        snprintf(err, errlen, "%s",
                 c->err[0]          ? c->err
                 : rc == AG_ETOOBIG ? "reply too large"
                                    : "");
    return rc;
}

static int chat_finish(void *ud, const char *body, size_t n, char *err,
                       size_t errlen, int *retry)
{
    struct ag_llm_call *c = ud;
    int rc;

    AG_UNUSED(body);
    AG_UNUSED(n);
    if (c->local) {
        if (c->script_rc < 0) {
            snprintf(err, errlen, "%s", c->err);
            return c->script_rc;
        }
    } else if (c->sse_mode == 1) {
        rc = ag_sse_finish(&c->sse);
        if (!c->st.done) {
            snprintf(err, errlen,
                     "reply truncated: the stream ended before its final "
                     "event%s",
                     rc == AG_ETRUNC ? " (in the middle of an event)" : "");
            *retry = 1;
            return AG_ETRUNC;
        }
        ag_stream_take(&c->st, &c->reply);
        return 0;
    } else {
        rc = c->cfg.codec->parse(c->whole.data, c->whole.len, &c->reply, c->err,
                                 sizeof c->err);
        if (rc < 0) {
            snprintf(err, errlen, "malformed reply: %s", c->err);
            return rc;
        }
    }
    if (c->cb.on_text && c->reply.text)
        c->cb.on_text(c->cb.ud, c->reply.text, strlen(c->reply.text));
    return 0;
}

static void chat_attempt(void *ud, const struct ag_llm_attempt *a)
{
    struct ag_llm_call *c = ud;

    if (c->cb.on_attempt)
        c->cb.on_attempt(c->cb.ud, a);
}

static void chat_done(void *ud, int err, const char *msg, int attempts)
{
    struct ag_llm_call *c = ud;

    c->ended = 1;
    c->cb.on_done(c->cb.ud, err, &c->reply, msg, attempts);
}

static void chat_release(void *ud)
{
    call_free(ud);
}

static const struct ag__post_ops chat_ops = {
    .begin = chat_begin,
    .data = chat_data,
    .finish = chat_finish,
    .attempt = chat_attempt,
    .done = chat_done,
    .release = chat_release,
};

int ag_llm_send(uv_loop_t *loop, struct ag_http *http,
                const struct ag_llm_cfg *cfg, const struct ag_llm_req *req,
                const struct ag_llm_cb *cb, struct ag_llm_call **out)
{
    struct ag__post_req pr = {0};
    struct ag_llm_call *c;
    struct ag_buf body;
    int rc;

    if (!cb || !cb->on_done || (!cfg->codec && !cfg->script && !cfg->replay))
        return -EINVAL;
    c = ag_xcalloc(1, sizeof *c);
    c->cfg = *cfg;
    c->cb = *cb;
    ag__llm_cfg_defaults(&c->cfg);
    c->reply.usage.input = c->reply.usage.output = -1;
    ag_buf_init(&c->whole, c->cfg.max_reply);
    ag_sse_init(&c->sse, c->cfg.max_reply, on_sse_event, c);
    ag_stream_init(&c->st, c->cfg.max_reply);
    ag_buf_init(&body, 256u << 20);
    pr.ops = &chat_ops;
    pr.ud = c;

    if (cfg->script || cfg->replay) {
        c->local = pr.local = 1;
        if (cb->on_request) {
            ag_llm_req_canonical(req, &body);
            cb->on_request(cb->ud, ag_buf_cstr(&body), body.len);
        }
        ag_buf_free(&body);
        c->script_rc = cfg->script
                           ? ag_script_answer(cfg->script, req, &c->reply,
                                              c->err, sizeof c->err)
                           : ag_replay_answer(cfg->replay, req, &c->reply,
                                              c->err, sizeof c->err);
    } else {
        pr.base = cfg->base_url && *cfg->base_url ? cfg->base_url
                                                  : cfg->codec->default_url;
        pr.path = cfg->codec->path;
        if ((rc = cfg->codec->build(req, &body)) < 0 ||
            (rc = cfg->codec->headers(cfg->api_key, &pr.headers)) < 0) {
            curl_slist_free_all(pr.headers);
            ag_buf_free(&body);
            call_free(c);
            return rc;
        }
        if (cb->on_request)
            cb->on_request(cb->ud, body.data, body.len);
        pr.body_len = body.len;
        pr.body = ag_buf_steal(&body);
    }
    if ((rc = ag__post_start(loop, http, &c->cfg, &pr, &c->post)) < 0) {
        call_free(c);
        return rc;
    }
    if (out)
        *out = c;
    return 0;
}

void ag_llm_cancel(struct ag_llm_call *c)
{
    if (!c || c->ended)
        return;
    c->ended = 1;
    ag__post_cancel(c->post);
}
