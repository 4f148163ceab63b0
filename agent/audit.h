/*
 * audit.h: the audit log (DESIGN §7): JSON Lines, one record per event,
 * each chained to the one before by a SHA-256 hash, so that a later reader
 * can prove that nothing was edited, removed, reordered or inserted.
 *
 * A record, one line, exactly as written (keys sorted, no white space):
 *
 *   {"agent":1,"data":{...},"hash":"<64 hex>","prev":"<64 hex>",
 *    "run":"<32 hex>","seq":7,"step":2,"ts":"2026-11-28T17:54:09.123456Z",
 *    "type":"tool.result"}
 *
 * - seq counts the records of the file from 1, without gaps;
 * - ts is RFC 3339 UTC with microseconds and never goes backwards within a
 *   file (the writer holds it at the last value if the clock steps back);
 * - run identifies one agent's run (32 hex digits), agent its number;
 * - prev is the hash of the record before, 64 zeros for the first one;
 * - hash = SHA-256 over prev (64 hex characters) immediately followed by
 *   the canonical JSON of the record without its hash field (see json.h:
 *   keys sorted bytewise, no white space, shortest round-trip numbers,
 *   minimal string escapes). The line itself is the canonical JSON of the
 *   record with its hash, so a verifier can demand byte equality and any
 *   single changed byte is caught.
 *
 * Record types and their data:
 *   run.start    task, task_file, task_sha256, task_text (the file;
 *                content), provider, model, stand_in,
 *                goal, system, tools [{name, sha256}], limits {...},
 *                sandbox [{layer, active}], content ("full", "hash" or
 *                "truncate:N")
 *   llm.request  provider, model, messages (count), sha256 (of the request
 *                in a provider-neutral canonical form, to compare runs),
 *                bytes and body (the exact body sent; content)
 *   llm.response text (content), tool_calls [{id, name, arguments
 *                (content)}], finish, usage {input, output}, latency_ms,
 *                attempt, stand_in
 *   tool.call    tool, call_id, arguments (content)
 *   tool.result  tool, call_id, ok, value or error (content), verdict, ms,
 *                bytes
 *   violation    tool, call_id, verdict, message: the sandbox stopped a tool
 *   context.cut  what, message, from_bytes, to_bytes
 *   error        message, and what went wrong (e.g. what: "llm.attempt"
 *                with attempt, status, retry_in_ms; what: "torn tail" with
 *                bytes, when the writer repaired a log after a crash)
 *   run.end      outcome, reason, answer (content), steps, tokens_in,
 *                tokens_out, cost_usd, invalid_calls, seconds
 *   (approval and net.request come with the sandbox's broker.)
 *
 * Content: fields marked "content" are stored per the content setting:
 * "full" as they are; "hash" as {"sha256": "<hex>", "bytes": N};
 * "truncate:N" cut to at most N bytes (at a UTF-8 boundary) followed by
 * " [+M bytes]". Whatever the setting, API keys and the task's secrets are
 * replaced by "[redacted]" before hashing.
 *
 * Writing never blocks the loop: records are built in memory and written
 * by libuv's file operations (its thread pool). The fsync policy is
 * "always" (every record), "step" (the default: before each model call) or
 * "never". ag_audit_barrier lets an agent wait until its step's records are
 * written (and synced, per the policy) before its next model call.
 *
 * A crash can leave a torn last line. Opening an existing log truncates
 * only the torn bytes, continues the chain from the last whole record and
 * writes an "error" record that says so. Nothing complete is ever lost.
 */
#ifndef AG_AUDIT_H
#define AG_AUDIT_H

#include <stdio.h>

#include "agent.h"
#include "output.h"

#define AG_AUDIT_GENESIS                                                       \
    "0000000000000000000000000000000000000000000000000000000000000000"

/* SHA-256 of p as 64 lowercase hex digits plus NUL in out. */
void ag_sha256_hex(const void *p, size_t n, char out[65]);
/* SHA-256 of a file's contents. Returns 0 or -errno. */
int ag_file_sha256(const char *path, char out[65]);

/* ---- the writer ---------------------------------------------------------- */

enum ag_content { AG_CONTENT_FULL, AG_CONTENT_HASH, AG_CONTENT_TRUNCATE };
enum ag_fsync { AG_FSYNC_STEP, AG_FSYNC_ALWAYS, AG_FSYNC_NEVER };

struct ag_audit_cfg {
    enum ag_content content; /* default full */
    size_t truncate;         /* bytes kept with AG_CONTENT_TRUNCATE */
    enum ag_fsync fsync;     /* default step */
};

/* The run id of records that belong to no run (a repair note). */
#define AG_AUDIT_NO_RUN "00000000000000000000000000000000"

struct ag_audit;

/* Parses "full", "hash", "truncate:N" / "step", "always", "never" into
 * cfg. Returns 0 or -EINVAL. */
int ag_audit_parse_content(const char *s, struct ag_audit_cfg *cfg);
int ag_audit_parse_fsync(const char *s, struct ag_audit_cfg *cfg);

/* Opens (creating, or continuing) the log at path; synchronous, for use
 * before the loop runs. A torn last line is cut and noted in an "error"
 * record. Returns 0 and the writer in *out, or a negative code with a
 * message naming the file. redact is borrowed for the writer's life. */
int ag_audit_open(uv_loop_t *loop, const char *path,
                  const struct ag_audit_cfg *cfg,
                  const struct ag_redactor *redact, struct ag_audit **out,
                  char *err, size_t errlen);

/* Makes a record and queues it for writing; data is taken over. Returns 0,
 * or a negative code once writing has failed (reported once on stderr). */
int ag_audit_write(struct ag_audit *a, const char *run, unsigned agent,
                   int step, const char *type, cJSON *data);

/* Adds a content field (see the format above) to obj, redacted first. */
void ag_audit_add_content(struct ag_audit *a, cJSON *obj, const char *key,
                          const char *s, size_t n);

/* An ag_barrier_fn (agent.h): waits until every record made so far is
 * written and, per the fsync policy, synced. ud is the writer. */
int ag_audit_barrier(void *ud, struct ag_agent *agent,
                     void (*resume)(struct ag_agent *a));

/* The hash of the last record made. */
const char *ag_audit_head(const struct ag_audit *a);

/* Writes what is left (synchronously: call it once the loop has stopped),
 * syncs, closes and frees. Returns 0, or the first write error.
 * ag_audit_close(NULL) is a no-op. */
int ag_audit_close(struct ag_audit *a);

/* ---- the event sink (audit-event.c) ------------------------------------ */

/* What run.start records that the agent does not know. */
struct ag_audit_sink {
    struct ag_audit *log;
    const char *model_label; /* "openai:gpt-4o-mini", "script:m.lua" */
    int stand_in;
    const char *content_label; /* "full", "hash", "truncate:N" */
    const cJSON *sandbox;      /* [{layer, active}] or NULL */
};

/* The sink (ud is a struct ag_audit_sink): one record per event. */
void ag_audit_event(void *ud, const struct ag_event *ev);

#endif
