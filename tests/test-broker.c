/*
 * test-broker.c: unit tests of the broker's policy (broker.h): the
 * effective policy that ag_broker_policy builds from a tool's declared
 * policy and its task's options (defaults, malformed fields, narrowing that
 * never widens, the options kept from the tool's code), and the checks made
 * on every request: host patterns, the URL (scheme, host, port, method,
 * body size) and the address actually connected to (loopback, private,
 * link-local, metadata and the like, refused unless the policy allows
 * them). Policies are written here as JSON, as the runtime passes them.
 * The mail parts are tested in test-mime.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <cjson/cJSON.h>

#include "ag.h"
#include "broker.h"
#include "tap.h"

/* ---- helpers ------------------------------------------------------------- */

static char errbuf[512], why[512], host[256];

/* ag_broker_policy on JSON texts (either may be NULL); err in errbuf. */
static int policy(const char *policy_json, const char *opts_json,
                  struct ag_tool_net *out)
{
    cJSON *p = policy_json ? cJSON_Parse(policy_json) : NULL;
    cJSON *o = opts_json ? cJSON_Parse(opts_json) : NULL;
    int rc;

    if ((policy_json && !p) || (opts_json && !o)) {
        tap_diag("a test's JSON does not parse");
        memset(out, 0, sizeof *out);
        cJSON_Delete(p);
        cJSON_Delete(o);
        return -EINVAL;
    }
    errbuf[0] = '\0';
    rc = ag_broker_policy(p, o, out, errbuf, sizeof errbuf);
    cJSON_Delete(p);
    cJSON_Delete(o);
    return rc;
}

/* Checks that a policy is refused with a message containing want. */
static void policy_refused(const char *policy_json, const char *opts_json,
                           const char *want, const char *name)
{
    struct ag_tool_net t;
    char label[200];

    snprintf(label, sizeof label, "refused: %s", name);
    is_int(policy(policy_json, opts_json, &t), AG_ETASK, label);
    snprintf(label, sizeof label, "... saying \"%s\"", want);
    has_str(errbuf, want, label);
    ag_broker_policy_free(&t);
}

static int check_url(const struct ag_net_policy *p, const char *method,
                     const char *url, size_t body_len)
{
    why[0] = host[0] = '\0';
    return ag_broker_check_url(p, method, url, body_len, host, sizeof host, why,
                               sizeof why);
}

/* ag_broker_check_addr with ip (IPv4 or IPv6 text) as the address. */
static int check_addr(const struct ag_net_policy *p, const char *h,
                      const char *ip)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;

    memset(&ss, 0, sizeof ss);
    why[0] = '\0';
    if (strchr(ip, ':')) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons(443);
        if (inet_pton(AF_INET6, ip, &a6->sin6_addr) != 1)
            return -EINVAL;
    } else {
        a4->sin_family = AF_INET;
        a4->sin_port = htons(443);
        if (inet_pton(AF_INET, ip, &a4->sin_addr) != 1)
            return -EINVAL;
    }
    return ag_broker_check_addr(p, h, (struct sockaddr *)&ss, why, sizeof why);
}

/* ---- host patterns ------------------------------------------------------- */

static void test_host_match(void)
{
    static const struct {
        const char *pattern, *host;
        int want;
    } cases[] = {
        {"*", "example.org", 1},
        {"*", "127.0.0.1", 1},
        {"*.example.org", "www.example.org", 1},
        {"*.example.org", "a.b.example.org", 1},
        {"*.example.org", "WWW.Example.ORG", 1},
        {"*.EXAMPLE.org", "www.example.org", 1},
        {"*.example.org", "example.org", 0},
        {"*.example.org", "evilexample.org", 0},
        {"*.example.org", "www.example.org.evil.test", 0},
        {"*.example.org", ".example.org", 0},
        {"example.org", "example.org", 1},
        {"example.org", "EXAMPLE.Org", 1},
        {"Example.ORG", "example.org", 1},
        {"example.org", "www.example.org", 0},
        {"example.org", "example.org.evil.test", 0},
        {"example.org", "example.or", 0},
        {"example.org", "", 0},
    };
    size_t i;

    for (i = 0; i < AG_ARRAY_SIZE(cases); i++) {
        char label[200];
        snprintf(label, sizeof label, "host pattern %s %s %s", cases[i].pattern,
                 cases[i].want ? "matches" : "does not match",
                 cases[i].host[0] ? cases[i].host : "(empty)");
        is_int(ag_broker_host_match(cases[i].pattern, cases[i].host),
               cases[i].want, label);
    }
}

