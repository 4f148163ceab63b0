/*
 * test-codec.c: the OpenAI and Anthropic codecs. Request bodies are built
 * for representative conversations and compared, as JSON trees, with the
 * exact expected body. Whole replies are parsed: text, tool calls, both,
 * error bodies, malformed and truncated JSON, missing parts. Streams are
 * data-driven: each tests/data/codec/NAME.sse holds the raw bytes of an
 * endpoint's stream and NAME.json what must come out of it; every stream
 * goes through the real SSE parser whole, split at every byte position and
 * byte by byte, and must give the same reply each time. Prefixes and
 * damaged copies of every stream and body check that no input crashes.
 */
#include "llm-sse.h"
#include "llm.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ----------------------------------------------------------- */

/* Parses JSON written with ' for " (the tests' strings have no '). */
static cJSON *sq(const char *text)
{
    char *t = ag_xstrdup(text);
    cJSON *v;

    for (char *p = t; *p; p++)
        if (*p == '\'')
            *p = '"';
    v = cJSON_Parse(t);
    if (!v)
        printf("# bad expected JSON: %s\n", t);
    free(t);
    return v;
}

static char *data_dir(void)
{
    const char *src = getenv("SRCDIR");

    return ag_xasprintf("%s/tests/data/codec", src && *src ? src : ".");
}

/* Reads and parses a JSON file of the data directory (NULL on failure). */
static cJSON *data_json(const char *file)
{
    char *dir = data_dir(), *path = ag_xasprintf("%s/%s", dir, file);
    char *text = NULL;
    cJSON *v = NULL;

    if (ag_read_file(path, 1 << 20, &text, NULL) < 0 ||
        !(v = cJSON_Parse(text)))
        printf("# cannot read %s\n", path);
    free(text);
    free(path);
    free(dir);
    return v;
}

/* Passes when got is the same JSON tree as the file's. */
static void is_json_file(const cJSON *got, const char *file, const char *name)
{
    cJSON *want = data_json(file);

    if (!ok(got && want && cJSON_Compare(got, want, 1), name)) {
        char *g = got ? cJSON_PrintUnformatted(got) : NULL;

        printf("#   got  %s\n#   want the tree in %s\n", g ? g : "(null)",
               file);
        free(g);
    }
    cJSON_Delete(want);
}

/* Builds a body with the codec and parses it back (NULL on failure). */
static cJSON *build(const struct ag_codec *c, const struct ag_llm_req *req)
{
    struct ag_buf body;
    cJSON *v = NULL;
    int rc;

    ag_buf_init(&body, 1 << 20);
    rc = c->build(req, &body);
    if (rc == 0 && !(v = cJSON_Parse(ag_buf_cstr(&body))))
        printf("# body is not JSON: %s\n", ag_buf_cstr(&body));
    if (rc < 0)
        printf("# build failed: %s\n", ag_strerror(rc));
    ag_buf_free(&body);
    return v;
}

/* ---- a conversation used by the build tests ---------------------------- */

static struct ag_toolcall calls1[] = {
    {"call_1", "get_weather", "{\"city\":\"Paris\"}"},
    {"call_2", "get_time", "{\"tz\": \"Europe/Paris\"}"},
};
static struct ag_toolcall calls2[] = {
    {"call_3", "book", "not json"},
};

static struct ag_msg convo[] = {
    {.role = AG_ROLE_SYSTEM, .text = "You are terse."},
    {.role = AG_ROLE_USER, .text = "Weather and time in Paris?"},
    {.role = AG_ROLE_ASSISTANT,
     .text = "Let me check.",
     .calls = calls1,
     .ncalls = 2},
    {.role = AG_ROLE_TOOL,
     .text = "18 C, cloudy",
     .call_id = "call_1",
     .name = "get_weather"},
    {.role = AG_ROLE_TOOL,
     .text = "no such zone",
     .call_id = "call_2",
     .name = "get_time",
     .is_error = 1},
    {.role = AG_ROLE_ASSISTANT, .calls = calls2, .ncalls = 1},
    {.role = AG_ROLE_TOOL, .text = "booked", .call_id = "call_3"},
    {.role = AG_ROLE_USER, .text = "Thanks."},
    {.role = AG_ROLE_ASSISTANT, .text = "You are welcome."},
};

