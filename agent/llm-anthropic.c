/*
 * llm-anthropic.c: the codec for Anthropic's messages API. Pure code: it
 * builds request bodies from a provider-neutral conversation and parses
 * replies, whole or one SSE event at a time, into struct ag_llm_reply.
 *
 * The request differs from OpenAI's in shape more than in content: the
 * system prompt is a top-level string; roles must alternate, so consecutive
 * items of one role merge into one message of content blocks; tool calls
 * are "tool_use" blocks whose input is a JSON object (not text); tool
 * results are "tool_result" blocks of a user message, placed before any
 * text in it as the API requires. Empty text blocks are left out, since the
 * API refuses them. Leading system messages become the system prompt;
 * a system message later on is sent as user text.
 *
 * A streamed reply is a sequence of typed events around numbered content
 * blocks: text blocks grow by text_delta, tool_use blocks by pieces of
 * their input's JSON text (input_json_delta). Blocks of other types
 * (thinking, server tools) and unknown events are ignored.
 */
#include "llm.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_MAX_TOKENS 4096

/* ---- building the request ---------------------------------------------- */

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

static int has_text(const struct ag_msg *m)
{
    return m->text && *m->text;
}

/* How many content blocks an item contributes. */
static int nblocks(const struct ag_msg *m)
{
    if (m->role == AG_ROLE_TOOL)
        return 1;
    if (m->role == AG_ROLE_ASSISTANT)
        return has_text(m) + (m->ncalls > 0 ? m->ncalls : 0);
    return has_text(m); /* user, or a system message after the first */
}

static void write_text(struct ag__jw *w, const char *text)
{
    ag__jw_open(w, '{');
    ag__jw_kstr(w, "type", "text");
    ag__jw_kstr(w, "text", text);
    ag__jw_close(w, '}');
}

static void write_tool_use(struct ag__jw *w, const struct ag_toolcall *c)
{
    cJSON *input = NULL;

    ag__jw_open(w, '{');
    ag__jw_kstr(w, "type", "tool_use");
    ag__jw_kstr(w, "id", or_empty(c->id));
    ag__jw_kstr(w, "name", or_empty(c->name));
    /* The API wants an object; arguments that are not one become {}. */
    if (c->args &&
        ag__codec_json(c->args, strlen(c->args), &input, NULL, 0) == 0) {
        ag__jw_key(w, "input");
        ag__jw_json(w, input);
        cJSON_Delete(input);
    } else {
        ag__jw_kraw(w, "input", "{}");
    }
    ag__jw_close(w, '}');
}

static void write_tool_result(struct ag__jw *w, const struct ag_msg *m)
{
    ag__jw_open(w, '{');
    ag__jw_kstr(w, "type", "tool_result");
    ag__jw_kstr(w, "tool_use_id", or_empty(m->call_id));
    if (has_text(m))
        ag__jw_kstr(w, "content", m->text);
    if (m->is_error)
        ag__jw_kraw(w, "is_error", "true");
    ag__jw_close(w, '}');
}

/* Writes items [from, to), all of one role, as one message holding nb
 * blocks: tool results first (the API requires it), then the rest in
 * order. A message whose only block is text gets plain string content. */
static void write_group(struct ag__jw *w, const struct ag_msg *m, int from,
                        int to, int nb)
{
    int assistant = m[from].role == AG_ROLE_ASSISTANT;

    ag__jw_open(w, '{');
    ag__jw_kstr(w, "role", assistant ? "assistant" : "user");
    ag__jw_key(w, "content");
    for (int i = from; nb == 1 && i < to; i++) {
        if (nblocks(&m[i]) == 0)
            continue;
        if (m[i].role != AG_ROLE_TOOL && has_text(&m[i])) {
            ag__jw_str(w, m[i].text);
            ag__jw_close(w, '}');
            return;
        }
    }
    ag__jw_open(w, '[');
    for (int i = from; i < to; i++)
        if (m[i].role == AG_ROLE_TOOL)
            write_tool_result(w, &m[i]);
    for (int i = from; i < to; i++) {
        if (m[i].role == AG_ROLE_TOOL)
            continue;
        if (has_text(&m[i]))
            write_text(w, m[i].text);
        for (int k = 0; assistant && k < m[i].ncalls; k++)
            write_tool_use(w, &m[i].calls[k]);
    }
    ag__jw_close(w, ']');
    ag__jw_close(w, '}');
}

