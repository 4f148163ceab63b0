/*
 * test-otel.c: the OpenTelemetry exporter (audit-otel.c) on real audit logs:
 * made by `$AGENT run` on offline tasks when AGENT is set (hello, calc and
 * tests/data/otel/broken.lua, which fails on purpose), else kept in
 * tests/data/otel with the model retries and the dead endpoint (made once
 * with tests/standin). Each export is checked against the log, read here
 * independently: ids, one root per run as every child's parent, times
 * inside the root, a chat span per model call and an execute_tool span per
 * tool call, gen_ai.* attributes, statuses. Logs written here, with a real
 * hash chain, add a crash, a torn last line, missing records, bad lines.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ag.h"
#include "audit-otel.h"
#include "audit.h"
#include "json.h"
#include "tap.h"

static char tmp[] = "/tmp/test-otel.XXXXXX";

/* A check's name "NAME: what", in the caller's buffer t. */
#define NAMED(...)                                                             \
    (snprintf(t, sizeof t, "%s: ", name),                                      \
     snprintf(t + strlen(t), sizeof t - strlen(t), __VA_ARGS__), t)
static const char *srcdir;

/* ---- helpers ----------------------------------------------------------- */

/* Exports path (run may be NULL); returns the text or NULL with *rc set. */
static char *export_text(const char *path, const char *run, int *rc, char *err,
                         size_t errlen)
{
    char *text = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&text, &n);

    *rc = ag_otel_export(path, f, run, err, errlen);
    fclose(f);
    if (*rc == 0)
        return text;
    free(text);
    return NULL;
}

/* The first element of an array or object (NULL-safe). */
static cJSON *first(const cJSON *v)
{
    return v ? v->child : NULL;
}

static int streq(const char *a, const char *b)
{
    return a && b && strcmp(a, b) == 0;
}

static cJSON *spans_of(cJSON *doc)
{
    cJSON *rs =
        cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "resourceSpans"), 0);
    cJSON *ss = cJSON_GetArrayItem(cJSON_GetObjectItem(rs, "scopeSpans"), 0);

    return cJSON_GetObjectItem(ss, "spans");
}

static const cJSON *attr(const cJSON *span, const char *key)
{
    const cJSON *a;

    for (a = first(cJSON_GetObjectItem(span, "attributes")); a; a = a->next)
        if (streq(ag_json_str(a, "key"), key))
            return cJSON_GetObjectItem(a, "value");
    return NULL;
}

static const char *attr_s(const cJSON *span, const char *key)
{
    return ag_json_str(attr(span, key), "stringValue");
}

/* An intValue (a decimal string), or -1. */
static long long attr_i(const cJSON *span, const char *key)
{
    const char *s = ag_json_str(attr(span, key), "intValue");

    return s && *s && !s[strspn(s, "-0123456789")] ? strtoll(s, NULL, 10) : -1;
}

/* The first of gen_ai.response.finish_reasons, or NULL. */
static const char *finish0(const cJSON *span)
{
    const cJSON *v = cJSON_GetObjectItem(
        attr(span, "gen_ai.response.finish_reasons"), "arrayValue");

    return ag_json_str(cJSON_GetArrayItem(cJSON_GetObjectItem(v, "values"), 0),
                       "stringValue");
}

static uint64_t span_ns(const cJSON *span, const char *key)
{
    const char *s = ag_json_str(span, key);

    return s ? strtoull(s, NULL, 10) : 0;
}

static int hex_id(const char *s, size_t n)
{
    return s && strlen(s) == n && strspn(s, "0123456789abcdef") == n &&
           strspn(s, "0") != n;
}

static int status_code(const cJSON *span)
{
    return (int)ag_json_num(cJSON_GetObjectItem(span, "status"), "code", -1);
}

static const char *status_msg(const cJSON *span)
{
    return ag_json_str(cJSON_GetObjectItem(span, "status"), "message");
}

/* The n-th span (from 0) whose name starts with prefix, or NULL. */
static cJSON *span_named(cJSON *spans, const char *prefix, int n)
{
    cJSON *s;

    for (s = first(spans); s; s = s->next)
        if (strncmp(ag_json_str(s, "name"), prefix, strlen(prefix)) == 0 &&
            n-- == 0)
            return s;
    return NULL;
}

