/*
 * broker.c: the tools' only way out (see broker.h). A worker's rpc arrives
 * here from the agent's side of the pool; the request is checked against
 * the tool's effective policy (broker-policy.c: what the tool declares,
 * narrowed by the task), then performed on the agent's loop: HTTP with the
 * client of http.c (which lets us refuse an address after DNS, before
 * connecting), mail with smtp.c. Every request, allowed or refused, is
 * reported as an AG_EV_NET_REQUEST event, which the audit log records as
 * net.request.
 */
#include "broker.h"

#include <ctype.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "agent.h"
#include "json.h"
#include "smtp.h"

/* ---- requests ---------------------------------------------------------- */

struct ag_broker_call {
    struct ag_broker_ctx *ctx;
    ag_broker_done done;
    void *ud;
    char *method, *url, *body;
    char host[256];
    struct curl_slist *headers;
    struct ag_http_req *req;
    struct ag_smtp_req *smtp;
    const char *resp; /* the response body while the event is made */
    size_t resp_len;
    char **rcpts; /* for the event and the answer */
    int nrcpts;
    char msgid[96];
    uint64_t t0;
    int truncated; /* the response body was cut at max_response */
};

static void emit_net(struct ag_broker_call *bc, int ok, long status,
                     size_t bytes, const char *refusal)
{
    struct ag_broker_ctx *c = bc->ctx;
    struct ag_event ev;

    memset(&ev, 0, sizeof ev);
    ev.type = AG_EV_NET_REQUEST;
    ev.agent = c->agent;
    ev.step = c->agent->step;
    ev.tool = c->tool ? c->tool->name : NULL;
    ev.call_id = c->call_id;
    ev.method = bc->method;
    ev.url = bc->url;
    ev.status = status;
    ev.ok = ok;
    ev.len = bytes;
    ev.verdict = refusal;
    ev.ms = (double)(ag_now_ns() - bc->t0) / 1e6;
    ev.args = bc->body;   /* what was sent, for the audit log */
    ev.result = bc->resp; /* what came back (text only) */
    ev.msg_index = (int)bc->resp_len;
    ev.truncated = bc->truncated;
    ag_rt_emit(c->rt, &ev);
}

static void call_free(struct ag_broker_call *bc)
{
    if (bc->ctx && bc->ctx->inflight == bc)
        bc->ctx->inflight = NULL;
    curl_slist_free_all(bc->headers);
    for (int i = 0; i < bc->nrcpts; i++)
        free(bc->rcpts[i]);
    free(bc->rcpts);
    free(bc->method);
    free(bc->url);
    free(bc->body);
    free(bc);
}

static void answer(struct ag_broker_call *bc, const char *value,
                   const char *error)
{
    ag_broker_done done = bc->done;
    void *ud = bc->ud;

    call_free(bc);
    done(ud, value, error);
}

/* Header lines as an object with lower-case names. */
static cJSON *parse_headers(const char *raw)
{
    cJSON *o = cJSON_CreateObject();

    while (*raw) {
        const char *end = strstr(raw, "\r\n"), *colon;
        size_t n = end ? (size_t)(end - raw) : strlen(raw);
        colon = memchr(raw, ':', n);
        if (colon && colon > raw) {
            char *k = ag_xstrndup(raw, (size_t)(colon - raw)), *v;
            const char *vs = colon + 1;
            size_t vn;
            while (vs < raw + n && (*vs == ' ' || *vs == '\t'))
                vs++;
            vn = (size_t)(raw + n - vs);
            for (char *p = k; *p; p++)
                *p = (char)tolower((unsigned char)*p);
            v = ag_xstrndup(vs, vn);
            if (cJSON_GetObjectItemCaseSensitive(o, k))
                cJSON_ReplaceItemInObjectCaseSensitive(o, k,
                                                       cJSON_CreateString(v));
            else
                cJSON_AddStringToObject(o, k, v);
            free(k);
            free(v);
        }
        raw += n + (end ? 2 : 0);
    }
    return o;
}

static int has_nul(const char *p, size_t n)
{
    return memchr(p, '\0', n) != NULL;
}

