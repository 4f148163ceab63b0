/*
 * broker.c: the tools' only way out (see broker.h). A worker's rpc arrives
 * here from the agent's side of the pool; the request is checked against
 * the tool's effective policy (what the tool declares, narrowed by the task),
 * then performed on the agent's loop: HTTP with the client of http.c (which
 * lets us refuse an address after DNS, before connecting), mail with smtp.c.
 * Every request, allowed or refused, is reported as an AG_EV_NET_REQUEST
 * event, which the audit log records as net.request.
 */
#include "broker.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stddef.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "agent.h"
#include "json.h"
#include "smtp.h"

#define DEF_MAX_REQUEST    (64u << 10)
#define DEF_MAX_RESPONSE   (2u << 20)
#define DEF_MAX_REQUESTS   10
#define DEF_MAX_RECIPIENTS 10
#define DEF_MAX_MAIL       (1u << 20)

/* ---- policy ------------------------------------------------------------ */

static void free_list(char **v, int n)
{
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void ag_broker_policy_free(struct ag_tool_net *p)
{
    if (!p)
        return;
    free_list(p->net.hosts, p->net.nhosts);
    free_list(p->net.methods, p->net.nmethods);
    free(p->net.ports);
    free(p->smtp.relay);
    free(p->smtp.from);
    free(p->smtp.username);
    free(p->smtp.password);
    free_list(p->smtp.domains, p->smtp.ndomains);
    free(p->options);
    memset(p, 0, sizeof *p);
}

/* Reads a list of strings; upper-cases them when upper. */
static int str_list(const cJSON *v, const char *name, char ***out, int *n,
                    int upper, char *err, size_t errlen)
{
    const cJSON *c;
    int i = 0;

    if (!cJSON_IsArray(v)) {
        snprintf(err, errlen, "%s must be a list of strings", name);
        return AG_ETASK;
    }
    *out = ag_xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof **out);
    cJSON_ArrayForEach(c, v)
    {
        if (!cJSON_IsString(c) || !*c->valuestring) {
            snprintf(err, errlen, "%s[%d] must be a non-empty string", name,
                     i + 1);
            *n = i;
            return AG_ETASK;
        }
        (*out)[i] = ag_xstrdup(c->valuestring);
        for (char *p = (*out)[i]; upper && *p; p++)
            *p = (char)toupper((unsigned char)*p);
        i++;
    }
    *n = i;
    return 0;
}

static int positive(const cJSON *o, const char *key, const char *where,
                    double *v, char *err, size_t errlen)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);

    if (!x)
        return 0;
    if (!cJSON_IsNumber(x) || x->valuedouble <= 0) {
        snprintf(err, errlen, "%s%s must be a positive number", where, key);
        return AG_ETASK;
    }
    *v = x->valuedouble;
    return 1;
}

static int parse_net(const cJSON *net, struct ag_net_policy *p, char *err,
                     size_t errlen)
{
    const cJSON *v;
    double d;
    int rc;

    p->declared = 1;
    p->max_request = DEF_MAX_REQUEST;
    p->max_response = DEF_MAX_RESPONSE;
    p->max_requests = DEF_MAX_REQUESTS;
    p->http = p->https = 1;
    if (!cJSON_IsObject(net)) {
        snprintf(err, errlen, "policy.net must be a table");
        return AG_ETASK;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(net, "hosts")) &&
        (rc = str_list(v, "policy.net.hosts", &p->hosts, &p->nhosts, 0, err,
                       errlen)) < 0)
        return rc;
    if ((v = cJSON_GetObjectItemCaseSensitive(net, "methods"))) {
        if ((rc = str_list(v, "policy.net.methods", &p->methods, &p->nmethods,
                           1, err, errlen)) < 0)
            return rc;
    } else {
        p->methods = ag_xcalloc(3, sizeof *p->methods);
        p->methods[0] = ag_xstrdup("GET");
        p->methods[1] = ag_xstrdup("HEAD");
        p->nmethods = 2;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(net, "schemes"))) {
        char **s = NULL;
        int n = 0;
        rc = str_list(v, "policy.net.schemes", &s, &n, 0, err, errlen);
        p->http = p->https = 0;
        for (int i = 0; rc == 0 && i < n; i++) {
            if (strcmp(s[i], "http") == 0)
                p->http = 1;
            else if (strcmp(s[i], "https") == 0)
                p->https = 1;
            else {
                snprintf(err, errlen,
                         "policy.net.schemes[%d] must be http or https", i + 1);
                rc = AG_ETASK;
            }
        }
        free_list(s, n);
        if (rc < 0)
            return rc;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(net, "ports"))) {
        const cJSON *c;
        if (!cJSON_IsArray(v)) {
            snprintf(err, errlen, "policy.net.ports must be a list of ports");
            return AG_ETASK;
        }
        p->ports =
            ag_xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof *p->ports);
        cJSON_ArrayForEach(c, v)
        {
            if (!cJSON_IsNumber(c) || c->valuedouble < 1 ||
                c->valuedouble > 65535) {
                snprintf(err, errlen, "policy.net.ports[%d] must be a port",
                         p->nports + 1);
                return AG_ETASK;
            }
            p->ports[p->nports++] = (int)c->valuedouble;
        }
    }
    if ((rc = positive(net, "max_request", "policy.net.", &d, err, errlen)) < 0)
        return rc;
    if (rc)
        p->max_request = (size_t)d;
    if ((rc = positive(net, "max_response", "policy.net.", &d, err, errlen)) <
        0)
        return rc;
    if (rc)
        p->max_response = (size_t)d;
    if ((rc = positive(net, "max_requests", "policy.net.", &d, err, errlen)) <
        0)
        return rc;
    if (rc)
        p->max_requests = (int)d;
    v = cJSON_GetObjectItemCaseSensitive(net, "allow_private");
    p->allow_private = !v ? 0 : cJSON_IsTrue(v) ? 1 : -1;
    p->trusted = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(net, "trusted"));
    return 0;
}

