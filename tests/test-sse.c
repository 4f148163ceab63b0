/*
 * test-sse.c: unit tests for the Server-Sent Events parser (llm-sse.c).
 *
 * Each case is a stream and the transcript of events it must produce, one
 * "[event]data" line per event (\0 and \r in data shown escaped), plus the
 * codes that feed and finish must return. Every stream is fed whole, byte by
 * byte, split in two at every position and, when short, in three at every
 * pair of positions; all runs must agree exactly. Each piece is fed from its
 * own heap copy, so that reading past a piece shows up under ASan. The seed
 * files of the SSE fuzz corpus go through the same split check.
 */
#include "llm-sse.h"

#include "tap.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_DEFAULT  (1u << 20)
#define SHORT_STREAM 160 /* streams up to this long get three-way splits */

struct rec {
    struct ag_buf log;
    int n;
    int stop_at; /* 1-based event on which to return stop_rc; 0 never */
    int stop_rc;
};

static int record(void *ud, const char *event, const char *data, size_t len)
{
    struct rec *r = ud;
    size_t i;

    r->n++;
    if (!event || !data || data[len] != '\0') {
        ag_buf_adds(&r->log, "!BAD CALLBACK ARGUMENTS!\n");
        return 0;
    }
    ag_buf_printf(&r->log, "[%s]", event);
    for (i = 0; i < len; i++) {
        if (data[i] == '\0')
            ag_buf_adds(&r->log, "\\0");
        else if (data[i] == '\r')
            ag_buf_adds(&r->log, "\\r");
        else
            ag_buf_addc(&r->log, data[i]);
    }
    ag_buf_addc(&r->log, '\n');
    return r->stop_at && r->n == r->stop_at ? r->stop_rc : 0;
}

struct result {
    char *log; /* malloc'd transcript */
    int feed_rc, finish_rc;
};

struct opts {
    size_t max;
    int stop_at, stop_rc;
};

/* Feeds s[0..len) in pieces that end at cuts[0..ncuts) and at len. */
static void run(const char *s, size_t len, const struct opts *o,
                const size_t *cuts, size_t ncuts, struct result *res)
{
    struct ag_sse p;
    struct rec r = {.stop_at = o->stop_at, .stop_rc = o->stop_rc};
    size_t pos = 0, i;
    int rc = 0;

    ag_buf_init(&r.log, 1u << 24);
    ag_sse_init(&p, o->max, record, &r);
    for (i = 0; i <= ncuts && rc == 0; i++) {
        size_t end = i < ncuts ? cuts[i] : len, n = end - pos;
        char *piece = malloc(n ? n : 1);

        memcpy(piece, s + pos, n);
        rc = ag_sse_feed(&p, piece, n);
        free(piece);
        pos = end;
    }
    res->feed_rc = rc;
    res->finish_rc = ag_sse_finish(&p);
    ag_sse_free(&p);
    res->log = ag_buf_steal(&r.log);
}

static int same(const struct result *a, const struct result *b)
{
    return a->feed_rc == b->feed_rc && a->finish_rc == b->finish_rc &&
           strcmp(a->log, b->log) == 0;
}

/* Runs every split of a stream; returns the whole-stream result. */
static struct result split_check(const char *name, const char *s, size_t len,
                                 const struct opts *o)
{
    struct result whole, r;
    size_t *cuts = malloc((len + 2) * sizeof *cuts), i, j, bad;
    char label[256];

    run(s, len, o, NULL, 0, &whole);

    for (i = 0; i < len; i++)
        cuts[i] = i + 1;
    run(s, len, o, cuts, len ? len - 1 : 0, &r);
    snprintf(label, sizeof label, "%s: byte by byte", name);
    if (!ok(same(&whole, &r), label))
        printf("#   got %d/%d:\n%s#   want %d/%d:\n%s", r.feed_rc, r.finish_rc,
               r.log, whole.feed_rc, whole.finish_rc, whole.log);
    free(r.log);

    for (i = 0, bad = 0; i <= len; i++) {
        cuts[0] = i;
        run(s, len, o, cuts, 1, &r);
        if (!same(&whole, &r) && !bad++)
            printf("#   first difference when split at %zu\n", i);
        free(r.log);
    }
    snprintf(label, sizeof label, "%s: split in two anywhere (%zu ways)", name,
             len + 1);
    ok(bad == 0, label);

    if (len <= SHORT_STREAM) {
        size_t ways = 0;

        for (i = 0, bad = 0; i <= len; i++)
            for (j = i; j <= len; j++, ways++) {
                cuts[0] = i;
                cuts[1] = j;
                run(s, len, o, cuts, 2, &r);
                if (!same(&whole, &r) && !bad++)
                    printf("#   first difference when split at %zu, %zu\n", i,
                           j);
                free(r.log);
            }
        snprintf(label, sizeof label, "%s: split in three anywhere (%zu ways)",
                 name, ways);
        ok(bad == 0, label);
    }
    free(cuts);
    return whole;
}