static void test_build_openai(void)
{
    cJSON *params = sq("{'type':'object','properties':{'city':{'type':"
                       "'string'}},'required':['city']}");
    struct ag_tooldef tools[] = {
        {"get_weather", "Current weather", params},
        {"get_time", NULL, NULL},
    };
    struct ag_llm_req req = {.model = "gpt-4o-mini",
                             .msgs = convo,
                             .nmsgs = (int)AG_ARRAY_SIZE(convo),
                             .tools = tools,
                             .ntools = 2,
                             .stream = 1,
                             .max_tokens = 100,
                             .temperature = 0.2};
    cJSON *v = build(&ag_codec_openai, &req);

    is_json_file(v, "build-openai.json",
                 "openai: full conversation, tools, stream, limits");
    cJSON_Delete(v);

    req.ntools = 0;
    req.tools = NULL;
    req.stream = 0;
    req.max_tokens = 0;
    req.temperature = -1;
    req.nmsgs = 2;
    v = build(&ag_codec_openai, &req);
    is_json_file(v, "build-openai-minimal.json",
                 "openai: no tools, stream, max_tokens or temperature");
    cJSON_Delete(v);
    cJSON_Delete(params);
}

/* The JSON escaping of awkward text survives the round trip. */
static void test_build_escapes(void)
{
    static const char odd[] = "quote \" backslash \\ nl \n tab \t ctl \x01"
                              " utf8 \xc3\xa9\xe2\x82\xac </script>";
    struct ag_msg m[] = {{.role = AG_ROLE_USER, .text = (char *)odd}};
    struct ag_llm_req req = {
        .model = "m\"x", .msgs = m, .nmsgs = 1, .temperature = -1};
    const struct ag_codec *codecs[] = {&ag_codec_openai, &ag_codec_anthropic};

    for (int i = 0; i < 2; i++) {
        cJSON *v = build(codecs[i], &req);
        const cJSON *msgs = cJSON_GetObjectItemCaseSensitive(v, "messages");
        const cJSON *c = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetArrayItem(msgs, 0), "content");

        is_str(cJSON_IsString(c) ? c->valuestring : NULL, odd, codecs[i]->name);
        is_str(
            cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(v, "model")),
            "m\"x", "model name escaped");
        cJSON_Delete(v);
    }
}

static void test_build_anthropic(void)
{
    cJSON *params = sq("{'type':'object','properties':{'city':{'type':"
                       "'string'}}}");
    struct ag_tooldef tools[] = {
        {"get_weather", "Current weather", params},
        {"get_time", NULL, NULL},
    };
    struct ag_llm_req req = {.model = "claude-sonnet-4-5",
                             .msgs = convo,
                             .nmsgs = (int)AG_ARRAY_SIZE(convo),
                             .tools = tools,
                             .ntools = 2,
                             .stream = 1,
                             .max_tokens = 1000,
                             .temperature = 0.5};
    cJSON *v = build(&ag_codec_anthropic, &req);

    is_json_file(v, "build-anthropic.json",
                 "anthropic: system, merging, tool_use and tool_result");
    cJSON_Delete(v);
    cJSON_Delete(params);
}

/* Merging corner cases: several system messages, a later system message,
 * consecutive user items, an empty assistant turn, text before a tool
 * result, arguments that are not an object. */
static void test_build_anthropic_merge(void)
{
    struct ag_toolcall c1[] = {{"t1", "f", "[1,2]"}, {NULL, "g", NULL}};
    struct ag_toolcall c2[] = {{"t3", "h", "{\"a\":1} trailing"}};
    struct ag_msg m[] = {
        {.role = AG_ROLE_SYSTEM, .text = "Rule one."},
        {.role = AG_ROLE_SYSTEM, .text = ""},
        {.role = AG_ROLE_SYSTEM, .text = "Rule two."},
        {.role = AG_ROLE_USER, .text = "a"},
        {.role = AG_ROLE_USER, .text = "b"},
        {.role = AG_ROLE_SYSTEM, .text = "Note."},
        {.role = AG_ROLE_ASSISTANT, .text = ""},
        {.role = AG_ROLE_USER, .text = ""},
        {.role = AG_ROLE_ASSISTANT, .calls = c1, .ncalls = 2},
        {.role = AG_ROLE_USER, .text = "wait"},
        {.role = AG_ROLE_TOOL, .call_id = "t1", .text = "r1"},
        {.role = AG_ROLE_TOOL, .text = NULL, .is_error = 1},
        {.role = AG_ROLE_ASSISTANT, .calls = c2, .ncalls = 1},
    };
    struct ag_llm_req req = {.model = "c",
                             .msgs = m,
                             .nmsgs = (int)AG_ARRAY_SIZE(m),
                             .temperature = -1};
    cJSON *v = build(&ag_codec_anthropic, &req);

    is_json_file(v, "build-anthropic-merge.json",
                 "anthropic: merging corner cases");
    cJSON_Delete(v);

    /* No system message, the defaults, and an empty conversation. */
    req.msgs = m + 3;
    req.nmsgs = 1;
    v = build(&ag_codec_anthropic, &req);
    is_json_file(v, "build-anthropic-minimal.json",
                 "anthropic: no system, default max_tokens");
    cJSON_Delete(v);
    req.nmsgs = 0;
    v = build(&ag_codec_anthropic, &req);
    is_json_file(v, "build-anthropic-empty.json",
                 "anthropic: empty conversation");
    cJSON_Delete(v);
}

