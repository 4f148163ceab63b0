/*
 * broker.h: the only way a tool reaches the outside world (DESIGN §5.5).
 * A tool's Lua code asks the agent process through its worker's socket; the
 * broker checks the request against the tool's policy (as the task narrowed
 * it), performs it on the agent's loop with libcurl, audits it
 * (AG_EV_NET_REQUEST, a net.request record) and answers.
 *
 * In a tool (sandbox side):
 *
 *   local res, err = http.request{
 *     method = "GET",                -- default GET; also HEAD, POST, ...
 *     url = "https://example.org/",  -- http or https only
 *     headers = { Accept = "text/html" },   -- optional
 *     body = "...",                  -- optional (POST, PUT, PATCH)
 *     timeout = 10,                  -- optional, seconds, capped by policy
 *     truncate = true,               -- optional: a body over max_response
 *   }                                -- is cut there, not refused
 *   -- res = { status = 200, url = "<the url fetched>", headers =
 *   --         { ["content-type"] = "text/html; charset=utf-8", ... },
 *   --         body = "...", bytes = 1234, ms = 12.5,
 *   --         truncated = true }   -- only when the body was cut
 *   -- err = "policy: host evil.example is not allowed", "blocked: ..."
 *   -- Redirects are not followed by the broker: a 3xx comes back with
 *   -- its location header, and the tool asks again (each hop is checked).
 *
 *   local res, err = smtp.send{ to = {"a@example.org"}, cc = {...},
 *                               subject = "...", body = "..." }
 *   -- res = { accepted = {...}, message_id = "<...>" }
 *   -- the sender, relay and credentials come from the task, never from
 *   -- the tool
 *
 * A tool declares what it may reach in its descriptor's policy:
 *
 *   policy = { timeout = 10, memory = ..., output = ...,
 *     net = { hosts = { "*" } | { "example.org", "*.example.org" },
 *             schemes = { "https", "http" },     -- default both
 *             ports = { 80, 443 },               -- default: any
 *             methods = { "GET", "HEAD" },       -- default GET, HEAD
 *             max_request = 65536,               -- body bytes sent
 *             max_response = 2097152,            -- body bytes received
 *             max_requests = 10,                 -- per call
 *             allow_private = false,             -- loopback, private,
 *                                                -- link-local, metadata
 *             trusted = false },                 -- true: results are not
 *                                                -- marked untrusted
 *     smtp = { max_recipients = 10, max_bytes = 1048576 } }
 *
 * and the task narrows it through the tool's options (never widens it):
 *
 *   tools = { web_fetch = { allow_hosts = { "example.org" } },
 *             email = { relay = "smtp://127.0.0.1:2525", from = "...",
 *                       username = "...", password = "...",
 *                       allow_domains = { "example.org" } },
 *             booking = { url = "http://127.0.0.1:8090" } }
 *
 * A tool's other options (url above) reach its code as ctx.options; the
 * email relay, from address and credentials never do.
 *
 * Private addresses are refused on the address actually connected to (after
 * DNS), so a name that resolves to 127.0.0.1 or 169.254.169.254 does not
 * get through unless the policy allows private addresses.
 */
#ifndef AG_BROKER_H
#define AG_BROKER_H

#include <stddef.h>
#include <sys/socket.h>

#include <cjson/cJSON.h>

struct ag_net_policy {
    int declared; /* the tool has a net policy: it may use http */
    char **hosts; /* "example.org", "*.example.org" or "*" */
    int nhosts;
    int http, https; /* schemes allowed */
    int *ports;      /* none: any */
    int nports;
    char **methods; /* upper case */
    int nmethods;
    size_t max_request;  /* body bytes sent */
    size_t max_response; /* body bytes received */
    int max_requests;    /* per call */
    int allow_private;   /* 1: yes; 0: only to a host named exactly (no
                            wildcard) in hosts; -1: never */
    int trusted;         /* what comes back is not untrusted content (a
                            service of the user's own, not the web) */
};

struct ag_smtp_policy {
    int declared; /* the tool has an smtp policy: it may use smtp */
    int max_recipients;
    size_t max_bytes;
    /* from the task, kept in the agent process */
    char *relay, *from, *username, *password;
    char **domains; /* recipients' domains allowed; none: any */
    int ndomains;
};

/* What a tool may reach, as its descriptor declares it and its task
 * narrows it, and the options its code sees (ctx.options). */
struct ag_tool_net {
    struct ag_net_policy net;
    struct ag_smtp_policy smtp;
    char *options; /* JSON object text, never NULL after ag_broker_policy */
};

/* Builds the effective policy from the descriptor's policy table (as JSON;
 * may be NULL) and the task's options for the tool (may be NULL). The task
 * can only narrow: a host it allows must be allowed by the tool, limits can
 * only go down, allow_private can only be turned off. Returns 0, or
 * AG_ETASK with a message naming the field ("net.hosts[2] must be a
 * string", "allow_hosts: \"evil.example\" is not allowed by the tool's own
 * policy (hosts: example.org)"). */
int ag_broker_policy(const cJSON *policy, const cJSON *task_opts,
                     struct ag_tool_net *out, char *err, size_t errlen);
void ag_broker_policy_free(struct ag_tool_net *p);

/* The checks, exposed for tests. Each returns 0 when allowed, or AG_EPOLICY
 * with the reason in why. */
int ag_broker_check_url(const struct ag_net_policy *p, const char *method,
                        const char *url, size_t body_len, char *host,
                        size_t hostlen, char *why, size_t whylen);
int ag_broker_check_addr(const struct ag_net_policy *p, const char *host,
                         const struct sockaddr *sa, char *why, size_t whylen);
/* 1 when a host matches a pattern ("*", "*.example.org", exact; case
 * does not matter). */
int ag_broker_host_match(const char *pattern, const char *host);

struct ag_rt;
struct ag_agent;
struct ag_tool;
struct ag_broker_call;

/* One tool call's dealings with the broker; owned by the caller. */
struct ag_broker_ctx {
    struct ag_rt *rt;
    struct ag_agent *agent;
    const struct ag_tool *tool;
    const char *call_id;
    int requests; /* made so far in this call */
    int network;  /* something came back from the network (taint) */
    struct ag_broker_call *inflight;
};

/* Called once per request: value_json on success (the JSON the tool gets),
 * else error (a message for the tool). */
typedef void (*ag_broker_done)(void *ud, const char *value_json,
                               const char *error);

/* Handles a worker's rpc (op "http" or "smtp"; "log" is the caller's).
 * Returns 0 (done will be called, never from inside) or a negative code
 * (it will not). */
int ag_broker_rpc(struct ag_broker_ctx *c, const char *op, const cJSON *params,
                  ag_broker_done done, void *ud);

/* Stops what is in flight for this call; its done is not called. */
void ag_broker_cancel(struct ag_broker_ctx *c);

#endif
