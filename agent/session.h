/*
 * session.h: running one task to its end in this process, as `agent run`
 * and `agent replay` do: load and check the task, apply the command line's
 * overrides, take the key from the environment, load the tools, start the
 * runtime with its display and audit log, run one agent, and close it all
 * down. Messages go to stderr; the answer to stdout.
 */
#ifndef AG_SESSION_H
#define AG_SESSION_H

#include "agent.h"
#include "audit.h"

struct ag_session_opts {
    const char *task_path;
    const char *task_text; /* the task's text when the file is not read
                              (replay from the log); task_path names it */
    const char *model;     /* "PROVIDER:NAME" override, or NULL */
    const char *base_url;  /* override, or NULL */
    long max_steps;        /* override when > 0 */
    int no_stream;
    int workers; /* warm tool workers; 0: 2 */
    int json;
    int verbosity;          /* -1 quiet, 0 normal, 1 verbose */
    int no_answer;          /* do not print the answer on stdout */
    int approve;            /* enum ag_approve_mode (approve.h) */
    const char *audit_path; /* NULL: no audit log */
    struct ag_audit_cfg audit;
    const char *audit_content; /* its label ("full", "hash", ...); NULL:
                                  the task's, or full */
    const char *audit_fsync;   /* given on the command line, or NULL: the
                                  task's, or step */

    /* replay: answers from a log instead of a model */
    struct ag_replay *replay;
    const char *replay_provider; /* the logged run's provider and model */
    const char *replay_model;
    int live_tools;         /* with replay: run tools for real */
    ag_event_fn extra_sink; /* one more sink, or NULL */
    void *extra_ud;
};

struct ag_session_result {
    enum ag_outcome outcome;
    int steps;
    char *answer; /* malloc'd, or NULL */
    char *reason; /* malloc'd, or NULL */
};

/* Runs the task. Returns an exit status of cmd.h (AG_EXIT_*); fills res
 * when not NULL (free its strings). */
int ag_session_run(const struct ag_session_opts *o,
                   struct ag_session_result *res);

#endif