static void test_build_errors(void)
{
    struct ag_msg m[] = {{.role = AG_ROLE_USER, .text = "0123456789"}};
    struct ag_msg bad[] = {{.role = (enum ag_role)7, .text = "x"}};
    struct ag_llm_req req = {.model = "m", .msgs = m, .nmsgs = 1};
    const struct ag_codec *codecs[] = {&ag_codec_openai, &ag_codec_anthropic};
    struct ag_buf body;

    for (int i = 0; i < 2; i++) {
        ag_buf_init(&body, 30);
        ag_buf_adds(&body, "keep");
        is_int(codecs[i]->build(&req, &body), AG_ETOOBIG,
               "build: body past its max");
        is_str(ag_buf_cstr(&body), "keep", "build: body left as it was");
        req.msgs = bad;
        is_int(codecs[i]->build(&req, &body), -EINVAL, "build: bad role");
        req.msgs = m;
        is_int(codecs[i]->build(NULL, &body), -EINVAL, "build: no request");
        ag_buf_free(&body);
    }
}

/* ---- headers and the codec table --------------------------------------- */

static char *join(const struct curl_slist *h)
{
    struct ag_buf b;

    ag_buf_init(&b, 4096);
    for (; h; h = h->next) {
        ag_buf_adds(&b, h->data);
        ag_buf_adds(&b, "|");
    }
    return ag_buf_steal(&b);
}

static void test_headers(void)
{
    struct curl_slist *h = NULL;
    char *s;

    is_int(ag_codec_openai.headers("sk-test", &h), 0, "openai headers");
    s = join(h);
    is_str(s, "Authorization: Bearer sk-test|Content-Type: application/json|",
           "openai headers with a key");
    free(s);
    curl_slist_free_all(h);
    h = NULL;
    ag_codec_openai.headers("", &h);
    s = join(h);
    is_str(s, "Content-Type: application/json|", "openai headers, empty key");
    free(s);
    curl_slist_free_all(h);
    h = NULL;
    is_int(ag_codec_openai.headers("sk\r\nX-Evil: 1", &h), -EINVAL,
           "openai: key with a line break refused");
    ok(h == NULL, "openai: nothing added on refusal");

    is_int(ag_codec_anthropic.headers("ak", &h), 0, "anthropic headers");
    s = join(h);
    is_str(s,
           "x-api-key: ak|anthropic-version: 2023-06-01|Content-Type: "
           "application/json|",
           "anthropic headers with a key");
    free(s);
    curl_slist_free_all(h);
    h = NULL;
    ag_codec_anthropic.headers(NULL, &h);
    s = join(h);
    is_str(s, "anthropic-version: 2023-06-01|Content-Type: application/json|",
           "anthropic headers without a key");
    free(s);
    curl_slist_free_all(h);
    h = NULL;
    is_int(ag_codec_anthropic.headers("ak\n", &h), -EINVAL,
           "anthropic: key with a line break refused");
    ok(h == NULL, "anthropic: nothing added on refusal");

    ok(ag_codec_find("openai") == &ag_codec_openai, "find openai");
    ok(ag_codec_find("anthropic") == &ag_codec_anthropic, "find anthropic");
    ok(ag_codec_find("gemini") == NULL, "find unknown");
    ok(ag_codec_find(NULL) == NULL, "find NULL");
    is_str(ag_codec_openai.path, "/chat/completions", "openai path");
    is_str(ag_codec_anthropic.default_url, "https://api.anthropic.com/v1",
           "anthropic url");
}

