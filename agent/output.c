/*
 * output.c: the live display and the --json event stream (see output.h).
 */
#include "output.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ag.h"

#define SHOW_ARGS   200 /* bytes of tool arguments shown live */
#define SHOW_RESULT 160 /* bytes of a result shown with -v */
#define SHOW_NAME   100 /* bytes of a tool name shown */

void ag_out_init(struct ag_out *o, int json, int verbosity,
                 const struct ag_redactor *redact)
{
    memset(o, 0, sizeof *o);
    o->progress = stderr;
    o->result = stdout;
    o->json = json;
    o->verbosity = verbosity;
    o->redact = redact;
    o->live =
        !json && verbosity >= 0 && (verbosity > 0 || isatty(fileno(stderr)));
    o->color = o->live && isatty(fileno(stderr)) && !getenv("NO_COLOR");
    ag_buf_init(&o->held, 1u << 20);
}

void ag_out_free(struct ag_out *o)
{
    ag_buf_free(&o->held);
}

/* ---- for people -------------------------------------------------------- */

static const char *C(const struct ag_out *o, const char *code)
{
    return o->color ? code : "";
}
#define DIM   "\033[2m"
#define CYAN  "\033[36m"
#define RED   "\033[31m"
#define BOLD  "\033[1m"
#define RESET "\033[0m"

/* Prints s (n bytes), redacted, shortened to max bytes, on one line. */
static void show(const struct ag_out *o, const char *s, size_t n, size_t max)
{
    char *r = ag_redact(o->redact, s, n);
    size_t len = strlen(r);

    for (char *p = r; *p; p++)
        if (*p == '\n' || *p == '\r' || *p == '\t')
            *p = ' ';
    if (len > max)
        fprintf(o->progress, "%.*s… (%zu bytes)", (int)max, r, len);
    else
        fputs(r, o->progress);
    free(r);
}

/* Shows the streamed text held so far, redacted, except a tail that could
 * be the beginning of a secret cut between two pieces (unless all). */
static void show_held(struct ag_out *o, int all)
{
    char *r = ag_redact(o->redact, ag_buf_cstr(&o->held), o->held.len);
    size_t n = strlen(r), keep = 0;

    for (int i = 0; !all && o->redact && i < o->redact->n; i++) {
        const char *sec = o->redact->secrets[i];
        size_t len = sec ? strlen(sec) : 0;
        if (len < 4)
            continue;
        for (size_t k = len - 1 < n ? len - 1 : n; k > keep; k--)
            if (memcmp(r + n - k, sec, k) == 0) {
                keep = k;
                break;
            }
    }
    fwrite(r, 1, n - keep, o->progress);
    ag_buf_reset(&o->held);
    ag_buf_add(&o->held, r + n - keep, keep);
    free(r);
}

static void close_text(struct ag_out *o)
{
    if (o->text_open) {
        show_held(o, 1);
        fprintf(o->progress, "%s\n", C(o, RESET));
        o->text_open = 0;
    }
}

