/*
 * llm-client.h: sending a request to a model and getting one reply back, on
 * the event loop: over HTTP with a codec (llm.h), with retries, backoff and
 * jitter, honouring Retry-After; or from a script that plays the model.
 *
 * Retried: connection faults, timeouts, truncated streams, and the statuses
 * 408, 429, 500, 502, 503, 504 and 529, up to max_attempts and within
 * retry_total_ms. Not retried: other statuses (the endpoint's own message is
 * reported) and replies that arrive whole but cannot be understood (the
 * codec names what was wrong). Every failed attempt is reported through
 * on_attempt so that it can be shown and audited.
 */
#ifndef AG_LLM_CLIENT_H
#define AG_LLM_CLIENT_H

#include "http.h"
#include "llm.h"

struct ag_script; /* a Lua file that plays the model */
struct ag_replay; /* answers taken from an audit log (llm-replay.c) */

struct ag_llm_cfg {
    const struct ag_codec *codec; /* NULL when script or replay is set */
    struct ag_script *script;     /* the scripted stand-in, or NULL */
    struct ag_replay *replay;     /* the recorded stand-in, or NULL */
    const char *base_url;         /* NULL: the codec's default */
    const char *api_key;          /* NULL or "": no auth header */
    long connect_ms, first_byte_ms, idle_ms; /* 0: http.h defaults */
    int max_attempts;                        /* default 5 */
    long backoff_ms;     /* first retry delay; default 500 */
    long backoff_max_ms; /* default 20000 */
    long retry_total_ms; /* no retry starts past this; default 120000 */
    size_t max_reply;    /* default 16 MiB */
};

struct ag_llm_attempt {
    int n;               /* 1, 2, ... */
    int err;             /* why it failed */
    long status;         /* HTTP status, 0 when none */
    const char *message; /* what went wrong */
    double retry_in_ms;  /* the delay before the next attempt, -1: none */
    double ms;           /* how long the attempt took */
};

struct ag_llm_cb {
    /* The request as sent, once per call, from inside ag_llm_send: the
     * exact body for HTTP providers, the canonical request for the
     * stand-ins (see ag_llm_req_canonical). May be NULL. */
    void (*on_request)(void *ud, const char *body, size_t n);
    /* Each piece of streamed text as it arrives; may be NULL. */
    void (*on_text)(void *ud, const char *s, size_t n);
    /* Each failed attempt; may be NULL. */
    void (*on_attempt)(void *ud, const struct ag_llm_attempt *a);
    /* The end, exactly once, never from inside ag_llm_send. On success err
     * is 0 and the callee may move reply's contents out (the client clears
     * what is left). On failure err is negative (AG_ECONNECT, AG_ETIMEOUT,
     * AG_ETRUNC, AG_EHTTP, AG_EPARSE, AG_EPROTO, AG_ETOOBIG) and message
     * says what went wrong. attempts counts the tries. */
    void (*on_done)(void *ud, int err, struct ag_llm_reply *reply,
                    const char *message, int attempts);
    void *ud;
};

struct ag_llm_call;

/* Sends req (copied into a request body at once; req may go away after the
 * call). Returns 0 or a negative code (then no callback runs). */
int ag_llm_send(uv_loop_t *loop, struct ag_http *http,
                const struct ag_llm_cfg *cfg, const struct ag_llm_req *req,
                const struct ag_llm_cb *cb, struct ag_llm_call **out);

/* Stops a call; no further callback runs. */
void ag_llm_cancel(struct ag_llm_call *c);

/* ---- the script stand-in (llm-script.c) -------------------------------- */

/* Loads a script model: a Lua file returning function(ctx) (or a table with
 * a reply function). ctx has messages ({role, content, tool_calls =
 * {{id, name, arguments}}, tool_call_id, name}), tools (names), step (1 for
 * the first reply), model. The function returns a string (the final
 * answer) or a table {text =, tool_calls = {{name =, arguments = table or
 * JSON text, id =}}, usage = {input =, output =}}. Returns 0 or AG_ELUA /
 * -errno with a message naming the file and line. */