/* The full check for one literal case. */
static void expect_n(const char *name, const char *s, size_t len, size_t max,
                     const char *want, int want_feed, int want_finish)
{
    struct opts o = {max, 0, 0};
    struct result r = split_check(name, s, len, &o);
    char label[256];

    snprintf(label, sizeof label, "%s: events", name);
    is_str(r.log, want, label);
    snprintf(label, sizeof label, "%s: feed returns %d", name, want_feed);
    is_int(r.feed_rc, want_feed, label);
    snprintf(label, sizeof label, "%s: finish returns %d", name, want_finish);
    is_int(r.finish_rc, want_finish, label);
    free(r.log);
}

/* expect_n for a string literal, which may hold NUL bytes. */
#define EXPECT_N(name, lit, max, want, want_feed, want_finish)                 \
    expect_n((name), (lit), sizeof(lit) - 1, (max), (want), (want_feed),       \
             (want_finish))

static void expect(const char *name, const char *s, const char *want,
                   int want_finish)
{
    expect_n(name, s, strlen(s), MAX_DEFAULT, want, 0, want_finish);
}

/* Rewrites every \n of s as \r\n (crlf) or \r. */
static char *endings(const char *s, int crlf)
{
    struct ag_buf b;

    ag_buf_init(&b, 1u << 24);
    for (; *s; s++) {
        if (*s != '\n')
            ag_buf_addc(&b, *s);
        else
            ag_buf_adds(&b, crlf ? "\r\n" : "\r");
    }
    return ag_buf_steal(&b);
}

/* Checks a stream with LF, CRLF and CR line endings against one transcript. */
static void expect_all_endings(const char *name, const char *lf,
                               const char *want)
{
    static const char *const tags[] = {"LF", "CRLF", "CR"};
    char label[256];
    int k;

    for (k = 0; k < 3; k++) {
        char *s = k == 0 ? strdup(lf) : endings(lf, k == 1);

        snprintf(label, sizeof label, "%s (%s)", name, tags[k]);
        expect(label, s, want, 0);
        free(s);
    }
}

/* ---- recorded-style provider streams ---------------------------------- */

static const char *const openai_chunks[] = {
    "{\"id\":\"chatcmpl-9x\",\"object\":\"chat.completion.chunk\","
    "\"created\":1718000000,\"model\":\"gpt-4o-mini\",\"choices\":[{\"index\":"
    "0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":"
    "null}]}",
    "{\"id\":\"chatcmpl-9x\",\"object\":\"chat.completion.chunk\",\"choices\":"
    "[{\"index\":0,\"delta\":{\"content\":\"Hello\"},\"finish_reason\":null}]}",
    "{\"id\":\"chatcmpl-9x\",\"object\":\"chat.completion.chunk\",\"choices\":"
    "[{\"index\":0,\"delta\":{\"content\":\", w\xc3\xb6rld \xe2\x9c\x93 "
    "\xf0\x9f\x9a\x80\"},\"finish_reason\":null}]}",
    "{\"id\":\"chatcmpl-9x\",\"object\":\"chat.completion.chunk\",\"choices\":"
    "[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_abc\","
    "\"type\":\"function\",\"function\":{\"name\":\"get_weather\","
    "\"arguments\":\"\"}}]},\"finish_reason\":null}]}",
    "{\"id\":\"chatcmpl-9x\",\"object\":\"chat.completion.chunk\",\"choices\":"
    "[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{"
    "\"arguments\":\"{\\\"city\\\": \\\"Par\"}}]},\"finish_reason\":null}]}",
    "{\"id\":\"chatcmpl-9x\",\"object\":\"chat.completion.chunk\",\"choices\":"
    "[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{"
    "\"arguments\":\"is\\\"}\"}}]},\"finish_reason\":null}]}",
    "{\"id\":\"chatcmpl-9x\",\"object\":\"chat.completion.chunk\",\"choices\":"
    "[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}],\"usage\":"
    "{\"prompt_tokens\":12,\"completion_tokens\":9,\"total_tokens\":21}}",
    "[DONE]",
};

