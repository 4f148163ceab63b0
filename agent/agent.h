/*
 * agent.h: one agent's plan-act-observe cycle (DESIGN §2) as a state
 * machine on the event loop, and the runtime the agents of one loop share
 * (HTTP client, tool worker pool, event sinks).
 *
 *   PLAN ---request---> WAIT_MODEL ---tool calls---> ACT ---all results--->
 *    ^                      |                                           |
 *    |                      +---no tool calls---> DONE                  |
 *    +--------------------------- OBSERVE <-----------------------------+
 *   any state ---limit, endpoint failure, loop guard---> FAILED
 *
 * Many agents run on one loop: an agent holds no globals, and one waiting
 * for its model costs its conversation, a small struct and the request in
 * flight. Everything an agent does is reported as events (struct ag_event)
 * to the runtime's sinks: the terminal display, --json output, the audit
 * log.
 */
#ifndef AG_AGENT_H
#define AG_AGENT_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "broker.h"
#include "http.h"
#include "llm-client.h"
#include "llm.h"
#include "pool.h"
#include "registry.h"
#include "task.h"

enum ag_state {
    AG_PLAN,
    AG_WAIT_MODEL,
    AG_ACT,
    AG_DONE,
    AG_FAILED,
};

/* How a run ended; maps onto the exit codes of cmd.h. */
enum ag_outcome {
    AG_OUT_NONE,     /* still running */
    AG_OUT_DONE,     /* the model answered */
    AG_OUT_FAILED,   /* a limit, the loop guard, an empty answer */
    AG_OUT_ENDPOINT, /* the model endpoint failed after retries */
};

enum ag_ev {
    AG_EV_RUN_START,
    AG_EV_LLM_REQUEST,
    AG_EV_LLM_TEXT, /* a piece of streamed text */
    AG_EV_LLM_RETRY,
    AG_EV_LLM_RESPONSE,
    AG_EV_TOOL_CALL,
    AG_EV_TOOL_LOG,
    AG_EV_TOOL_RESULT,
    AG_EV_NET_REQUEST, /* the broker made (or refused) a request */
    AG_EV_APPROVAL,    /* a call that needs a yes got its answer */
    AG_EV_CONTEXT_CUT,
    AG_EV_ERROR,
    AG_EV_RUN_END,
};

struct ag_agent;

/* One event. Pointers are borrowed for the duration of the callback. */
struct ag_event {
    enum ag_ev type;
    struct ag_agent *agent;
    int step;
    const char *text; /* TEXT: the piece; REQUEST: the body sent; RESPONSE:
                         the reply's text; LOG, ERROR: the message;
                         RUN_END: the answer */
    size_t len;
    const struct ag_llm_reply *reply;     /* RESPONSE */
    const struct ag_llm_attempt *attempt; /* RETRY */
    int attempts;                         /* RESPONSE */
    double ms;                            /* RESPONSE, TOOL_RESULT */
    int nmsgs;                            /* REQUEST */
    const char *hash; /* REQUEST: SHA-256 of the provider-neutral request
                         (when the runtime wants hashes), else NULL */
    /* TOOL_CALL, TOOL_RESULT */
    const char *tool, *call_id, *args;
    const char *result;  /* TOOL_RESULT: what the model is given */
    int ok;              /* TOOL_RESULT: the tool succeeded */
    const char *verdict; /* TOOL_RESULT: the sandbox stopped it ("time", ...)
                            or the call was refused ("invalid", "unknown") */
    /* NET_REQUEST: method, url, status (0 when none), ok, len (bytes
     * received), ms, verdict (the refusal, when refused), args (the body
     * sent, or NULL), result and msg_index (the text body received and its
     * length, or NULL), truncated (the body was cut at max_response) */
    const char *method, *url;
    long status;
    int truncated;
    /* CONTEXT_CUT */
    int msg_index;
    size_t from, to;
    /* RUN_END */
    enum ag_outcome outcome;
    const char *reason;
};

typedef void (*ag_event_fn)(void *ud, const struct ag_event *ev);

/* ---- the runtime of one loop -------------------------------------------- */

#define AG_RT_MAX_SINKS 4

/* A recorded tool result (replay): sets *result (malloc'd) and *ok and
 * returns 0, or returns a negative code when the log has none. */
typedef int (*ag_recorded_fn)(void *ud, struct ag_agent *a, const char *call_id,
                              const char *tool, char **result, int *ok);

/* Waits for what an agent's step wrote to be safe (the audit log) before
 * its next model call: returns 0 when there is nothing to wait for, or 1
 * and calls resume(a) later, from the loop. */
typedef int (*ag_barrier_fn)(void *ud, struct ag_agent *a,
                             void (*resume)(struct ag_agent *a));

/* Asks whether a call may run: tool (qualified name), its arguments and
 * why it needs a yes. The asker answers by calling done(a, token, yes, by)
 * exactly once, now or later (by says who decided: "--approve=yes", "the
 * user", "no terminal to ask on"), unless approve_cancel(ud, a) comes
 * first, when the run ends. */
typedef void (*ag_approve_done)(struct ag_agent *a, void *token, int yes,
                                const char *by);
typedef void (*ag_approve_fn)(void *ud, struct ag_agent *a, const char *tool,
                              const char *args, const char *why,
                              ag_approve_done done, void *token);

