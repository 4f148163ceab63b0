/*
 * output.h: what `agent run` shows while it works. Two forms, both event
 * sinks (agent.h):
 *  - for people: each step live on stderr (the model's text as it streams,
 *    each tool call with its arguments, the result's size and time, tokens
 *    and cost so far), shown on a terminal or with -v, silenced by -q;
 *  - for programs (--json): one JSON object per event on stdout.
 * The final answer goes to stdout (in the run.end object with --json).
 * Every string shown passes through the redactor first, so an API key or a
 * value the task marks secret never appears, even when an endpoint echoes
 * it in an error message.
 */
#ifndef AG_OUTPUT_H
#define AG_OUTPUT_H

#include <stdio.h>

#include "agent.h"
#include "redact.h"

struct ag_out {
    FILE *progress; /* stderr */
    FILE *result;   /* stdout */
    int json;       /* --json */
    int verbosity;  /* -1 quiet, 0 normal, 1 verbose */
    int live;       /* show steps (a terminal, or -v) */
    int color;
    const struct ag_redactor *redact;
    const char *model_label; /* "openai:gpt-4o-mini", "script:x.lua" */
    int stand_in;
    int no_answer; /* the caller prints its own result */
    /* private */
    int text_open;      /* a streamed text line is being written */
    int streamed;       /* this step's text was shown as it streamed */
    struct ag_buf held; /* streamed text that may be the start of a secret:
                           shown once the next piece tells */
};

/* Sets defaults: live when stderr is a terminal or verbosity > 0, never
 * when quiet or json; color when live on a terminal and NO_COLOR unset. */
void ag_out_init(struct ag_out *o, int json, int verbosity,
                 const struct ag_redactor *redact);

/* The sink (ud is the struct ag_out). */
void ag_out_event(void *ud, const struct ag_event *ev);

/* Frees what the output holds. */
void ag_out_free(struct ag_out *o);

#endif