static const char *const anthropic_events[][2] = {
    {"message_start",
     "{\"type\":\"message_start\",\"message\":{\"id\":\"msg_01\",\"type\":"
     "\"message\",\"role\":\"assistant\",\"model\":\"claude-sonnet\","
     "\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":25,"
     "\"output_tokens\":1}}}"},
    {"content_block_start",
     "{\"type\":\"content_block_start\",\"index\":0,\"content_block\":{"
     "\"type\":\"text\",\"text\":\"\"}}"},
    {"ping", "{\"type\": \"ping\"}"},
    {"content_block_delta",
     "{\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
     "\"text_delta\",\"text\":\"Let me check \xe2\x80\x94 one moment.\"}}"},
    {"content_block_stop", "{\"type\":\"content_block_stop\",\"index\":0}"},
    {"content_block_start",
     "{\"type\":\"content_block_start\",\"index\":1,\"content_block\":{"
     "\"type\":\"tool_use\",\"id\":\"toolu_01\",\"name\":\"get_weather\","
     "\"input\":{}}}"},
    {"content_block_delta",
     "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":"
     "\"input_json_delta\",\"partial_json\":\"{\\\"city\\\": \\\"Par\"}}"},
    {"content_block_delta",
     "{\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":"
     "\"input_json_delta\",\"partial_json\":\"is\\\"}\"}}"},
    {"content_block_stop", "{\"type\":\"content_block_stop\",\"index\":1}"},
    {"message_delta",
     "{\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\","
     "\"stop_sequence\":null},\"usage\":{\"output_tokens\":15}}"},
    {"message_stop", "{\"type\":\"message_stop\"}"},
};

static void test_openai(void)
{
    struct ag_buf s, want;
    size_t i;

    ag_buf_init(&s, 1u << 20);
    ag_buf_init(&want, 1u << 20);
    ag_buf_adds(&s, ": OPENROUTER PROCESSING\n\n");
    for (i = 0; i < AG_ARRAY_SIZE(openai_chunks); i++) {
        ag_buf_printf(&s, "data: %s\n\n", openai_chunks[i]);
        ag_buf_printf(&want, "[message]%s\n", openai_chunks[i]);
    }
    expect_all_endings("openai stream", ag_buf_cstr(&s), ag_buf_cstr(&want));
    ag_buf_free(&s);
    ag_buf_free(&want);
}

static void test_anthropic(void)
{
    struct ag_buf s, want;
    size_t i;

    ag_buf_init(&s, 1u << 20);
    ag_buf_init(&want, 1u << 20);
    for (i = 0; i < AG_ARRAY_SIZE(anthropic_events); i++) {
        ag_buf_printf(&s, "event: %s\ndata: %s\n\n", anthropic_events[i][0],
                      anthropic_events[i][1]);
        ag_buf_printf(&want, "[%s]%s\n", anthropic_events[i][0],
                      anthropic_events[i][1]);
    }
    expect_all_endings("anthropic stream", ag_buf_cstr(&s), ag_buf_cstr(&want));

    expect_all_endings(
        "anthropic error event",
        "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":"
        "\"overloaded_error\",\"message\":\"Overloaded\"}}\n\n",
        "[error]{\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\","
        "\"message\":\"Overloaded\"}}\n");
    ag_buf_free(&s);
    ag_buf_free(&want);
}

/* ---- the rules, one by one -------------------------------------------- */

