/*
 * audit-otel.c: writes the runs of an audit log (audit.h) as OpenTelemetry
 * traces, one OTLP/JSON ExportTraceServiceRequest on one line, with the
 * GenAI semantic conventions' span names and gen_ai.* attributes.
 *
 * A run (records grouped by run id and agent number) is a trace whose id
 * is the run id: a root `invoke_agent {task}` span (INTERNAL) from its first
 * record to run.end, with task, provider, model and totals; under it a
 * `chat {model}` span (CLIENT) per llm.request and its llm.response, and an
 * `execute_tool {tool}` span (INTERNAL) per tool.call and the tool.result
 * with its call id (one missing its opening starts latency_ms or ms before).
 * Failed model attempts are events of their chat span; violation, approval
 * and net.request records of their tool's span; the rest of the root; with
 * the record's scalar data fields as agent.* attributes. Status ERROR, with
 * error.type and a message, marks a run not "done", a call without answer,
 * a failed tool, and every span of a crashed run (no run.end: they end at
 * its last record). Span ids come from the hash of the record that opened
 * the span, so a log always gives the same export. Content (prompts, texts,
 * tool arguments and values, answers) is left out, but for a failed tool's
 * error text, clipped, in its status. A line that is not JSON is an error,
 * unless it is a torn last line (no newline), which is skipped with a warning.
 */
#include "audit-otel.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "config.h"

#include "ag.h"
#include "audit.h"
#include "json.h"

#define LINE_MAX_BYTES (64u << 20) /* longer lines are refused */
#define TEXT_MAX       512         /* longest text copied into the export */

enum { KIND_INTERNAL = 1, KIND_CLIENT = 3 };
enum { STATUS_UNSET, STATUS_OK, STATUS_ERROR };

/* A span being built. Times are nanoseconds since the epoch; open spans
 * have no end yet. attrs and events are OTLP lists, owned until written. */
struct span {
    char id[17];
    char *name;
    int kind, open, status, step;
    uint64_t start, end;
    cJSON *attrs, *events;
    char *message, *error_type; /* errors only */
    char *tool, *call_id;       /* tool spans, for matching */
};

/* One agent's run. kids holds the chat and tool spans in the order they
 * were opened; chat is the index of the open chat span, or -1. */
struct run {
    char *id;
    long agent;
    char trace[33];
    struct span root;
    struct span *kids;
    size_t nkids, cap;
    long chat;
    int ended;
    uint64_t last;   /* ts of the run's last record */
    int last_status; /* HTTP status of the last failed model attempt */
    char *task, *provider, *model; /* model: the first one requested */
    char *label;                   /* run.start's model */
    long long tok_in, tok_out;
};

struct exporter {
    const char *path;
    const char *want; /* run filter, or NULL */
    struct run *runs;
    size_t nruns, cap;
    int torn; /* the file ends in a torn line */
    char *err;
    size_t errlen;
};

/* The record being handled: its time, step, data, and the hash (or the
 * line) that span ids come from. */
struct rec {
    uint64_t t;
    int step;
    const cJSON *d;
    const char *hash, *line;
    size_t len;
};

/* Data fields that hold content (audit.h), never copied into the export. */
static const char *const content_fields[] = {
    "answer", "arguments", "body", "error", "goal", "system", "text", "value"};

/* Sets the caller's message; returns rc. */
__attribute__((format(printf, 3, 4))) static int
fail(struct exporter *x, int rc, const char *fmt, ...)
{
    va_list ap;

    if (x->err && x->errlen) {
        va_start(ap, fmt);
        vsnprintf(x->err, x->errlen, fmt, ap);
        va_end(ap);
    }
    return rc;
}

/* A copy of s cut to at most max bytes at a UTF-8 boundary, marked as in
 * the log's own "truncate:N" content setting. */
static char *clip(const char *s, size_t max)
{
    size_t n = strlen(s), k = max;

    if (n <= max)
        return ag_xstrdup(s);
    while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
        k--;
    return ag_xasprintf("%.*s [+%zu bytes]", (int)k, s, n - k);
}

/* ---- timestamps and ids ------------------------------------------------ */

/* Parses an RFC 3339 UTC time as audit.h writes it (2026-11-28T17:54:09.
 * 123456Z, any number of fraction digits) into nanoseconds since the epoch.
 * Returns 0 or -1. */