int ag_script_new(const char *path, struct ag_script **out, char *err,
                  size_t errlen);
/* ag_script_free(NULL) is a no-op. */
void ag_script_free(struct ag_script *s);
/* Runs the script for one reply (synchronously). On success reply holds
 * the answer with stand_in set and usage estimated from sizes (bytes / 4)
 * when the script gave none. Returns 0 or AG_ELUA with a message. */
int ag_script_answer(struct ag_script *s, const struct ag_llm_req *req,
                     struct ag_llm_reply *reply, char *err, size_t errlen);
/* The script's path, as given. */
const char *ag_script_path(const struct ag_script *s);

/* ---- the recorded stand-in (llm-replay.c) ------------------------------ */

/* Answers step req->step with the reply recorded in the log (stand_in
 * set). Returns 0, or AG_ENOTFOUND with a message when the log holds no
 * reply for that step (the new run went further than the old one). */
int ag_replay_answer(struct ag_replay *r, const struct ag_llm_req *req,
                     struct ag_llm_reply *reply, char *err, size_t errlen);

/* ---- one POST with retries (llm.c) --------------------------------------
 * Private to the model clients: the chat client above and the embeddings
 * client (llm-embed.c) both send one logical request through it, so that
 * they share one retry policy (the one described at the top of this file).
 * A post owns its URL, body, headers and a timer; the client plugs in what
 * differs (reading and checking the reply) through ag__post_ops, with its
 * call as ud. */

struct ag__post;

struct ag__post_ops {
    /* A new attempt starts: forget what the last one received. May be
     * NULL. */
    void (*begin)(void *ud);
    /* Bytes of a 2xx body as they arrive, with the response's Content-Type.
     * Returns 0, or a negative code that ends the attempt (with why in err:
     * the attempt is retried for AG_EPROTO only). NULL: the body is
     * collected whole, up to cfg->max_reply, and given to finish. */
    int (*data)(void *ud, const char *ctype, const char *p, size_t n, char *err,
                size_t errlen);
    /* A 2xx response has arrived whole and was not empty: body is the body
     * when data is NULL, else NULL (n 0). Returns 0 when the reply is good
     * (the call then ends with success), or a negative code with a message
     * in err, setting *retry (0 on entry) when another attempt may help.
     * For a local post, called once with body NULL. */
    int (*finish)(void *ud, const char *body, size_t n, char *err,
                  size_t errlen, int *retry);
    /* Each failed attempt; may be NULL. */
    void (*attempt)(void *ud, const struct ag_llm_attempt *a);
    /* The end, exactly once unless the post is cancelled first, never from
     * inside ag__post_start: err 0, or negative with msg. */
    void (*done)(void *ud, int err, const char *msg, int attempts);
    /* Once, after done or ag__post_cancel, when the post has freed what it
     * owns: the client frees ud here. May be NULL. */
    void (*release)(void *ud);
};

struct ag__post_req {
    const char *base; /* the endpoint's base URL (trailing '/' dropped) */
    const char *path; /* appended to base: "/chat/completions" */
    char *body;       /* taken (malloc'd), whatever ag__post_start returns */
    size_t body_len;
    struct curl_slist *headers;     /* taken, like body */
    const struct ag__post_ops *ops; /* borrowed until release */
    void *ud;
    int local; /* nothing is sent: finish runs on the next loop turn, and
                  its failure ends the call at once (a stand-in answers) */
};

/* Fills cfg's unset retry, backoff and size fields with the defaults. */
void ag__llm_cfg_defaults(struct ag_llm_cfg *cfg);

/* Starts a post with cfg's timeouts and retry policy (copied, defaults
 * applied). Returns 0 (done and release will run) or a negative code (no
 * callback runs, not even release). */
int ag__post_start(uv_loop_t *loop, struct ag_http *http,
                   const struct ag_llm_cfg *cfg, struct ag__post_req *req,
                   struct ag__post **out);

/* Stops a post: only release runs after it. A no-op for NULL and once done
 * has been called (the post is freed soon after: drop the pointer then). */
void ag__post_cancel(struct ag__post *p);

#endif
