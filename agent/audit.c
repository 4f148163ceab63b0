/*
 * audit.c: the hash-chained audit writer (see audit.h). SHA-256 comes from
 * OpenSSL's libcrypto: a well-kept implementation, not a hand-written one.
 */
#include "audit.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include <openssl/evp.h>

#include "json.h"

void ag_sha256_hex(const void *p, size_t n, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

/* A log that already holds records is continued: its last complete line
 * gives the chain's head and the sequence number. */
static void continue_chain(struct ag_audit *a)
{
    char tail[65536];
    long size;
    size_t n;
    char *end, *start;
    cJSON *rec;

    if (fseek(a->f, 0, SEEK_END) != 0 || (size = ftell(a->f)) <= 0)
        return;
    n = size < (long)sizeof tail - 1 ? (size_t)size : sizeof tail - 1;
    if (fseek(a->f, size - (long)n, SEEK_SET) != 0)
        return;
    n = fread(tail, 1, n, a->f);
    tail[n] = '\0';
    fseek(a->f, 0, SEEK_END);
    if (!(end = strrchr(tail, '\n')))
        return;
    *end = '\0';
    start = strrchr(tail, '\n');
    start = start ? start + 1 : tail;
    if (!(rec = cJSON_Parse(start)))
        return;
    if (ag_json_str(rec, "hash") && strlen(ag_json_str(rec, "hash")) == 64) {
        memcpy(a->prev, ag_json_str(rec, "hash"), 65);
        a->seq = (unsigned long long)ag_json_num(rec, "seq", 0);
    }
    cJSON_Delete(rec);
}

int ag_audit_open(struct ag_audit *a, const char *path,
                  const struct ag_redactor *redact)
{
    unsigned char r[16];

    memset(a, 0, sizeof *a);
    if (!(a->f = fopen(path, "a+")))
        return -errno;
    a->path = ag_xstrdup(path);
    a->redact = redact;
    memcpy(a->prev, AG_AUDIT_GENESIS, 65);
    continue_chain(a);
    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        uint64_t t = ag_wall_us() ^ ag_now_ns();
        memcpy(r, &t, sizeof t);
        memcpy(r + 8, &t, sizeof t);
    }
    for (int i = 0; i < 16; i++)
        snprintf(a->run + 2 * i, 3, "%02x", r[i]);
    return 0;
}

static void rfc3339(char *out, size_t n)
{
    uint64_t us = ag_wall_us();
    time_t secs = (time_t)(us / 1000000);
    struct tm tm;

    gmtime_r(&secs, &tm);
    size_t k = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + k, n - k, ".%06uZ", (unsigned)(us % 1000000));
}

/* Replaces secrets in every string of v. */
static void redact_tree(const struct ag_redactor *r, cJSON *v)
{
    if (!r || r->n == 0 || !v)
        return;
    if (cJSON_IsString(v) && v->valuestring) {
        char *s = ag_redact(r, v->valuestring, strlen(v->valuestring));
        if (strcmp(s, v->valuestring) != 0)
            cJSON_SetValuestring(v, s);
        free(s);
    }
    for (cJSON *c = v->child; c; c = c->next)
        redact_tree(r, c);
}

int ag_audit_write(struct ag_audit *a, unsigned agent, int step,
                   const char *type, cJSON *data)
{
    char ts[64];
    struct ag_buf b;
    cJSON *rec;
    int rc;

    if (!a->f) {
        cJSON_Delete(data);
        return -EBADF;
    }
    redact_tree(a->redact, data);
    rfc3339(ts, sizeof ts);
    rec = cJSON_CreateObject();
    cJSON_AddNumberToObject(rec, "seq", (double)++a->seq);
    cJSON_AddStringToObject(rec, "ts", ts);
    cJSON_AddStringToObject(rec, "run", a->run);
    cJSON_AddNumberToObject(rec, "agent", agent);
    cJSON_AddNumberToObject(rec, "step", step);
    cJSON_AddStringToObject(rec, "type", type);
    cJSON_AddItemToObject(rec, "data", data ? data : cJSON_CreateObject());
    cJSON_AddStringToObject(rec, "prev", a->prev);
    ag_buf_init(&b, 1u << 30);
    ag_buf_adds(&b, a->prev);
    rc = ag_json_canonical(rec, &b);
    if (rc == 0) {
        char hash[65];
        ag_sha256_hex(b.data, b.len, hash);
        cJSON_AddStringToObject(rec, "hash", hash);
        memcpy(a->prev, hash, 65);
        ag_buf_reset(&b);
        rc = ag_json_canonical(rec, &b);
    }
    if (rc == 0) {
        ag_buf_addc(&b, '\n');
        if (fwrite(b.data, 1, b.len, a->f) != b.len)
            rc = -errno;
    }
    ag_buf_free(&b);
    cJSON_Delete(rec);
    if (rc < 0 && !a->failed) {
        a->failed = 1;
        ag_error("audit log %s: write failed: %s", a->path, ag_strerror(rc));
    }
    return rc;
}

int ag_audit_flush(struct ag_audit *a)
{
    if (a->f && fflush(a->f) != 0) {
        int rc = -errno;
        if (!a->failed) {
            a->failed = 1;
            ag_error("audit log %s: %s", a->path, ag_strerror(rc));
        }
        return rc;
    }
    return 0;
}

static void add_text(cJSON *d, const char *key, const char *s, size_t n)
{
    char *t;

    if (!s)
        return;
    t = ag_xstrndup(s, n);
    cJSON_AddStringToObject(d, key, t);
    free(t);
}