static int parse_ts(const char *s, uint64_t *ns)
{
    struct tm tm = {0};
    uint64_t frac = 0;
    int nd = 0;
    const char *p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
    time_t t;

    if (!p || p - s != 19)
        return -1;
    for (p += *p == '.'; *p >= '0' && *p <= '9'; p++, nd++)
        if (nd < 9)
            frac = frac * 10 + (uint64_t)(*p - '0');
    if ((s[19] == '.' && nd == 0) || strcmp(p, "Z") != 0 ||
        (t = timegm(&tm)) < 0)
        return -1;
    for (; nd < 9; nd++)
        frac *= 10;
    *ns = (uint64_t)t * 1000000000u + frac;
    return 0;
}

/* Copies n hex digits of src (lowercased) into out; when src is not hex,
 * uses the SHA-256 of what instead. An all-zero id, invalid in OTLP, gets
 * a 1 at its end. */
static void make_id(char *out, size_t n, const char *src, const char *what,
                    size_t whatlen)
{
    char h[65];
    int zero = 1;

    if (!src || strspn(src, "0123456789abcdefABCDEF") < n) {
        ag_sha256_hex(what, whatlen, h);
        src = h;
    }
    for (size_t i = 0; i < n; i++) {
        out[i] = (char)(src[i] >= 'A' && src[i] <= 'F' ? src[i] + 32 : src[i]);
        zero &= out[i] == '0';
    }
    out[n] = '\0';
    if (zero)
        out[n - 1] = '1';
}

/* ---- attributes and events --------------------------------------------- */

static cJSON *attr(cJSON *list, const char *key)
{
    cJSON *a = cJSON_CreateObject(), *v;

    cJSON_AddStringToObject(a, "key", key);
    v = cJSON_AddObjectToObject(a, "value");
    cJSON_AddItemToArray(list, a);
    return v;
}

static void attr_str(cJSON *list, const char *key, const char *s)
{
    if (s) {
        char *c = clip(s, TEXT_MAX);
        cJSON_AddStringToObject(attr(list, key), "stringValue", c);
        free(c);
    }
}

static void attr_dbl(cJSON *list, const char *key, double v)
{
    cJSON_AddNumberToObject(attr(list, key), "doubleValue", v);
}

/* Adds a number: intValue (a decimal string) when integral, else
 * doubleValue. */
static void attr_num(cJSON *list, const char *key, double v)
{
    char n[32];

    if (v != (double)(long long)v) {
        attr_dbl(list, key, v);
        return;
    }
    snprintf(n, sizeof n, "%lld", (long long)v);
    cJSON_AddStringToObject(attr(list, key), "intValue", n);
}

/* Adds the scalar, non-content members of data as agent.<name>. */
static void attrs_from_data(cJSON *list, const cJSON *data)
{
    const cJSON *c;
    char key[128];

    cJSON_ArrayForEach(c, data)
    {
        int skip = 0;
        for (size_t i = 0; i < AG_ARRAY_SIZE(content_fields); i++)
            skip |= strcmp(c->string, content_fields[i]) == 0;
        if (skip || strlen(c->string) > sizeof key - 8)
            continue;
        snprintf(key, sizeof key, "agent.%s", c->string);
        if (cJSON_IsString(c))
            attr_str(list, key, c->valuestring);
        else if (cJSON_IsNumber(c))
            attr_num(list, key, c->valuedouble);
        else if (cJSON_IsBool(c))
            cJSON_AddBoolToObject(attr(list, key), "boolValue",
                                  cJSON_IsTrue(c));
    }
}

static void add_time(cJSON *o, const char *key, uint64_t ns)
{
    char n[32];

    snprintf(n, sizeof n, "%" PRIu64, ns);
    cJSON_AddStringToObject(o, key, n);
}

static void add_event(struct span *s, uint64_t t, const char *name,
                      const cJSON *data)
{
    cJSON *e = cJSON_CreateObject();

    add_time(e, "timeUnixNano", t);
    cJSON_AddStringToObject(e, "name", name);
    attrs_from_data(cJSON_AddArrayToObject(e, "attributes"), data);
    cJSON_AddItemToArray(s->events, e);
}

/* ---- spans ------------------------------------------------------------- */