static int count_events(const cJSON *span, const char *name)
{
    const cJSON *e;
    int n = 0;

    for (e = first(cJSON_GetObjectItem(span, "events")); e; e = e->next)
        n += streq(ag_json_str(e, "name"), name);
    return n;
}

/* RFC 3339 UTC with a fraction, to nanoseconds (the test's own reading). */
static uint64_t ts_ns(const char *ts)
{
    struct tm tm = {0};
    const char *p = strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm);
    uint64_t frac = 0;
    int nd = 0;

    if (!p)
        return 0;
    for (p += *p == '.'; *p >= '0' && *p <= '9'; p++, nd++)
        frac = frac * 10 + (uint64_t)(*p - '0');
    for (; nd < 9; nd++)
        frac *= 10;
    return (uint64_t)timegm(&tm) * 1000000000u + frac;
}

/* ---- what a log says --------------------------------------------------- */

struct facts {
    char run[64], task[64], outcome[32], reason[256];
    int requests, responses, violations, ended;
    int ncalls, nresults;
    char calls[64][48];    /* distinct call ids of tool.call and tool.result */
    char results_[64][48]; /* call ids of tool.result */
    long long tin, tout;
    uint64_t start, end;
};

static void add_call(struct facts *x, const char *id, int result)
{
    int seen = 0;

    for (int i = 0; id && i < x->ncalls; i++)
        seen |= strcmp(x->calls[i], id) == 0;
    if (id && !seen && x->ncalls < 64)
        snprintf(x->calls[x->ncalls++], sizeof x->calls[0], "%s", id);
    if (id && result && x->nresults < 64)
        snprintf(x->results_[x->nresults++], sizeof x->results_[0], "%s", id);
}

/* Reads the runs of a log (at most max). Returns how many, or -1. */
static int read_facts(const char *path, struct facts *fs, int max)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    int n = 0;

    if (!f)
        return -1;
    while (getline(&line, &cap, f) > 0) {
        cJSON *r = cJSON_Parse(line), *d;
        const char *type, *id;
        struct facts *x = NULL;

        type = ag_json_str(r, "type"), id = ag_json_str(r, "run");
        if (!type || !id) {
            cJSON_Delete(r);
            continue;
        }
        d = cJSON_GetObjectItem(r, "data");
        for (int i = 0; i < n; i++)
            if (strcmp(fs[i].run, id) == 0)
                x = &fs[i];
        if (!x && n < max) {
            x = &fs[n++];
            memset(x, 0, sizeof *x);
            snprintf(x->run, sizeof x->run, "%s", id);
            x->start = ts_ns(ag_json_str(r, "ts"));
        }
        if (x && !x->ended) {
            x->end = ts_ns(ag_json_str(r, "ts"));
            x->requests += strcmp(type, "llm.request") == 0;
            x->responses += strcmp(type, "llm.response") == 0;
            if (strncmp(type, "tool.", 5) == 0)
                add_call(x, ag_json_str(d, "call_id"),
                         strcmp(type, "tool.result") == 0);
            x->violations += strcmp(type, "violation") == 0;
            if (strcmp(type, "run.start") == 0)
                snprintf(x->task, sizeof x->task, "%s", ag_json_str(d, "task"));
            if (strcmp(type, "run.end") == 0) {
                x->ended = 1;
                snprintf(x->outcome, sizeof x->outcome, "%s",
                         ag_json_str(d, "outcome"));
                snprintf(x->reason, sizeof x->reason, "%s",
                         ag_json_str(d, "reason"));
                x->tin = (long long)ag_json_num(d, "tokens_in", -1);
                x->tout = (long long)ag_json_num(d, "tokens_out", -1);
            }
        }
        cJSON_Delete(r);
    }
    free(line);
    fclose(f);
    return n;
}

/* ---- the structure of an export ---------------------------------------- */

#define CHECK(cond, what)                                                      \
    do {                                                                       \
        if (!(cond) && good)                                                   \
            good = 0,                                                          \
            snprintf(why, sizeof why, "%s: %s", what, ag_json_str(s, "name")); \
    } while (0)