static void on_http_done(void *ud, const struct ag_http_result *r)
{
    struct ag_broker_call *bc = ud;
    cJSON *v;
    char *text, msg[400];

    bc->req = NULL;
    if (r->err) {
        int policy = r->err == AG_EPOLICY;
        snprintf(msg, sizeof msg, "%s%s", policy ? "blocked: " : "", r->errmsg);
        emit_net(bc, 0, r->status, 0, policy ? msg : NULL);
        if (!policy && r->err == AG_ETOOBIG)
            snprintf(msg, sizeof msg, "response larger than %zu bytes",
                     bc->ctx->tool->net.net.max_response);
        answer(bc, NULL, msg);
        return;
    }
    if (!bc->ctx->tool->net.net.trusted)
        bc->ctx->network = 1; /* taint: content from the outside */
    bc->truncated = r->truncated;
    if (!has_nul(r->body, r->body_len)) {
        bc->resp = r->body;
        bc->resp_len = r->body_len;
    }
    emit_net(bc, 1, r->status, r->body_len, NULL);
    bc->resp = NULL;
    v = cJSON_CreateObject();
    cJSON_AddNumberToObject(v, "status", (double)r->status);
    cJSON_AddStringToObject(v, "url", bc->url);
    cJSON_AddItemToObject(v, "headers", parse_headers(r->headers));
    if (has_nul(r->body, r->body_len)) {
        /* JSON strings cannot hold NUL: the worker decodes this */
        struct ag_buf b;
        static const char tbl[] =
            "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        const unsigned char *s = (const unsigned char *)r->body;
        ag_buf_init(&b, (size_t)-1 / 4);
        for (size_t i = 0; i < r->body_len; i += 3) {
            unsigned x = (unsigned)s[i] << 16;
            size_t left = r->body_len - i;
            if (left > 1)
                x |= (unsigned)s[i + 1] << 8;
            if (left > 2)
                x |= s[i + 2];
            ag_buf_addc(&b, tbl[x >> 18]);
            ag_buf_addc(&b, tbl[(x >> 12) & 63]);
            ag_buf_addc(&b, left > 1 ? tbl[(x >> 6) & 63] : '=');
            ag_buf_addc(&b, left > 2 ? tbl[x & 63] : '=');
        }
        cJSON_AddStringToObject(v, "body_base64", ag_buf_cstr(&b));
        ag_buf_free(&b);
    } else {
        char *body = ag_xstrndup(r->body, r->body_len);
        cJSON_AddStringToObject(v, "body", body);
        free(body);
    }
    cJSON_AddNumberToObject(v, "bytes", (double)r->body_len);
    if (r->truncated)
        cJSON_AddTrueToObject(v, "truncated");
    cJSON_AddNumberToObject(v, "ms", r->ms_total);
    text = cJSON_PrintUnformatted(v);
    cJSON_Delete(v);
    answer(bc, text, NULL);
    free(text);
}

static int check_addr(void *ud, const struct sockaddr *sa, char *why,
                      size_t whylen)
{
    struct ag_broker_call *bc = ud;

    return ag_broker_check_addr(&bc->ctx->tool->net.net, bc->host, sa, why,
                                whylen);
}

static void refuse_later_cb(uv_timer_t *t);

/* Refusals are answered from the loop too, never from inside the rpc. */
struct later {
    uv_timer_t timer;
    ag_broker_done done;
    void *ud;
    char msg[400];
};

static void later_closed(uv_handle_t *h)
{
    free(h->data);
}

static void refuse_later_cb(uv_timer_t *t)
{
    struct later *l = t->data;

    l->done(l->ud, NULL, l->msg);
    uv_close((uv_handle_t *)t, later_closed);
}

static int refuse(struct ag_broker_ctx *c, ag_broker_done done, void *ud,
                  const char *msg)
{
    struct later *l = ag_xcalloc(1, sizeof *l);

    snprintf(l->msg, sizeof l->msg, "%s", msg);
    l->done = done;
    l->ud = ud;
    uv_timer_init(c->rt->loop, &l->timer);
    l->timer.data = l;
    uv_timer_start(&l->timer, refuse_later_cb, 0, 0);
    return 0;
}

