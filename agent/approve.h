/*
 * approve.h: who says yes to the calls a task wants approved (`approve` and
 * `approve_tainted` in the task file): the command line's --approve=yes or
 * no, or the user at the terminal (--approve=ask, the default on a
 * terminal). Without a terminal and without a flag, the answer is no.
 */
#ifndef AG_APPROVE_H
#define AG_APPROVE_H

#include <uv.h>

#include "agent.h"
#include "redact.h"

enum ag_approve_mode {
    AG_APPROVE_DEFAULT,
    AG_APPROVE_YES,
    AG_APPROVE_NO,
    AG_APPROVE_ASK
};

struct ag_asker;

/* Parses "yes", "no" or "ask". Returns 0 or -1. */
int ag_approve_parse(const char *s, enum ag_approve_mode *out);

/* Creates an asker; DEFAULT becomes ASK when stdin and stderr are
 * terminals, NO otherwise. redact is borrowed. */
struct ag_asker *ag_asker_new(uv_loop_t *loop, enum ag_approve_mode mode,
                              const struct ag_redactor *redact);
/* Installs it in the runtime (rt->approve, approve_cancel, approve_ud). */
void ag_asker_attach(struct ag_asker *k, struct ag_rt *rt);
/* Closes its terminal handle; frees it once closed (run the loop).
 * ag_asker_close(NULL) is a no-op. */
void ag_asker_close(struct ag_asker *k);

#endif