/* Checks one run's trace against what its log says. */
static void check_run(const char *name, cJSON *spans, const struct facts *x)
{
    char t[160], why[200] = "";
    int good = 1, roots = 0, chats = 0, answered = 0, tools = 0, once = 1;
    const cJSON *s, *root = NULL;

    for (s = first(spans); s; s = s->next)
        if (streq(ag_json_str(s, "traceId"), x->run) &&
            !cJSON_GetObjectItem(s, "parentSpanId"))
            root = s, roots++;
    is_int(roots, 1, NAMED("one root span in trace %.8s", x->run));
    if (!root)
        return;
    s = root;
    snprintf(t, sizeof t, "invoke_agent %s", x->task);
    CHECK(streq(ag_json_str(s, "name"), t), "root name");
    CHECK(ag_json_num(s, "kind", 0) == 1, "root kind INTERNAL");
    CHECK(streq(attr_s(s, "gen_ai.operation.name"), "invoke_agent"),
          "root operation");
    CHECK(streq(attr_s(s, "gen_ai.agent.name"), x->task), "agent name");
    CHECK(attr_s(s, "gen_ai.provider.name") && attr_s(s, "gen_ai.system"),
          "provider");
    CHECK(attr_s(s, "gen_ai.request.model"), "model");
    CHECK(span_ns(s, "startTimeUnixNano") == x->start, "root start");
    CHECK(span_ns(s, "endTimeUnixNano") == x->end, "root end");
    if (x->ended) {
        CHECK(attr_i(s, "gen_ai.usage.input_tokens") == x->tin, "tokens in");
        CHECK(attr_i(s, "gen_ai.usage.output_tokens") == x->tout, "tokens out");
        CHECK(status_code(s) == (strcmp(x->outcome, "done") == 0 ? 1 : 2),
              "root status");
    }
    for (s = first(spans); s; s = s->next) {
        const char *op = attr_s(s, "gen_ai.operation.name");
        uint64_t a = span_ns(s, "startTimeUnixNano");
        uint64_t b = span_ns(s, "endTimeUnixNano");

        if (!streq(ag_json_str(s, "traceId"), x->run) || s == root)
            continue;
        CHECK(
            streq(ag_json_str(s, "parentSpanId"), ag_json_str(root, "spanId")),
            "parent is the root");
        CHECK(a <= b, "start <= end");
        CHECK(a >= span_ns(root, "startTimeUnixNano") &&
                  b <= span_ns(root, "endTimeUnixNano"),
              "inside the root");
        CHECK(status_code(s) == 1 || status_code(s) == 2, "status set");
        CHECK(attr_i(s, "agent.step") >= 0, "agent.step");
        CHECK(op, "operation");
        if (streq(op, "chat")) {
            const cJSON *fr = attr(s, "gen_ai.response.finish_reasons");
            chats++;
            answered += status_code(s) == 1;
            snprintf(t, sizeof t, "chat %s", attr_s(s, "gen_ai.request.model"));
            CHECK(streq(ag_json_str(s, "name"), t), "chat name");
            CHECK(ag_json_num(s, "kind", 0) == 3, "chat kind CLIENT");
            CHECK(status_code(s) == 2 ||
                      (cJSON_IsArray(cJSON_GetObjectItem(
                           cJSON_GetObjectItem(fr, "arrayValue"), "values")) &&
                       attr_i(s, "gen_ai.usage.input_tokens") >= 0 &&
                       attr_i(s, "gen_ai.usage.output_tokens") >= 0),
                  "finish reasons and usage");
        } else if (streq(op, "execute_tool")) {
            tools++;
            snprintf(t, sizeof t, "execute_tool %s",
                     attr_s(s, "gen_ai.tool.name"));
            CHECK(streq(ag_json_str(s, "name"), t), "tool name");
            CHECK(ag_json_num(s, "kind", 0) == 1, "tool kind INTERNAL");
            CHECK(attr_s(s, "gen_ai.tool.call.id"), "call id");
            CHECK(streq(attr_s(s, "gen_ai.tool.type"), "function"),
                  "tool type");
        } else {
            CHECK(0, "unknown operation");
        }
    }
    if (!ok(good, NAMED("root and children well formed")))
        tap_diag(why);
    is_int(chats, x->requests,
           NAMED("one chat span per llm.request (%d)", x->requests));
    is_int(answered, x->responses,
           NAMED("one answered chat span per llm.response (%d)", x->responses));
    is_int(tools, x->ncalls,
           NAMED("one execute_tool span per call id (%d)", x->ncalls));
    for (int i = 0; i < x->nresults; i++) {
        int n = 0;
        for (s = first(spans); s; s = s->next)
            n += streq(ag_json_str(s, "traceId"), x->run) &&
                 streq(attr_s(s, "gen_ai.tool.call.id"), x->results_[i]);
        once &= n == 1;
    }
    ok(once, NAMED("one execute_tool span per tool.result (%d)", x->nresults));
}