static void span_init(struct span *s, const char *name, int kind,
                      uint64_t start)
{
    *s = (struct span){.name = ag_xstrdup(name),
                       .kind = kind,
                       .open = 1,
                       .start = start,
                       .end = start,
                       .attrs = cJSON_CreateArray(),
                       .events = cJSON_CreateArray()};
}

static void span_free(struct span *s)
{
    free(s->name);
    cJSON_Delete(s->attrs);
    cJSON_Delete(s->events);
    free(s->message);
    free(s->error_type);
    free(s->tool);
    free(s->call_id);
}

static void span_end(struct span *s, uint64_t t)
{
    s->end = t > s->start ? t : s->start;
    s->open = 0;
    if (s->status == STATUS_UNSET)
        s->status = STATUS_OK;
}

/* Marks s failed (unless it already is) with error.type and a message. */
static void span_fail(struct span *s, const char *type, const char *msg)
{
    if (s->status == STATUS_ERROR)
        return;
    s->status = STATUS_ERROR;
    s->error_type = ag_xstrdup(type && *type ? type : "_OTHER");
    s->message = clip(msg && *msg ? msg : "failed", TEXT_MAX);
}

/* The tool span for a call id (the latest one), else the oldest open one
 * of that tool when the record has no call id. */
static struct span *find_tool(struct run *r, const char *tool,
                              const char *call_id, int open_only)
{
    for (size_t i = r->nkids; call_id && i-- > 0;) {
        struct span *s = &r->kids[i];
        if (s->call_id && strcmp(s->call_id, call_id) == 0 &&
            (s->open || !open_only))
            return s;
    }
    for (size_t i = 0; !call_id && tool && i < r->nkids; i++) {
        struct span *s = &r->kids[i];
        if (s->open && s->tool && strcmp(s->tool, tool) == 0)
            return s;
    }
    return NULL;
}

/* ---- records ----------------------------------------------------------- */

static struct run *find_run(struct exporter *x, const char *id, long agent)
{
    struct run *r;

    for (size_t i = x->nruns; i-- > 0;)
        if (x->runs[i].agent == agent && strcmp(x->runs[i].id, id) == 0)
            return &x->runs[i];
    if (x->nruns == x->cap) {
        x->cap = x->cap ? 2 * x->cap : 4;
        x->runs = ag_xrealloc(x->runs, x->cap * sizeof *x->runs);
    }
    r = &x->runs[x->nruns++];
    *r = (struct run){.id = ag_xstrdup(id), .agent = agent, .chat = -1};
    make_id(r->trace, 32, id, id, strlen(id));
    span_init(&r->root, "invoke_agent", KIND_INTERNAL, 0);
    return r;
}

static void set_str(char **dst, const char *s)
{
    if (s && !*dst)
        *dst = ag_xstrdup(s);
}

/* Opens a chat or tool span "{op} {subject}" for record c. */
static struct span *open_span(struct run *r, const struct rec *c,
                              uint64_t start, int kind, const char *op,
                              const char *subject)
{
    struct span *s;
    char *name = subject ? ag_xasprintf("%s %s", op, subject) : ag_xstrdup(op);

    if (r->nkids == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 16;
        r->kids = ag_xrealloc(r->kids, r->cap * sizeof *r->kids);
    }
    s = &r->kids[r->nkids++];
    span_init(s, name, kind, start);
    free(name);
    make_id(s->id, 16, c->hash, c->line, c->len);
    attr_str(s->attrs, "gen_ai.operation.name", op);
    s->step = c->step;
    return s;
}

/* t less a duration in milliseconds (for spans whose opening is missing). */
static uint64_t before(uint64_t t, double ms)
{
    uint64_t back = ms > 0 ? (uint64_t)(ms * 1e6) : 0;

    return back < t ? t - back : t;
}

static void on_llm_request(struct run *r, const struct rec *c)
{
    const char *model = ag_json_str(c->d, "model");
    const char *provider = ag_json_str(c->d, "provider");
    struct span *s;

    if (r->chat >= 0) { /* a request that got no response */
        span_fail(&r->kids[r->chat], "_OTHER", "no response recorded");
        span_end(&r->kids[r->chat], c->t);
    }
    set_str(&r->provider, provider);
    set_str(&r->model, model);
    s = open_span(r, c, c->t, KIND_CLIENT, "chat", model);
    r->chat = (long)(s - r->kids);
    r->last_status = 0;
    attr_str(s->attrs, "gen_ai.provider.name", provider);
    attr_str(s->attrs, "gen_ai.system", provider);
    attr_str(s->attrs, "gen_ai.request.model", model);
}