/* ---- the effective policy ------------------------------------------------ */

static void test_policy(void)
{
    struct ag_tool_net t;

    is_int(policy(NULL, NULL, &t), 0, "no policy, no options: accepted");
    ok(!t.net.declared && !t.smtp.declared, "... no network, no mail");
    is_str(t.options, "{}", "... and empty options");
    ag_broker_policy_free(&t);

    is_int(policy("{\"net\":{\"hosts\":[\"example.org\"]}}", NULL, &t), 0,
           "a net policy with hosts only");
    ok(t.net.declared && t.net.nhosts == 1 &&
           strcmp(t.net.hosts[0], "example.org") == 0,
       "... declared, with its host");
    ok(t.net.http && t.net.https, "... http and https by default");
    is_int(t.net.nports, 0, "... any port by default");
    ok(t.net.nmethods == 2 && strcmp(t.net.methods[0], "GET") == 0 &&
           strcmp(t.net.methods[1], "HEAD") == 0,
       "... GET and HEAD by default");
    is_int(t.net.max_request, 65536, "... max_request 64 KiB by default");
    is_int(t.net.max_response, 2 << 20, "... max_response 2 MiB by default");
    is_int(t.net.max_requests, 10, "... max_requests 10 by default");
    is_int(t.net.allow_private, 0, "... private only to hosts named exactly");
    ag_broker_policy_free(&t);

    is_int(policy("{\"net\":{\"hosts\":[\"*\"],\"schemes\":[\"https\"],"
                  "\"ports\":[443,8443],\"methods\":[\"get\",\"Post\"],"
                  "\"max_request\":100,\"max_response\":1000,"
                  "\"max_requests\":3,\"allow_private\":true}}",
                  NULL, &t),
           0, "a net policy with every field");
    ok(!t.net.http && t.net.https, "... https only");
    ok(t.net.nports == 2 && t.net.ports[0] == 443 && t.net.ports[1] == 8443,
       "... its ports");
    ok(t.net.nmethods == 2 && strcmp(t.net.methods[0], "GET") == 0 &&
           strcmp(t.net.methods[1], "POST") == 0,
       "... methods upper-cased");
    ok(t.net.max_request == 100 && t.net.max_response == 1000 &&
           t.net.max_requests == 3,
       "... its limits");
    is_int(t.net.allow_private, 1, "... allow_private true");
    ag_broker_policy_free(&t);

    is_int(policy("{\"net\":{\"hosts\":[\"*\"],\"allow_private\":false}}", NULL,
                  &t),
           0, "allow_private false");
    is_int(t.net.allow_private, -1, "... private never");
    ag_broker_policy_free(&t);

    policy_refused("{\"net\":true}", NULL, "policy.net must be a table",
                   "net not a table");
    policy_refused("{\"net\":{\"hosts\":\"example.org\"}}", NULL,
                   "policy.net.hosts must be a list of strings",
                   "hosts not a list");
    policy_refused("{\"net\":{\"hosts\":[\"example.org\",3]}}", NULL,
                   "policy.net.hosts[2] must be a non-empty string",
                   "a host not a string");
    policy_refused("{\"net\":{\"hosts\":[\"\"]}}", NULL,
                   "policy.net.hosts[1] must be a non-empty string",
                   "an empty host");
    policy_refused("{\"net\":{\"schemes\":[\"https\",\"ftp\"]}}", NULL,
                   "policy.net.schemes[2] must be http or https",
                   "an ftp scheme");
    policy_refused("{\"net\":{\"ports\":[80,0]}}", NULL,
                   "policy.net.ports[2] must be a port", "port 0");
    policy_refused("{\"net\":{\"ports\":[65536]}}", NULL,
                   "policy.net.ports[1] must be a port", "port 65536");
    policy_refused("{\"net\":{\"max_response\":-1}}", NULL,
                   "policy.net.max_response must be a positive number",
                   "a negative limit");
    policy_refused("{\"net\":{\"max_requests\":\"5\"}}", NULL,
                   "policy.net.max_requests must be a positive number",
                   "a limit as a string");

    is_int(policy("{\"net\":{\"hosts\":3}}", "{\"url\":\"x\"}", &t), AG_ETASK,
           "a refused policy");
    ok(t.options != NULL && t.net.hosts == NULL,
       "... leaves options set and nothing else to free");
    ag_broker_policy_free(&t);
    ag_broker_policy_free(&t);
    ag_broker_policy_free(NULL);
    ok(1, "ag_broker_policy_free twice, and on NULL, is harmless");
}