/* The task's options narrow the net policy. */
static int narrow_net(const cJSON *o, struct ag_net_policy *p, char *err,
                      size_t errlen)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "allow_hosts");
    double d;
    int rc;

    if (v) {
        char **hosts = NULL;
        int n = 0;
        if ((rc = str_list(v, "allow_hosts", &hosts, &n, 0, err, errlen)) < 0) {
            free_list(hosts, n);
            return rc;
        }
        for (int i = 0; i < n; i++) {
            int ok = 0;
            for (int k = 0; k < p->nhosts && !ok; k++)
                ok = ag_broker_host_match(p->hosts[k], hosts[i]) ||
                     strcasecmp(p->hosts[k], hosts[i]) == 0;
            if (!ok) {
                snprintf(err, errlen,
                         "allow_hosts: \"%s\" is not allowed by the tool's "
                         "own policy",
                         hosts[i]);
                free_list(hosts, n);
                return AG_ETASK;
            }
        }
        free_list(p->hosts, p->nhosts);
        p->hosts = hosts;
        p->nhosts = n;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "allow_private"))) {
        if (!cJSON_IsBool(v)) {
            snprintf(err, errlen, "allow_private must be true or false");
            return AG_ETASK;
        }
        /* false turns it off; true keeps what the tool declares (private
         * hosts must then be named in allow_hosts) */
        if (cJSON_IsFalse(v))
            p->allow_private = -1;
    }
    if ((rc = positive(o, "max_response", "", &d, err, errlen)) < 0)
        return rc;
    if (rc && d < (double)p->max_response)
        p->max_response = (size_t)d;
    if ((rc = positive(o, "max_requests", "", &d, err, errlen)) < 0)
        return rc;
    if (rc && d < p->max_requests)
        p->max_requests = (int)d;
    return 0;
}

static int parse_smtp(const cJSON *smtp, const cJSON *o,
                      struct ag_smtp_policy *p, char *err, size_t errlen)
{
    const char *keys[] = {"relay", "from", "username", "password"};
    char **dst[] = {&p->relay, &p->from, &p->username, &p->password};
    const cJSON *v;
    double d;
    int rc;