static void test_fields(void)
{
    expect("multi-line data", "data: a\ndata: b\ndata: c\n\n",
           "[message]a\nb\nc\n", 0);
    expect("field without colon", "data\n\n", "[message]\n", 0);
    expect("empty data value", "data:\n\n", "[message]\n", 0);
    expect("empty data lines join", "data:\ndata:\n\n", "[message]\n\n", 0);
    expect("one space stripped", "data:  x\n\n", "[message] x\n", 0);
    expect("no space after colon", "data:x\n\n", "[message]x\n", 0);
    expect("tab kept", "data:\tx\n\n", "[message]\tx\n", 0);
    expect("trailing space kept", "data: x \n\n", "[message]x \n", 0);
    expect("colon in value", "data: a:b: c\n\n", "[message]a:b: c\n", 0);
    expect("event name", "event: foo\ndata: x\n\ndata: y\n\n",
           "[foo]x\n[message]y\n", 0);
    expect("empty event name", "event:\ndata: x\n\n", "[message]x\n", 0);
    expect("last event name wins", "event: a\nevent: b\ndata: x\n\n", "[b]x\n",
           0);
    expect("event without data is dropped", "event: a\n\ndata: x\n\n",
           "[message]x\n", 0);
    expect("event line after data", "data: x\nevent: late\n\n", "[late]x\n", 0);
    expect("id, retry and unknown fields ignored",
           "id: 7\nretry: 100\nfoo: bar\ndata: x\nid\n\n", "[message]x\n", 0);
    expect("field names are case-sensitive", "Data: x\nEVENT: y\n\n", "", 0);
    expect("space before field name", " data: x\n\n", "", 0);
    expect("space before colon", "data : x\n\n", "", 0);
    expect("blank lines alone", "\n\n\n", "", 0);
    expect("utf-8 passes through",
           "event: d\xc3\xa9j\xc3\xa0\ndata: h\xc3\xa9llo \xe2\x86\x92 "
           "\xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x98\x80\n\n",
           "[d\xc3\xa9j\xc3\xa0]h\xc3\xa9llo \xe2\x86\x92 "
           "\xe4\xb8\x96\xe7\x95\x8c \xf0\x9f\x98\x80\n",
           0);
    EXPECT_N("NUL byte in data", "data: a\0b\n\n", MAX_DEFAULT,
             "[message]a\\0b\n", 0, 0);
    EXPECT_N("NUL byte ends an event name", "event: ab\0c\ndata: x\n\n",
             MAX_DEFAULT, "[ab]x\n", 0, 0);
    EXPECT_N("event name starting with NUL is message",
             "event:\0x\ndata: x\n\n", MAX_DEFAULT, "[message]x\n", 0, 0);
}

static void test_comments(void)
{
    expect("comment only", ": keep-alive\n\n", "", 0);
    expect("comment without blank line", ": ping\n", "", 0);
    expect("bare colon", ":\n", "", 0);
    expect("comments between data", ": a\ndata: x\n:b\ndata: y\n: c\n\n",
           "[message]x\ny\n", 0);
    expect("comment does not end an event", "data: x\n: note\n", "", AG_ETRUNC);
    expect("data after comment", ":data: no\ndata: yes\n\n", "[message]yes\n",
           0);
}

static void test_line_endings(void)
{
    expect("CRLF", "data: x\r\n\r\n", "[message]x\n", 0);
    expect("CR", "data: x\r\r", "[message]x\n", 0);
    expect("mixed endings", "data: a\r\ndata: b\rdata: c\n\r\n",
           "[message]a\nb\nc\n", 0);
    expect("CRLF then LF", "data: x\r\n\n", "[message]x\n", 0);
    expect("LF then CR", "data: x\n\r", "[message]x\n", 0);
    expect("LF CR LF is two line ends", "data: x\n\r\ndata: y\n\n",
           "[message]x\n[message]y\n", 0);
    expect("CR CR LF", "data: x\r\r\n", "[message]x\n", 0);
    expect("CR inside data ends the line", "data: a\rb\n\n", "[message]a\n", 0);
    expect("many CRLF blank lines", "\r\n\r\n\r\ndata: x\r\n\r\n\r\n",
           "[message]x\n", 0);
}

static void test_bom(void)
{
    expect("BOM skipped",
           "\xEF\xBB\xBF"
           "data: x\n\n",
           "[message]x\n", 0);
    expect("BOM then CRLF", "\xEF\xBB\xBF\r\ndata:x\r\n\r\n", "[message]x\n",
           0);
    expect("BOM alone", "\xEF\xBB\xBF", "", 0);
    expect("second BOM is part of the field name",
           "\xEF\xBB\xBF\xEF\xBB\xBF"
           "data: x\n\n",
           "", 0);
    expect("partial BOM is part of the field name",
           "\xEF\xBB"
           "data: x\n\ndata: y\n\n",
           "[message]y\n", 0);
    expect("partial BOM at end", "\xEF\xBB", "", AG_ETRUNC);
    expect("BOM inside data kept", "data: \xEF\xBB\xBFx\n\n",
           "[message]\xEF\xBB\xBFx\n", 0);
    expect("BOM after first line kept",
           "\n\xEF\xBB\xBF"
           "data: x\n\n",
           "", 0);
}

