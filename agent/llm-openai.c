/*
 * llm-openai.c: the codec for OpenAI's chat-completions API, which vLLM,
 * llama.cpp's server, Ollama and LM Studio also speak. Pure code: it builds
 * request bodies from a provider-neutral conversation and parses replies,
 * whole or one SSE chunk at a time, into struct ag_llm_reply.
 *
 * Streamed tool calls arrive as fragments keyed by "index": the first one
 * usually carries the id and name, later ones pieces of the arguments split
 * anywhere (inside escapes too), and fragments of several calls may
 * interleave. They are assembled per index in struct ag_stream. Servers
 * differ in details, all tolerated here: a usage chunk whose "choices" is
 * [], null or absent; a name repeated in every fragment; whole calls in one
 * chunk without an index; arguments sent as an object; unknown fields.
 */
#include "llm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* ---- building the request ---------------------------------------------- */

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

static void write_message(struct ag__jw *w, const struct ag_msg *m)
{
    static const char *const roles[] = {"system", "user", "assistant", "tool"};

    ag__jw_open(w, '{');
    ag__jw_kstr(w, "role", roles[m->role]);
    switch (m->role) {
    case AG_ROLE_ASSISTANT:
        ag__jw_kstr(w, "content", m->text); /* null when there is none */
        if (m->ncalls <= 0)
            break;
        ag__jw_key(w, "tool_calls");
        ag__jw_open(w, '[');
        for (int i = 0; i < m->ncalls; i++) {
            const struct ag_toolcall *c = &m->calls[i];

            ag__jw_open(w, '{');
            ag__jw_kstr(w, "id", or_empty(c->id));
            ag__jw_kstr(w, "type", "function");
            ag__jw_key(w, "function");
            ag__jw_open(w, '{');
            ag__jw_kstr(w, "name", or_empty(c->name));
            ag__jw_kstr(w, "arguments", c->args ? c->args : "{}");
            ag__jw_close(w, '}');
            ag__jw_close(w, '}');
        }
        ag__jw_close(w, ']');
        break;
    case AG_ROLE_TOOL:
        ag__jw_kstr(w, "tool_call_id", or_empty(m->call_id));
        ag__jw_kstr(w, "content", or_empty(m->text));
        break;
    default:
        ag__jw_kstr(w, "content", or_empty(m->text));
    }
    ag__jw_close(w, '}');
}

static void write_tool(struct ag__jw *w, const struct ag_tooldef *t)
{
    ag__jw_open(w, '{');
    ag__jw_kstr(w, "type", "function");
    ag__jw_key(w, "function");
    ag__jw_open(w, '{');
    ag__jw_kstr(w, "name", or_empty(t->name));
    if (t->description)
        ag__jw_kstr(w, "description", t->description);
    ag__jw_key(w, "parameters");
    if (cJSON_IsObject(t->parameters))
        ag__jw_json(w, t->parameters);
    else
        ag__jw_raw(w, "{\"type\":\"object\",\"properties\":{}}");
    ag__jw_close(w, '}');
    ag__jw_close(w, '}');
}

static int build(const struct ag_llm_req *req, struct ag_buf *body)
{
    size_t start;
    struct ag__jw w;

    if (!req || !body || req->nmsgs < 0 || req->ntools < 0 ||
        (req->nmsgs > 0 && !req->msgs) || (req->ntools > 0 && !req->tools))
        return -EINVAL;
    for (int i = 0; i < req->nmsgs; i++)
        if ((unsigned)req->msgs[i].role > AG_ROLE_TOOL)
            return -EINVAL;
    start = body->len;
    ag__jw_init(&w, body);
    ag__jw_open(&w, '{');
    ag__jw_kstr(&w, "model", or_empty(req->model));
    ag__jw_key(&w, "messages");
    ag__jw_open(&w, '[');
    for (int i = 0; i < req->nmsgs; i++)
        write_message(&w, &req->msgs[i]);
    ag__jw_close(&w, ']');
    if (req->ntools > 0) {
        ag__jw_key(&w, "tools");
        ag__jw_open(&w, '[');
        for (int i = 0; i < req->ntools; i++)
            write_tool(&w, &req->tools[i]);
        ag__jw_close(&w, ']');
    }
    if (req->stream) {
        ag__jw_kraw(&w, "stream", "true");
        ag__jw_kraw(&w, "stream_options", "{\"include_usage\":true}");
    }
    if (req->max_tokens > 0) {
        ag__jw_key(&w, "max_tokens");
        ag__jw_num(&w, req->max_tokens);
    }
    if (req->temperature >= 0) {
        ag__jw_key(&w, "temperature");
        ag__jw_num(&w, req->temperature);
    }
    ag__jw_close(&w, '}');
    if (w.rc < 0) {
        body->len = start; /* leave the body as it was */
        if (body->data)
            body->data[start] = '\0';
    }
    return w.rc;
}

