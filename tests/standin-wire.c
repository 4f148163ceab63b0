/*
 * standin-wire.c: the stand-in's responses as bytes. A response is planned
 * into the connection's output buffer before any of it is sent: the body
 * first, cut into pieces (one per SSE event, or a script's chunks), then the
 * status line and headers after it (see struct conn). Replies are rendered
 * in OpenAI's chat-completions or Anthropic's messages format, streamed as
 * server-sent events or whole; error bodies take the API's shape.
 * standin-http.c sends the plan.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "standin.h"

/* ---- the response plan: body, pieces, head ---- */

void plan_reset(struct conn *c)
{
    c->out.len = 0;
    c->head_off = 0;
    c->ncuts = 0;
    c->cut_i = 0;
    c->split = 0;
    c->sent = 0;
    c->truncate = -1;
    c->pieces = 0;
    c->gap_ms = 0;
    c->stall_ms = 0;
    c->chunked = false;
    c->head_sent = false;
    c->finished = false;
    c->aborting = false;
}

/* Ends a piece of the body here (an SSE event, a scripted chunk). */
void plan_cut(struct conn *c)
{
    if (c->ncuts && c->cuts[c->ncuts - 1] >= c->out.len)
        return;
    if (c->ncuts == c->cuts_cap) {
        c->cuts_cap = c->cuts_cap ? 2 * c->cuts_cap : 16;
        c->cuts = xrealloc(c->cuts, (size_t)c->cuts_cap * sizeof *c->cuts);
    }
    c->cuts[c->ncuts++] = c->out.len;
}