static void on_llm_response(struct run *r, const struct rec *c)
{
    const cJSON *u = cJSON_GetObjectItemCaseSensitive(c->d, "usage");
    const char *finish = ag_json_str(c->d, "finish");
    struct span *s;

    if (r->chat >= 0) {
        s = &r->kids[r->chat];
    } else { /* no request seen: start it latency_ms before */
        s = open_span(r, c, before(c->t, ag_json_num(c->d, "latency_ms", 0)),
                      KIND_CLIENT, "chat", r->model);
        attr_str(s->attrs, "gen_ai.request.model", r->model);
    }
    r->chat = -1;
    s->step = c->step; /* the request has the step before */
    if (finish) {      /* a string array of one */
        cJSON *v = cJSON_CreateObject(),
              *arr = cJSON_AddObjectToObject(
                  attr(s->attrs, "gen_ai.response.finish_reasons"),
                  "arrayValue");
        cJSON_AddStringToObject(v, "stringValue", finish);
        cJSON_AddItemToArray(cJSON_AddArrayToObject(arr, "values"), v);
    }
    if (cJSON_IsObject(u)) {
        long long in = (long long)ag_json_num(u, "input", 0);
        long long out = (long long)ag_json_num(u, "output", 0);
        attr_num(s->attrs, "gen_ai.usage.input_tokens", in);
        attr_num(s->attrs, "gen_ai.usage.output_tokens", out);
        r->tok_in += in;
        r->tok_out += out;
    }
    if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(c->d, "attempt")))
        attr_num(s->attrs, "agent.attempts", ag_json_num(c->d, "attempt", 1));
    span_end(s, c->t);
}

static struct span *on_tool_call(struct run *r, const struct rec *c,
                                 uint64_t start)
{
    const char *tool = ag_json_str(c->d, "tool");
    const char *id = ag_json_str(c->d, "call_id");
    struct span *s =
        open_span(r, c, start, KIND_INTERNAL, "execute_tool", tool);

    set_str(&s->tool, tool);
    set_str(&s->call_id, id);
    attr_str(s->attrs, "gen_ai.tool.name", tool);
    attr_str(s->attrs, "gen_ai.tool.call.id", id);
    attr_str(s->attrs, "gen_ai.tool.type", "function");
    return s;
}

static void on_tool_result(struct run *r, const struct rec *c)
{
    const char *verdict = ag_json_str(c->d, "verdict");
    const char *e = ag_json_str(c->d, "error"); /* not when hashed */
    struct span *s = find_tool(r, ag_json_str(c->d, "tool"),
                               ag_json_str(c->d, "call_id"), 1);

    if (!s) /* no call seen (e.g. refused at once): start it ms before */
        s = on_tool_call(r, c, before(c->t, ag_json_num(c->d, "ms", 0)));
    attr_str(s->attrs, "agent.verdict", verdict);
    if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(c->d, "bytes")))
        attr_num(s->attrs, "agent.bytes", ag_json_num(c->d, "bytes", 0));
    if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(c->d, "ok")))
        span_fail(s, verdict ? verdict : "tool_error", e ? e : verdict);
    span_end(s, c->t);
}

/* Ends the run at t: its open spans fail with msg (a pending model call
 * with the status of its last failed attempt as error.type), then the root
 * ends. */
static void end_run(struct run *r, uint64_t t, const char *msg)
{
    char st[16];

    snprintf(st, sizeof st, "%d", r->last_status);
    for (size_t i = 0; i < r->nkids; i++) {
        if (r->kids[i].open) {
            int http = (long)i == r->chat && r->last_status > 0;
            span_fail(&r->kids[i], http ? st : "_OTHER", msg);
            span_end(&r->kids[i], t);
        }
    }
    r->chat = -1;
    r->ended = 1;
    span_end(&r->root, t);
}