/* Exports path and checks it all; returns the document (caller frees). */
static cJSON *check_log(const char *name, const char *path)
{
    struct facts fs[8];
    int n = read_facts(path, fs, 8), rc, good = 1, nspans = 0;
    char err[512], t[160], why[200] = "";
    char *text = export_text(path, NULL, &rc, err, sizeof err);
    cJSON *doc = text ? cJSON_Parse(text) : NULL, *spans;
    const cJSON *s, *o;

    is_int(rc, 0, NAMED("exported"));
    if (rc)
        tap_diag(err);
    ok(doc && strchr(text, '\n') == text + strlen(text) - 1,
       NAMED("one line of JSON"));
    free(text);
    spans = spans_of(doc);
    for (s = first(spans); s; s = s->next) {
        nspans++;
        CHECK(hex_id(ag_json_str(s, "traceId"), 32), "traceId");
        CHECK(hex_id(ag_json_str(s, "spanId"), 16), "spanId");
        CHECK(!cJSON_GetObjectItem(s, "parentSpanId") ||
                  hex_id(ag_json_str(s, "parentSpanId"), 16),
              "parentSpanId");
        for (o = s->next; o; o = o->next)
            CHECK(!streq(ag_json_str(s, "spanId"), ag_json_str(o, "spanId")),
                  "unique spanId");
    }
    if (!ok(good && nspans > 0,
            NAMED("%d spans, ids well formed and unique", nspans)))
        tap_diag(why);
    for (int i = 0; i < n; i++)
        check_run(name, spans, &fs[i]);
    return doc;
}

/* ---- logs made here ----------------------------------------------------- */

/* Writes records with a real hash chain, as audit.h describes them. */
struct logw {
    FILE *f;
    char prev[65];
    unsigned seq;
};

static void rec(struct logw *w, const char *run, int step, const char *ts,
                const char *type, const char *data)
{
    cJSON *r = cJSON_CreateObject();
    struct ag_buf b;
    char hash[65];

    cJSON_AddNumberToObject(r, "agent", 1);
    cJSON_AddItemToObject(r, "data", cJSON_Parse(data));
    cJSON_AddStringToObject(r, "prev", w->prev);
    cJSON_AddStringToObject(r, "run", run);
    cJSON_AddNumberToObject(r, "seq", ++w->seq);
    cJSON_AddNumberToObject(r, "step", step);
    cJSON_AddStringToObject(r, "ts", ts);
    cJSON_AddStringToObject(r, "type", type);
    ag_buf_init(&b, 1u << 20);
    ag_buf_adds(&b, w->prev);
    ag_json_canonical(r, &b);
    ag_sha256_hex(b.data, b.len, hash);
    cJSON_AddStringToObject(r, "hash", hash);
    memcpy(w->prev, hash, 65);
    ag_buf_reset(&b);
    ag_json_canonical(r, &b);
    fprintf(w->f, "%s\n", ag_buf_cstr(&b));
    ag_buf_free(&b);
    cJSON_Delete(r);
}

#define RUN1 "0123456789abcdef0123456789abcdef"
#define T0   "2026-01-02T03:04:05.000001Z"
#define T0NS "1767323045000001000"

/* A run that crashed after a tool call, with a retried model call, a tool
 * result with no call before it, and a violation. */