/* ---- comparing replies with expectations ------------------------------ */

static const char *jstr(const cJSON *o, const char *key)
{
    return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(o, key));
}

static long jnum(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    return cJSON_IsNumber(v) ? (long)v->valuedouble : -1;
}

static int same(const char *a, const char *b)
{
    return (a && b) ? strcmp(a, b) == 0 : a == b;
}

static const char *nul(const char *s)
{
    return s ? s : "(null)";
}

/* Compares a reply with {"text", "calls": [{"id", "name", "args"}],
 * "finish", "usage": {"input", "output"}}. Returns NULL or what differed
 * (written into buf). */
static const char *check_reply(const struct ag_llm_reply *rep,
                               const cJSON *want, char *buf, size_t len)
{
    const cJSON *calls = cJSON_GetObjectItemCaseSensitive(want, "calls");
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(want, "usage");
    const cJSON *c;
    int i = 0;

    if (!same(rep->text, jstr(want, "text")))
        snprintf(buf, len, "text \"%s\", want \"%s\"", nul(rep->text),
                 nul(jstr(want, "text")));
    else if (!same(rep->finish, jstr(want, "finish")))
        snprintf(buf, len, "finish %s", nul(rep->finish));
    else if (rep->usage.input != jnum(usage, "input") ||
             rep->usage.output != jnum(usage, "output"))
        snprintf(buf, len, "usage %ld/%ld", rep->usage.input,
                 rep->usage.output);
    else if (rep->ncalls != cJSON_GetArraySize(calls))
        snprintf(buf, len, "%d calls, want %d", rep->ncalls,
                 cJSON_GetArraySize(calls));
    else
        buf[0] = '\0';
    if (buf[0])
        return buf;
    cJSON_ArrayForEach(c, calls)
    {
        const struct ag_toolcall *t = &rep->calls[i++];

        if (!same(t->id, jstr(c, "id")) || !same(t->name, jstr(c, "name")) ||
            !same(t->args, jstr(c, "args"))) {
            snprintf(buf, len, "call %d: %s %s %s", i - 1, nul(t->id),
                     nul(t->name), nul(t->args));
            break;
        }
    }
    return buf[0] ? buf : NULL;
}

/* ---- whole replies: tests/data/codec/replies.json ---------------------- */

/* The body of a case: "raw" text as is, or "body" printed compactly. */
static char *case_body(const cJSON *tc)
{
    const char *raw = jstr(tc, "raw");

    if (raw)
        return ag_xstrdup(raw);
    return cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(tc, "body"));
}

static void parse_case(const cJSON *tc, struct ag_llm_reply *r)
{
    const struct ag_codec *c = ag_codec_find(jstr(tc, "provider"));
    const char *want_err = jstr(tc, "error"), *code = jstr(tc, "code");
    char *body = case_body(tc), err[256] = "", why[512], name[300];
    const char *bad;
    int rc;

    snprintf(name, sizeof name, "parse %s", nul(jstr(tc, "name")));
    if (!c || !body) {
        ok(0, name);
        free(body);
        return;
    }
    /* r still holds the previous case's reply: parse must free it. */
    rc = c->parse(body, strlen(body), r, err, sizeof err);
    if (want_err) {
        int want_rc = code && !strcmp(code, "EPROTO") ? AG_EPROTO : AG_EPARSE;

        if (rc != want_rc)
            snprintf(why, sizeof why, "code %d (%s), want %s", rc,
                     ag_strerror(rc), nul(code));
        else if (!strstr(err, want_err))
            snprintf(why, sizeof why, "error \"%s\" lacks \"%s\"", err,
                     want_err);
        else if (r->text || r->calls || r->ncalls || r->finish)
            snprintf(why, sizeof why, "reply not left empty");
        else
            why[0] = '\0';
        bad = why[0] ? why : NULL;
    } else if (rc < 0) {
        snprintf(why, sizeof why, "failed: %s", err);
        bad = why;
    } else {
        bad = check_reply(r, tc, why, sizeof why);
    }
    if (!ok(!bad, name))
        printf("#   %s\n", bad);
    free(body);
}

/* Every prefix of a valid body fails cleanly, read from an exact-size
 * buffer with no NUL so that ASan sees any read past the end. */