/* ---- narrowing by the task's options ------------------------------------- */

#define TOOL_HOSTS "{\"net\":{\"hosts\":[\"example.org\",\"*.example.net\"]}}"

static void test_narrowing(void)
{
    static const char tool_limits[] =
        "{\"net\":{\"hosts\":[\"*\"],\"max_response\":1000,"
        "\"max_requests\":5,\"max_request\":100}}";
    struct ag_tool_net t;

    is_int(policy(TOOL_HOSTS, "{\"allow_hosts\":[\"www.example.net\"]}", &t), 0,
           "allow_hosts within a wildcard of the tool");
    ok(t.net.nhosts == 1 && strcmp(t.net.hosts[0], "www.example.net") == 0,
       "... replaces the tool's hosts");
    is_int(check_url(&t.net, "GET", "https://www.example.net/", 0), 0,
           "... the host named is allowed");
    is_int(check_url(&t.net, "GET", "https://example.org/", 0), AG_EPOLICY,
           "... the tool's other hosts are not");
    is_int(check_url(&t.net, "GET", "https://a.example.net/", 0), AG_EPOLICY,
           "... nor the rest of the wildcard");
    ag_broker_policy_free(&t);

    is_int(policy(TOOL_HOSTS, "{\"allow_hosts\":[\"EXAMPLE.ORG\"]}", &t), 0,
           "allow_hosts matches the tool's exact host in any case");
    ag_broker_policy_free(&t);
    is_int(policy(TOOL_HOSTS, "{\"allow_hosts\":[\"*.example.net\"]}", &t), 0,
           "allow_hosts may repeat the tool's wildcard");
    ag_broker_policy_free(&t);
    is_int(policy(TOOL_HOSTS, "{\"allow_hosts\":[\"*.a.example.net\"]}", &t), 0,
           "allow_hosts may name a narrower wildcard");
    ag_broker_policy_free(&t);
    is_int(policy("{\"net\":{\"hosts\":[\"*\"]}}",
                  "{\"allow_hosts\":[\"anything.test\",\"*.x.test\"]}", &t),
           0, "a tool allowing * allows any allow_hosts");
    ag_broker_policy_free(&t);

    policy_refused(TOOL_HOSTS, "{\"allow_hosts\":[\"evil.example\"]}",
                   "allow_hosts: \"evil.example\" is not allowed by the "
                   "tool's own policy",
                   "allow_hosts naming a host the tool does not allow");
    policy_refused(TOOL_HOSTS,
                   "{\"allow_hosts\":[\"example.org\",\"example.net\"]}",
                   "\"example.net\" is not allowed",
                   "allow_hosts naming the bare domain of a wildcard");
    policy_refused(TOOL_HOSTS, "{\"allow_hosts\":[\"*\"]}",
                   "\"*\" is not allowed", "allow_hosts * past the tool's");
    policy_refused(TOOL_HOSTS, "{\"allow_hosts\":[\"*.net\"]}",
                   "\"*.net\" is not allowed",
                   "allow_hosts with a wider wildcard");
    policy_refused(TOOL_HOSTS, "{\"allow_hosts\":\"example.org\"}",
                   "allow_hosts must be a list of strings",
                   "allow_hosts not a list");

    is_int(policy(tool_limits, "{\"max_response\":500,\"max_requests\":2}", &t),
           0, "lower limits from the task");
    ok(t.net.max_response == 500 && t.net.max_requests == 2, "... are taken");
    ag_broker_policy_free(&t);
    is_int(policy(tool_limits,
                  "{\"max_response\":5000,\"max_requests\":50,"
                  "\"max_request\":1000}",
                  &t),
           0, "higher limits from the task");
    ok(t.net.max_response == 1000 && t.net.max_requests == 5 &&
           t.net.max_request == 100,
       "... are ignored: limits only go down");
    ag_broker_policy_free(&t);
    policy_refused(tool_limits, "{\"max_response\":0}",
                   "max_response must be a positive number",
                   "a task limit of 0");

    is_int(policy("{\"net\":{\"hosts\":[\"*\"],\"allow_private\":true}}",
                  "{\"allow_private\":false}", &t),
           0, "allow_private false over the tool's true");
    is_int(t.net.allow_private, -1, "... turns it off");
    ag_broker_policy_free(&t);
    is_int(policy("{\"net\":{\"hosts\":[\"*\"],\"allow_private\":true}}",
                  "{\"allow_private\":true}", &t),
           0, "allow_private true over the tool's true");
    is_int(t.net.allow_private, 1, "... keeps it on");
    ag_broker_policy_free(&t);
    is_int(
        policy("{\"net\":{\"hosts\":[\"*\"]}}", "{\"allow_private\":true}", &t),
        0, "allow_private true over a tool that does not say");
    is_int(t.net.allow_private, 0, "... does not turn it on");
    ag_broker_policy_free(&t);
    is_int(policy("{\"net\":{\"hosts\":[\"*\"],\"allow_private\":false}}",
                  "{\"allow_private\":true}", &t),
           0, "allow_private true over the tool's false");
    is_int(t.net.allow_private, -1, "... stays off");
    ag_broker_policy_free(&t);
    policy_refused("{\"net\":{\"hosts\":[\"*\"]}}", "{\"allow_private\":1}",
                   "allow_private must be true or false",
                   "allow_private not a boolean");
}