/* Writes the conversation after the system prompt, merging consecutive
 * items of one role (items with no blocks are skipped, so that their
 * neighbours merge). */
static void write_messages(struct ag__jw *w, const struct ag_msg *m, int first,
                           int n)
{
    int i = first;

    ag__jw_open(w, '[');
    while (i < n) {
        int assistant, j, nb = 0;

        if (nblocks(&m[i]) == 0) {
            i++;
            continue;
        }
        assistant = m[i].role == AG_ROLE_ASSISTANT;
        for (j = i; j < n; j++) {
            if (nblocks(&m[j]) == 0)
                continue;
            if ((m[j].role == AG_ROLE_ASSISTANT) != assistant)
                break;
            nb += nblocks(&m[j]);
        }
        write_group(w, m, i, j, nb);
        i = j;
    }
    ag__jw_close(w, ']');
}

/* Writes the leading system messages, joined by blank lines, as the
 * system prompt. Returns how many messages that used. */
static int write_system(struct ag__jw *w, const struct ag_llm_req *req)
{
    size_t len = 0, at = 0;
    char *sys;
    int i;

    for (i = 0; i < req->nmsgs && req->msgs[i].role == AG_ROLE_SYSTEM; i++)
        if (has_text(&req->msgs[i]))
            len += strlen(req->msgs[i].text) + 2;
    if (len == 0)
        return i;
    sys = ag_xmalloc(len + 1);
    for (int k = 0; k < i; k++) {
        const char *t = req->msgs[k].text;

        if (!has_text(&req->msgs[k]))
            continue;
        if (at) {
            memcpy(sys + at, "\n\n", 2);
            at += 2;
        }
        memcpy(sys + at, t, strlen(t));
        at += strlen(t);
    }
    sys[at] = '\0';
    ag__jw_kstr(w, "system", sys);
    free(sys);
    return i;
}

static void write_tool(struct ag__jw *w, const struct ag_tooldef *t)
{
    ag__jw_open(w, '{');
    ag__jw_kstr(w, "name", or_empty(t->name));
    if (t->description)
        ag__jw_kstr(w, "description", t->description);
    ag__jw_key(w, "input_schema");
    if (cJSON_IsObject(t->parameters))
        ag__jw_json(w, t->parameters);
    else
        ag__jw_raw(w, "{\"type\":\"object\",\"properties\":{}}");
    ag__jw_close(w, '}');
}

static int build(const struct ag_llm_req *req, struct ag_buf *body)
{
    struct ag__jw w;
    size_t start;
    int first;

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
    ag__jw_key(&w, "max_tokens");
    ag__jw_num(&w, req->max_tokens > 0 ? req->max_tokens : DEFAULT_MAX_TOKENS);
    first = write_system(&w, req);
    ag__jw_key(&w, "messages");
    write_messages(&w, req->msgs, first, req->nmsgs);
    if (req->ntools > 0) {
        ag__jw_key(&w, "tools");
        ag__jw_open(&w, '[');
        for (int i = 0; i < req->ntools; i++)
            write_tool(&w, &req->tools[i]);
        ag__jw_close(&w, ']');
    }
    if (req->stream)
        ag__jw_kraw(&w, "stream", "true");
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

    if (api_key && *api_key &&
        (rc = ag__codec_header(hdrs, "x-api-key", api_key)) < 0)
        return rc;
    if ((rc = ag__codec_header(hdrs, "anthropic-version", "2023-06-01")) < 0)
        return rc;
    return ag__codec_header(hdrs, "Content-Type", "application/json");
}

/* ---- parsing a whole reply --------------------------------------------- */

static const char *type_of(const cJSON *o)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(o, "type");

    return cJSON_IsString(t) ? t->valuestring : "";
}

static int parse_tool_use(const cJSON *b, int i, struct ag_toolcall *c,
                          char *err, size_t errlen)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(b, "id");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(b, "name");
    const cJSON *input = cJSON_GetObjectItemCaseSensitive(b, "input");

    if (!cJSON_IsString(name)) {
        ag_seterr(err, errlen, "content[%d].name missing", i);
        return AG_EPARSE;
    }
    if (cJSON_IsString(id) && *id->valuestring)
        c->id = ag_xstrdup(id->valuestring);
    c->name = ag_xstrdup(name->valuestring);
    if (input && !cJSON_IsNull(input))
        c->args = cJSON_PrintUnformatted(input);
    if (!c->args)
        c->args = ag_xstrdup("{}");
    return 0;
}

