/*
 * approve.c: approvals (see approve.h). Questions are asked one at a time
 * on the terminal, in the order the calls came; the answer is read from
 * standard input through a libuv tty handle, so the loop (and every other
 * agent on it) goes on while the user thinks. Anything but "y" or "yes" is
 * a no.
 */
#include "approve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

struct question {
    struct question *next;
    struct ag_agent *agent;
    ag_approve_done done;
    void *token;
    char *text; /* what is asked, redacted */
};

struct ag_asker {
    uv_loop_t *loop;
    enum ag_approve_mode mode;
    const struct ag_redactor *redact;
    uv_tty_t tty;
    int tty_open, reading;
    struct question *q; /* the first is being asked */
    char line[256];
    size_t len;
    int defaulted; /* no flag and no terminal: the default no */
};

int ag_approve_parse(const char *s, enum ag_approve_mode *out)
{
    if (strcmp(s, "yes") == 0)
        *out = AG_APPROVE_YES;
    else if (strcmp(s, "no") == 0)
        *out = AG_APPROVE_NO;
    else if (strcmp(s, "ask") == 0)
        *out = AG_APPROVE_ASK;
    else
        return -1;
    return 0;
}

struct ag_asker *ag_asker_new(uv_loop_t *loop, enum ag_approve_mode mode,
                              const struct ag_redactor *redact)
{
    struct ag_asker *k = ag_xcalloc(1, sizeof *k);

    k->loop = loop;
    k->redact = redact;
    if (mode == AG_APPROVE_DEFAULT) {
        k->defaulted = !(isatty(0) && isatty(2));
        mode = k->defaulted ? AG_APPROVE_NO : AG_APPROVE_ASK;
    }
    k->mode = mode;
    return k;
}

static void prompt(struct ag_asker *k)
{
    if (!k->q)
        return;
    fprintf(stderr, "\napprove %s [y/N] ", k->q->text);
    fflush(stderr);
}

static void pop(struct ag_asker *k, int yes)
{
    struct question *q = k->q;

    k->q = q->next;
    q->done(q->agent, q->token, yes, yes ? "the user" : "the user said no");
    free(q->text);
    free(q);
    if (k->q)
        prompt(k);
    else if (k->reading) {
        uv_read_stop((uv_stream_t *)&k->tty);
        k->reading = 0;
    }
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char chunk[256];

    (void)h;
    (void)suggested;
    *buf = uv_buf_init(chunk, sizeof chunk);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct ag_asker *k = s->data;

    if (n < 0) { /* end of input: every open question is a no */
        uv_read_stop(s);
        k->reading = 0;
        while (k->q)
            pop(k, 0);
        return;
    }
    for (ssize_t i = 0; i < n && k->q; i++) {
        char c = buf->base[i];
        if (c != '\n') {
            if (k->len < sizeof k->line - 1)
                k->line[k->len++] = c;
            continue;
        }
        k->line[k->len] = '\0';
        while (k->len &&
               (k->line[k->len - 1] == '\r' || k->line[k->len - 1] == ' '))
            k->line[--k->len] = '\0';
        pop(k,
            strcasecmp(k->line, "y") == 0 || strcasecmp(k->line, "yes") == 0);
        k->len = 0;
    }
}

static void ask(void *ud, struct ag_agent *a, const char *tool,
                const char *args, const char *why, ag_approve_done done,
                void *token)
{
    struct ag_asker *k = ud;
    struct question *q, **tail;
    char *raw;

    if (k->mode == AG_APPROVE_YES || k->mode == AG_APPROVE_NO) {
        done(a, token, k->mode == AG_APPROVE_YES,
             k->mode == AG_APPROVE_YES ? "--approve=yes"
             : k->defaulted ? "no terminal to ask on, and no --approve flag"
                            : "--approve=no");
        return;
    }
    if (!k->tty_open) {
        if (!isatty(0) || uv_tty_init(k->loop, &k->tty, 0, 1) < 0) {
            done(a, token, 0, "no terminal to ask on");
            return;
        }
        k->tty.data = k;
        k->tty_open = 1;
    }
    q = ag_xcalloc(1, sizeof *q);
    q->agent = a;
    q->done = done;
    q->token = token;
    raw = ag_xasprintf("%s %.400s\n  (%s)", tool, args ? args : "{}", why);
    q->text = ag_redact(k->redact, raw, strlen(raw));
    free(raw);
    for (tail = &k->q; *tail; tail = &(*tail)->next)
        ;
    *tail = q;
    if (k->q == q)
        prompt(k);
    if (!k->reading) {
        uv_read_start((uv_stream_t *)&k->tty, alloc_cb, on_read);
        k->reading = 1;
    }
}

static void cancel(void *ud, struct ag_agent *a)
{
    struct ag_asker *k = ud;
    struct question **pp = &k->q;

    while (*pp) {
        struct question *q = *pp;
        if (q->agent == a) {
            *pp = q->next;
            free(q->text);
            free(q);
        } else {
            pp = &q->next;
        }
    }
    if (!k->q && k->reading) {
        uv_read_stop((uv_stream_t *)&k->tty);
        k->reading = 0;
    }
}

void ag_asker_attach(struct ag_asker *k, struct ag_rt *rt)
{
    rt->approve = ask;
    rt->approve_cancel = cancel;
    rt->approve_ud = k;
}

static void on_closed(uv_handle_t *h)
{
    free(h->data);
}

void ag_asker_close(struct ag_asker *k)
{
    if (!k)
        return;
    while (k->q) {
        struct question *q = k->q;
        k->q = q->next;
        free(q->text);
        free(q);
    }
    if (k->tty_open) {
        uv_tty_reset_mode();
        uv_close((uv_handle_t *)&k->tty, on_closed);
    } else {
        free(k);
    }
}