    p->declared = 1;
    p->max_recipients = DEF_MAX_RECIPIENTS;
    p->max_bytes = DEF_MAX_MAIL;
    if ((rc = positive(smtp, "max_recipients", "policy.smtp.", &d, err,
                       errlen)) < 0)
        return rc;
    if (rc)
        p->max_recipients = (int)d;
    if ((rc = positive(smtp, "max_bytes", "policy.smtp.", &d, err, errlen)) < 0)
        return rc;
    if (rc)
        p->max_bytes = (size_t)d;
    for (size_t i = 0; i < AG_ARRAY_SIZE(keys); i++) {
        v = cJSON_GetObjectItemCaseSensitive(o, keys[i]);
        if (!v)
            continue;
        if (!cJSON_IsString(v)) {
            snprintf(err, errlen, "%s must be a string", keys[i]);
            return AG_ETASK;
        }
        *dst[i] = ag_xstrdup(v->valuestring);
    }
    if (p->relay && strncmp(p->relay, "smtp://", 7) != 0 &&
        strncmp(p->relay, "smtps://", 8) != 0) {
        snprintf(err, errlen, "relay must start with smtp:// or smtps://");
        return AG_ETASK;
    }
    if (p->relay && strchr(p->relay, '@')) {
        snprintf(err, errlen,
                 "relay must not hold credentials (use username and "
                 "password)");
        return AG_ETASK;
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(o, "allow_domains")) &&
        (rc = str_list(v, "allow_domains", &p->domains, &p->ndomains, 0, err,
                       errlen)) < 0)
        return rc;
    if ((rc = positive(o, "max_recipients", "", &d, err, errlen)) < 0)
        return rc;
    if (rc && d < p->max_recipients)
        p->max_recipients = (int)d;
    return 0;
}

/* Options that configure the broker or the sandbox stay in the agent
 * process; the rest reach the tool as ctx.options. */
static int private_option(const char *k)
{
    static const char *const keys[] = {
        "allow_hosts",    "allow_private", "max_response", "max_requests",
        "relay",          "from",          "username",     "password",
        "allow_domains",  "timeout",       "memory",       "output",
        "max_recipients", "instructions",  "isolation"};

    for (size_t i = 0; i < AG_ARRAY_SIZE(keys); i++)
        if (strcmp(k, keys[i]) == 0)
            return 1;
    return 0;
}

int ag_broker_policy(const cJSON *policy, const cJSON *task_opts,
                     struct ag_tool_net *out, char *err, size_t errlen)
{
    const cJSON *net = cJSON_GetObjectItemCaseSensitive(policy, "net");
    const cJSON *smtp = cJSON_GetObjectItemCaseSensitive(policy, "smtp");
    cJSON *opts = cJSON_CreateObject();
    const cJSON *c;
    int rc = 0;

    memset(out, 0, sizeof *out);
    if (net && (rc = parse_net(net, &out->net, err, errlen)) == 0 && task_opts)
        rc = narrow_net(task_opts, &out->net, err, errlen);
    if (rc == 0 && smtp)
        rc = parse_smtp(smtp, task_opts, &out->smtp, err, errlen);
    cJSON_ArrayForEach(c, task_opts)
    {
        if (!private_option(c->string))
            cJSON_AddItemToObject(opts, c->string, cJSON_Duplicate(c, 1));
    }
    out->options = cJSON_PrintUnformatted(opts);
    cJSON_Delete(opts);
    if (rc < 0) {
        char *o = out->options;
        out->options = NULL;
        ag_broker_policy_free(out);
        out->options = o;
    }
    return rc;
}

/* ---- checks ------------------------------------------------------------ */

int ag_broker_host_match(const char *pattern, const char *host)
{
    size_t pl, hl;

    if (strcmp(pattern, "*") == 0)
        return 1;
    if (strncmp(pattern, "*.", 2) == 0) {
        pl = strlen(pattern + 1); /* ".example.org" */
        hl = strlen(host);
        return hl > pl && strcasecmp(host + hl - pl, pattern + 1) == 0;
    }
    return strcasecmp(pattern, host) == 0;
}

static int in_list(char **v, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0)
            return 1;
    return 0;
}

int ag_broker_check_url(const struct ag_net_policy *p, const char *method,
                        const char *url, size_t body_len, char *host,
                        size_t hostlen, char *why, size_t whylen)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *h = NULL, *port = NULL;
    int rc = AG_EPOLICY, allowed = 0;
    long portn;

    if (!p->declared) {
        snprintf(why, whylen, "this tool may not use the network");
        goto out;
    }
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &h, 0) != CURLUE_OK) {
        snprintf(why, whylen, "not a valid URL: %.200s", url);
        goto out;
    }
    if (!((strcmp(scheme, "http") == 0 && p->http) ||
          (strcmp(scheme, "https") == 0 && p->https))) {
        snprintf(why, whylen, "scheme %s is not allowed", scheme);
        goto out;
    }
    for (int i = 0; i < p->nhosts && !allowed; i++)
        allowed = ag_broker_host_match(p->hosts[i], h);
    if (!allowed) {
        snprintf(why, whylen, "host %s is not allowed", h);
        goto out;
    }
    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT);
    portn = port ? strtol(port, NULL, 10) : 0;
    if (p->nports) {
        int ok = 0;
        for (int i = 0; i < p->nports && !ok; i++)
            ok = p->ports[i] == portn;
        if (!ok) {
            snprintf(why, whylen, "port %ld is not allowed", portn);
            goto out;
        }
    }
    if (!in_list(p->methods, p->nmethods, method)) {
        snprintf(why, whylen, "method %s is not allowed", method);
        goto out;
    }
    if (body_len > p->max_request) {
        snprintf(why, whylen,
                 "request body of %zu bytes is over the %zu "
                 "allowed",
                 body_len, p->max_request);
        goto out;
    }
    snprintf(host, hostlen, "%s", h);
    rc = 0;