static void write_crash(const char *path, const char *torn)
{
    struct logw w = {.f = fopen(path, "w"), .prev = AG_AUDIT_GENESIS};

    rec(&w, RUN1, 0, T0, "run.start",
        "{\"task\":\"crash\",\"provider\":\"openai\",\"model\":\"m1\"}");
    rec(&w, RUN1, 0, "2026-01-02T03:04:06Z", "llm.request",
        "{\"provider\":\"openai\",\"model\":\"m1\",\"messages\":1}");
    rec(&w, RUN1, 0, "2026-01-02T03:04:06.5Z", "error",
        "{\"what\":\"llm.attempt\",\"attempt\":1,\"status\":429,"
        "\"message\":\"HTTP 429\",\"retry_in_ms\":100}");
    rec(&w, RUN1, 1, "2026-01-02T03:04:07Z", "llm.response",
        "{\"finish\":\"tool_calls\",\"usage\":{\"input\":10,\"output\":5},"
        "\"text\":\"SECRET-TEXT\",\"attempt\":2}");
    rec(&w, RUN1, 1, "2026-01-02T03:04:08Z", "tool.result",
        "{\"tool\":\"nope\",\"call_id\":\"c0\",\"ok\":false,\"ms\":250,"
        "\"verdict\":\"unknown\",\"error\":\"unknown tool\"}");
    rec(&w, RUN1, 1, "2026-01-02T03:04:09Z", "tool.call",
        "{\"tool\":\"fetch\",\"call_id\":\"c1\",\"arguments\":\"SECRET-"
        "ARGS\"}");
    rec(&w, RUN1, 1, "2026-01-02T03:04:09Z", "approval",
        "{\"tool\":\"fetch\",\"call_id\":\"c1\",\"arguments\":\"SECRET-"
        "ARGS\",\"granted\":true}");
    rec(&w, RUN1, 1, "2026-01-02T03:04:09Z", "tool.result",
        "{\"tool\":\"late\",\"call_id\":\"c2\",\"ok\":true,\"ms\":60000}");
    rec(&w, RUN1, 1, "2026-01-02T03:04:10Z", "violation",
        "{\"tool\":\"fetch\",\"call_id\":\"c1\",\"verdict\":\"seccomp\","
        "\"message\":\"socket() refused\"}");
    if (torn)
        fputs(torn, w.f);
    fclose(w.f);
}

static void test_crash(int torn)
{
    char *p = ag_xasprintf("%s/%s.jsonl", tmp, torn ? "torn" : "crash");
    const char *name = torn ? "torn" : "crash";
    char t[160];
    cJSON *doc, *spans, *root, *chat, *tool, *cut;

    write_crash(p, torn ? "{\"agent\":1,\"data\":{\"tool\":\"fe" : NULL);
    doc = check_log(name, p);
    spans = spans_of(doc);
    root = span_named(spans, "invoke_agent crash", 0);
    chat = span_named(spans, "chat m1", 0);
    tool = span_named(spans, "execute_tool fetch", 0);
    cut = span_named(spans, "execute_tool nope", 0);
    is_str(ag_json_str(root, "traceId"), RUN1, NAMED("traceId is the run id"));
    is_str(ag_json_str(root, "startTimeUnixNano"), T0NS,
           NAMED("root starts at run.start, to the ns"));
    is_str(ag_json_str(root, "endTimeUnixNano"), "1767323050000000000",
           NAMED("root ends at the last record"));
    is_int(status_code(root), 2, NAMED("root failed: the run did not end"));
    has_str(status_msg(root), torn ? "torn line" : "no run.end", t);
    is_str(ag_json_str(tool, "endTimeUnixNano"), "1767323050000000000",
           NAMED("the open tool span ends with the run"));
    is_int(status_code(tool), 2, t);
    is_int(count_events(tool, "violation") + count_events(tool, "approval"), 2,
           NAMED("violation and approval are events of their tool"));
    is_str(ag_json_str(span_named(spans, "execute_tool late", 0),
                       "startTimeUnixNano"),
           T0NS, NAMED("no span starts before the root"));
    is_int(count_events(chat, "error"), 1,
           NAMED("the failed attempt is an event of the chat"));
    is_int(status_code(chat), 1, NAMED("the chat call itself succeeded"));
    is_str(ag_json_str(cut, "startTimeUnixNano"), "1767323047750000000",
           NAMED("a result without a call starts ms before"));
    is_str(attr_s(cut, "error.type"), "unknown",
           NAMED("... and fails with its verdict"));
    has_str(status_msg(cut), "unknown tool", t);
    is_int(attr_i(chat, "agent.step"), 1,
           NAMED("the chat span's step is the response's"));
    {
        char *text = cJSON_PrintUnformatted(doc);
        ok(!strstr(text, "SECRET-TEXT") && !strstr(text, "SECRET-ARGS"),
           NAMED("no content in the export"));
        free(text);
    }
    cJSON_Delete(doc);
    free(p);
}

/* A clock that went backwards (audit.h forbids it; an edited log may not
 * care): spans still end after they start, inside the root. */
