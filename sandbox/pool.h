/*
 * pool.h: the agent process's side of tool execution: it starts the zygote,
 * keeps a pool of warm workers, dispatches tool calls to them on the event
 * loop, enforces each call's wall-clock limit, and turns every way a worker
 * can fail (crash, hang, malformed message, limit passed) into a tool error
 * for the caller, replacing the worker. Nothing here blocks.
 */
#ifndef AG_POOL_H
#define AG_POOL_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

struct ag_pool;

struct ag_pool_cfg {
    const char *exe;  /* the agent binary (re-exec'd as the zygote); NULL:
                         this process's own executable */
    int warm;         /* workers kept ready; default 2 */
    size_t max_frame; /* cap on one message from a worker; default 16 MiB */
};

/* How a call ended. */
struct ag_job_result {
    int ok;              /* 1: value holds the result */
    const char *value;   /* JSON text of the tool's return value */
    const char *message; /* when !ok: what went wrong, for the model */
    const char *verdict; /* when !ok and the sandbox stopped the tool:
                            "time", "memory", "cpu", "output", "crash",
                            "protocol"; NULL for the tool's own error */
    double ms;           /* wall time of the call */
};

/* One tool call. The caller owns it and keeps it (and what it points to)
 * alive until done is called; the pool calls done exactly once, always from
 * the loop and never from inside ag_pool_submit. */
struct ag_job {
    const char *tool;  /* tool file (family) name */
    const char *fn;    /* function within a family, or NULL */
    const cJSON *args; /* arguments (an object) */
    double timeout;    /* seconds of wall time; <= 0: 30 */
    size_t memory;     /* Lua heap cap in bytes; 0: 64 MiB */
    long instructions; /* VM instruction cap; 0: none */
    size_t max_output; /* result size cap in bytes; 0: 1 MiB */
    int fresh; /* isolation "process": a worker forked for this call alone */
    void (*done)(struct ag_job *job, const struct ag_job_result *res);
    void (*log)(struct ag_job *job, const char *message); /* may be NULL */
    /* A request the tool made of the outside world (op "http", "smtp"):
     * answer it, now or later, with ag_pool_rpc_reply. NULL: refused. */
    void (*rpc)(struct ag_job *job, long id, const char *op,
                const cJSON *params);
    const char *options; /* JSON object text the tool sees as ctx.options,
                            or NULL */
    const char *context; /* JSON object text whose fields are added to
                            ctx (run, tool_call_id, idempotency_key,
                            args_json), or NULL */
    void *data;

    /* private to the pool */
    struct ag_job *next;
    struct ag_worker *worker;
    uint64_t id;
    uint64_t started_ns;
};

/* Prepares the pool. The zygote and the warm workers start once the loop
 * has polled for the first time (so that they do not delay a first model
 * request), or at the first call, whichever comes first. tools maps tool
 * names to Lua source ({"calc": "<source>"}); borrowed. Returns 0 or a
 * negative code (e.g. -ENOENT when the binary to re-execute is missing). */
int ag_pool_new(uv_loop_t *loop, const struct ag_pool_cfg *cfg,
                const cJSON *tools, struct ag_pool **out);

/* Queues a call. Returns 0 (done will be called) or a negative code (it
 * will not). */
int ag_pool_submit(struct ag_pool *p, struct ag_job *job);

/* Answers a job's rpc: value_json (JSON text) or error. Does nothing when
 * the job is no longer running (it was cancelled or its worker died). */
void ag_pool_rpc_reply(struct ag_pool *p, struct ag_job *job, long id,
                       const char *value_json, const char *error);

/* Abandons a queued or running call: done is called with "cancelled"; a
 * worker running it is killed and replaced. */
void ag_pool_cancel(struct ag_pool *p, struct ag_job *job);

/* The sandbox's layers and whether each is active on this machine, as
 * [{"layer", "active", "required", "detail" or "reason"}] (for run.start
 * records): the zygote's own report when one has come in, else the result
 * of setting up a throwaway child the same way. The caller frees it with
 * cJSON_Delete. */
cJSON *ag_sandbox_layers(void);

/* The pid of the worker running job, or 0 (queued, or not yet known). */
int ag_pool_job_pid(const struct ag_job *job);

/* Counters, for tests and figures. */
struct ag_pool_stats {
    uint64_t calls, spawned, killed, crashed;
    int alive, idle, queued;
};
void ag_pool_stats(const struct ag_pool *p, struct ag_pool_stats *st);

/* Cancels every call, ends the workers and the zygote, and closes the
 * pool's handles; the pool is freed once they are closed (run the loop).
 * ag_pool_close(NULL) is a no-op. */
void ag_pool_close(struct ag_pool *p);

#endif