/* ---- headers ----------------------------------------------------------- */

static int headers(const char *api_key, struct curl_slist **hdrs)
{
    int rc;

    if (api_key && *api_key) {
        char *bearer = ag_xasprintf("Bearer %s", api_key);

        rc = ag__codec_header(hdrs, "Authorization", bearer);
        explicit_bzero(bearer, strlen(bearer));
        free(bearer);
        if (rc < 0)
            return rc;
    }
    return ag__codec_header(hdrs, "Content-Type", "application/json");
}

/* ---- parsing a whole reply --------------------------------------------- */

/* Appends a message's content: a string, or an array of {"type": "text",
 * "text": ...} parts as some servers send. null adds nothing. */
static int add_content(const cJSON *v, struct ag_buf *b, const char *where,
                       char *err, size_t errlen)
{
    const cJSON *part;
    int rc;

    if (!v || cJSON_IsNull(v))
        return 0;
    if (cJSON_IsString(v))
        return ag_buf_adds(b, v->valuestring);
    if (!cJSON_IsArray(v)) {
        ag_seterr(err, errlen, "%s is not a string", where);
        return AG_EPARSE;
    }
    cJSON_ArrayForEach(part, v)
    {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(part, "text");

        if (cJSON_IsString(t) && (rc = ag_buf_adds(b, t->valuestring)) < 0)
            return rc;
    }
    return 0;
}

/* The arguments of a call: a string as-is, an object as compact text. */
static char *args_text(const cJSON *a)
{
    if (cJSON_IsString(a))
        return ag_xstrdup(a->valuestring);
    if (cJSON_IsObject(a) || cJSON_IsArray(a))
        return cJSON_PrintUnformatted(a);
    return NULL;
}

static int parse_call(const cJSON *tc, int i, struct ag_toolcall *c, char *err,
                      size_t errlen)
{
    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(tc, "function");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(tc, "id");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(fn, "name");

    if (!cJSON_IsObject(fn)) {
        ag_seterr(err, errlen,
                  "choices[0].message.tool_calls[%d].function missing", i);
        return AG_EPARSE;
    }
    if (!cJSON_IsString(name)) {
        ag_seterr(err, errlen,
                  "choices[0].message.tool_calls[%d].function.name "
                  "missing",
                  i);
        return AG_EPARSE;
    }
    if (cJSON_IsString(id) && *id->valuestring)
        c->id = ag_xstrdup(id->valuestring);
    c->name = ag_xstrdup(name->valuestring);
    c->args = args_text(cJSON_GetObjectItemCaseSensitive(fn, "arguments"));
    if (!c->args || !*c->args) {
        free(c->args);
        c->args = ag_xstrdup("{}");
    }
    return 0;
}

static int parse_message(const cJSON *root, size_t n_body,
                         struct ag_llm_reply *out, char *err, size_t errlen)
{
    const cJSON *choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
    const cJSON *ch, *msg, *calls, *v;
    struct ag_buf text;
    int rc, n;

    if (!cJSON_IsArray(choices)) {
        ag_seterr(err, errlen, "choices missing");
        return AG_EPARSE;
    }
    if (!cJSON_IsObject(ch = cJSON_GetArrayItem(choices, 0))) {
        ag_seterr(err, errlen, "choices[0] missing");
        return AG_EPARSE;
    }
    if (!cJSON_IsObject(msg =
                            cJSON_GetObjectItemCaseSensitive(ch, "message"))) {
        ag_seterr(err, errlen, "choices[0].message missing");
        return AG_EPARSE;
    }
    ag_buf_init(&text, n_body); /* the text cannot be longer than the body */
    rc = add_content(cJSON_GetObjectItemCaseSensitive(msg, "content"), &text,
                     "choices[0].message.content", err, errlen);
    /* A refusal comes instead of content; it is what the model said. */
    if (rc == 0 && text.len == 0)
        rc = add_content(cJSON_GetObjectItemCaseSensitive(msg, "refusal"),
                         &text, "choices[0].message.refusal", err, errlen);
    if (rc < 0) {
        ag_buf_free(&text);
        return rc;
    }
    out->text = text.len ? ag_buf_steal(&text) : NULL;
    ag_buf_free(&text);