/* ---- mail policy and the options the tool sees --------------------------- */

static void test_smtp_and_options(void)
{
    struct ag_tool_net t;

    is_int(policy("{\"net\":{\"hosts\":[\"example.org\"]},"
                  "\"smtp\":{\"max_recipients\":5}}",
                  "{\"allow_hosts\":[\"example.org\"],\"allow_private\":false,"
                  "\"max_response\":10,\"max_requests\":1,"
                  "\"relay\":\"smtp://127.0.0.1:2525\","
                  "\"from\":\"a@example.org\",\"username\":\"agent\","
                  "\"password\":\"s3cret\","
                  "\"allow_domains\":[\"example.org\"],\"timeout\":5,"
                  "\"memory\":1000000,\"output\":1000,\"max_recipients\":2,"
                  "\"instructions\":\"be brief\",\"isolation\":\"process\","
                  "\"url\":\"http://127.0.0.1:8090\",\"lang\":\"en\"}",
                  &t),
           0, "a task with every private option and two of the tool's own");
    is_str(t.options, "{\"url\":\"http://127.0.0.1:8090\",\"lang\":\"en\"}",
           "only the tool's own options reach its code");
    ok(t.options && !strstr(t.options, "s3cret") &&
           !strstr(t.options, "2525") && !strstr(t.options, "allow_"),
       "... no credentials, relay or policy in them");
    ok(t.smtp.declared && t.smtp.relay &&
           strcmp(t.smtp.relay, "smtp://127.0.0.1:2525") == 0 &&
           t.smtp.password && strcmp(t.smtp.password, "s3cret") == 0 &&
           t.smtp.from && strcmp(t.smtp.from, "a@example.org") == 0,
       "the relay, sender and credentials stay with the broker");
    ok(t.smtp.ndomains == 1 && strcmp(t.smtp.domains[0], "example.org") == 0,
       "... with the recipients' domains");
    is_int(t.smtp.max_recipients, 2, "max_recipients goes down");
    ag_broker_policy_free(&t);

    is_int(policy("{\"smtp\":{}}", "{\"max_recipients\":50}", &t), 0,
           "an smtp policy with defaults");
    ok(t.smtp.max_recipients == 10 && t.smtp.max_bytes == 1u << 20,
       "... 10 recipients, 1 MiB; a higher task limit is ignored");
    ok(!t.net.declared, "... and no network without a net policy");
    ag_broker_policy_free(&t);

    policy_refused("{\"smtp\":{}}", "{\"relay\":\"http://127.0.0.1:25\"}",
                   "relay must start with smtp:// or smtps://",
                   "an http relay");
    policy_refused("{\"smtp\":{}}", "{\"relay\":\"smtp://u:pw@127.0.0.1:25\"}",
                   "relay must not hold credentials", "a relay with userinfo");
    policy_refused("{\"smtp\":{}}", "{\"password\":42}",
                   "password must be a string", "a password not a string");
}