static int do_http(struct ag_broker_call *bc, const cJSON *params)
{
    struct ag_broker_ctx *c = bc->ctx;
    const struct ag_net_policy *p = &c->tool->net.net;
    const cJSON *hdrs = cJSON_GetObjectItemCaseSensitive(params, "headers");
    const char *m = ag_json_str(params, "method");
    const char *url = ag_json_str(params, "url");
    const char *body = ag_json_str(params, "body");
    double timeout = ag_json_num(params, "timeout", 0);
    struct ag_http_opts o;
    char why[300], msg[400];
    const cJSON *h;
    int rc;

    bc->method = ag_xstrdup(m ? m : "GET");
    for (char *q = bc->method; *q; q++)
        *q = (char)toupper((unsigned char)*q);
    bc->url = ag_xstrdup(url ? url : "");
    if (++c->requests > p->max_requests) {
        snprintf(msg, sizeof msg, "policy: more than %d requests in one call",
                 p->max_requests);
        emit_net(bc, 0, 0, 0, msg);
        return refuse(c, bc->done, bc->ud, msg) < 0 ? -1 : 1;
    }
    if ((rc = ag_broker_check_url(p, bc->method, bc->url,
                                  body ? strlen(body) : 0, bc->host,
                                  sizeof bc->host, why, sizeof why)) < 0) {
        snprintf(msg, sizeof msg, "policy: %s", why);
        emit_net(bc, 0, 0, 0, msg);
        return refuse(c, bc->done, bc->ud, msg) < 0 ? -1 : 1;
    }
    cJSON_ArrayForEach(h, hdrs)
    {
        char *line;
        if (!cJSON_IsString(h) || strpbrk(h->string, "\r\n:") ||
            strpbrk(h->valuestring, "\r\n"))
            continue; /* no header injection */
        line = ag_xasprintf("%s: %s", h->string, h->valuestring);
        bc->headers = curl_slist_append(bc->headers, line);
        free(line);
    }
    bc->headers = curl_slist_append(bc->headers, "Expect:");
    if (body)
        bc->body = ag_xstrdup(body);
    memset(&o, 0, sizeof o);
    o.url = bc->url;
    o.method = bc->method;
    o.headers = bc->headers;
    o.body = bc->body;
    o.body_len = bc->body ? strlen(bc->body) : 0;
    o.total_ms = timeout > 0 ? (long)(timeout * 1000) : 30000;
    o.first_byte_ms = o.total_ms;
    o.idle_ms = o.total_ms;
    o.max_body = p->max_response;
    o.truncate_body =
        cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(params, "truncate"));
    o.check_addr = check_addr;
    o.want_headers = 1;
    o.on_done = on_http_done;
    o.ud = bc;
    if ((rc = ag_http_start(c->rt->http, &o, &bc->req)) < 0)
        return rc;
    c->inflight = bc;
    return 0;
}

static void on_smtp_done(void *ud, int err, const char *message_id,
                         const char *errmsg)
{
    struct ag_broker_call *bc = ud;
    cJSON *v, *acc;
    char *text;

    bc->smtp = NULL;
    if (err < 0) {
        emit_net(bc, 0, 0, 0, errmsg);
        answer(bc, NULL, errmsg ? errmsg : ag_strerror(err));
        return;
    }
    emit_net(bc, 1, 250, 0, NULL);
    v = cJSON_CreateObject();
    acc = cJSON_AddArrayToObject(v, "accepted");
    for (int i = 0; i < bc->nrcpts; i++)
        cJSON_AddItemToArray(acc, cJSON_CreateString(bc->rcpts[i]));
    if (message_id)
        cJSON_AddStringToObject(v, "message_id", message_id);
    text = cJSON_PrintUnformatted(v);
    cJSON_Delete(v);
    answer(bc, text, NULL);
    free(text);
}

/* Reads a list of recipients and checks each against the policy. */
static int recipients(struct ag_broker_call *bc, const cJSON *list,
                      const char *name, char *why, size_t whylen)
{
    const struct ag_smtp_policy *p = &bc->ctx->tool->net.smtp;
    const cJSON *c;

    if (!list)
        return 0;
    if (!cJSON_IsArray(list)) {
        snprintf(why, whylen, "%s must be a list of addresses", name);
        return AG_EPOLICY;
    }
    cJSON_ArrayForEach(c, list)
    {
        const char *dom;
        size_t dlen;
        int ok = p->ndomains == 0;
        if (!cJSON_IsString(c) ||
            ag_mail_address(c->valuestring, &dom, &dlen) < 0) {
            snprintf(why, whylen, "%s: not a valid address: %.100s", name,
                     cJSON_IsString(c) ? c->valuestring : "(not a string)");
            return AG_EPOLICY;
        }
        for (int i = 0; i < p->ndomains && !ok; i++)
            ok = strlen(p->domains[i]) == dlen &&
                 strncasecmp(p->domains[i], dom, dlen) == 0;
        if (!ok) {
            snprintf(why, whylen,
                     "policy: recipient %.100s is outside the allowed "
                     "domains",
                     c->valuestring);
            return AG_EPOLICY;
        }
        if (bc->nrcpts >= p->max_recipients) {
            snprintf(why, whylen, "policy: more than %d recipients",
                     p->max_recipients);
            return AG_EPOLICY;
        }
        bc->rcpts = ag_xrealloc(bc->rcpts,
                                sizeof *bc->rcpts * (size_t)(bc->nrcpts + 1));
        bc->rcpts[bc->nrcpts++] = ag_xstrdup(c->valuestring);
    }
    return 0;
}