out:
    curl_free(scheme);
    curl_free(h);
    curl_free(port);
    curl_url_cleanup(u);
    return rc;
}

/* What kind of non-public IPv4 address a is (host order), or NULL. */
static const char *private_kind4(uint32_t a)
{
    if ((a >> 24) == 127)
        return "loopback";
    if (a == 0xA9FEA9FEu)
        return "cloud metadata";
    if ((a >> 16) == 0xA9FE)
        return "link-local";
    if ((a >> 24) == 10 || (a >> 20) == 0xAC1 || (a >> 16) == 0xC0A8)
        return "private";
    if ((a >> 22) == (0x64400000u >> 22))
        return "shared (carrier-grade NAT)";
    if ((a >> 24) == 0)
        return "unspecified";
    if ((a >> 28) >= 0xE)
        return "multicast or reserved";
    return NULL;
}

/* A loopback, private, link-local, metadata, multicast or otherwise not
 * public address: what a tool must not reach unless its policy says so.
 * The address bytes are copied out, never read through a cast to another
 * sockaddr type (strict aliasing). */
static const char *private_kind(const struct sockaddr *sa)
{
    uint32_t v4;
    uint8_t b[16];

    if (sa->sa_family == AF_INET) {
        memcpy(&v4, (const char *)sa + offsetof(struct sockaddr_in, sin_addr),
               4);
        return private_kind4(ntohl(v4));
    }
    if (sa->sa_family != AF_INET6)
        return "not an internet address";
    memcpy(b, (const char *)sa + offsetof(struct sockaddr_in6, sin6_addr), 16);
    /* ::ffff:a.b.c.d and ::a.b.c.d carry an IPv4 address */
    if ((memcmp(b, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) ||
        (memcmp(b, "\0\0\0\0\0\0\0\0\0\0\0\0", 12) == 0 &&
         (b[12] | b[13] | b[14] | (b[15] > 1)))) {
        memcpy(&v4, b + 12, 4);
        return private_kind4(ntohl(v4));
    }
    if (memcmp(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\1", 16) == 0)
        return "loopback";
    if (memcmp(b, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 16) == 0)
        return "unspecified";
    if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80)
        return "link-local";
    if ((b[0] & 0xFE) == 0xFC)
        return "private (unique local)";
    if (b[0] == 0xFF)
        return "multicast";
    if (b[0] == 0x00 && b[1] == 0x64 && b[2] == 0xFF && b[3] == 0x9B)
        return "NAT64";
    return NULL;
}

int ag_broker_check_addr(const struct ag_net_policy *p, const char *host,
                         const struct sockaddr *sa, char *why, size_t whylen)
{
    const char *kind = private_kind(sa);
    char ip[INET6_ADDRSTRLEN] = "?";
    int named = 0;

    if (!kind || p->allow_private > 0)
        return 0;
    for (int i = 0; p->allow_private == 0 && i < p->nhosts && !named; i++)
        named = strcmp(p->hosts[i], "*") != 0 &&
                strncmp(p->hosts[i], "*.", 2) != 0 &&
                strcasecmp(p->hosts[i], host) == 0;
    if (named)
        return 0;
    if (sa->sa_family == AF_INET || sa->sa_family == AF_INET6) {
        unsigned char raw[16];
        int v6 = sa->sa_family == AF_INET6;
        memcpy(raw,
               (const char *)sa + (v6 ? offsetof(struct sockaddr_in6, sin6_addr)
                                      : offsetof(struct sockaddr_in, sin_addr)),
               v6 ? 16 : 4);
        inet_ntop(sa->sa_family, raw, ip, sizeof ip);
    }
    snprintf(why, whylen, "%s resolves to %s (%s)", host, ip, kind);
    return AG_EPOLICY;
}

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
    free_list(bc->rcpts, bc->nrcpts);
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
    o.truncate_body = cJSON_IsTrue(
        cJSON_GetObjectItemCaseSensitive(params, "truncate"));
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
