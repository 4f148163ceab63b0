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
    char *id;   /* provider's call id; the client makes one up when absent */
    char *name; /* tool name as the model wrote it */
    char *args; /* arguments as JSON text, exactly as sent (may be invalid) */
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

/* Frees what the reply owns; the struct itself is the caller's. */
void ag_llm_reply_clear(struct ag_llm_reply *r);
void ag_msg_clear(struct ag_msg *m);
void ag_toolcall_clear(struct ag_toolcall *c);

/* ---- codecs ------------------------------------------------------------ */

/* Accumulates a streamed reply. Providers fill it event by event; what is
 * common to all of them lives here, the rest in the private fields. */
struct ag_stream {
    struct ag_buf text;
    struct ag_stream_call {
        struct ag_buf id, name, args;
        int index; /* provider's index or content block number */
    } *calls;
    int ncalls, capcalls;
    char *finish;
    struct ag_usage usage;
    int done; /* the provider's terminal event was seen */
    /* Called with each piece of text as it arrives (for live display); may
     * be NULL. */
    void (*on_text)(void *ud, const char *s, size_t n);
    void *ud;
    size_t max; /* bound for each buffer */
    int cur;    /* private to the codec: current content block, -1 none */
};

void ag_stream_init(struct ag_stream *s, size_t max);
void ag_stream_free(struct ag_stream *s);
/* Returns the call with this provider index, creating it (in order of first
 * appearance) when new; NULL when out of memory. */
struct ag_stream_call *ag_stream_call(struct ag_stream *s, int index);
/* Moves the accumulated reply into *out (cleared first). */
void ag_stream_take(struct ag_stream *s, struct ag_llm_reply *out);

struct ag_codec {
    const char *name;        /* "openai", "anthropic" */
    const char *path;        /* appended to the base URL: "/chat/completions" */
    const char *default_url; /* used when no base URL is given */
    /* Builds the JSON body. Returns 0 or a negative code. */
    int (*build)(const struct ag_llm_req *req, struct ag_buf *body);
    /* Appends the provider's headers (auth, version) to *hdrs. api_key may
     * be NULL or empty (local servers need none). */
    int (*headers)(const char *api_key, struct curl_slist **hdrs);
    /* Parses a whole non-streamed response body. On failure returns
     * AG_EPARSE or AG_EPROTO with a message in err naming what was wrong
     * ("choices[0].message missing", "error from endpoint: ..."). */
    int (*parse)(const char *body, size_t n, struct ag_llm_reply *out,
                 char *err, size_t errlen);
    /* Handles one SSE event of a streamed response. Same error contract. */
    int (*event)(struct ag_stream *s, const char *event, const char *data,
                 size_t n, char *err, size_t errlen);
};

extern const struct ag_codec ag_codec_openai;
extern const struct ag_codec ag_codec_anthropic;

/* Returns the codec of that name, or NULL. */
const struct ag_codec *ag_codec_find(const char *name);

#endif