static void test_truncation(void)
{
    expect("empty stream", "", "", 0);
    expect("unterminated line", "data: x", "", AG_ETRUNC);
    expect("no blank line", "data: x\n", "", AG_ETRUNC);
    expect("no blank line (CR)", "data: x\r", "", AG_ETRUNC);
    expect("no blank line (CRLF)", "data: x\r\n", "", AG_ETRUNC);
    expect("event name only", "event: message_stop\n", "", AG_ETRUNC);
    expect("unknown field only", "id: 3\n", "", AG_ETRUNC);
    expect("partial comment", ": ping", "", AG_ETRUNC);
    expect("second event cut", "data: x\n\ndata: y", "[message]x\n", AG_ETRUNC);
    expect("second event cut after data", "data: x\n\ndata: y\n",
           "[message]x\n", AG_ETRUNC);
    expect("stream ends after blank line", "data: x\n\n", "[message]x\n", 0);
}

static void test_limits(void)
{
    EXPECT_N("line of exactly max", "data: 12\n\n", 8, "[message]12\n", 0, 0);
    EXPECT_N("line over max", "data: 123\n\n", 8, "", AG_ETOOBIG, AG_ETOOBIG);
    EXPECT_N("unterminated line over max", "data: 123456", 8, "", AG_ETOOBIG,
             AG_ETOOBIG);
    EXPECT_N("events before the long line are delivered",
             "data: a\n\ndata: 123456789\n\ndata: b\n\n", 8, "[message]a\n",
             AG_ETOOBIG, AG_ETOOBIG);
    EXPECT_N("comment over max", ": 1234567\n\n", 8, "", AG_ETOOBIG,
             AG_ETOOBIG);
    EXPECT_N("data of exactly max", "data:12345\ndata:1234\n\n", 10,
             "[message]12345\n1234\n", 0, 0);
    EXPECT_N("data over max", "data:12345\ndata:1234\ndata:\n\n", 10, "",
             AG_ETOOBIG, AG_ETOOBIG);
    EXPECT_N("max 0 allows blank lines", "\n\r\n\r", 0, "", 0, 0);
    EXPECT_N("max 0 refuses any field", "\ndata\n\n", 0, "", AG_ETOOBIG,
             AG_ETOOBIG);
    EXPECT_N("partial BOM over a tiny max", "\xEF\xBBx\n", 1, "", AG_ETOOBIG,
             AG_ETOOBIG);
    EXPECT_N("BOM does not count towards max",
             "\xEF\xBB\xBF"
             "data\n\n",
             4, "[message]\n", 0, 0);
}

static void test_errors(void)
{
    static const char s[] = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
    struct opts o = {MAX_DEFAULT, 2, -42};
    struct result r = split_check("callback error", s, sizeof s - 1, &o);
    struct rec rec = {.stop_at = 1, .stop_rc = -7};
    struct ag_sse p;

    is_str(r.log, "[message]1\n[message]2\n", "callback error: stops events");
    is_int(r.feed_rc, -42, "callback error: feed returns it");
    is_int(r.finish_rc, -42, "callback error: finish returns it");
    free(r.log);

    o.stop_at = 1;
    o.stop_rc = 5;
    r = split_check("positive callback return", s, sizeof s - 1, &o);
    is_str(r.log, "[message]1\n[message]2\n[message]3\n",
           "positive callback return: does not stop");
    is_int(r.feed_rc, 0, "positive callback return: feed returns 0");
    free(r.log);

    /* Errors are sticky until finish, which resets the parser. */
    ag_buf_init(&rec.log, 4096);
    ag_sse_init(&p, 64, record, &rec);
    is_int(ag_sse_feed(&p, s, sizeof s - 1), -7, "sticky: first error");
    is_int(ag_sse_feed(&p, s, sizeof s - 1), -7, "sticky: fed again");
    is_int(rec.n, 1, "sticky: nothing delivered after the error");
    is_int(ag_sse_finish(&p), -7, "sticky: finish reports it");
    rec.stop_at = 0;
    is_int(ag_sse_feed(&p,
                       "\xEF\xBB\xBF"
                       "data: z\n\n",
                       12),
           0, "reuse: feed after finish");
    is_int(ag_sse_finish(&p), 0, "reuse: finish");
    is_str(ag_buf_cstr(&rec.log), "[message]1\n[message]z\n",
           "reuse: events of the new stream, BOM skipped again");

    ag_buf_reset(&rec.log);
    is_int(ag_sse_feed(&p, "event: x\ndata: partial", 22), 0,
           "reuse after truncation: feed");
    is_int(ag_sse_finish(&p), AG_ETRUNC, "reuse after truncation: ETRUNC");
    is_int(ag_sse_feed(&p, "data: fresh\n\n", 13), 0,
           "reuse after truncation: feed again");
    is_str(ag_buf_cstr(&rec.log), "[message]fresh\n",
           "reuse after truncation: no leftovers");
    is_int(ag_sse_feed(&p, NULL, 0), 0, "NULL with length 0");
    is_int(ag_sse_finish(&p), 0, "finish after NULL feed");
    ag_sse_free(&p);
    ag_sse_free(&p);
    ok(p.data.data == NULL && p.line.data == NULL, "free twice");
    ag_buf_free(&rec.log);
}

