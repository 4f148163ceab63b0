/*
 * standin.h: the private header of the stand-in LLM endpoint (tests/standin).
 *
 * The stand-in is split by concern, each file with its own prefix or theme:
 *
 *   standin.c         main, options, the modes, routing a complete request
 *   standin-util.c    growable buffers, JSON helpers, the request scanner
 *   standin-http.c    connections: reading and parsing requests, sending
 *                     the planned response piece by piece (plan_send)
 *   standin-wire.c    the response plan: status line and headers, error
 *                     bodies, replies in OpenAI's and Anthropic's formats,
 *                     streamed or not (plan_*)
 *   standin-script.c  the script and fault files: checking, loading, playing
 *   standin-lua.c     the Lua model of --lua (luamodel_*)
 *   standin-embed.c   /v1/embeddings
 *
 * Nothing here is shared with libagent: the stand-in links libuv, cJSON and
 * liblua only, so that the client under test and its stand-in share no code.
 * Allocation failure aborts (this is a test tool), so functions that only
 * allocate do not report errors.
 */
#ifndef STANDIN_H
#define STANDIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>
#include <uv.h>

#define IN_INIT     4096        /* first size of a connection's input buffer */
#define HEAD_MAX    32768       /* request line and headers, in bytes */
#define MAX_HEADERS 100         /* header lines per request */
#define BODY_MAX    (64u << 20) /* larger request bodies are refused (413) */
#define KEEP_MAX    (1u << 20)  /* larger buffers shrink after a request */
#define SCRIPT_MAX  (64u << 20) /* largest script file */
#define MAX_CALLS   32          /* tool calls in one reply */
#define BACKLOG     8192

enum mode { MODE_SCRIPT, MODE_BENCH, MODE_LUA };
enum api { API_OPENAI, API_ANTHROPIC };
enum route {
    ROUTE_NONE,
    ROUTE_HEALTH,
    ROUTE_OPENAI,
    ROUTE_ANTHROPIC,
    ROUTE_EMBED
};

/*
 * The whole server's state; there is one loop and one listener. In script
 * mode replies[] are the script's replies; in Lua mode they are the faults
 * of --faults, played on the first chat requests or, with every > 0, on
 * every every-th one, cycling (chats counts the chat requests).
 */
struct server {
    uv_loop_t *loop;
    uv_tcp_t listener;
    uv_signal_t sigterm, sigint;
    enum mode mode;
    uint64_t delay_ms;      /* default delay before each answer */
    FILE *log;              /* request log, or NULL */
    const char *first_file; /* --first-request-file, or NULL */
    bool first_seen;
    cJSON *script;        /* the parsed script (or faults) file, owned */
    const cJSON *replies; /* its array of replies (borrowed from script) */
    int nreplies, next_reply;
    const cJSON *embeds; /* its "embeddings" array, or NULL (borrowed) */
    int nembeds, next_embed;
    int embed_dims; /* --embed-dims: this size whatever is asked, or 0 */
    bool repeat_last;
    int every;           /* Lua mode: a fault every this many chats, or 0 */
    unsigned long chats; /* Lua mode: chat requests so far */
    unsigned long seq;   /* complete requests so far: the log's "n" */
};

extern struct server srv;

/* A growable byte buffer; allocation failure aborts (this is a test tool). */
struct out {
    char *p;
    size_t len, cap;
};

/* A byte range borrowed from a request. */
struct span {
    const char *p;
    size_t n;
};

/* One header line of the current request, as offsets into conn.in. */
struct hdr {
    uint16_t name, name_len, value, value_len;
};

/*
 * A client connection. Invariants: in[0, in_len) holds the current request
 * followed by any bytes that came after it; head_len is 0 until the current
 * request's head has been parsed; busy is set from the moment a complete
 * request is handled until its response has been written (or forever, for a
 * "hang" reply). While busy, out[0, head_off) is the response body,
 * out[head_off, out.len) its head, and cuts[] the ends of its pieces.
 */
struct conn {
    uv_tcp_t tcp;
    uv_timer_t timer;   /* delays, gaps and stalls of the response */
    uv_write_t wreq;    /* the one response write in flight */
    uv_shutdown_t sreq; /* graceful close after a response */
    int open_handles;   /* freed when tcp and timer have both closed */
    bool closing, reading;

    char *in;
    size_t in_len, in_cap;
    size_t scan;     /* where the search for the end of the head resumes */
    size_t head_len; /* 0 until the head has been parsed */
    size_t body_len; /* Content-Length */
    uint16_t method_len, target_off, target_len;
    struct hdr hdrs[MAX_HEADERS];
    int nhdrs;
    bool keep_alive, expect_continue;
    bool busy, dispatching;
    const char *err; /* why the head was refused */

    struct out out;
    size_t head_off;
    size_t *cuts; /* ascending ends of the body's pieces */
    int ncuts, cuts_cap, cut_i;
    size_t split;       /* when non-zero, pieces are this long instead */
    size_t sent;        /* body bytes written so far */
    long long truncate; /* close after this many body bytes, or -1 */
    int pieces;         /* pieces written so far */
    uint64_t gap_ms, stall_ms;
    bool chunked, head_sent, finished, aborting, close_after;
    char frame[24]; /* the chunk-size line of the piece in flight */
};

/* A model answer, independent of the wire format it is rendered in. The
 * owned strings are freed by reply_free. */
struct call {
    const char *id, *name;
    const char *args; /* JSON text as the model "wrote" it, maybe invalid */
    bool args_json;   /* args parses as JSON */
    char *owned;      /* args when printed from a JSON value, else NULL */
    char *name_owned, *id_owned; /* copies from a Lua model, else NULL */
    char idbuf[40];
};