static int do_smtp(struct ag_broker_call *bc, const cJSON *params)
{
    struct ag_broker_ctx *c = bc->ctx;
    const struct ag_smtp_policy *p = &c->tool->net.smtp;
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(params, "to");
    const cJSON *cc = cJSON_GetObjectItemCaseSensitive(params, "cc");
    struct ag_smtp_cfg cfg;
    struct ag_mail m;
    char why[400];
    int nto, rc;

    bc->method = ag_xstrdup("SMTP");
    bc->url = ag_xstrdup(p->relay ? p->relay : "");
    if (!p->declared)
        snprintf(why, sizeof why, "policy: this tool may not send mail");
    else if (!p->relay || !p->from)
        snprintf(why, sizeof why,
                 "no mail relay for this task (the task sets the tool's "
                 "relay and from options)");
    else if (++c->requests > bc->ctx->tool->net.net.max_requests &&
             bc->ctx->tool->net.net.declared)
        snprintf(why, sizeof why, "policy: too many requests in one call");
    else if (!cJSON_IsArray(to) || cJSON_GetArraySize(to) == 0)
        snprintf(why, sizeof why, "to must list at least one address");
    else if (recipients(bc, to, "to", why, sizeof why) == 0 &&
             recipients(bc, cc, "cc", why, sizeof why) == 0)
        why[0] = '\0';
    if (why[0]) {
        emit_net(bc, 0, 0, 0, why);
        return refuse(c, bc->done, bc->ud, why) < 0 ? -1 : 1;
    }
    nto = cJSON_GetArraySize(to);
    memset(&m, 0, sizeof m);
    m.from = p->from;
    m.to = (const char *const *)bc->rcpts;
    m.nto = nto;
    m.cc = (const char *const *)bc->rcpts + nto;
    m.ncc = bc->nrcpts - nto;
    m.subject =
        ag_json_str(params, "subject") ? ag_json_str(params, "subject") : "";
    m.body = ag_json_str(params, "body") ? ag_json_str(params, "body") : "";
    memset(&cfg, 0, sizeof cfg);
    cfg.relay = p->relay;
    cfg.username = p->username;
    cfg.password = p->password;
    cfg.max_bytes = p->max_bytes;
    /* the relay's own timeout comes first, so that a hung relay is named */
    cfg.timeout_ms = c->tool->policy.timeout > 4
                         ? (long)((c->tool->policy.timeout - 2) * 1000)
                         : (long)(c->tool->policy.timeout * 500);
    if ((rc = ag_smtp_send(c->rt->http, &cfg, &m, on_smtp_done, bc, &bc->smtp,
                           why, sizeof why)) < 0) {
        emit_net(bc, 0, 0, 0, NULL);
        return refuse(c, bc->done, bc->ud, why) < 0 ? -1 : 1;
    }
    c->inflight = bc;
    return 0;
}

int ag_broker_rpc(struct ag_broker_ctx *c, const char *op, const cJSON *params,
                  ag_broker_done done, void *ud)
{
    struct ag_broker_call *bc = ag_xcalloc(1, sizeof *bc);
    int rc;

    bc->ctx = c;
    bc->done = done;
    bc->ud = ud;
    bc->t0 = ag_now_ns();
    if (strcmp(op, "http") == 0)
        rc = do_http(bc, params);
    else if (strcmp(op, "smtp") == 0)
        rc = do_smtp(bc, params);
    else
        rc = -EINVAL;
    if (rc != 0) { /* refused (answered later) or failed */
        bc->ctx = NULL;
        call_free(bc);
    }
    return rc < 0 ? rc : 0;
}

void ag_broker_cancel(struct ag_broker_ctx *c)
{
    struct ag_broker_call *bc = c->inflight;

    if (!bc)
        return;
    if (bc->req)
        ag_http_cancel(bc->req);
    if (bc->smtp)
        ag_smtp_cancel(bc->smtp);
    call_free(bc);
}