static int count_cb(void *ud, const char *event, const char *data, size_t len)
{
    AG_UNUSED(event);
    AG_UNUSED(data);
    AG_UNUSED(len);
    ++*(size_t *)ud;
    return 0;
}

/* A long stream: no allocation once warm, and no quadratic scans. */
static void test_volume(void)
{
    struct ag_buf s;
    struct ag_sse p;
    size_t i, n = 0, events = 20000, off;
    char *cr, *line0, *data0, *event0;
    size_t lcap, dcap, ecap;
    uint64_t t0;
    int rc = 0;

    ag_buf_init(&s, 1u << 24);
    for (i = 0; i < events; i++)
        ag_buf_printf(&s,
                      "event: content_block_delta\ndata: {\"type\":\"delta\","
                      "\"n\":%06zu,\"text\":\"abcdefghijklmnopqrstuvwxyz\"}"
                      "\n\n",
                      i);
    ag_sse_init(&p, 4096, count_cb, &n);
    for (off = 0; off < s.len && rc == 0; off += 4096)
        rc = ag_sse_feed(&p, s.data + off,
                         s.len - off < 4096 ? s.len - off : 4096);
    is_int(rc, 0, "volume: warm-up feed");
    is_int(ag_sse_finish(&p), 0, "volume: warm-up finish");
    line0 = p.line.data, data0 = p.data.data, event0 = p.event.data;
    lcap = p.line.cap, dcap = p.data.cap, ecap = p.event.cap;
    n = 0;
    for (off = 0; off < s.len && rc == 0; off += 4096)
        rc = ag_sse_feed(&p, s.data + off,
                         s.len - off < 4096 ? s.len - off : 4096);
    is_int(n, events, "volume: every event delivered");
    ok(p.line.data == line0 && p.data.data == data0 && p.event.data == event0 &&
           p.line.cap == lcap && p.data.cap == dcap && p.event.cap == ecap,
       "volume: no allocation once the buffers have grown");
    ag_sse_finish(&p);

    cr = endings(ag_buf_cstr(&s), 0);
    n = 0;
    t0 = ag_now_us();
    rc = ag_sse_feed(&p, cr, strlen(cr));
    is_int(rc, 0, "volume: CR-only stream in one feed");
    is_int(n, events, "volume: CR-only stream, every event delivered");
    printf("# %zu bytes with CR line ends parsed in %llu us\n", strlen(cr),
           (unsigned long long)(ag_now_us() - t0));
    ag_sse_free(&p);
    free(cr);
    ag_buf_free(&s);
}

/* The seed files of the fuzz corpus: any split gives the same events. */
static void test_corpus(void)
{
    const char *src = getenv("SRCDIR");
    char dir[4096], path[4352], label[512];
    struct dirent **names;
    int i, n;

    snprintf(dir, sizeof dir, "%s/tests/data/fuzz-sse", src ? src : ".");
    n = scandir(dir, &names, NULL, alphasort);
    if (n < 0) {
        printf("# no corpus at %s (set SRCDIR); skipped\n", dir);
        return;
    }
    for (i = 0; i < n; i++) {
        char *data;
        size_t len;

        if (names[i]->d_name[0] != '.') {
            snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
            if (ag_read_file(path, 1u << 20, &data, &len) == 0) {
                struct opts o = {4096, 0, 0};
                struct result r;

                snprintf(label, sizeof label, "corpus %s", names[i]->d_name);
                r = split_check(label, data, len, &o);
                free(r.log);
                free(data);
            }
        }
        free(names[i]);
    }
    free(names);
}

int main(void)
{
    test_openai();
    test_anthropic();
    test_fields();
    test_comments();
    test_line_endings();
    test_bom();
    test_truncation();
    test_limits();
    test_errors();
    test_volume();
    test_corpus();
    return tap_done();
}