static int parse_message(const cJSON *root, size_t n_body,
                         struct ag_llm_reply *out, char *err, size_t errlen)
{
    const cJSON *content = cJSON_GetObjectItemCaseSensitive(root, "content");
    const cJSON *b, *v;
    struct ag_buf text;
    int i = 0, n = 0, rc = 0;

    if (!cJSON_IsArray(content)) {
        ag_seterr(err, errlen, "content missing");
        return AG_EPARSE;
    }
    cJSON_ArrayForEach(b, content) n += strcmp(type_of(b), "tool_use") == 0;
    if (n > 0)
        out->calls = ag_xcalloc((size_t)n, sizeof *out->calls);
    ag_buf_init(&text, n_body); /* the text cannot be longer than the body */
    cJSON_ArrayForEach(b, content)
    {
        const char *type = type_of(b);

        if (strcmp(type, "text") == 0) {
            v = cJSON_GetObjectItemCaseSensitive(b, "text");
            if (cJSON_IsString(v) && (rc = ag_buf_adds(&text, v->valuestring)))
                break;
        } else if (strcmp(type, "tool_use") == 0) {
            rc = parse_tool_use(b, i, &out->calls[out->ncalls++], err, errlen);
            if (rc < 0)
                break;
        }
        i++;
    }
    out->text = rc == 0 && text.len ? ag_buf_steal(&text) : NULL;
    ag_buf_free(&text);
    if (rc < 0)
        return rc;
    v = cJSON_GetObjectItemCaseSensitive(root, "stop_reason");
    if (cJSON_IsString(v))
        out->finish = ag_xstrdup(v->valuestring);
    v = cJSON_GetObjectItemCaseSensitive(root, "usage");
    out->usage.input = ag__codec_count(v, "input_tokens");
    out->usage.output = ag__codec_count(v, "output_tokens");
    return 0;
}

static int parse(const char *body, size_t n, struct ag_llm_reply *out,
                 char *err, size_t errlen)
{
    return ag__codec_parse(body, n, out, parse_message, err, errlen);
}

/* ---- parsing a stream -------------------------------------------------- */

/* The "index" of a content block event. */
static int block_index(const cJSON *root, const char *type, int *index,
                       char *err, size_t errlen)
{
    const cJSON *ix = cJSON_GetObjectItemCaseSensitive(root, "index");
    double d = cJSON_IsNumber(ix) ? ix->valuedouble : -1;

    if (!(d >= 0 && d <= 1e6) || d != (double)(int)d) {
        ag_seterr(err, errlen, "%s.index missing", type);
        return AG_EPARSE;
    }
    *index = (int)d;
    return 0;
}

static struct ag_stream_call *find_call(struct ag_stream *s, int index)
{
    for (int i = 0; i < s->ncalls; i++)
        if (s->calls[i].index == index)
            return &s->calls[i];
    return NULL;
}

static int add_str(struct ag_stream *s, struct ag_buf *b, const cJSON *v)
{
    if (!cJSON_IsString(v))
        return 0;
    return ag_stream_add(s, b, v->valuestring, strlen(v->valuestring));
}

static int block_start(struct ag_stream *s, const cJSON *root, char *err,
                       size_t errlen)
{
    const cJSON *cb = cJSON_GetObjectItemCaseSensitive(root, "content_block");
    const char *type = type_of(cb);
    struct ag_stream_call *c;
    int rc, index;

    if ((rc = block_index(root, "content_block_start", &index, err, errlen)) <
        0)
        return rc;
    s->cur = index;
    if (strcmp(type, "text") == 0) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(cb, "text");

        if (cJSON_IsString(t))
            rc = ag_stream_text(s, t->valuestring, strlen(t->valuestring));
        return rc < 0 ? ag__codec_fail(rc, err, errlen) : 0;
    }
    if (strcmp(type, "tool_use") != 0)
        return 0;
    if (find_call(s, index)) {
        ag_seterr(err, errlen, "content block %d started twice", index);
        return AG_EPARSE;
    }
    if (!(c = ag_stream_call(s, index))) {
        if (s->ncalls >= AG_STREAM_MAXCALLS) {
            ag_seterr(err, errlen, "reply too large: more than %d tool calls",
                      AG_STREAM_MAXCALLS);
            return AG_ETOOBIG;
        }
        return ag__codec_fail(-ENOMEM, err, errlen);
    }
    if ((rc = add_str(s, &c->id, cJSON_GetObjectItemCaseSensitive(cb, "id"))) <
            0 ||
        (rc = add_str(s, &c->name,
                      cJSON_GetObjectItemCaseSensitive(cb, "name"))) < 0)
        return ag__codec_fail(rc, err, errlen);
    return 0;
}