/* ---- the URL check ------------------------------------------------------- */

static void test_check_url(void)
{
    struct ag_net_policy none;
    struct ag_tool_net t;

    memset(&none, 0, sizeof none);
    is_int(check_url(&none, "GET", "https://example.org/", 0), AG_EPOLICY,
           "no net policy: refused");
    has_str(why, "may not use the network", "... saying so");

    policy(TOOL_HOSTS, NULL, &t);
    is_int(check_url(&t.net, "GET", "https://example.org/a?b=c", 0), 0,
           "an exact host: allowed");
    is_str(host, "example.org", "... its host given back");
    is_int(check_url(&t.net, "HEAD", "http://example.org:8080/", 0), 0,
           "http, HEAD, any port by default: allowed");
    is_int(check_url(&t.net, "GET", "https://a.b.example.net/", 0), 0,
           "a host under a wildcard: allowed");
    is_int(check_url(&t.net, "GET", "https://EXAMPLE.org/", 0), 0,
           "a host in other case: allowed");
    is_int(check_url(&t.net, "GET", "https://example.net/", 0), AG_EPOLICY,
           "the bare domain of a wildcard: refused");
    is_str(why, "host example.net is not allowed", "... naming the host");
    is_int(check_url(&t.net, "GET", "https://evil.example/", 0), AG_EPOLICY,
           "another host: refused");
    is_int(check_url(&t.net, "GET", "https://example.org@evil.example/", 0),
           AG_EPOLICY, "a user part that looks like the host: refused");
    has_str(why, "evil.example", "... naming the real host");
    is_int(check_url(&t.net, "GET", "https://example.org.evil.example/", 0),
           AG_EPOLICY, "an allowed host as a prefix: refused");
    is_int(check_url(&t.net, "GET", "https://evil.example/?example.org", 0),
           AG_EPOLICY, "an allowed host in the query: refused");
    is_int(check_url(&t.net, "GET", "ftp://example.org/", 0), AG_EPOLICY,
           "ftp: refused");
    has_str(why, "ftp", "... naming it");
    is_int(check_url(&t.net, "GET", "not a url", 0), AG_EPOLICY,
           "not a URL: refused");
    has_str(why, "not a valid URL", "... saying so");
    is_int(check_url(&t.net, "POST", "https://example.org/", 10), AG_EPOLICY,
           "POST, not in the default methods: refused");
    is_str(why, "method POST is not allowed", "... naming the method");
    ag_broker_policy_free(&t);

    policy("{\"net\":{\"hosts\":[\"example.org\"],\"schemes\":[\"https\"],"
           "\"ports\":[443,8443],\"methods\":[\"GET\",\"POST\"],"
           "\"max_request\":10}}",
           NULL, &t);
    is_int(check_url(&t.net, "GET", "https://example.org/", 0), 0,
           "https on its default port 443: allowed");
    is_int(check_url(&t.net, "GET", "https://example.org:8443/", 0), 0,
           "a listed port: allowed");
    is_int(check_url(&t.net, "GET", "https://example.org:8080/", 0), AG_EPOLICY,
           "a port not listed: refused");
    is_str(why, "port 8080 is not allowed", "... naming the port");
    is_int(check_url(&t.net, "GET", "http://example.org:443/", 0), AG_EPOLICY,
           "http when only https is allowed: refused");
    is_str(why, "scheme http is not allowed", "... naming the scheme");
    is_int(check_url(&t.net, "POST", "https://example.org/", 10), 0,
           "POST with a body at the limit: allowed");
    is_int(check_url(&t.net, "POST", "https://example.org/", 11), AG_EPOLICY,
           "a body past max_request: refused");
    is_str(why, "request body of 11 bytes is over the 10 allowed",
           "... with both sizes");
    is_int(check_url(&t.net, "DELETE", "https://example.org/", 0), AG_EPOLICY,
           "a method not listed: refused");
    ag_broker_policy_free(&t);

    policy("{\"net\":{}}", NULL, &t);
    is_int(check_url(&t.net, "GET", "https://example.org/", 0), AG_EPOLICY,
           "a net policy without hosts: every host refused");
    ag_broker_policy_free(&t);
}