static void on_run_end(struct run *r, uint64_t t, const cJSON *d)
{
    /* counts, then amounts (always doubles, so their type never flips) */
    static const char *const totals[] = {"steps", "invalid_calls", "cost_usd",
                                         "seconds"};
    char key[32];
    const char *outcome = ag_json_str(d, "outcome");
    const char *reason = ag_json_str(d, "reason");
    const cJSON *c;

    if (cJSON_IsNumber(c = cJSON_GetObjectItemCaseSensitive(d, "tokens_in")))
        r->tok_in = (long long)c->valuedouble;
    if (cJSON_IsNumber(c = cJSON_GetObjectItemCaseSensitive(d, "tokens_out")))
        r->tok_out = (long long)c->valuedouble;
    attr_str(r->root.attrs, "agent.outcome", outcome);
    attr_str(r->root.attrs, "agent.reason", reason);
    for (size_t i = 0; i < AG_ARRAY_SIZE(totals); i++) {
        if (!cJSON_IsNumber(c = cJSON_GetObjectItemCaseSensitive(d, totals[i])))
            continue;
        snprintf(key, sizeof key, "agent.%s", totals[i]);
        (i < 2 ? attr_num : attr_dbl)(r->root.attrs, key, c->valuedouble);
    }
    if (outcome && strcmp(outcome, "done") != 0)
        span_fail(&r->root, outcome, reason ? reason : outcome);
    end_run(r, t, reason ? reason : "the run ended first");
}

/* Where an event record goes: a failed attempt to the open chat span, a
 * sandbox record to its tool's span, anything else to the root. */
static void on_event(struct run *r, uint64_t t, const char *type,
                     const cJSON *d)
{
    const char *what = ag_json_str(d, "what");
    struct span *s = &r->root;

    if (strcmp(type, "error") == 0 && what &&
        strcmp(what, "llm.attempt") == 0) {
        if (r->chat >= 0)
            s = &r->kids[r->chat];
        r->last_status = (int)ag_json_num(d, "status", 0);
    } else if (strcmp(type, "violation") == 0 ||
               strcmp(type, "approval") == 0 ||
               strcmp(type, "net.request") == 0) {
        struct span *k =
            find_tool(r, ag_json_str(d, "tool"), ag_json_str(d, "call_id"), 0);
        if (k)
            s = k;
    }
    add_event(s, t, type, d);
}

/* Handles one parsed line. Returns 0, or AG_EPARSE with the message set. */
static int on_record(struct exporter *x, unsigned long lineno, cJSON *rec,
                     const char *line, size_t len)
{
    const char *type = ag_json_str(rec, "type");
    const char *id = ag_json_str(rec, "run");
    const char *ts = ag_json_str(rec, "ts");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(rec, "data");
    struct rec c = {.step = (int)ag_json_num(rec, "step", 0),
                    .d = d,
                    .hash = ag_json_str(rec, "hash"),
                    .line = line,
                    .len = len};
    struct run *r;
    const char *bad = !type                     ? "no \"type\""
                      : !id || !*id             ? "no \"run\""
                      : !ts                     ? "no \"ts\""
                      : parse_ts(ts, &c.t)      ? "\"ts\" is not RFC 3339 UTC"
                      : d && !cJSON_IsObject(d) ? "\"data\" is not an object"
                                                : NULL;

    if (bad)
        return fail(x, AG_EPARSE, "%s:%lu: not an audit record: %s", x->path,
                    lineno, bad);
    if (x->want && strcmp(x->want, id) != 0)
        return 0;
    r = find_run(x, id, (long)ag_json_num(rec, "agent", 0));
    if (!r->root.id[0]) { /* the root starts at the run's first record */
        r->root.start = c.t;
        make_id(r->root.id, 16, c.hash, line, len);
    }
    if (r->ended) { /* records after run.end: kept as events */
        add_event(&r->root, c.t, type, d);
        return 0;
    }
    if (c.t > r->last)
        r->last = c.t;
    if (strcmp(type, "run.start") == 0) {
        const cJSON *si = cJSON_GetObjectItemCaseSensitive(d, "stand_in");
        set_str(&r->task, ag_json_str(d, "task"));
        set_str(&r->provider, ag_json_str(d, "provider"));
        set_str(&r->label, ag_json_str(d, "model"));
        if (cJSON_IsBool(si))
            cJSON_AddBoolToObject(attr(r->root.attrs, "agent.stand_in"),
                                  "boolValue", cJSON_IsTrue(si));
    } else if (strcmp(type, "llm.request") == 0) {
        on_llm_request(r, &c);
    } else if (strcmp(type, "llm.response") == 0) {
        on_llm_response(r, &c);
    } else if (strcmp(type, "tool.call") == 0) {
        on_tool_call(r, &c, c.t);
    } else if (strcmp(type, "tool.result") == 0) {
        on_tool_result(r, &c);
    } else if (strcmp(type, "run.end") == 0) {
        on_run_end(r, c.t, d);
    } else {
        on_event(r, c.t, type, d);
    }
    return 0;
}