    calls = cJSON_GetObjectItemCaseSensitive(msg, "tool_calls");
    if (calls && !cJSON_IsNull(calls) && !cJSON_IsArray(calls)) {
        ag_seterr(err, errlen, "choices[0].message.tool_calls is not an array");
        return AG_EPARSE;
    }
    if ((n = cJSON_GetArraySize(calls)) > 0) {
        out->calls = ag_xcalloc((size_t)n, sizeof *out->calls);
        for (int i = 0; i < n; i++) {
            rc = parse_call(cJSON_GetArrayItem(calls, i), i, &out->calls[i],
                            err, errlen);
            out->ncalls = i + 1;
            if (rc < 0)
                return rc;
        }
    }
    v = cJSON_GetObjectItemCaseSensitive(ch, "finish_reason");
    if (cJSON_IsString(v))
        out->finish = ag_xstrdup(v->valuestring);
    v = cJSON_GetObjectItemCaseSensitive(root, "usage");
    out->usage.input = ag__codec_count(v, "prompt_tokens");
    out->usage.output = ag__codec_count(v, "completion_tokens");
    return 0;
}

static int parse(const char *body, size_t n, struct ag_llm_reply *out,
                 char *err, size_t errlen)
{
    return ag__codec_parse(body, n, out, parse_message, err, errlen);
}

/* ---- parsing a stream -------------------------------------------------- */

static struct ag_stream_call *find_by_id(struct ag_stream *s, const char *id)
{
    for (int i = 0; i < s->ncalls; i++)
        if (s->calls[i].id.len && strcmp(s->calls[i].id.data, id) == 0)
            return &s->calls[i];
    return NULL;
}

/* Picks the call a fragment belongs to: by "index" when given (OpenAI,
 * vLLM, llama.cpp); otherwise by id, a new id starting a new call; with
 * neither, the call touched last. */
static int pick_call(struct ag_stream *s, const cJSON *tc, int j,
                     struct ag_stream_call **out, char *err, size_t errlen)
{
    const cJSON *ix = cJSON_GetObjectItemCaseSensitive(tc, "index");
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(tc, "id");
    struct ag_stream_call *c = NULL;
    int index;

    if (cJSON_IsNumber(ix)) {
        double d = ix->valuedouble;

        if (!(d >= 0 && d <= 1e6) || d != (double)(int)d) {
            ag_seterr(err, errlen,
                      "choices[0].delta.tool_calls[%d]."
                      "index invalid",
                      j);
            return AG_EPARSE;
        }
        index = (int)d;
    } else if (cJSON_IsString(id) && *id->valuestring &&
               (c = find_by_id(s, id->valuestring)) != NULL) {
        index = c->index;
    } else if (s->cur >= 0 && !(cJSON_IsString(id) && *id->valuestring)) {
        index = s->cur;
    } else {
        index = 0;
        for (int i = 0; i < s->ncalls; i++)
            if (s->calls[i].index >= index)
                index = s->calls[i].index + 1;
    }
    if (!(c = ag_stream_call(s, index))) {
        if (s->ncalls >= AG_STREAM_MAXCALLS) {
            ag_seterr(err, errlen,
                      "reply too large: more than %d tool "
                      "calls",
                      AG_STREAM_MAXCALLS);
            return AG_ETOOBIG;
        }
        return ag__codec_fail(-ENOMEM, err, errlen);
    }
    s->cur = index;
    *out = c;
    return 0;
}

static int add_call_fragment(struct ag_stream *s, const cJSON *tc, int j,
                             char *err, size_t errlen)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(tc, "id");
    const cJSON *fn = cJSON_GetObjectItemCaseSensitive(tc, "function");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(fn, "name");
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(fn, "arguments");
    struct ag_stream_call *c = NULL;
    int rc;

    if (!cJSON_IsObject(tc))
        return 0;
    if ((rc = pick_call(s, tc, j, &c, err, errlen)) < 0)
        return rc;
    /* The id comes once, or repeated unchanged: keep the first. */
    if (cJSON_IsString(id) && *id->valuestring && c->id.len == 0 &&
        (rc = ag_stream_add(s, &c->id, id->valuestring,
                            strlen(id->valuestring))) < 0)
        return ag__codec_fail(rc, err, errlen);
    /* Some servers repeat the whole name in every fragment. */
    if (cJSON_IsString(name) && *name->valuestring &&
        strcmp(c->name.data ? c->name.data : "", name->valuestring) != 0 &&
        (rc = ag_stream_add(s, &c->name, name->valuestring,
                            strlen(name->valuestring))) < 0)
        return ag__codec_fail(rc, err, errlen);
    if (cJSON_IsString(args)) {
        rc = ag_stream_add(s, &c->args, args->valuestring,
                           strlen(args->valuestring));
    } else if ((cJSON_IsObject(args) || cJSON_IsArray(args)) &&
               c->args.len == 0) {
        char *t = cJSON_PrintUnformatted(args);

        rc = t ? ag_stream_add(s, &c->args, t, strlen(t)) : -ENOMEM;
        free(t);
    }
    return rc < 0 ? ag__codec_fail(rc, err, errlen) : 0;
}