static void test_backwards(void)
{
    char *p = ag_xasprintf("%s/back.jsonl", tmp), err[512], *text;
    cJSON *doc, *s, *root;
    struct logw w = {.f = fopen(p, "w"), .prev = AG_AUDIT_GENESIS};
    int rc, good = 1;

    rec(&w, RUN1, 0, "2026-01-02T03:04:09Z", "run.start", "{\"task\":\"b\"}");
    rec(&w, RUN1, 0, "2026-01-02T03:04:08Z", "tool.call",
        "{\"tool\":\"t\",\"call_id\":\"c\"}");
    rec(&w, RUN1, 0, "2026-01-02T03:04:10Z", "tool.result",
        "{\"tool\":\"t\",\"call_id\":\"c\",\"ok\":true}");
    rec(&w, RUN1, 0, "2026-01-02T03:04:07Z", "run.end",
        "{\"outcome\":\"done\"}");
    fclose(w.f);
    text = export_text(p, NULL, &rc, err, sizeof err);
    root = span_named(spans_of(doc = cJSON_Parse(text)), "invoke_agent", 0);
    for (s = first(spans_of(doc)); s; s = s->next)
        good &=
            span_ns(s, "startTimeUnixNano") <= span_ns(s, "endTimeUnixNano") &&
            span_ns(s, "startTimeUnixNano") >=
                span_ns(root, "startTimeUnixNano") &&
            span_ns(s, "endTimeUnixNano") <= span_ns(root, "endTimeUnixNano");
    ok(rc == 0 && root && good, "backwards clock: spans in order, in the root");
    cJSON_Delete(doc);
    free(text);
    free(p);
}

/* Malformed input: the error names the file and the line. */
static void test_malformed(void)
{
    static const struct {
        const char *name, *line2, *want;
    } cases[] = {
        {"malformed (not JSON)", "{\"run\": oops}\n", ":2: not JSON"},
        {"malformed (trailing bytes)", "{\"run\":\"r\"} x\n", ":2: not JSON"},
        {"malformed (no type)", "{\"run\":\"r\",\"ts\":\"" T0 "\"}\n",
         ":2: not an audit"},
        {"malformed (bad ts)",
         "{\"run\":\"r\",\"type\":\"x\",\"ts\":\"yesterday\"}\n",
         "\"ts\" is not RFC 3339"},
        {"malformed (data not object)",
         "{\"run\":\"r\",\"type\":\"x\",\"ts\":\"" T0 "\",\"data\":[]}\n",
         "\"data\" is not an object"},
        {"malformed (empty line)", "\n", ":2: not JSON"},
    };
    char *p = ag_xasprintf("%s/bad.jsonl", tmp), err[512], t[160];
    int rc;

    for (size_t i = 0; i < AG_ARRAY_SIZE(cases); i++) {
        const char *name = cases[i].name;
        struct logw w = {.f = fopen(p, "w"), .prev = AG_AUDIT_GENESIS};
        char *text;

        rec(&w, RUN1, 0, T0, "run.start", "{\"task\":\"t\"}");
        fputs(cases[i].line2, w.f);
        rec(&w, RUN1, 0, T0, "run.end", "{\"outcome\":\"done\"}");
        fclose(w.f);
        text = export_text(p, NULL, &rc, err, sizeof err);
        is_int(rc, AG_EPARSE, NAMED("AG_EPARSE"));
        has_str(err, p, NAMED("names file and line"));
        has_str(err, cases[i].want, t);
        free(text);
    }
    free(p);
    ok(!export_text("/nonexistent/audit.jsonl", NULL, &rc, err, sizeof err) &&
           rc == -ENOENT,
       "missing file: -ENOENT");
    has_str(err, "/nonexistent/audit.jsonl", "missing file: named");
}

/* ---- logs made by the agent -------------------------------------------- */

/* Runs `$AGENT run TASK -q --audit OUT` (a failing run is fine). */
static int run_agent(const char *agent, const char *task, const char *out)
{
    pid_t pid = fork();
    int st;

    if (pid == 0) {
        char *tp =
            ag_xasprintf("%s/tests/data/agent/tools:%s/tools", srcdir, srcdir);
        setenv("AGENT_TOOLS_PATH", tp, 1);
        if (!freopen("/dev/null", "w", stdout) ||
            !freopen("/dev/null", "w", stderr))
            _exit(127);
        execl(agent, agent, "run", task, "-q", "--audit", out, (char *)NULL);
        _exit(127);
    }
    if (pid < 0 || waitpid(pid, &st, 0) < 0)
        return -1;
    return WIFEXITED(st) && WEXITSTATUS(st) <= 1 ? 0 : -1;
}

