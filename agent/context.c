/*
 * context.c: keeping a request within the model's context budget. The
 * request always starts with the system prompt and the goal and ends with
 * the newest steps. When the conversation outgrows the budget, the oldest
 * tool results are shortened first (they are usually the bulk: pages,
 * listings); if that is not enough, the oldest steps are dropped, never the
 * newest one. Cuts are made in the conversation itself, so each is made and
 * reported (AG_EV_CONTEXT_CUT, hence audited) once.
 *
 * Token counts are estimates (bytes / 4): exact counts would need each
 * model's tokenizer, and the estimate errs on the safe side for English
 * text and JSON.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"

#define SHORT_KEEP 256 /* bytes kept of a shortened tool result */

long ag_context_tokens(const struct ag_msg *m)
{
    size_t n = m->text ? strlen(m->text) : 0;

    for (int i = 0; i < m->ncalls; i++)
        n += strlen(m->calls[i].name) + strlen(m->calls[i].args) + 16;
    return (long)(n / 4) + 4;
}

static long total(const struct ag_agent *a, long fixed)
{
    long t = fixed;

    for (int i = 0; i < a->nmsgs; i++)
        t += ag_context_tokens(&a->msgs[i]);
    return t;
}

static void report(struct ag_agent *a, int idx, size_t from, size_t to,
                   const char *what)
{
    struct ag_event ev;

    memset(&ev, 0, sizeof ev);
    ev.type = AG_EV_CONTEXT_CUT;
    ev.agent = a;
    ev.step = a->step;
    ev.msg_index = idx;
    ev.from = from;
    ev.to = to;
    ev.text = what;
    ev.len = strlen(what);
    ag_rt_emit(a->rt, &ev);
}

/* The index where the newest step starts (its assistant message). */
static int newest_step(const struct ag_agent *a)
{
    for (int i = a->nmsgs - 1; i >= 0; i--)
        if (a->msgs[i].role == AG_ROLE_ASSISTANT)
            return i;
    return 0;
}

void ag_context_fit(struct ag_agent *a, long fixed)
{
    long budget =
        a->cfg->context - (a->cfg->max_tokens > 0 ? a->cfg->max_tokens : 1024);
    int keep_from;

    if (budget < 256)
        budget = 256;
    if (total(a, fixed) <= budget)
        return;
    keep_from = newest_step(a);
    /* 1. shorten the oldest tool results */
    for (int i = 0; i < keep_from && total(a, fixed) > budget; i++) {
        struct ag_msg *m = &a->msgs[i];
        size_t n = m->text ? strlen(m->text) : 0;
        char *s;
        if (m->role != AG_ROLE_TOOL || n <= SHORT_KEEP + 64)
            continue;
        s = ag_xasprintf("%.*s [... %zu bytes cut to fit the context]",
                         SHORT_KEEP, m->text, n - SHORT_KEEP);
        free(m->text);
        m->text = s;
        report(a, i, n, strlen(s), "tool result shortened");
    }
    /* 2. drop the oldest steps: an assistant message with its results */
    while (total(a, fixed) > budget && keep_from > 0) {
        int end = 1;
        size_t bytes = 0;
        while (end < keep_from && a->msgs[end].role == AG_ROLE_TOOL)
            end++;
        for (int i = 0; i < end; i++) {
            bytes += a->msgs[i].text ? strlen(a->msgs[i].text) : 0;
            ag_msg_clear(&a->msgs[i]);
        }
        memmove(a->msgs, a->msgs + end,
                sizeof *a->msgs * (size_t)(a->nmsgs - end));
        a->nmsgs -= end;
        keep_from -= end;
        report(a, 0, bytes, 0, "oldest step dropped");
    }
    /* 3. the newest results alone are too big: share what is left */
    if (total(a, fixed) > budget) {
        long others = fixed;
        int nres = 0;
        for (int i = 0; i < a->nmsgs; i++) {
            if (a->msgs[i].role == AG_ROLE_TOOL && i >= keep_from)
                nres++;
            else
                others += ag_context_tokens(&a->msgs[i]);
        }
        for (int i = keep_from; i < a->nmsgs && nres > 0; i++) {
            struct ag_msg *m = &a->msgs[i];
            long room = (budget - others) / nres * 4 - 64;
            size_t n = m->text ? strlen(m->text) : 0, keep;
            char *s;
            if (m->role != AG_ROLE_TOOL)
                continue;
            keep = room > SHORT_KEEP ? (size_t)room : SHORT_KEEP;
            if (n <= keep + 64)
                continue;
            s = ag_xasprintf("%.*s [... %zu bytes cut to fit the context]",
                             (int)keep, m->text, n - keep);
            free(m->text);
            m->text = s;
            report(a, i, n, strlen(s), "newest tool result shortened");
        }
    }
}