static int add_delta(struct ag_stream *s, const cJSON *ch, char *err,
                     size_t errlen)
{
    const cJSON *delta = cJSON_GetObjectItemCaseSensitive(ch, "delta");
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(delta, "content");
    const cJSON *calls = cJSON_GetObjectItemCaseSensitive(delta, "tool_calls");
    const cJSON *fin = cJSON_GetObjectItemCaseSensitive(ch, "finish_reason");
    const cJSON *tc;
    int rc = 0, j = 0;

    if (cJSON_IsString(content)) {
        rc = ag_stream_text(s, content->valuestring,
                            strlen(content->valuestring));
    } else if (cJSON_IsArray(content)) {
        cJSON_ArrayForEach(tc, content)
        {
            const cJSON *t = cJSON_GetObjectItemCaseSensitive(tc, "text");

            if (cJSON_IsString(t) &&
                (rc = ag_stream_text(s, t->valuestring,
                                     strlen(t->valuestring))) < 0)
                break;
        }
    }
    if (rc < 0)
        return ag__codec_fail(rc, err, errlen);
    if (!cJSON_IsArray(calls))
        calls = NULL;
    cJSON_ArrayForEach(tc, calls)
    {
        if ((rc = add_call_fragment(s, tc, j++, err, errlen)) < 0)
            return rc;
    }
    if (cJSON_IsString(fin) && *fin->valuestring) {
        free(s->finish);
        s->finish = ag_xstrdup(fin->valuestring);
    }
    return 0;
}

static int is_done(const char *data, size_t n)
{
    while (n > 0 && (data[n - 1] == ' ' || data[n - 1] == '\t' ||
                     data[n - 1] == '\r' || data[n - 1] == '\n'))
        n--;
    while (n > 0 && (*data == ' ' || *data == '\t')) {
        data++;
        n--;
    }
    return n == 6 && memcmp(data, "[DONE]", 6) == 0;
}

static int is_blank(const char *data, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (data[i] != ' ' && data[i] != '\t' && data[i] != '\r' &&
            data[i] != '\n')
            return 0;
    return 1;
}

/* Some servers send "event: error" with an error object, a bare
 * {"message": ...} or plain text. */
static int error_event(const char *data, size_t n, char *err, size_t errlen)
{
    const cJSON *m;
    cJSON *root;
    char text[160];
    int rc;

    if (ag__codec_json(data, n, &root, NULL, 0) == 0) {
        rc = ag__codec_error(root, err, errlen);
        m = cJSON_GetObjectItemCaseSensitive(root, "message");
        if (rc == 0 && cJSON_IsString(m)) {
            ag_seterr(err, errlen, "error from endpoint: %s", m->valuestring);
            rc = AG_EPROTO;
        }
        cJSON_Delete(root);
        if (rc < 0)
            return rc;
    }
    for (size_t i = 0; i < n && i + 1 < sizeof text; i++)
        text[i] = (data[i] >= 0x20 && data[i] < 0x7f) ? data[i] : '?';
    text[n < sizeof text - 1 ? n : sizeof text - 1] = '\0';
    ag_seterr(err, errlen, "error from endpoint: %s", text);
    return AG_EPROTO;
}

static int event(struct ag_stream *s, const char *ev, const char *data,
                 size_t n, char *err, size_t errlen)
{
    const cJSON *choices, *usage, *ch;
    cJSON *root;
    int rc;

    if (s->done || !data || is_blank(data, n))
        return 0;
    if (is_done(data, n)) {
        s->done = 1;
        return 0;
    }
    if (ev && strcmp(ev, "error") == 0)
        return error_event(data, n, err, errlen);
    if ((rc = ag__codec_json(data, n, &root, err, errlen)) < 0)
        return rc;
    if ((rc = ag__codec_error(root, err, errlen)) < 0)
        goto out;
    choices = cJSON_GetObjectItemCaseSensitive(root, "choices");
    if (choices && !cJSON_IsNull(choices) && !cJSON_IsArray(choices)) {
        ag_seterr(err, errlen, "choices is not an array");
        rc = AG_EPARSE;
        goto out;
    }
    ch = cJSON_GetArrayItem(choices, 0);
    if (cJSON_IsObject(ch) && (rc = add_delta(s, ch, err, errlen)) < 0)
        goto out;
    usage = cJSON_GetObjectItemCaseSensitive(root, "usage");
    if (cJSON_IsObject(usage)) {
        long in = ag__codec_count(usage, "prompt_tokens");
        long outn = ag__codec_count(usage, "completion_tokens");

        if (in >= 0)
            s->usage.input = in;
        if (outn >= 0)
            s->usage.output = outn;
    }
out:
    cJSON_Delete(root);
    return rc;
}

const struct ag_codec ag_codec_openai = {
    .name = "openai",
    .path = "/chat/completions",
    .default_url = "https://api.openai.com/v1",
    .build = build,
    .headers = headers,
    .parse = parse,
    .event = event,
};