struct ag_rt {
    uv_loop_t *loop;
    struct ag_http *http;
    struct ag_pool *pool; /* NULL when no task has tools */
    ag_event_fn sinks[AG_RT_MAX_SINKS];
    void *sink_ud[AG_RT_MAX_SINKS];
    int nsinks;
    int text_events;       /* some sink wants AG_EV_LLM_TEXT */
    int want_hash;         /* some sink wants request hashes (audit, replay) */
    int running;           /* agents started and not yet ended */
    ag_barrier_fn barrier; /* NULL: none */
    void *barrier_ud;
    ag_recorded_fn recorded; /* NULL: tools run for real */
    void *recorded_ud;
    ag_approve_fn approve; /* NULL: calls that need a yes are refused */
    void (*approve_cancel)(void *ud, struct ag_agent *a);
    void *approve_ud;
};

/* Prepares a runtime on loop. tool_sources ({"name": "<lua>"}) starts the
 * worker pool (with pool_cfg, may be NULL) when not NULL. Returns 0 or a
 * negative code. */
int ag_rt_init(struct ag_rt *rt, uv_loop_t *loop, const cJSON *tool_sources,
               const struct ag_pool_cfg *pool_cfg);
/* Adds an event sink. Returns 0 or -ENOSPC. */
int ag_rt_add_sink(struct ag_rt *rt, ag_event_fn fn, void *ud, int want_text);
void ag_rt_emit(struct ag_rt *rt, const struct ag_event *ev);
/* Closes the client and the pool; run the loop afterwards to let the
 * handles close. */
void ag_rt_close(struct ag_rt *rt);

/* ---- what agents of one kind share -----------------------------------------
 */

struct ag_agent_cfg {
    const char *name;        /* the task's name */
    const char *task_file;   /* the task file's path, or NULL */
    const char *task_sha256; /* its SHA-256 (hex), or NULL */
    const char *task_text;   /* its text (for run.start), or NULL */
    size_t task_text_len;
    const char *system; /* system prompt, or NULL */
    const char *model;  /* model name sent to the endpoint */
    const char *provider;
    int stream;
    int max_tokens;
    double temperature;
    long context;               /* token budget of one request */
    double price_in, price_out; /* USD per million tokens; 0 unknown */
    struct ag_llm_cfg llm;
    const struct ag_registry *reg; /* may be NULL: no tools */
    struct ag_task_limits limits;
    char *const *approve; /* tools or tool.functions that need a yes */
    int napprove;
    char *const *approve_tainted; /* ... once the run read network content */
    int napprove_tainted;
};

/* Fills cfg from a loaded task: model table lookups (price, context),
 * registry and LLM settings. Strings are borrowed from task. */
void ag_agent_cfg_from_task(struct ag_agent_cfg *cfg, const struct ag_task *t,
                            const struct ag_registry *reg);

/* ---- one agent ----------------------------------------------------------- */

struct ag_tool_run; /* one tool call of the current step (agent.c) */

struct ag_agent {
    struct ag_rt *rt;
    const struct ag_agent_cfg *cfg;
    char *goal;
    unsigned id;
    char run[33]; /* this run's id, 32 hex digits; made at start if empty */
    enum ag_state state;
    enum ag_outcome outcome;
    char *answer; /* the final answer, when DONE */
    char *reason; /* why it ended */

    struct ag_msg *msgs; /* the steps: assistant and tool messages */
    int nmsgs, capmsgs;
    int step; /* model replies received */
    long tokens_in, tokens_out;
    double cost;
    int invalid_calls;
    int tainted;     /* a tool brought content from the network */
    char *last_call; /* "tool\0canonical args" of the previous call */
    int repeats;     /* how many times in a row last_call was asked */

    struct ag_llm_call *llm;
    uint64_t t_request_ns; /* when the model call in flight was sent */
    int req_msgs;          /* its message count */
    char req_hash[65];     /* its canonical SHA-256, when wanted */
    struct ag_tool_run *runs;
    int nruns, pending;
    uv_timer_t deadline;
    uint64_t t_start_ns;

    void (*on_end)(struct ag_agent *a);
    void *data;
};

/* Prepares an agent; goal is copied. */
void ag_agent_init(struct ag_agent *a, struct ag_rt *rt,
                   const struct ag_agent_cfg *cfg, const char *goal,
                   unsigned id);
/* Starts the cycle. on_end (if set) is called once when the run ends;
 * never from inside ag_agent_start. Returns 0 or a negative code. */
int ag_agent_start(struct ag_agent *a);
/* Stops a running agent: it ends FAILED with reason. */
void ag_agent_stop(struct ag_agent *a, const char *reason);
/* Frees what the agent holds; it must have ended. The struct itself stays
 * the caller's, but do not free it before the loop has run once more (the
 * deadline timer is closing). */
void ag_agent_free(struct ag_agent *a);

const char *ag_state_name(enum ag_state s);
const char *ag_outcome_name(enum ag_outcome o);

/* ---- context (context.c) ------------------------------------------------- */

/* Estimated tokens of a message: bytes / 4, plus a small overhead. */
long ag_context_tokens(const struct ag_msg *m);
/* Shrinks a->msgs until the request fits cfg->context: first the oldest
 * tool results are shortened, then the oldest steps are dropped (never the
 * newest). Each cut is reported as an AG_EV_CONTEXT_CUT event. fixed is the
 * estimate of what cannot be cut (system prompt, goal, tool list). */
void ag_context_fit(struct ag_agent *a, long fixed);

/* ---- prices (llm-price.c) --------------------------------------------------
 */

struct ag_model_info {
    double price_in, price_out; /* USD per million tokens; 0: unknown */
    long context;               /* tokens */
    int known;
};
/* Looks a model up by longest name prefix ("gpt-4o-mini-2024-07-18"
 * matches "gpt-4o-mini"). Unknown models get prices 0 and 32768 tokens. */
void ag_model_info(const char *model, struct ag_model_info *out);

#endif