/* A log for name: made now by `$AGENT run TASK` when AGENT is set (which
 * is a check of its own), else the one kept in tests/data/otel. */
static char *get_log(const char *name, const char *task)
{
    const char *agent = getenv("AGENT");
    char *out = ag_xasprintf("%s/%s.jsonl", tmp, name);
    char *tp = ag_xasprintf("%s/%s", srcdir, task);
    char t[160];
    int made = agent && *agent &&
               ok(run_agent(agent, tp, out) == 0,
                  NAMED("a log made by agent run %s", task));

    free(tp);
    if (made)
        return out;
    free(out);
    return ag_xasprintf("%s/tests/data/otel/%s.jsonl", srcdir, name);
}

static void test_hello(void)
{
    char *p = get_log("hello", "examples/hello.lua"), err[512];
    cJSON *doc = check_log("hello", p), *spans = spans_of(doc);
    char *a, *b;
    int rc;

    is_int(cJSON_GetArraySize(spans), 5, "hello: root, 2 chats, 2 tools");
    a = export_text(p, NULL, &rc, err, sizeof err);
    b = export_text(p, NULL, &rc, err, sizeof err);
    ok(a && b && strcmp(a, b) == 0, "hello: the export is reproducible");
    ok(a && !strstr(a, "1234 * 5678") && !strstr(a, "helpful assistant"),
       "hello: no goal, prompt, arguments or answer in the export");
    is_str(finish0(span_named(spans, "chat", 1)), "stop",
           "hello: the last chat finished with stop");
    free(a);
    free(b);
    cJSON_Delete(doc);
    free(p);
}

/* A failing tool, an unknown tool, one over its memory limit (with a
 * violation record), then the step limit. */
static void test_broken(void)
{
    char *p = get_log("broken", "tests/data/otel/broken.lua");
    cJSON *doc = check_log("broken", p), *spans = spans_of(doc);
    cJSON *root = span_named(spans, "invoke_agent broken", 0);
    cJSON *calc = span_named(spans, "execute_tool calc", 0);
    cJSON *calc2 = span_named(spans, "execute_tool calc", 1);
    cJSON *nope = span_named(spans, "execute_tool nope", 0);
    cJSON *big = span_named(spans, "execute_tool bigout", 0);
    struct facts x;

    is_int(status_code(root), 2, "broken: the run failed");
    is_str(status_msg(root), "step limit reached (3)",
           "broken: ... with the run's reason");
    is_str(attr_s(root, "error.type"), "failed",
           "broken: ... and the outcome as error.type");
    is_int(status_code(calc), 2, "broken: a failed calc call is an error");
    is_str(attr_s(calc, "error.type"), "tool_error",
           "broken: ... of type tool_error (no verdict)");
    has_str(status_msg(calc), "unexpected", "broken: ... with its error");
    is_int(status_code(calc2), 1, "broken: a good calc call is ok");
    is_str(attr_s(nope, "error.type"), "unknown",
           "broken: an unknown tool fails with its verdict");
    is_int(status_code(big), 2, "broken: a tool over its memory fails");
    is_str(attr_s(big, "error.type"), "memory", "broken: ... verdict memory");
    is_str(attr_s(big, "agent.verdict"), "memory",
           "broken: ... kept as agent.verdict");
    read_facts(p, &x, 1);
    is_int(count_events(big, "violation"), x.violations,
           "broken: each violation record is an event of its tool");
    cJSON_Delete(doc);
    free(p);
}