static int parse_prefixes(const cJSON *tc)
{
    const struct ag_codec *c = ag_codec_find(jstr(tc, "provider"));
    char *body = case_body(tc);
    size_t n = body ? strlen(body) : 0;
    int bad = 0;

    for (size_t k = 0; c && k < n; k++) {
        struct ag_llm_reply r = {0};
        char *p = ag_xmalloc(k ? k : 1), err[128];

        memcpy(p, body, k);
        if (c->parse(p, k, &r, err, sizeof err) != AG_EPARSE)
            bad++;
        ag_llm_reply_clear(&r);
        free(p);
    }
    free(body);
    return bad;
}

static void test_parse(void)
{
    cJSON *cases = data_json("replies.json");
    struct ag_llm_reply r = {0};
    const cJSON *tc;
    char err[8];
    int bad = 0;

    cJSON_ArrayForEach(tc, cases)
    {
        parse_case(tc, &r);
        if (!jstr(tc, "error"))
            bad += parse_prefixes(tc);
    }
    ok(cJSON_GetArraySize(cases) >= 20, "at least 20 whole-reply cases");
    is_int(bad, 0, "parse: every prefix of a good body is AG_EPARSE");
    ag_llm_reply_clear(&r);
    ok(ag_codec_openai.parse(NULL, 0, &r, NULL, 0) == AG_EPARSE,
       "parse: NULL body, NULL err");
    ok(ag_codec_anthropic.parse("{", 1, &r, err, 1) == AG_EPARSE &&
           err[0] == '\0',
       "parse: errlen 1");
    cJSON_Delete(cases);
}

/* ---- streams ----------------------------------------------------------- */

/* One run of a recorded stream through the SSE parser and a codec. */
struct run {
    const struct ag_codec *codec;
    struct ag_stream s;
    struct ag_buf live; /* what on_text saw */
    int rc;
    char err[256];
};

static void on_text(void *ud, const char *p, size_t n)
{
    struct run *r = ud;

    ag_buf_add(&r->live, p, n);
}

static int on_event(void *ud, const char *event, const char *data, size_t len)
{
    struct run *r = ud;

    return r->codec->event(&r->s, event, data, len, r->err, sizeof r->err);
}

/* Feeds bytes cut at the given points (in order; npoints may be 0). */
static void run_stream(struct run *r, const struct ag_codec *c, size_t max,
                       const char *bytes, size_t n, const size_t *cuts,
                       int ncuts)
{
    struct ag_sse p;
    size_t at = 0;

    memset(r, 0, sizeof *r);
    r->codec = c;
    ag_stream_init(&r->s, max);
    r->s.on_text = on_text;
    r->s.ud = r;
    ag_buf_init(&r->live, 1 << 24);
    ag_sse_init(&p, 1 << 20, on_event, r);
    for (int i = 0; i <= ncuts && r->rc == 0; i++) {
        size_t to = i < ncuts ? cuts[i] : n;

        r->rc = ag_sse_feed(&p, bytes + at, to - at);
        at = to;
    }
    if (r->rc == 0)
        ag_sse_finish(&p); /* a truncated stream shows in done */
    ag_sse_free(&p);
}

static void run_free(struct run *r)
{
    ag_stream_free(&r->s);
    ag_buf_free(&r->live);
}

/* Checks a finished run against the expectation: the reply as for
 * whole replies, plus "done", what on_text saw, or {"error": substring}.
 * Returns NULL or what differed (in buf). */
static const char *check_run(struct run *r, const cJSON *want, char *buf,
                             size_t len)
{
    const char *experr = jstr(want, "error"), *bad;
    const cJSON *done = cJSON_GetObjectItemCaseSensitive(want, "done");
    struct ag_llm_reply rep = {0};

    if (experr) {
        if (r->rc >= 0)
            snprintf(buf, len, "no error, want one with \"%s\"", experr);
        else if (!strstr(r->err, experr))
            snprintf(buf, len, "error \"%s\" lacks \"%s\"", r->err, experr);
        else
            return NULL;
        return buf;
    }
    if (r->rc < 0) {
        snprintf(buf, len, "failed: %s (%s)", r->err, ag_strerror(r->rc));
        return buf;
    }
    if (r->s.done != cJSON_IsTrue(done)) {
        snprintf(buf, len, "done %d", r->s.done);
        return buf;
    }
    ag_stream_take(&r->s, &rep);
    bad = check_reply(&rep, want, buf, len);
    if (!bad && !same(r->live.len ? r->live.data : NULL, rep.text)) {
        snprintf(buf, len, "on_text saw \"%s\"", ag_buf_cstr(&r->live));
        bad = buf;
    }
    ag_llm_reply_clear(&rep);
    return bad;
}