static int block_delta(struct ag_stream *s, const cJSON *root, char *err,
                       size_t errlen)
{
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "delta");
    const char *type = type_of(d);
    struct ag_stream_call *c;
    int rc, index;

    if ((rc = block_index(root, "content_block_delta", &index, err, errlen)) <
        0)
        return rc;
    if (strcmp(type, "text_delta") == 0) {
        const cJSON *t = cJSON_GetObjectItemCaseSensitive(d, "text");

        if (cJSON_IsString(t))
            rc = ag_stream_text(s, t->valuestring, strlen(t->valuestring));
    } else if (strcmp(type, "input_json_delta") == 0) {
        /* Deltas of blocks that are not client tool calls (server tools)
         * have no call to go to and are dropped. */
        if ((c = find_call(s, index)) != NULL)
            rc = add_str(s, &c->args,
                         cJSON_GetObjectItemCaseSensitive(d, "partial_json"));
    }
    return rc < 0 ? ag__codec_fail(rc, err, errlen) : 0;
}

static void read_usage(struct ag_stream *s, const cJSON *usage)
{
    long in = ag__codec_count(usage, "input_tokens");
    long out = ag__codec_count(usage, "output_tokens");

    if (in >= 0)
        s->usage.input = in;
    if (out >= 0)
        s->usage.output = out;
}

static int event(struct ag_stream *s, const char *ev, const char *data,
                 size_t n, char *err, size_t errlen)
{
    const cJSON *t, *v;
    const char *type;
    cJSON *root;
    int rc = 0;

    if (s->done || !data)
        return 0;
    if ((rc = ag__codec_json(data, n, &root, err, errlen)) < 0)
        return rc;
    t = cJSON_GetObjectItemCaseSensitive(root, "type");
    type = cJSON_IsString(t) ? t->valuestring : ev ? ev : "";
    if (strcmp(type, "error") == 0 || cJSON_HasObjectItem(root, "error")) {
        if ((rc = ag__codec_error(root, err, errlen)) == 0) {
            ag_seterr(err, errlen, "error from endpoint: (no message)");
            rc = AG_EPROTO;
        }
    } else if (strcmp(type, "message_start") == 0) {
        v = cJSON_GetObjectItemCaseSensitive(root, "message");
        read_usage(s, cJSON_GetObjectItemCaseSensitive(v, "usage"));
    } else if (strcmp(type, "content_block_start") == 0) {
        rc = block_start(s, root, err, errlen);
    } else if (strcmp(type, "content_block_delta") == 0) {
        rc = block_delta(s, root, err, errlen);
    } else if (strcmp(type, "content_block_stop") == 0) {
        s->cur = -1;
    } else if (strcmp(type, "message_delta") == 0) {
        v = cJSON_GetObjectItemCaseSensitive(root, "delta");
        v = cJSON_GetObjectItemCaseSensitive(v, "stop_reason");
        if (cJSON_IsString(v)) {
            free(s->finish);
            s->finish = ag_xstrdup(v->valuestring);
        }
        read_usage(s, cJSON_GetObjectItemCaseSensitive(root, "usage"));
    } else if (strcmp(type, "message_stop") == 0) {
        s->done = 1;
    }
    /* ping and event types added later are ignored. */
    cJSON_Delete(root);
    return rc;
}

const struct ag_codec ag_codec_anthropic = {
    .name = "anthropic",
    .path = "/messages",
    .default_url = "https://api.anthropic.com/v1",
    .build = build,
    .headers = headers,
    .parse = parse,
    .event = event,
};