/* ---- the address check --------------------------------------------------- */

static void test_check_addr(void)
{
    static const struct {
        const char *ip, *kind;
    } private[] = {
        /* IPv4-mapped addresses are judged by the IPv4 address they
         * carry (the bytes are copied out, never read through a cast) */
        {"127.0.0.1", "(loopback)"},
        {"127.1.2.3", "(loopback)"},
        {"::1", "(loopback)"},
        {"10.1.2.3", "(private)"},
        {"172.16.0.1", "(private)"},
        {"172.31.255.254", "(private)"},
        {"192.168.1.1", "(private)"},
        {"169.254.169.254", "(cloud metadata)"},
        {"169.254.1.1", "(link-local)"},
        {"fe80::1", "(link-local)"},
        {"fc00::1", "(private (unique local))"},
        {"fd12:3456::1", "(private (unique local))"},
        {"::ffff:127.0.0.1", "(loopback)"},
        {"::ffff:169.254.169.254", "(cloud metadata)"},
        {"::ffff:10.0.0.1", "(private)"},
        {"100.64.0.1", "(shared (carrier-grade NAT))"},
        {"100.127.255.254", "(shared (carrier-grade NAT))"},
        {"0.0.0.0", "(unspecified)"},
        {"::", "(unspecified)"},
        {"224.0.0.1", "(multicast or reserved)"},
        {"239.255.255.250", "(multicast or reserved)"},
        {"255.255.255.255", "(multicast or reserved)"},
        {"ff02::1", "(multicast)"},
        {"64:ff9b::a9fe:a9fe", "(NAT64)"},
    };
    static const char *const public[] = {
        "93.184.216.34",        "8.8.8.8",
        "172.15.255.254",       "172.32.0.1",
        "192.169.0.1",          "100.63.255.254",
        "100.128.0.1",          "223.255.255.1",
        "2606:4700::1111",      "2001:4860:4860::8888",
        "::ffff:93.184.216.34",
    };
    struct ag_tool_net any, named, never, always;
    struct sockaddr_un un;
    char label[200];
    size_t i;
    int n;

    policy("{\"net\":{\"hosts\":[\"*\"]}}", NULL, &any);
    policy("{\"net\":{\"hosts\":[\"localhost\",\"10.0.0.5\",\"*.lan\"]}}", NULL,
           &named);
    policy("{\"net\":{\"hosts\":[\"localhost\"],\"allow_private\":false}}",
           NULL, &never);
    policy("{\"net\":{\"hosts\":[\"*\"],\"allow_private\":true}}", NULL,
           &always);

    for (i = 0; i < AG_ARRAY_SIZE(private); i++) {
        snprintf(label, sizeof label, "%s refused under hosts *",
                 private[i].ip);
        is_int(check_addr(&any.net, "x.test", private[i].ip), AG_EPOLICY,
               label);
        if (!private[i].kind)
            continue;
        snprintf(label, sizeof label, "... as: %s", private[i].kind);
        has_str(why, private[i].kind, label);
    }
    is_int(check_addr(&any.net, "evil.test", "169.254.169.254"), AG_EPOLICY,
           "a name resolving to the metadata address");
    is_str(why, "evil.test resolves to 169.254.169.254 (cloud metadata)",
           "... names the host, the address and its kind");

    for (i = 0, n = 0; i < AG_ARRAY_SIZE(public); i++) {
        int allowed = check_addr(&never.net, "x.test", public[i]) == 0 &&
                      check_addr(&any.net, "x.test", public[i]) == 0;
        if (!allowed)
            tap_diag(public[i]);
        n += allowed;
    }
    is_int(n, (int)AG_ARRAY_SIZE(public),
           "public addresses allowed, even with allow_private false");

    is_int(check_addr(&named.net, "localhost", "127.0.0.1"), 0,
           "a host named exactly may be loopback");
    is_int(check_addr(&named.net, "LocalHost", "::1"), 0,
           "... in any case, over IPv6 too");
    is_int(check_addr(&named.net, "10.0.0.5", "10.0.0.5"), 0,
           "a private address named exactly");
    is_int(check_addr(&named.net, "printer.lan", "192.168.1.20"), AG_EPOLICY,
           "a host under a wildcard may not be private");
    is_int(check_addr(&named.net, "evil.test", "127.0.0.1"), AG_EPOLICY,
           "a host not named may not be private");
    is_int(check_addr(&any.net, "localhost", "127.0.0.1"), AG_EPOLICY,
           "hosts * does not name localhost");
    is_int(check_addr(&never.net, "localhost", "127.0.0.1"), AG_EPOLICY,
           "allow_private false: not even a host named exactly");
    for (i = 0, n = 0; i < AG_ARRAY_SIZE(private); i++)
        n += check_addr(&always.net, "x.test", private[i].ip) == 0;
    is_int(n, (int)AG_ARRAY_SIZE(private),
           "allow_private true: every private address allowed");

    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    is_int(ag_broker_check_addr(&any.net, "x.test", (struct sockaddr *)&un, why,
                                sizeof why),
           AG_EPOLICY, "a Unix socket address refused");
    has_str(why, "not an internet address", "... as not internet");

    ag_broker_policy_free(&any);
    ag_broker_policy_free(&named);
    ag_broker_policy_free(&never);
    ag_broker_policy_free(&always);

    /* the task's allow_private false reaches the address check */
    policy("{\"net\":{\"hosts\":[\"127.0.0.1\"]}}", "{\"allow_private\":false}",
           &named);
    is_int(check_addr(&named.net, "127.0.0.1", "127.0.0.1"), AG_EPOLICY,
           "the task's allow_private false refuses a host the tool names");
    ag_broker_policy_free(&named);
}

int main(void)
{
    test_host_match();
    test_policy();
    test_narrowing();
    test_smtp_and_options();
    test_check_url();
    test_check_addr();
    return tap_done();
}
