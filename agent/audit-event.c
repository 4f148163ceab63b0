/*
 * audit-event.c: turning what agents do (struct ag_event) into audit
 * records (the record types and fields listed in audit.h). Content fields go
 * through ag_audit_add_content, so the content setting and redaction apply
 * to them; everything else is metadata and is written as it is (still
 * redacted, by the writer).
 */
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "json.h"

static void add_limits(cJSON *d, const struct ag_task_limits *l)
{
    cJSON *o = cJSON_AddObjectToObject(d, "limits");

    cJSON_AddNumberToObject(o, "steps", (double)l->steps);
    cJSON_AddNumberToObject(o, "tokens", (double)l->tokens);
    cJSON_AddNumberToObject(o, "seconds", l->seconds);
    cJSON_AddNumberToObject(o, "cost", l->cost);
    cJSON_AddNumberToObject(o, "repeat_calls", (double)l->repeat_calls);
}

static void run_start(struct ag_audit_sink *s, const struct ag_event *ev,
                      cJSON *d)
{
    const struct ag_agent *a = ev->agent;
    const struct ag_agent_cfg *c = a->cfg;
    cJSON *tools = cJSON_AddArrayToObject(d, "tools");

    cJSON_AddStringToObject(d, "task", c->name);
    if (c->task_file)
        cJSON_AddStringToObject(d, "task_file", c->task_file);
    if (c->task_sha256)
        cJSON_AddStringToObject(d, "task_sha256", c->task_sha256);
    /* the file itself (per the content setting, secrets redacted), so that
     * a replay can run when the file is gone */
    if (c->task_text)
        ag_audit_add_content(s->log, d, "task_text", c->task_text,
                             c->task_text_len);
    cJSON_AddStringToObject(d, "provider", c->provider ? c->provider : "");
    cJSON_AddStringToObject(d, "model", c->model ? c->model : "");
    if (s->model_label)
        cJSON_AddStringToObject(d, "model_label", s->model_label);
    cJSON_AddBoolToObject(d, "stand_in", s->stand_in);
    ag_audit_add_content(s->log, d, "goal", a->goal, strlen(a->goal));
    if (c->system)
        ag_audit_add_content(s->log, d, "system", c->system, strlen(c->system));
    for (int i = 0; c->reg && i < c->reg->ntools; i++) {
        const struct ag_tool *t = &c->reg->tools[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", t->qualname);
        cJSON_AddStringToObject(o, "sha256", t->sha256);
        cJSON_AddItemToArray(tools, o);
    }
    add_limits(d, &c->limits);
    cJSON_AddItemToObject(d, "sandbox",
                          s->sandbox ? cJSON_Duplicate(s->sandbox, 1)
                                     : cJSON_CreateArray());
    cJSON_AddStringToObject(d, "content",
                            s->content_label ? s->content_label : "full");
}

static void llm_response(struct ag_audit_sink *s, const struct ag_event *ev,
                         cJSON *d)
{
    const struct ag_llm_reply *r = ev->reply;
    cJSON *calls = cJSON_AddArrayToObject(d, "tool_calls"), *u;

    ag_audit_add_content(s->log, d, "text", ev->text, ev->len);
    for (int i = 0; i < r->ncalls; i++) {
        cJSON *c = cJSON_CreateObject();
        cJSON_AddStringToObject(c, "id", r->calls[i].id ? r->calls[i].id : "");
        cJSON_AddStringToObject(c, "name", r->calls[i].name);
        ag_audit_add_content(s->log, c, "arguments", r->calls[i].args,
                             strlen(r->calls[i].args));
        cJSON_AddItemToArray(calls, c);
    }
    if (r->finish)
        cJSON_AddStringToObject(d, "finish", r->finish);
    u = cJSON_AddObjectToObject(d, "usage");
    cJSON_AddNumberToObject(u, "input", (double)r->usage.input);
    cJSON_AddNumberToObject(u, "output", (double)r->usage.output);
    cJSON_AddNumberToObject(d, "latency_ms", ev->ms);
    cJSON_AddNumberToObject(d, "attempt", ev->attempts);
    cJSON_AddBoolToObject(d, "stand_in", r->stand_in);
}

static void tool_result(struct ag_audit_sink *s, const struct ag_event *ev,
                        cJSON *d)
{
    if (ev->tool)
        cJSON_AddStringToObject(d, "tool", ev->tool);
    if (ev->call_id)
        cJSON_AddStringToObject(d, "call_id", ev->call_id);
    cJSON_AddBoolToObject(d, "ok", ev->ok);
    ag_audit_add_content(s->log, d, ev->ok ? "value" : "error", ev->result,
                         ev->len);
    if (ev->verdict)
        cJSON_AddStringToObject(d, "verdict", ev->verdict);
    cJSON_AddNumberToObject(d, "ms", ev->ms);
    cJSON_AddNumberToObject(d, "bytes", (double)ev->len);
}

/* A tool the sandbox stopped (not a refused call, not the tool's own
 * error) also gets a violation record. */
static int is_violation(const char *verdict)
{
    static const char *const v[] = {"time",   "memory", "cpu",
                                    "output", "crash",  "protocol"};

    for (size_t i = 0; verdict && i < AG_ARRAY_SIZE(v); i++)
        if (strcmp(verdict, v[i]) == 0)
            return 1;
    return 0;
}

void ag_audit_event(void *ud, const struct ag_event *ev)
{
    struct ag_audit_sink *s = ud;
    const struct ag_agent *a = ev->agent;
    const char *type = NULL;
    cJSON *d = cJSON_CreateObject();

    switch (ev->type) {
    case AG_EV_RUN_START:
        type = "run.start";
        run_start(s, ev, d);
        break;
    case AG_EV_LLM_REQUEST:
        type = "llm.request";
        cJSON_AddStringToObject(d, "provider",
                                a->cfg->provider ? a->cfg->provider : "");
        cJSON_AddStringToObject(d, "model", a->cfg->model ? a->cfg->model : "");
        cJSON_AddNumberToObject(d, "messages", ev->nmsgs);
        if (ev->hash)
            cJSON_AddStringToObject(d, "sha256", ev->hash);
        cJSON_AddNumberToObject(d, "bytes", (double)ev->len);
        ag_audit_add_content(s->log, d, "body", ev->text, ev->len);
        break;
    case AG_EV_LLM_RETRY:
        type = "error";
        cJSON_AddStringToObject(d, "what", "llm.attempt");
        cJSON_AddNumberToObject(d, "attempt", ev->attempt->n);
        cJSON_AddNumberToObject(d, "status", (double)ev->attempt->status);
        cJSON_AddStringToObject(d, "message", ev->text);
        cJSON_AddNumberToObject(d, "retry_in_ms", ev->attempt->retry_in_ms);
        break;
    case AG_EV_LLM_RESPONSE:
        type = "llm.response";
        llm_response(s, ev, d);
        break;
    case AG_EV_TOOL_CALL:
        type = "tool.call";
        cJSON_AddStringToObject(d, "tool", ev->tool);
        if (ev->call_id) {
            /* written before the call runs: a resumed run can tell a side
             * effect that already happened by its key */
            char *key = ag_xasprintf("%s/%s", a->run, ev->call_id);
            cJSON_AddStringToObject(d, "call_id", ev->call_id);
            cJSON_AddStringToObject(d, "idempotency_key", key);
            free(key);
        }
        ag_audit_add_content(s->log, d, "arguments", ev->args,
                             strlen(ev->args));
        break;
    case AG_EV_TOOL_RESULT:
        type = "tool.result";
        tool_result(s, ev, d);
        if (is_violation(ev->verdict)) {
            cJSON *v = cJSON_CreateObject();
            ag_audit_write(s->log, a->run, a->id, ev->step, type, d);
            type = "violation";
            d = v;
            if (ev->tool)
                cJSON_AddStringToObject(d, "tool", ev->tool);
            if (ev->call_id)
                cJSON_AddStringToObject(d, "call_id", ev->call_id);
            cJSON_AddStringToObject(d, "verdict", ev->verdict);
            cJSON_AddStringToObject(d, "message", ev->result);
        }
        break;
    case AG_EV_NET_REQUEST:
        type = "net.request";
        if (ev->tool)
            cJSON_AddStringToObject(d, "tool", ev->tool);
        if (ev->call_id)
            cJSON_AddStringToObject(d, "call_id", ev->call_id);
        cJSON_AddStringToObject(d, "method", ev->method ? ev->method : "");
        cJSON_AddStringToObject(d, "url", ev->url ? ev->url : "");
        cJSON_AddBoolToObject(d, "ok", ev->ok);
        cJSON_AddNumberToObject(d, "status", (double)ev->status);
        cJSON_AddNumberToObject(d, "bytes", (double)ev->len);
        if (ev->truncated)
            cJSON_AddTrueToObject(d, "truncated");
        cJSON_AddNumberToObject(d, "ms", ev->ms);
        if (ev->verdict)
            cJSON_AddStringToObject(d, "refused", ev->verdict);
        /* bodies are content: stored per the content setting */
        if (ev->args)
            ag_audit_add_content(s->log, d, "request_body", ev->args,
                                 strlen(ev->args));
        if (ev->result)
            ag_audit_add_content(s->log, d, "response_body", ev->result,
                                 (size_t)ev->msg_index);
        break;
    case AG_EV_APPROVAL:
        type = "approval";
        cJSON_AddStringToObject(d, "tool", ev->tool);
        if (ev->call_id)
            cJSON_AddStringToObject(d, "call_id", ev->call_id);
        if (ev->args)
            ag_audit_add_content(s->log, d, "arguments", ev->args,
                                 strlen(ev->args));
        cJSON_AddBoolToObject(d, "approved", ev->ok);
        if (ev->text)
            cJSON_AddStringToObject(d, "by", ev->text);
        if (ev->reason)
            cJSON_AddStringToObject(d, "why", ev->reason);
        break;
    case AG_EV_CONTEXT_CUT:
        type = "context.cut";
        cJSON_AddStringToObject(d, "what", ev->text);
        cJSON_AddNumberToObject(d, "message", ev->msg_index);
        cJSON_AddNumberToObject(d, "from_bytes", (double)ev->from);
        cJSON_AddNumberToObject(d, "to_bytes", (double)ev->to);
        break;
    case AG_EV_ERROR:
        type = "error";
        cJSON_AddStringToObject(d, "message", ev->text);
        break;
    case AG_EV_RUN_END:
        type = "run.end";
        cJSON_AddStringToObject(d, "outcome", ag_outcome_name(ev->outcome));
        cJSON_AddStringToObject(d, "reason", ev->reason);
        ag_audit_add_content(s->log, d, "answer", ev->text, ev->len);
        cJSON_AddNumberToObject(d, "steps", a->step);
        cJSON_AddNumberToObject(d, "tokens_in", (double)a->tokens_in);
        cJSON_AddNumberToObject(d, "tokens_out", (double)a->tokens_out);
        cJSON_AddNumberToObject(d, "cost_usd", a->cost);
        cJSON_AddNumberToObject(d, "invalid_calls", a->invalid_calls);
        cJSON_AddNumberToObject(d, "seconds",
                                (double)(ag_now_ns() - a->t_start_ns) / 1e9);
        break;
    case AG_EV_LLM_TEXT:
    case AG_EV_TOOL_LOG:
        break;
    }
    if (!type) {
        cJSON_Delete(d);
        return;
    }
    ag_audit_write(s->log, a->run, a->id, ev->step, type, d);
}
