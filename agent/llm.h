/*
 * llm.h: what the agent says to a model and what comes back, independent of
 * any provider; the codecs that turn it into each provider's wire format;
 * and the client that sends it over HTTP with retries.
 *
 * A conversation is an array of struct ag_msg. A reply is one
 * struct ag_llm_reply. Codecs are pure: they build request bodies and parse
 * response bodies or SSE events, and never do I/O, so they are unit-tested
 * on recorded streams. The client (llm.c) does the I/O on the loop.
 */
#ifndef AG_LLM_H
#define AG_LLM_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "ag.h"

enum ag_role { AG_ROLE_SYSTEM, AG_ROLE_USER, AG_ROLE_ASSISTANT, AG_ROLE_TOOL };

struct ag_toolcall {
    char *id;   /* provider's call id; NULL when absent (the client then
                   makes one up) */
    char *name; /* tool name as the model wrote it; never NULL in a parsed
                   reply ("" when the provider sent none) */
    char *args; /* arguments as JSON text, exactly as sent (may be invalid);
                   "{}" when the provider sent none */
};

struct ag_msg {
    enum ag_role role;
    char *text;                /* may be NULL (assistant with only calls) */
    struct ag_toolcall *calls; /* assistant only */
    int ncalls;
    char *call_id; /* tool only: the call this result answers */
    char *name;    /* tool only: the tool's name */
    int is_error;  /* tool only: the result is an error message */
};

/* A tool as the model sees it. Borrowed from the registry. */
struct ag_tooldef {
    const char *name;
    const char *description;
    const cJSON *parameters; /* JSON schema, type object */
};

struct ag_llm_req {
    const char *model;
    const struct ag_msg *msgs; /* msgs[0] may be the system prompt */
    int nmsgs;
    const struct ag_tooldef *tools;
    int ntools;
    int stream;         /* ask for SSE */
    int max_tokens;     /* 0: provider default (anthropic needs one: 4096) */
    double temperature; /* < 0: not sent */
    int step;           /* replies received so far in the run (not sent: for the
                           stand-ins, which cannot count them once context cuts drop
                           old steps) */
};

struct ag_usage {
    long input;  /* prompt tokens; -1 when the endpoint did not say */
    long output; /* completion tokens; -1 when unknown */
};

struct ag_llm_reply {
    char *text; /* NULL when the model said nothing */
    struct ag_toolcall *calls;
    int ncalls;
    char *finish; /* provider's stop reason: "stop", "tool_calls", "length",
                     "end_turn", "tool_use", ... NULL when unknown */
    struct ag_usage usage;
    int stand_in; /* answered by a script or a recorded log, not a model */
};

/* Appends the request in a provider-neutral canonical form: {"messages":
 * [{"role", "content", "tool_calls": [{"id", "name", "arguments"}],
 * "tool_call_id", "name", "is_error"}], "model", "tools": [names]}, keys
 * sorted (json.h). Its hash identifies what the model was asked, whatever
 * the provider, so that two runs can be compared step by step. Returns 0
 * or a negative code from the buffer. */
int ag_llm_req_canonical(const struct ag_llm_req *req, struct ag_buf *out);

/* Free what the struct owns (the struct itself is the caller's) and leave
 * it empty: pointers NULL, counts 0, a reply's usage -1/-1. NULL is a
 * no-op. */
void ag_llm_reply_clear(struct ag_llm_reply *r);
void ag_msg_clear(struct ag_msg *m);
void ag_toolcall_clear(struct ag_toolcall *c);

/* ---- codecs ------------------------------------------------------------ */

/* Accumulates a streamed reply. Providers fill it event by event; what is
 * common to all of them lives here, the rest in the private fields.
 * Invariant: text.len plus the lengths of every call's id, name and args
 * (that is, used) never exceeds max, and ncalls <= AG_STREAM_MAXCALLS. */
#define AG_STREAM_MAXCALLS 256

struct ag_stream {
    struct ag_buf text;
    struct ag_stream_call {
        struct ag_buf id, name, args;
        int index; /* provider's index or content block number */
    } * calls;
    int ncalls, capcalls;
    char *finish;
    struct ag_usage usage;
    int done; /* the provider's terminal event was seen */
    /* Called with each piece of text as it arrives (for live display); may
     * be NULL. */
    void (*on_text)(void *ud, const char *s, size_t n);
    void *ud;
    size_t max;  /* bound for the whole reply: all buffers together */
    int cur;     /* private to the codec: current content block, -1 none */
    size_t used; /* private: bytes held by all buffers together */
};

/* Prepares an empty stream (usage -1/-1, cur -1, on_text NULL); set on_text
 * and ud afterwards. */
void ag_stream_init(struct ag_stream *s, size_t max);
/* Frees the buffers; the stream can be initialised again. */
void ag_stream_free(struct ag_stream *s);
/* Returns the call with this provider index, creating it (in order of first
 * appearance) when new; NULL when out of memory or when the stream already
 * holds AG_STREAM_MAXCALLS calls. */
struct ag_stream_call *ag_stream_call(struct ag_stream *s, int index);
/* Appends n bytes to b, one of s's buffers, keeping the reply within
 * s->max. Returns 0, AG_ETOOBIG or -ENOMEM; b is unchanged on failure. */
int ag_stream_add(struct ag_stream *s, struct ag_buf *b, const char *p,
                  size_t n);
/* Appends a piece of the reply's text and passes it to on_text. Same
 * returns as ag_stream_add; on_text is not called on failure or for n 0. */