static void human(struct ag_out *o, const struct ag_event *ev)
{
    const struct ag_agent *a = ev->agent;
    FILE *f = o->progress;

    switch (ev->type) {
    case AG_EV_RUN_START:
        fprintf(f, "%sagent:%s task \"%s\" · model %s%s · tools: ", C(o, BOLD),
                C(o, RESET), a->cfg->name, o->model_label ? o->model_label : "",
                o->stand_in ? " (scripted stand-in, not a real model)" : "");
        if (!a->cfg->reg || a->cfg->reg->ntools == 0)
            fputs("none", f);
        for (int i = 0; a->cfg->reg && i < a->cfg->reg->ntools; i++)
            fprintf(f, "%s%s", i ? ", " : "", a->cfg->reg->tools[i].name);
        fputc('\n', f);
        break;
    case AG_EV_LLM_REQUEST:
        o->streamed = 0;
        fprintf(f, "%sstep %d%s ", C(o, BOLD), ev->step + 1, C(o, RESET));
        fflush(f);
        break;
    case AG_EV_LLM_TEXT:
        if (!o->text_open) {
            fprintf(f, "%s", C(o, DIM));
            o->text_open = 1;
        }
        if (ag_buf_add(&o->held, ev->text, ev->len) < 0) {
            show_held(o, 1);
            ag_buf_add(&o->held, ev->text, ev->len);
        }
        show_held(o, 0);
        o->streamed = 1;
        fflush(f);
        break;
    case AG_EV_LLM_RETRY:
        /* The first failure ends the "step N" line; a later one starts on
         * a line of its own, unless its attempt had shown some text. */
        if (o->text_open)
            close_text(o);
        else if (ev->attempt->n == 1)
            fputc('\n', f);
        fprintf(f, "        %sretry:%s attempt %d failed: ", C(o, RED),
                C(o, RESET), ev->attempt->n);
        show(o, ev->text, ev->len, 300);
        if (ev->attempt->retry_in_ms >= 0)
            fprintf(f, "; trying again in %.1f s\n",
                    ev->attempt->retry_in_ms / 1000.0);
        else
            fputc('\n', f);
        break;
    case AG_EV_LLM_RESPONSE:
        if (o->streamed)
            close_text(o);
        else if (ev->text && ev->len) {
            fprintf(f, "%s", C(o, DIM));
            show(o, ev->text, ev->len, o->verbosity > 0 ? 100000 : 400);
            fprintf(f, "%s\n", C(o, RESET));
        } else
            fputc('\n', f);
        fprintf(f, "        %stokens %ld in, %ld out · total %ld · $%.4f%s%s\n",
                C(o, DIM), ev->reply->usage.input, ev->reply->usage.output,
                a->tokens_in + a->tokens_out, a->cost,
                ev->attempts > 1 ? " · after retries" : "", C(o, RESET));
        break;
    case AG_EV_TOOL_CALL:
        fprintf(f, "        %s→ ", C(o, CYAN));
        show(o, ev->tool, strlen(ev->tool), SHOW_NAME);
        fprintf(f, "%s ", C(o, RESET));
        show(o, ev->args ? ev->args : "", ev->args ? strlen(ev->args) : 0,
             SHOW_ARGS);
        fputc('\n', f);
        break;
    case AG_EV_TOOL_LOG:
        if (o->verbosity > 0) {
            fprintf(f, "          %slog:%s ", C(o, DIM), C(o, RESET));
            show(o, ev->text, ev->len, 300);
            fputc('\n', f);
        }
        break;
    case AG_EV_TOOL_RESULT:
        fprintf(f, "        %s← ", ev->ok ? "" : C(o, RED));
        show(o, ev->tool ? ev->tool : "?", ev->tool ? strlen(ev->tool) : 1,
             SHOW_NAME);
        fprintf(f, "%s %s, %zu bytes, %.1f ms", ev->ok ? "" : C(o, RESET),
                ev->ok ? "ok" : "error", ev->len, ev->ms);
        if (!ev->ok || o->verbosity > 0) {
            fputs(": ", f);
            show(o, ev->result, ev->len, o->verbosity > 0 ? SHOW_RESULT : 300);
        }
        fputc('\n', f);
        break;
    case AG_EV_NET_REQUEST:
        if (ev->verdict || o->verbosity > 0) {
            fprintf(f, "          %s%s %s ", ev->ok ? C(o, DIM) : C(o, RED),
                    ev->method ? ev->method : "?", ev->ok ? "" : "refused");
            show(o, ev->url ? ev->url : "", ev->url ? strlen(ev->url) : 0, 200);
            if (ev->ok)
                fprintf(f, " · %ld · %zu bytes · %.1f ms", ev->status, ev->len,
                        ev->ms);
            else if (ev->verdict)
                fprintf(f, ": %s", ev->verdict);
            fprintf(f, "%s\n", C(o, RESET));
        }
        break;
    case AG_EV_APPROVAL:
        fprintf(f, "        %sapproval:%s %s %s (%s)\n",
                ev->ok ? "" : C(o, RED), C(o, RESET), ev->tool,
                ev->ok ? "approved" : "refused", ev->text ? ev->text : "");
        break;
    case AG_EV_CONTEXT_CUT:
        fprintf(f, "        %scontext: %s (message %d, %zu -> %zu bytes)%s\n",
                C(o, DIM), ev->text, ev->msg_index, ev->from, ev->to,
                C(o, RESET));
        break;
    case AG_EV_ERROR:
        close_text(o);
        break; /* the reason is shown with run.end */
    case AG_EV_RUN_END: {
        double secs = (double)(ag_now_ns() - a->t_start_ns) / 1e9;
        close_text(o);
        if (ev->outcome == AG_OUT_DONE)
            fprintf(f, "%sdone%s", C(o, BOLD), C(o, RESET));
        else {
            fprintf(f, "%sfailed:%s ", C(o, RED), C(o, RESET));
            show(o, ev->reason, strlen(ev->reason), 1000);
        }
        fprintf(f, " · %d step%s · %ld tokens · $%.4f · %.2f s%s\n", a->step,
                a->step == 1 ? "" : "s", a->tokens_in + a->tokens_out, a->cost,
                secs, o->stand_in ? " · answered by a scripted stand-in" : "");
        break;
    }
    }
    fflush(f);
}