static const struct {
    int status;
    const char *text;
} reasons[] = {
    {100, "Continue"},
    {200, "OK"},
    {201, "Created"},
    {204, "No Content"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {408, "Request Timeout"},
    {413, "Content Too Large"},
    {417, "Expectation Failed"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
    {529, "Overloaded"},
};

static const char *reason(int status)
{
    size_t i;

    for (i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].status == status)
            return reasons[i].text;
    return "Status";
}

/* Framing headers are the server's business; a script cannot set them. */
static bool framing_header(const char *name)
{
    return !strcasecmp(name, "content-length") ||
           !strcasecmp(name, "transfer-encoding") ||
           !strcasecmp(name, "connection");
}

/*
 * Closes the body and appends the head after it. ctype may be NULL (no
 * Content-Type); headers (may be NULL) is a script's object of extra
 * headers, whose own Content-Type replaces ctype.
 */
void plan_head(struct conn *c, int status, const char *ctype,
               const cJSON *headers)
{
    struct out *o = &c->out;
    const cJSON *h;

    c->head_off = o->len;
    cJSON_ArrayForEach(h, headers)
    {
        if (!strcasecmp(h->string, "content-type"))
            ctype = NULL;
        else if (!strcasecmp(h->string, "connection") && cJSON_IsString(h) &&
                 !strcasecmp(h->valuestring, "close"))
            c->close_after = true;
    }
    out_fmt(o, "HTTP/1.1 %d %s\r\n", status, reason(status));
    if (ctype)
        out_fmt(o, "Content-Type: %s\r\n", ctype);
    if (c->chunked)
        out_str(o, "Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\n");
    else
        out_fmt(o, "Content-Length: %zu\r\n", c->head_off);
    out_str(o, c->close_after ? "Connection: close\r\n"
                              : "Connection: keep-alive\r\n");
    cJSON_ArrayForEach(h, headers)
    {
        if (framing_header(h->string))
            continue;
        if (cJSON_IsString(h))
            out_fmt(o, "%s: %s\r\n", h->string, h->valuestring);
        else
            out_fmt(o, "%s: %.17g\r\n", h->string, h->valuedouble);
    }
    out_str(o, "\r\n");
}

/* A JSON error body in the API's shape, not streamed. */
void plan_error(struct conn *c, enum api api, int status, const char *type,
                const char *msg)
{
    struct out *o = &c->out;

    if (api == API_ANTHROPIC) {
        out_str(o, "{\"type\":\"error\",\"error\":{\"type\":");
        out_jsons(o, type);
        out_str(o, ",\"message\":");
        out_jsons(o, msg);
        out_str(o, "}}");
    } else {
        out_str(o, "{\"error\":{\"message\":");
        out_jsons(o, msg);
        out_str(o, ",\"type\":");
        out_jsons(o, type);
        out_str(o, ",\"code\":null}}");
    }
    c->chunked = false;
    plan_head(c, status, "application/json", NULL);
}

/* ---- replies: rendering them ---- */

/* Cuts s[0, len) into n nearly equal pieces, never inside a UTF-8 char. */
struct pieces {
    const char *s;
    size_t len, from;
    int n, k;
};

static bool next_piece(struct pieces *it, const char **p, size_t *len)
{
    while (it->k < it->n) {
        size_t to = it->len * (size_t)++it->k / (size_t)it->n;
        while (to < it->len && ((unsigned char)it->s[to] & 0xc0) == 0x80)
            to++;
        if (to > it->from) {
            *p = it->s + it->from;
            *len = to - it->from;
            it->from = to;
            return true;
        }
    }
    return false;
}

static struct pieces pieces_of(const char *s, size_t len, int n)
{
    struct pieces it = {s, len, 0, n < 1 ? 1 : n, 0};

    if ((size_t)it.n > len)
        it.n = len ? (int)len : 1;
    return it;
}

static void put_model(struct out *o, const struct ctx *x)
{
    out_put(o, "\"", 1);
    if (x->model.n)
        out_put(o, x->model.p, x->model.n);
    else
        out_str(o, "standin");
    out_put(o, "\"", 1);
}

static const char *finish_of(const struct reply *r, enum api api)
{
    if (r->finish)
        return r->finish;
    if (api == API_ANTHROPIC)
        return r->ncalls ? "tool_use" : "end_turn";
    return r->ncalls ? "tool_calls" : "stop";
}

static void event_end(struct conn *c, const struct ctx *x)
{
    out_str(&c->out, x->nl);
    out_str(&c->out, x->nl);
    plan_cut(c);
}

static void oa_usage(struct out *o, const struct reply *r)
{
    out_fmt(o,
            "{\"prompt_tokens\":%lld,\"completion_tokens\":%lld,"
            "\"total_tokens\":%lld}",
            r->input, r->output, r->input + r->output);
}

static void oa_chunk_open(struct conn *c, const struct ctx *x)
{
    out_fmt(&c->out,
            "data: {\"id\":\"chatcmpl-standin-%lu\","
            "\"object\":\"chat.completion.chunk\",\"created\":%lld,"
            "\"model\":",
            x->seq, x->created);
    put_model(&c->out, x);
}

static void oa_delta_open(struct conn *c, const struct ctx *x)
{
    oa_chunk_open(c, x);
    out_str(&c->out, ",\"choices\":[{\"index\":0,\"delta\":");
}

static void oa_delta_close(struct conn *c, const struct ctx *x,
                           const char *finish)
{
    out_str(&c->out, ",\"logprobs\":null,\"finish_reason\":");
    if (finish)
        out_jsons(&c->out, finish);
    else
        out_str(&c->out, "null");
    out_str(&c->out, "}]}");
    event_end(c, x);
}

static void oa_stream(struct conn *c, const struct ctx *x,
                      const struct reply *r)
{
    struct out *o = &c->out;
    struct pieces it;
    const char *p;
    size_t n;
    int i;

    oa_delta_open(c, x);
    out_str(o, r->text ? "{\"role\":\"assistant\",\"content\":\"\"}"
                       : "{\"role\":\"assistant\",\"content\":null}");
    oa_delta_close(c, x, NULL);
    it = pieces_of(r->text, r->text_len, r->text_pieces);
    while (r->text && next_piece(&it, &p, &n)) {
        oa_delta_open(c, x);
        out_str(o, "{\"content\":");
        out_json(o, p, n);
        out_str(o, "}");
        oa_delta_close(c, x, NULL);
    }
    for (i = 0; i < r->ncalls; i++) {
        const struct call *k = &r->calls[i];
        oa_delta_open(c, x);
        out_fmt(o, "{\"tool_calls\":[{\"index\":%d,\"id\":", i);
        out_jsons(o, k->id);
        out_str(o, ",\"type\":\"function\",\"function\":{\"name\":");
        out_jsons(o, k->name);
        out_str(o, ",\"arguments\":");
        out_jsons(o, r->args_pieces ? "" : k->args);
        out_str(o, "}}]}");
        oa_delta_close(c, x, NULL);
        it = pieces_of(k->args, strlen(k->args), r->args_pieces);
        while (r->args_pieces && next_piece(&it, &p, &n)) {
            oa_delta_open(c, x);
            out_fmt(o,
                    "{\"tool_calls\":[{\"index\":%d,"
                    "\"function\":{\"arguments\":",
                    i);
            out_json(o, p, n);
            out_str(o, "}}]}");
            oa_delta_close(c, x, NULL);
        }
    }
    oa_delta_open(c, x);
    out_str(o, "{}");
    oa_delta_close(c, x, finish_of(r, x->api));
    if (x->include_usage) {
        oa_chunk_open(c, x);
        if (!strcmp(r->usage_choices, "null"))
            out_str(o, ",\"choices\":null");
        else if (strcmp(r->usage_choices, "absent") != 0)
            out_str(o, ",\"choices\":[]");
        out_str(o, ",\"usage\":");
        oa_usage(o, r);
        out_str(o, "}");
        event_end(c, x);
    }
    if (!r->omit_done) {
        out_str(o, "data: [DONE]");
        event_end(c, x);
    }
}

static void oa_message(struct conn *c, const struct ctx *x,
                       const struct reply *r)
{
    struct out *o = &c->out;
    int i;

    out_fmt(o,
            "{\"id\":\"chatcmpl-standin-%lu\",\"object\":\"chat.completion\","
            "\"created\":%lld,\"model\":",
            x->seq, x->created);
    put_model(o, x);
    out_str(o, ",\"choices\":[{\"index\":0,\"message\":{\"role\":"
               "\"assistant\",\"content\":");
    if (r->text)
        out_json(o, r->text, r->text_len);
    else
        out_str(o, "null");
    for (i = 0; i < r->ncalls; i++) {
        out_str(o, i ? "," : ",\"tool_calls\":[");
        out_str(o, "{\"id\":");
        out_jsons(o, r->calls[i].id);
        out_str(o, ",\"type\":\"function\",\"function\":{\"name\":");
        out_jsons(o, r->calls[i].name);
        out_str(o, ",\"arguments\":");
        out_jsons(o, r->calls[i].args);
        out_str(o, "}}");
    }
    out_str(o, r->ncalls ? "]}," : "},");
    out_str(o, "\"logprobs\":null,\"finish_reason\":");
    out_jsons(o, finish_of(r, x->api));
    out_str(o, "}],\"usage\":");
    oa_usage(o, r);
    out_str(o, "}");
}

static void an_event(struct conn *c, const struct ctx *x, const char *type)
{
    out_fmt(&c->out, "event: %s%sdata: {\"type\":\"%s\"", type, x->nl, type);
}

static void an_block_stop(struct conn *c, const struct ctx *x, int index)
{
    an_event(c, x, "content_block_stop");
    out_fmt(&c->out, ",\"index\":%d}", index);
    event_end(c, x);
}

static void an_stream(struct conn *c, const struct ctx *x,
                      const struct reply *r)
{
    struct out *o = &c->out;
    struct pieces it;
    const char *p;
    size_t n;
    int i, block = 0;

    an_event(c, x, "message_start");
    out_fmt(o,
            ",\"message\":{\"id\":\"msg_standin_%lu\",\"type\":\"message\","
            "\"role\":\"assistant\",\"model\":",
            x->seq);
    put_model(o, x);
    out_fmt(o,
            ",\"content\":[],\"stop_reason\":null,\"stop_sequence\":null,"
            "\"usage\":{\"input_tokens\":%lld,\"output_tokens\":1}}}",
            r->input);
    event_end(c, x);
    an_event(c, x, "ping");
    out_str(o, "}");
    event_end(c, x);
    if (r->text) {
        an_event(c, x, "content_block_start");
        out_fmt(o,
                ",\"index\":%d,\"content_block\":{\"type\":\"text\","
                "\"text\":\"\"}}",
                block);
        event_end(c, x);
        it = pieces_of(r->text, r->text_len, r->text_pieces);
        while (next_piece(&it, &p, &n)) {
            an_event(c, x, "content_block_delta");
            out_fmt(o,
                    ",\"index\":%d,\"delta\":{\"type\":\"text_delta\","
                    "\"text\":",
                    block);
            out_json(o, p, n);
            out_str(o, "}}");
            event_end(c, x);
        }
        an_block_stop(c, x, block++);
    }
    for (i = 0; i < r->ncalls; i++, block++) {
        const struct call *k = &r->calls[i];
        an_event(c, x, "content_block_start");
        out_fmt(o,
                ",\"index\":%d,\"content_block\":{\"type\":\"tool_use\","
                "\"id\":",
                block);
        out_jsons(o, k->id);
        out_str(o, ",\"name\":");
        out_jsons(o, k->name);
        out_str(o, ",\"input\":{}}}");
        event_end(c, x);
        it = pieces_of(k->args, strlen(k->args), r->args_pieces);
        while (r->args_pieces && next_piece(&it, &p, &n)) {
            an_event(c, x, "content_block_delta");
            out_fmt(o,
                    ",\"index\":%d,\"delta\":{\"type\":\"input_json_delta\","
                    "\"partial_json\":",
                    block);
            out_json(o, p, n);
            out_str(o, "}}");
            event_end(c, x);
        }
        an_block_stop(c, x, block);
    }
    an_event(c, x, "message_delta");
    out_str(o, ",\"delta\":{\"stop_reason\":");
    out_jsons(o, finish_of(r, x->api));
    out_fmt(o, ",\"stop_sequence\":null},\"usage\":{\"output_tokens\":%lld}}",
            r->output);
    event_end(c, x);
    if (!r->omit_done) {
        an_event(c, x, "message_stop");
        out_str(o, "}");
        event_end(c, x);
    }
}

static void an_message(struct conn *c, const struct ctx *x,
                       const struct reply *r)
{
    struct out *o = &c->out;
    int i;

    out_fmt(o,
            "{\"id\":\"msg_standin_%lu\",\"type\":\"message\","
            "\"role\":\"assistant\",\"model\":",
            x->seq);
    put_model(o, x);
    out_str(o, ",\"content\":[");
    if (r->text) {
        out_str(o, "{\"type\":\"text\",\"text\":");
        out_json(o, r->text, r->text_len);
        out_str(o, "}");
    }
    for (i = 0; i < r->ncalls; i++) {
        const struct call *k = &r->calls[i];
        out_str(o, i || r->text ? ",{\"type\":\"tool_use\",\"id\":"
                                : "{\"type\":\"tool_use\",\"id\":");
        out_jsons(o, k->id);
        out_str(o, ",\"name\":");
        out_jsons(o, k->name);
        out_str(o, ",\"input\":");
        if (k->args_json) /* as written, even when it is not an object */
            out_str(o, k->args);
        else
            out_jsons(o, k->args);
        out_str(o, "}");
    }
    out_str(o, "],\"stop_reason\":");
    out_jsons(o, finish_of(r, x->api));
    out_fmt(o,
            ",\"stop_sequence\":null,\"usage\":{\"input_tokens\":%lld,"
            "\"output_tokens\":%lld}}",
            r->input, r->output);
}

/* Renders r in the request's format, streamed or not, and adds the head. */
void plan_reply(struct conn *c, const struct ctx *x, const struct reply *r,
                const cJSON *headers)
{
    c->chunked = x->stream;
    if (x->stream && x->api == API_ANTHROPIC)
        an_stream(c, x, r);
    else if (x->stream)
        oa_stream(c, x, r);
    else if (x->api == API_ANTHROPIC)
        an_message(c, x, r);
    else
        oa_message(c, x, r);
    plan_head(c, 200, x->stream ? "text/event-stream" : "application/json",
              headers);
}

/* A raw scripted reply: status, headers, and a body or hand-made chunks. */
void plan_raw(struct conn *c, const cJSON *R)
{
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(R, "body");
    const cJSON *chunks = cJSON_GetObjectItemCaseSensitive(R, "chunks");
    const cJSON *s;
    const char *ctype = NULL;

    if (chunks) {
        cJSON_ArrayForEach(s, chunks)
        {
            out_str(&c->out, s->valuestring);
            plan_cut(c);
        }
        c->chunked = true;
        ctype = "text/event-stream";
    } else if (cJSON_IsString(body)) {
        out_str(&c->out, body->valuestring);
        ctype = "text/plain; charset=utf-8";
    } else if (body) {
        char *text = cJSON_PrintUnformatted(body);
        out_str(&c->out, text);
        free(text);
        ctype = "application/json";
    }
    plan_head(c, (int)json_num(R, "status", 200), ctype,
              cJSON_GetObjectItemCaseSensitive(R, "headers"));
}