static char *data_path(const char *dir, const char *name, const char *ext)
{
    return ag_xasprintf("%s/%s%s", dir, name, ext);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lists the NAME of every NAME.sse in dir, sorted. */
static int list_cases(const char *dir, char ***out)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    int n = 0;

    if (!d)
        return -errno;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);

        if (len > 4 && strcmp(e->d_name + len - 4, ".sse") == 0) {
            names = ag_xrealloc(names, (size_t)(n + 1) * sizeof *names);
            names[n++] = ag_xstrndup(e->d_name, len - 4);
        }
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, by_name);
    *out = names;
    return n;
}

/* Flips bytes of a stream with a fixed seed: the codec must not crash. */
static void damage(const struct ag_codec *c, const char *bytes, size_t n)
{
    unsigned seed = 12345;
    static const char junk[] = "{}[]\":,\\\n0a-";

    for (int round = 0; round < 200; round++) {
        char *p = ag_xmalloc(n ? n : 1);
        struct run r;

        memcpy(p, bytes, n);
        for (int k = 0; k < 3 && n; k++) {
            seed = seed * 1103515245u + 12345u;
            p[(seed >> 8) % n] = junk[(seed >> 20) % (sizeof junk - 1)];
        }
        run_stream(&r, c, 1 << 20, p, n, NULL, 0);
        if (r.rc == 0) {
            struct ag_llm_reply rep = {0};

            ag_stream_take(&r.s, &rep);
            ag_llm_reply_clear(&rep);
        }
        run_free(&r);
        free(p);
    }
}

static void stream_case(const char *dir, const char *name)
{
    char *sse = data_path(dir, name, ".sse");
    char *exp = data_path(dir, name, ".json");
    char *bytes = NULL, *json = NULL, msg[300], why[1024];
    const struct ag_codec *c;
    size_t n = 0, max, *cuts;
    const char *bad = NULL;
    cJSON *want = NULL;
    struct run r;

    if (ag_read_file(sse, 1 << 20, &bytes, &n) < 0 ||
        ag_read_file(exp, 1 << 20, &json, NULL) < 0 ||
        !(want = cJSON_Parse(json)) ||
        !(c = ag_codec_find(jstr(want, "provider")))) {
        snprintf(msg, sizeof msg, "%s: data files readable", name);
        ok(0, msg);
        goto out;
    }
    max = jnum(want, "max") > 0 ? (size_t)jnum(want, "max") : 1 << 20;

    run_stream(&r, c, max, bytes, n, NULL, 0);
    bad = check_run(&r, want, why, sizeof why);
    run_free(&r);
    snprintf(msg, sizeof msg, "%s: whole", name);
    if (!ok(!bad, msg))
        printf("#   %s\n", bad);

    bad = NULL;
    for (size_t k = 0; k <= n && !bad; k++) {
        run_stream(&r, c, max, bytes, n, &k, 1);
        if ((bad = check_run(&r, want, why, sizeof why)))
            printf("#   split at %zu\n", k);
        run_free(&r);
    }
    snprintf(msg, sizeof msg, "%s: split at every byte", name);
    if (!ok(!bad, msg))
        printf("#   %s\n", bad);

    cuts = ag_xmalloc((n ? n : 1) * sizeof *cuts);
    for (size_t k = 0; k < n; k++)
        cuts[k] = k + 1;
    run_stream(&r, c, max, bytes, n, cuts, (int)(n ? n - 1 : 0));
    bad = check_run(&r, want, why, sizeof why);
    run_free(&r);
    free(cuts);
    snprintf(msg, sizeof msg, "%s: byte by byte", name);
    if (!ok(!bad, msg))
        printf("#   %s\n", bad);

    /* Prefixes (a stream cut anywhere) and damaged copies never crash. */
    for (size_t k = 0; k < n; k++) {
        char *p = ag_xmalloc(k ? k : 1);

        memcpy(p, bytes, k);
        run_stream(&r, c, max, p, k, NULL, 0);
        run_free(&r);
        free(p);
    }
    damage(c, bytes, n);
    snprintf(msg, sizeof msg, "%s: prefixes and damaged copies", name);
    ok(1, msg);
out:
    cJSON_Delete(want);
    free(bytes);
    free(json);
    free(sse);
    free(exp);
}