/* ---- for programs ------------------------------------------------------ */

static void add_str(cJSON *o, const char *key, const struct ag_out *out,
                    const char *s, size_t n)
{
    char *r;

    if (!s)
        return;
    r = ag_redact(out->redact, s, n);
    cJSON_AddStringToObject(o, key, r);
    free(r);
}

static void add_calls(cJSON *o, const struct ag_out *out,
                      const struct ag_llm_reply *r)
{
    cJSON *arr;

    if (!r->ncalls)
        return;
    arr = cJSON_AddArrayToObject(o, "tool_calls");
    for (int i = 0; i < r->ncalls; i++) {
        cJSON *c = cJSON_CreateObject();
        add_str(c, "id", out, r->calls[i].id, strlen(r->calls[i].id));
        add_str(c, "name", out, r->calls[i].name, strlen(r->calls[i].name));
        add_str(c, "arguments", out, r->calls[i].args,
                strlen(r->calls[i].args));
        cJSON_AddItemToArray(arr, c);
    }
}

static const char *const event_names[] = {
    "run.start",   "llm.request", "llm.text",    "llm.retry",   "llm.response",
    "tool.call",   "tool.log",    "tool.result", "net.request", "approval",
    "context.cut", "error",       "run.end"};

static void json_event(struct ag_out *o, const struct ag_event *ev)
{
    const struct ag_agent *a = ev->agent;
    cJSON *j;
    char *s;

    if (ev->type == AG_EV_LLM_TEXT)
        return; /* the response event carries the whole text */
    j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "event", event_names[ev->type]);
    cJSON_AddNumberToObject(j, "agent", a->id);
    cJSON_AddNumberToObject(j, "step", ev->step);
    switch (ev->type) {
    case AG_EV_RUN_START:
        cJSON_AddStringToObject(j, "task", a->cfg->name);
        cJSON_AddStringToObject(j, "model",
                                o->model_label ? o->model_label : "");
        cJSON_AddBoolToObject(j, "stand_in", o->stand_in);
        break;
    case AG_EV_LLM_REQUEST:
        cJSON_AddNumberToObject(j, "messages", ev->nmsgs);
        break;
    case AG_EV_LLM_RETRY:
        cJSON_AddNumberToObject(j, "attempt", ev->attempt->n);
        cJSON_AddNumberToObject(j, "status", (double)ev->attempt->status);
        add_str(j, "error", o, ev->text, ev->len);
        cJSON_AddNumberToObject(j, "retry_in_ms", ev->attempt->retry_in_ms);
        break;
    case AG_EV_LLM_RESPONSE: {
        cJSON *u;
        add_str(j, "text", o, ev->text, ev->len);
        add_calls(j, o, ev->reply);
        if (ev->reply->finish)
            cJSON_AddStringToObject(j, "finish", ev->reply->finish);
        u = cJSON_AddObjectToObject(j, "usage");
        cJSON_AddNumberToObject(u, "input", (double)ev->reply->usage.input);
        cJSON_AddNumberToObject(u, "output", (double)ev->reply->usage.output);
        cJSON_AddNumberToObject(j, "attempts", ev->attempts);
        cJSON_AddBoolToObject(j, "stand_in", ev->reply->stand_in);
        break;
    }
    case AG_EV_TOOL_CALL:
        add_str(j, "tool", o, ev->tool, strlen(ev->tool));
        if (ev->call_id)
            add_str(j, "call_id", o, ev->call_id, strlen(ev->call_id));
        add_str(j, "arguments", o, ev->args, strlen(ev->args));
        break;
    case AG_EV_TOOL_LOG:
    case AG_EV_ERROR:
        add_str(j, "message", o, ev->text, ev->len);
        break;
    case AG_EV_TOOL_RESULT:
        if (ev->tool)
            add_str(j, "tool", o, ev->tool, strlen(ev->tool));
        if (ev->call_id)
            add_str(j, "call_id", o, ev->call_id, strlen(ev->call_id));
        cJSON_AddBoolToObject(j, "ok", ev->ok);
        add_str(j, "result", o, ev->result, ev->len);
        if (ev->verdict)
            cJSON_AddStringToObject(j, "verdict", ev->verdict);
        cJSON_AddNumberToObject(j, "bytes", (double)ev->len);
        cJSON_AddNumberToObject(j, "ms", ev->ms);
        break;
    case AG_EV_NET_REQUEST:
        if (ev->tool)
            add_str(j, "tool", o, ev->tool, strlen(ev->tool));
        if (ev->call_id)
            add_str(j, "call_id", o, ev->call_id, strlen(ev->call_id));
        cJSON_AddStringToObject(j, "method", ev->method ? ev->method : "");
        add_str(j, "url", o, ev->url ? ev->url : "",
                ev->url ? strlen(ev->url) : 0);
        cJSON_AddBoolToObject(j, "ok", ev->ok);
        cJSON_AddNumberToObject(j, "status", (double)ev->status);
        cJSON_AddNumberToObject(j, "bytes", (double)ev->len);
        cJSON_AddNumberToObject(j, "ms", ev->ms);
        if (ev->verdict)
            add_str(j, "refused", o, ev->verdict, strlen(ev->verdict));
        break;
    case AG_EV_APPROVAL:
        add_str(j, "tool", o, ev->tool, strlen(ev->tool));
        if (ev->call_id)
            add_str(j, "call_id", o, ev->call_id, strlen(ev->call_id));
        cJSON_AddBoolToObject(j, "approved", ev->ok);
        if (ev->text)
            cJSON_AddStringToObject(j, "by", ev->text);
        if (ev->reason)
            cJSON_AddStringToObject(j, "why", ev->reason);
        break;
    case AG_EV_CONTEXT_CUT:
        cJSON_AddStringToObject(j, "what", ev->text);
        cJSON_AddNumberToObject(j, "message", ev->msg_index);
        cJSON_AddNumberToObject(j, "from_bytes", (double)ev->from);
        cJSON_AddNumberToObject(j, "to_bytes", (double)ev->to);
        break;
    case AG_EV_RUN_END:
        cJSON_AddStringToObject(j, "outcome", ag_outcome_name(ev->outcome));
        add_str(j, "reason", o, ev->reason, strlen(ev->reason));
        add_str(j, "answer", o, ev->text, ev->len);
        cJSON_AddNumberToObject(j, "steps", a->step);
        cJSON_AddNumberToObject(j, "tokens_in", (double)a->tokens_in);
        cJSON_AddNumberToObject(j, "tokens_out", (double)a->tokens_out);
        cJSON_AddNumberToObject(j, "cost_usd", a->cost);
        cJSON_AddNumberToObject(j, "invalid_calls", a->invalid_calls);
        cJSON_AddNumberToObject(j, "seconds",
                                (double)(ag_now_ns() - a->t_start_ns) / 1e9);
        cJSON_AddBoolToObject(j, "stand_in", o->stand_in);
        break;
    case AG_EV_LLM_TEXT:
        break;
    }
    s = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    if (s) {
        fprintf(o->result, "%s\n", s);
        fflush(o->result);
        free(s);
    }
}

void ag_out_event(void *ud, const struct ag_event *ev)
{
    struct ag_out *o = ud;

    if (o->json) {
        json_event(o, ev);
        return;
    }
    if (o->live)
        human(o, ev);
    if (ev->type == AG_EV_RUN_END && ev->outcome == AG_OUT_DONE && ev->text &&
        !o->no_answer) {
        char *r = ag_redact(o->redact, ev->text, ev->len);
        fprintf(o->result, "%s\n", r);
        fflush(o->result);
        free(r);
    }
}
