/*
 * broker-policy.c: what a tool may reach (see broker.h): the policy a tool
 * declares, narrowed by the task's options (never widened), parsed into
 * struct ag_tool_net; and the checks every request goes through: scheme,
 * host pattern, port, method and size of a URL, then the address actually
 * connected to (loopback, private, link-local, metadata, NAT64 and mapped
 * addresses are refused unless the host is named or private addresses are
 * allowed). The requests themselves are broker.c.
 */
#include "broker.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "json.h"

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