/* A model call that failed twice (500, 503) and then answered. */
static void test_retry(void)
{
    char *p = ag_xasprintf("%s/tests/data/otel/retry.jsonl", srcdir);
    cJSON *doc = check_log("retry", p), *spans = spans_of(doc);
    cJSON *chat = span_named(spans, "chat gpt-e2e", 0);
    const cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(chat, "events"), 1);

    is_int(count_events(chat, "error"), 2,
           "retry: two failed attempts, two events of the chat span");
    is_str(ag_json_str(e, "name"), "error", "retry: the event's name");
    ok(e && attr_i(e, "agent.status") == 503 && attr_i(e, "agent.attempt") == 2,
       "retry: the event has the attempt and HTTP status");
    is_int(status_code(chat), 1, "retry: the call succeeded in the end");
    ok(cJSON_IsNumber(cJSON_GetObjectItem(
           attr(span_named(spans, "invoke_agent", 0), "agent.cost_usd"),
           "doubleValue")),
       "retry: agent.cost_usd is a double, even when 0");
    is_int(attr_i(chat, "agent.attempts"), 3, "retry: after three attempts");
    is_str(attr_s(chat, "gen_ai.provider.name"), "openai",
           "retry: gen_ai.provider.name");
    is_str(finish0(chat), "tool_calls", "retry: finish reason tool_calls");
    is_int(attr_i(chat, "gen_ai.usage.input_tokens"), 100,
           "retry: gen_ai.usage.input_tokens");
    is_int(attr_i(chat, "gen_ai.usage.output_tokens"), 20,
           "retry: gen_ai.usage.output_tokens");
    cJSON_Delete(doc);
    free(p);
}

/* A model endpoint that answered 500 to every attempt. */
static void test_endpoint(void)
{
    char *p = ag_xasprintf("%s/tests/data/otel/endpoint.jsonl", srcdir);
    cJSON *doc = check_log("endpoint", p), *spans = spans_of(doc);
    cJSON *root = span_named(spans, "invoke_agent", 0);
    cJSON *chat = span_named(spans, "chat", 0);

    is_int(cJSON_GetArraySize(spans), 2, "endpoint: a root and one chat");
    is_int(status_code(chat), 2, "endpoint: the model call failed");
    is_str(attr_s(chat, "error.type"), "500",
           "endpoint: error.type is the last HTTP status");
    has_str(status_msg(chat), "gave up after 5 attempts",
            "endpoint: the message is the run's reason");
    is_int(count_events(chat, "error"), 5,
           "endpoint: five failed attempts as events");
    is_str(ag_json_str(chat, "endTimeUnixNano"),
           ag_json_str(root, "endTimeUnixNano"),
           "endpoint: the call ends with the run");
    is_str(attr_s(root, "error.type"), "endpoint",
           "endpoint: the root's error.type is the outcome");
    cJSON_Delete(doc);
    free(p);
}

/* Two runs in one file; choosing one of them. */
static void test_runs(void)
{
    char *p = ag_xasprintf("%s/two.jsonl", tmp), *cmd, *text, err[512];
    struct facts fs[2];
    cJSON *doc, *s;
    int rc, n = 0, other = 0;

    cmd = ag_xasprintf("cd '%s/tests/data/otel' && "
                       "cat hello.jsonl broken.jsonl > '%s'",
                       srcdir, p);
    ok(system(cmd) == 0, "two runs: one file");
    cJSON_Delete(check_log("two runs", p));
    read_facts(p, fs, 2);
    text = export_text(p, fs[1].run, &rc, err, sizeof err);
    doc = text ? cJSON_Parse(text) : NULL;
    for (s = first(spans_of(doc)); s; s = s->next, n++)
        other += !streq(ag_json_str(s, "traceId"), fs[1].run);
    ok(rc == 0 && n == 1 + fs[1].requests + fs[1].ncalls && other == 0,
       "two runs: choosing a run exports only its spans");
    free(text);
    text = export_text(p, "ffffffffffffffffffffffffffffffff", &rc, err,
                       sizeof err);
    is_int(rc, AG_ENOTFOUND, "two runs: an unknown run is not found");
    has_str(err, "no run ffff", "two runs: ... and says so");
    cJSON_Delete(doc);
    free(text);
    free(cmd);
    free(p);
}

int main(void)
{
    char *cmd = NULL;

    srcdir = getenv("SRCDIR");
    if (!srcdir || !*srcdir)
        srcdir = AG_SRC_TOOLS_DIR "/..";
    if (!mkdtemp(tmp)) {
        printf("Bail out! cannot create a temporary directory\n");
        return 99;
    }
    if (!getenv("AGENT"))
        tap_diag("AGENT not set: the logs kept in tests/data/otel are used");
    test_hello();
    test_broken();
    test_retry();
    test_endpoint();
    test_runs();
    test_crash(0);
    test_crash(1);
    test_backwards();
    test_malformed();
    cmd = ag_xasprintf("rm -rf '%s'", tmp);
    if (system(cmd) != 0)
        tap_diag("cannot remove the temporary directory");
    free(cmd);
    return tap_done();
}