/* A run without run.end (a crash): everything ends at its last record. */
static void finish_run(struct exporter *x, struct run *r)
{
    const char *msg = x->torn ? "the run did not end (the log ends in a torn "
                                "line)"
                              : "the run did not end (no run.end record)";

    if (!r->ended) {
        span_fail(&r->root, "_OTHER", msg);
        end_run(r, r->last, msg);
    }
}

/* ---- output ------------------------------------------------------------ */

/* Moves s into a new OTLP span object. Children are held within the
 * root's interval, whatever the clock did. */
static cJSON *span_json(const struct run *r, struct span *s, const char *parent)
{
    cJSON *o = cJSON_CreateObject(), *st;

    if (parent) {
        if (s->start < r->root.start)
            s->start = r->root.start;
        if (s->end > r->root.end)
            s->end = r->root.end;
        if (s->start > s->end)
            s->start = s->end;
    }
    cJSON_AddStringToObject(o, "traceId", r->trace);
    cJSON_AddStringToObject(o, "spanId", s->id);
    if (parent)
        cJSON_AddStringToObject(o, "parentSpanId", parent);
    cJSON_AddStringToObject(o, "name", s->name);
    cJSON_AddNumberToObject(o, "kind", s->kind);
    add_time(o, "startTimeUnixNano", s->start);
    add_time(o, "endTimeUnixNano", s->end);
    if (parent)
        attr_num(s->attrs, "agent.step", s->step);
    if (s->error_type)
        attr_str(s->attrs, "error.type", s->error_type);
    cJSON_AddItemToObject(o, "attributes", s->attrs);
    s->attrs = NULL;
    if (cJSON_GetArraySize(s->events) > 0) {
        cJSON_AddItemToObject(o, "events", s->events);
        s->events = NULL;
    }
    st = cJSON_AddObjectToObject(o, "status");
    cJSON_AddNumberToObject(st, "code", s->status);
    if (s->status == STATUS_ERROR && s->message)
        cJSON_AddStringToObject(st, "message", s->message);
    return o;
}

/* Fills the root's attributes, now that the whole run has been read. */
static void root_attrs(struct run *r)
{
    cJSON *a = cJSON_CreateArray(), *c;

    if (r->task) {
        free(r->root.name);
        r->root.name = ag_xasprintf("invoke_agent %s", r->task);
    }
    attr_str(a, "gen_ai.operation.name", "invoke_agent");
    attr_str(a, "gen_ai.agent.name", r->task);
    attr_str(a, "gen_ai.conversation.id", r->id);
    attr_str(a, "gen_ai.provider.name", r->provider);
    attr_str(a, "gen_ai.system", r->provider);
    attr_str(a, "gen_ai.request.model", r->model ? r->model : r->label);
    attr_num(a, "gen_ai.usage.input_tokens", r->tok_in);
    attr_num(a, "gen_ai.usage.output_tokens", r->tok_out);
    attr_num(a, "agent.number", r->agent);
    while ((c = cJSON_DetachItemFromArray(r->root.attrs, 0)))
        cJSON_AddItemToArray(a, c);
    cJSON_Delete(r->root.attrs);
    r->root.attrs = a;
}