struct reply {
    const char *text; /* NULL when the answer has no text */
    size_t text_len;
    char *text_owned;
    struct call calls[MAX_CALLS];
    int ncalls;
    const char *finish; /* NULL: the API's default */
    char *finish_owned;
    long long input, output;
    int text_pieces, args_pieces;
    bool omit_done;
    const char *usage_choices; /* "empty", "null" or "absent" */
};

/* What a model request asked for, found by scanning its body. */
struct req {
    struct span model; /* contents of the "model" string, still escaped */
    bool stream, include_usage;
    struct span last; /* the last element of "messages" */
};

/* Everything the renderers need besides the reply. */
struct ctx {
    enum api api;
    bool stream, include_usage;
    unsigned long seq;
    long long created;
    struct span model;
    const char *nl; /* SSE line end: "\n", or "\r\n" with "crlf" */
};

/* ---- standin-util.c ---- */
void *xrealloc(void *p, size_t n);
void out_put(struct out *o, const void *s, size_t n);
void out_str(struct out *o, const char *s);
__attribute__((format(printf, 2, 3))) void out_fmt(struct out *o,
                                                   const char *fmt, ...);
/* Appends s[0, n) as a quoted JSON string. Bytes >= 0x80 pass as they are. */
void out_json(struct out *o, const char *s, size_t n);
void out_jsons(struct out *o, const char *s);
/* Parses s[0, n) as one JSON value with nothing but white space after it;
 * the caller frees the result with cJSON_Delete. NULL when it is not. */
cJSON *parse_json(const char *s, size_t n);
/* Reads a whole JSON file of at most SCRIPT_MAX bytes; prints why not and
 * returns NULL when it cannot. */
cJSON *read_json_file(const char *path);
/* Writes text to path through a temporary name; 0 or -errno. */
int write_file_atomic(const char *path, const char *text);
bool json_flag(const cJSON *o, const char *key);
double json_num(const cJSON *o, const char *key, double def);
const char *json_str(const cJSON *o, const char *key);
/* The text of a message content: a string, or the text parts of an array,
 * or a JSON value printed; "" for null. The caller frees it. */
char *content_text(const cJSON *content);
/* Notes what a request asks for. Returns -1 if the body is not an object. */
int scan_request(const char *p, size_t n, struct req *q);

/* ---- standin-http.c ---- */
/* Sends the planned response after delay_ms, then reads the next request. */
void plan_send(struct conn *c, uint64_t delay_ms);
/* Closes at once (a FIN, or a reset if unread bytes remain); idempotent. */
void conn_close(struct conn *c);
void on_connection(uv_stream_t *server, int status);

/* ---- standin.c ---- */
/* Answers a chat request in the mode of the server. */
void answer_model(struct conn *c, enum api api);

/* ---- standin-wire.c ---- */
void plan_reset(struct conn *c);
/* Ends a piece of the body here (an SSE event, a scripted chunk). */
void plan_cut(struct conn *c);
/* Closes the body and appends the head after it. ctype may be NULL (no
 * Content-Type); headers (may be NULL) is a script's object of extra
 * headers, whose own Content-Type replaces ctype. */
void plan_head(struct conn *c, int status, const char *ctype,
               const cJSON *headers);
/* A JSON error body in the API's shape, not streamed. */
void plan_error(struct conn *c, enum api api, int status, const char *type,
                const char *msg);
/* Renders r in the request's format, streamed or not, and adds the head. */
void plan_reply(struct conn *c, const struct ctx *x, const struct reply *r,
                const cJSON *headers);
/* A raw scripted reply: status, headers, and a body or hand-made chunks. */
void plan_raw(struct conn *c, const cJSON *R);

/* ---- standin-script.c ---- */
extern const char *const raw_keys[];
bool has_any(const cJSON *R, const char *const *list);
/* Loads --script FILE (or --faults FILE with faults set) into srv; prints
 * what is wrong and returns -1 when it cannot. */
int load_script(const char *path);
int load_faults(const char *path);
/* The reply for the next model request, or NULL when the script is done. */
const cJSON *next_reply(void);
/* Lua mode: the fault for the next chat request, or NULL for none. */
const cJSON *next_fault(void);
void reply_init(struct reply *r);
void reply_free(struct reply *r);
void call_id(struct call *k, enum api api, unsigned long seq, int i);
/* Fills r from a high-level scripted reply (already checked at load). */
void reply_from_json(const cJSON *R, enum api api, unsigned long seq,
                     struct reply *r);
/* Applies a reply's streaming shape keys (text_pieces, args_pieces,
 * omit_done, usage_choices) to r; R may be NULL. */
void reply_shape(const cJSON *R, struct reply *r);
/* Applies a scripted reply's delivery options to the plan. */
void plan_options(struct conn *c, const cJSON *R);

/* ---- standin-lua.c ---- */
/* Loads the json global from json_path and the model from path; prints
 * what is wrong and returns -1 when it cannot. */
int luamodel_load(const char *path, const char *json_path);
/* luamodel_close() without a model is a no-op. */
void luamodel_close(void);
/* Runs the model on a request body (borrowed) of the given API and fills r
 * (reply_free frees it). Returns 0, or -1 with the reason in err (the Lua
 * error, which names the file and line, or what was wrong with the reply). */
int luamodel_reply(const cJSON *body, enum api api, unsigned long seq,
                   struct reply *r, char *err, size_t errlen);

/* ---- standin-embed.c ---- */
void answer_embeddings(struct conn *c);

#endif