static void test_streams(void)
{
    char *dir = data_dir();
    char **names = NULL;
    int n = list_cases(dir, &names);
    char msg[128];

    snprintf(msg, sizeof msg, "at least 15 stream cases in %s", dir);
    if (!ok(n >= 15, msg))
        printf("#   found %d\n", n);
    for (int i = 0; i < n; i++) {
        stream_case(dir, names[i]);
        free(names[i]);
    }
    free(names);
    free(dir);
}

/* ---- the stream accumulator itself ------------------------------------- */

static void test_stream_limits(void)
{
    struct ag_stream s;
    struct ag_llm_reply rep = {0};
    char err[128], ev[160];
    int rc = 0;

    /* Too many tool calls. */
    ag_stream_init(&s, 1 << 20);
    for (int i = 0; i <= AG_STREAM_MAXCALLS && rc == 0; i++) {
        int len = snprintf(ev, sizeof ev,
                           "{\"choices\":[{\"delta\":{\"tool_calls\":[{"
                           "\"index\":%d,\"function\":{\"name\":\"f\"}}]}}]}",
                           i);

        rc = ag_codec_openai.event(&s, "message", ev, (size_t)len, err,
                                   sizeof err);
    }
    is_int(rc, AG_ETOOBIG, "stream: too many calls");
    has_str(err, "reply too large", "stream: too many calls message");
    ag_stream_free(&s);

    /* Indices in a bad range. */
    ag_stream_init(&s, 1 << 20);
    snprintf(ev, sizeof ev, "%s",
             "{\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":-1}]}}]}");
    rc = ag_codec_openai.event(&s, "message", ev, strlen(ev), err, sizeof err);
    is_int(rc, AG_EPARSE, "stream: negative index");
    has_str(err, "index invalid", "stream: negative index message");
    ag_stream_free(&s);

    /* The whole reply is bounded, not only each buffer. */
    ag_stream_init(&s, 10);
    is_int(ag_stream_text(&s, "123456", 6), 0, "stream: text within max");
    ok(ag_stream_call(&s, 3) != NULL, "stream: call created");
    is_int(ag_stream_add(&s, &ag_stream_call(&s, 3)->args, "12345", 5),
           AG_ETOOBIG, "stream: args past the reply's max");
    is_int(ag_stream_add(&s, &ag_stream_call(&s, 3)->args, "1234", 4), 0,
           "stream: args up to the reply's max");
    is_int(s.ncalls, 1, "stream: same index, same call");
    ag_stream_call(&s, 1);
    ag_stream_take(&s, &rep);
    is_str(rep.text, "123456", "take: text");
    is_int(rep.ncalls, 2, "take: calls");
    if (rep.ncalls == 2) {
        is_str(rep.calls[0].args, "{}", "take: sorted by index, empty {}");
        is_str(rep.calls[1].args, "1234", "take: second call");
        ok(rep.calls[0].id == NULL, "take: no id is NULL");
        is_str(rep.calls[0].name, "", "take: no name is \"\"");
    }
    is_int(s.used, 0, "take: stream emptied");
    is_int(ag_stream_text(&s, "0123456789", 10), 0, "take: max again free");
    ag_stream_free(&s);
    ag_llm_reply_clear(&rep);
    ok(rep.text == NULL && rep.usage.input == -1, "reply cleared");
    ag_llm_reply_clear(NULL);
    ag_msg_clear(NULL);
    ag_toolcall_clear(NULL);
    ag_stream_free(NULL);
}

/* Messages own their strings: ag_msg_clear frees them all. */
static void test_msg_clear(void)
{
    struct ag_msg m = {.role = AG_ROLE_ASSISTANT, .text = ag_xstrdup("t")};

    m.calls = ag_xcalloc(2, sizeof *m.calls);
    m.ncalls = 2;
    m.calls[0].id = ag_xstrdup("a");
    m.calls[0].name = ag_xstrdup("f");
    m.calls[0].args = ag_xstrdup("{}");
    m.call_id = ag_xstrdup("c");
    ag_msg_clear(&m);
    ok(!m.text && !m.calls && !m.ncalls && !m.call_id, "msg cleared");
}

int main(void)
{
    test_build_openai();
    test_build_escapes();
    test_build_anthropic();
    test_build_anthropic_merge();
    test_build_errors();
    test_headers();
    test_parse();
    test_stream_limits();
    test_msg_clear();
    test_streams();
    return tap_done();
}