static cJSON *document(struct exporter *x)
{
    cJSON *doc = cJSON_CreateObject();
    cJSON *rss = cJSON_AddArrayToObject(doc, "resourceSpans");
    cJSON *rs, *res, *ss, *sc, *spans;

    if (x->nruns == 0)
        return doc;
    rs = cJSON_CreateObject();
    cJSON_AddItemToArray(rss, rs);
    res = cJSON_AddArrayToObject(cJSON_AddObjectToObject(rs, "resource"),
                                 "attributes");
    attr_str(res, "service.name", "agent");
    attr_str(res, "service.version", PACKAGE_VERSION);
    ss = cJSON_CreateObject();
    cJSON_AddItemToArray(cJSON_AddArrayToObject(rs, "scopeSpans"), ss);
    sc = cJSON_AddObjectToObject(ss, "scope");
    cJSON_AddStringToObject(sc, "name", "agent");
    cJSON_AddStringToObject(sc, "version", PACKAGE_VERSION);
    spans = cJSON_AddArrayToObject(ss, "spans");
    for (size_t i = 0; i < x->nruns; i++) {
        struct run *r = &x->runs[i];
        finish_run(x, r);
        root_attrs(r);
        cJSON_AddItemToArray(spans, span_json(r, &r->root, NULL));
        for (size_t k = 0; k < r->nkids; k++)
            cJSON_AddItemToArray(spans, span_json(r, &r->kids[k], r->root.id));
    }
    return doc;
}

/* ---- reading ----------------------------------------------------------- */

/* Reads every line of f. Returns 0, or a negative code with the message. */
static int read_log(struct exporter *x, FILE *f)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    unsigned long lineno = 0;
    int rc = 0;

    while (rc == 0 && (n = getline(&line, &cap, f)) > 0) {
        int torn = line[n - 1] != '\n';
        size_t len = (size_t)n - !torn;
        const char *at, *end = NULL;
        cJSON *rec;

        if (++lineno, (size_t)n > LINE_MAX_BYTES) {
            rc = fail(x, AG_ETOOBIG, "%s:%lu: line longer than %u bytes",
                      x->path, lineno, LINE_MAX_BYTES);
            break;
        }
        line[len] = '\0';
        rec = cJSON_ParseWithLengthOpts(line, len, &end, 0);
        if (rec && end + strspn(end, " \t\r") != line + len) {
            cJSON_Delete(rec);
            rec = NULL;
        }
        if (rec) {
            rc = on_record(x, lineno, rec, line, len);
            cJSON_Delete(rec);
        } else if (torn) { /* what a crash leaves: not an error */
            ag_warn("%s:%lu: torn last line (%zu bytes) skipped", x->path,
                    lineno, len);
            x->torn = 1;
        } else {
            at = end ? end : cJSON_GetErrorPtr();
            rc = fail(
                x, AG_EPARSE, "%s:%lu: not JSON (at byte %zu)", x->path, lineno,
                at > line && at <= line + len ? (size_t)(at - line) + 1 : 1);
        }
    }
    if (rc == 0 && ferror(f))
        rc = fail(x, -EIO, "%s: read error", x->path);
    free(line);
    return rc;
}

int ag_otel_export(const char *in, FILE *out, const char *run, char *err,
                   size_t errlen)
{
    struct exporter x = {.path = in, .want = run, .err = err, .errlen = errlen};
    FILE *f;
    cJSON *doc = NULL;
    char *text = NULL;
    int rc;

    if (err && errlen)
        err[0] = '\0';
    if (!(f = fopen(in, "r")))
        return fail(&x, -errno, "%s: %s", in, strerror(errno));
    rc = read_log(&x, f);
    fclose(f);
    if (rc == 0 && run && x.nruns == 0)
        rc = fail(&x, AG_ENOTFOUND, "%s: no run %s", in, run);
    if (rc == 0) {
        doc = document(&x);
        errno = 0;
        if (!(text = cJSON_PrintUnformatted(doc)))
            rc = fail(&x, -ENOMEM, "%s: out of memory", in);
        else if (fputs(text, out) == EOF || fputc('\n', out) == EOF ||
                 fflush(out) != 0)
            rc = fail(&x, errno ? -errno : -EIO, "writing the export: %s",
                      strerror(errno ? errno : EIO));
    }
    free(text);
    cJSON_Delete(doc);
    for (size_t i = 0; i < x.nruns; i++) {
        span_free(&x.runs[i].root);
        for (size_t k = 0; k < x.runs[i].nkids; k++)
            span_free(&x.runs[i].kids[k]);
        free(x.runs[i].kids);
        free(x.runs[i].id);
        free(x.runs[i].task);
        free(x.runs[i].provider);
        free(x.runs[i].model);
        free(x.runs[i].label);
    }
    free(x.runs);
    return rc;
}