void ag_audit_event(void *ud, const struct ag_event *ev)
{
    struct ag_audit *au = ud;
    const struct ag_agent *a = ev->agent;
    const char *type = NULL;
    cJSON *d = cJSON_CreateObject();

    switch (ev->type) {
    case AG_EV_RUN_START:
        type = "run.start";
        cJSON_AddStringToObject(d, "task", a->cfg->name);
        cJSON_AddStringToObject(d, "model",
                                au->model_label ? au->model_label : "");
        cJSON_AddBoolToObject(d, "stand_in", au->stand_in);
        add_text(d, "goal", a->goal, strlen(a->goal));
        {
            cJSON *tools = cJSON_AddArrayToObject(d, "tools");
            for (int i = 0; a->cfg->reg && i < a->cfg->reg->ntools; i++)
                cJSON_AddItemToArray(
                    tools, cJSON_CreateString(a->cfg->reg->tools[i].qualname));
        }
        {
            cJSON *l = cJSON_AddObjectToObject(d, "limits");
            cJSON_AddNumberToObject(l, "steps", (double)a->cfg->limits.steps);
            cJSON_AddNumberToObject(l, "tokens", (double)a->cfg->limits.tokens);
            cJSON_AddNumberToObject(l, "seconds", a->cfg->limits.seconds);
            cJSON_AddNumberToObject(l, "cost", a->cfg->limits.cost);
            cJSON_AddNumberToObject(l, "repeat_calls",
                                    (double)a->cfg->limits.repeat_calls);
        }
        break;
    case AG_EV_LLM_REQUEST:
        type = "llm.request";
        cJSON_AddStringToObject(d, "provider", a->cfg->provider);
        cJSON_AddStringToObject(d, "model", a->cfg->model);
        cJSON_AddNumberToObject(d, "messages", ev->nmsgs);
        ag_audit_flush(au); /* the step's records reach the file first */
        break;
    case AG_EV_LLM_RETRY:
        type = "error";
        cJSON_AddStringToObject(d, "what", "llm.attempt");
        cJSON_AddNumberToObject(d, "attempt", ev->attempt->n);
        cJSON_AddNumberToObject(d, "status", (double)ev->attempt->status);
        add_text(d, "message", ev->text, ev->len);
        cJSON_AddNumberToObject(d, "retry_in_ms", ev->attempt->retry_in_ms);
        break;
    case AG_EV_LLM_RESPONSE: {
        cJSON *u, *calls;
        type = "llm.response";
        add_text(d, "text", ev->text, ev->len);
        calls = cJSON_AddArrayToObject(d, "tool_calls");
        for (int i = 0; i < ev->reply->ncalls; i++) {
            cJSON *c = cJSON_CreateObject();
            cJSON_AddStringToObject(c, "id", ev->reply->calls[i].id);
            cJSON_AddStringToObject(c, "name", ev->reply->calls[i].name);
            cJSON_AddStringToObject(c, "arguments", ev->reply->calls[i].args);
            cJSON_AddItemToArray(calls, c);
        }
        if (ev->reply->finish)
            cJSON_AddStringToObject(d, "finish", ev->reply->finish);
        u = cJSON_AddObjectToObject(d, "usage");
        cJSON_AddNumberToObject(u, "input", (double)ev->reply->usage.input);
        cJSON_AddNumberToObject(u, "output", (double)ev->reply->usage.output);
        cJSON_AddNumberToObject(d, "attempt", ev->attempts);
        cJSON_AddBoolToObject(d, "stand_in", ev->reply->stand_in);
        break;
    }
    case AG_EV_TOOL_CALL:
        type = "tool.call";
        cJSON_AddStringToObject(d, "tool", ev->tool);
        if (ev->call_id)
            cJSON_AddStringToObject(d, "call_id", ev->call_id);
        add_text(d, "arguments", ev->args, strlen(ev->args));
        break;
    case AG_EV_TOOL_RESULT:
        type = "tool.result";
        if (ev->tool)
            cJSON_AddStringToObject(d, "tool", ev->tool);
        if (ev->call_id)
            cJSON_AddStringToObject(d, "call_id", ev->call_id);
        cJSON_AddBoolToObject(d, "ok", ev->ok);
        add_text(d, ev->ok ? "value" : "error", ev->result, ev->len);
        if (ev->verdict)
            cJSON_AddStringToObject(d, "verdict", ev->verdict);
        cJSON_AddNumberToObject(d, "ms", ev->ms);
        cJSON_AddNumberToObject(d, "bytes", (double)ev->len);
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
        add_text(d, "message", ev->text, ev->len);
        break;
    case AG_EV_RUN_END:
        type = "run.end";
        cJSON_AddStringToObject(d, "outcome", ag_outcome_name(ev->outcome));
        cJSON_AddStringToObject(d, "reason", ev->reason);
        add_text(d, "answer", ev->text, ev->len);
        cJSON_AddNumberToObject(d, "steps", a->step);
        cJSON_AddNumberToObject(d, "tokens_in", (double)a->tokens_in);
        cJSON_AddNumberToObject(d, "tokens_out", (double)a->tokens_out);
        cJSON_AddNumberToObject(d, "cost_usd", a->cost);
        cJSON_AddNumberToObject(d, "invalid_calls", a->invalid_calls);
        break;
    case AG_EV_LLM_TEXT:
    case AG_EV_TOOL_LOG:
        break;
    }
    if (!type) {
        cJSON_Delete(d);
        return;
    }
    ag_audit_write(au, a->id, ev->step, type, d);
    if (ev->type == AG_EV_RUN_END)
        ag_audit_flush(au);
}

int ag_audit_close(struct ag_audit *a)
{
    int rc = 0;

    if (!a->f)
        return 0;
    if (fclose(a->f) != 0)
        rc = -errno;
    a->f = NULL;
    free(a->path);
    a->path = NULL;
    return rc ? rc : (a->failed ? -EIO : 0);
}