int ag_stream_text(struct ag_stream *s, const char *p, size_t n);
/* Moves the accumulated reply into *out (cleared first, so it must hold a
 * reply or be zeroed): text NULL when empty, calls ordered by provider
 * index, ids NULL when absent, empty arguments as "{}". The stream is left
 * empty but keeps max, on_text and ud; done is kept. */
void ag_stream_take(struct ag_stream *s, struct ag_llm_reply *out);

struct ag_codec {
    const char *name;        /* "openai", "anthropic" */
    const char *path;        /* appended to the base URL: "/chat/completions" */
    const char *default_url; /* used when no base URL is given */
    /* Appends the JSON body to *body. Returns 0; -EINVAL for a malformed
     * request (a role out of range, a count without its array);
     * AG_ETOOBIG when body->max would be passed, or -ENOMEM, leaving the
     * body as it was. Borrows req. */
    int (*build)(const struct ag_llm_req *req, struct ag_buf *body);
    /* Appends the provider's headers (auth, version) to *hdrs. api_key may
     * be NULL or empty (local servers need none). */
    int (*headers)(const char *api_key, struct curl_slist **hdrs);
    /* Parses a whole non-streamed response body into *out, which is
     * cleared first (it must hold a reply or be zeroed) and left empty on
     * failure. On failure returns AG_EPARSE or AG_EPROTO with a message in
     * err naming what was wrong ("choices[0].message missing", "error from
     * endpoint: <type>: <message>", "invalid JSON in reply at byte ...").
     * err may be NULL or errlen 0. */
    int (*parse)(const char *body, size_t n, struct ag_llm_reply *out,
                 char *err, size_t errlen);
    /* Handles one SSE event of a streamed response: event is the SSE event
     * name (may be NULL), data its data of length n. Same error contract,
     * plus AG_ETOOBIG ("reply too large") when the reply passes s->max and
     * -ENOMEM. After an error the stream must not be fed again. Events
     * after the terminal one are ignored. */
    int (*event)(struct ag_stream *s, const char *event, const char *data,
                 size_t n, char *err, size_t errlen);
};

extern const struct ag_codec ag_codec_openai;
extern const struct ag_codec ag_codec_anthropic;

/* Returns the codec of that name, or NULL (also for NULL). */
const struct ag_codec *ag_codec_find(const char *name);

/* ---- private to the codecs (llm-msg.c) --------------------------------- */

/* Parses n bytes of JSON that must be one object (trailing white space
 * allowed). Returns 0 and a tree in *out (cJSON_Delete it), or AG_EPARSE
 * with "invalid JSON in reply at byte N of M: near '...'" in err. */
int ag__codec_json(const char *p, size_t n, cJSON **out, char *err,
                   size_t errlen);
/* Returns AG_EPROTO with "error from endpoint: <type>: <message>" in err
 * when root is an error reply ({"error": {...}}, {"error": "..."},
 * {"type": "error", ...} or {"object": "error", ...}), else 0. */
int ag__codec_error(const cJSON *root, char *err, size_t errlen);
/* A whole reply body as JSON: ag__codec_json, then ag__codec_error (the
 * tree is freed then); a NULL body is "invalid JSON in reply: empty". */
int ag__codec_root(const char *body, size_t n, cJSON **root, char *err,
                   size_t errlen);
/* Appends "name: value" to *hdrs. Returns 0, -ENOMEM, or -EINVAL when
 * value holds a control character (a key must not inject header lines).
 * The formatted line is wiped before it is freed: it may hold a key. */
int ag__codec_header(struct curl_slist **hdrs, const char *name,
                     const char *value);
/* The common shape of a codec's parse(): JSON, then an error reply, then
 * the provider's own parse_message. */
int ag__codec_parse(const char *body, size_t n, struct ag_llm_reply *out,
                    int (*parse_message)(const cJSON *root, size_t n,
                                         struct ag_llm_reply *out, char *err,
                                         size_t errlen),
                    char *err, size_t errlen);
/* Names a stream failure (AG_ETOOBIG: "reply too large", -ENOMEM) in err;
 * returns rc. */
int ag__codec_fail(int rc, char *err, size_t errlen);
/* A non-negative integer member of obj, or -1 when missing or invalid. */
long ag__codec_count(const cJSON *obj, const char *key);

/* Writes JSON text into a bounded buffer, commas included. The first
 * failure (AG_ETOOBIG, -ENOMEM) sticks in rc and makes later calls no-ops,
 * so a builder checks once at the end. */
struct ag__jw {
    struct ag_buf *b;
    int rc;
    int comma; /* a value was just written: the next one needs a ',' */
};
void ag__jw_init(struct ag__jw *w, struct ag_buf *b);
void ag__jw_open(struct ag__jw *w, char c);  /* '{' or '[' */
void ag__jw_close(struct ag__jw *w, char c); /* '}' or ']' */
void ag__jw_key(struct ag__jw *w, const char *key);
void ag__jw_str(struct ag__jw *w, const char *s);    /* NULL writes null */
void ag__jw_raw(struct ag__jw *w, const char *json); /* a value as text */
void ag__jw_num(struct ag__jw *w, double d);
void ag__jw_json(struct ag__jw *w, const cJSON *v); /* compact */
/* Key and value in one call. */
void ag__jw_kstr(struct ag__jw *w, const char *key, const char *s);
void ag__jw_kraw(struct ag__jw *w, const char *key, const char *json);

#endif
