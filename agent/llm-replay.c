/*
 * llm-replay.c: answers from an audit log (see replay.h). The log is read
 * once, whole; only the records of the chosen run are kept: its run.start
 * and run.end, each llm.request's hash and each llm.response by step, and
 * each tool.result by call id. Replies are rebuilt exactly as the model
 * gave them (text, tool calls with their ids and arguments, finish reason,
 * usage), marked as coming from a stand-in.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "replay.h"

struct ag_replay {
    char run[33];
    int runs; /* in the file */
    cJSON *start, *end;
    cJSON **responses; /* by step - 1 */
    char **hashes;     /* by step (requests) */
    int nsteps, caphashes;
    cJSON *results; /* {call_id: tool.result data} */
};

static void set_at(void ***arr, int *cap, int i, void *v)
{
    if (i >= *cap) {
        int n = *cap ? *cap : 8;
        while (n <= i)
            n *= 2;
        *arr = ag_xrealloc(*arr, sizeof **arr * (size_t)n);
        memset(*arr + *cap, 0, sizeof **arr * (size_t)(n - *cap));
        *cap = n;
    }
    (*arr)[i] = v;
}

/* Finds the run to replay: the one matching prefix, or the last one. */
static int pick_run(const char *data, const char *prefix, struct ag_replay *r,
                    char *err, size_t errlen)
{
    const char *line = data;
    char last[33] = "";
    int matches = 0;

    while (*line) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        cJSON *rec = cJSON_ParseWithLength(line, n);
        const char *type = ag_json_str(rec, "type");
        const char *run = ag_json_str(rec, "run");
        if (type && run && strcmp(type, "run.start") == 0 &&
            strlen(run) == 32) {
            r->runs++;
            if (!prefix) {
                memcpy(last, run, 33);
            } else if (strncmp(run, prefix, strlen(prefix)) == 0) {
                matches++;
                memcpy(last, run, 33);
            }
        }
        cJSON_Delete(rec);
        line += n + (nl ? 1 : 0);
    }
    if (prefix && matches > 1) {
        snprintf(err, errlen, "%d runs start with \"%s\"; give more of the id",
                 matches, prefix);
        return AG_ENOTFOUND;
    }
    if (!last[0]) {
        snprintf(err, errlen,
                 prefix ? "no run \"%s\" in the log" : "the log holds no run%s",
                 prefix ? prefix : "");
        return AG_ENOTFOUND;
    }
    memcpy(r->run, last, 33);
    return 0;
}

int ag_replay_load(const char *path, const char *run, struct ag_replay **out,
                   char *err, size_t errlen)
{
    struct ag_replay *r = ag_xcalloc(1, sizeof *r);
    const char *line;
    char *data;
    size_t len;
    int rc, lineno = 0, caprespo = 0;
    const char *content;

    *out = NULL;
    if ((rc = ag_read_file(path, (size_t)1 << 31, &data, &len)) < 0) {
        snprintf(err, errlen, "%s: cannot read: %s", path, ag_strerror(rc));
        free(r);
        return rc;
    }
    if ((rc = pick_run(data, run, r, err, errlen)) < 0)
        goto fail;
    r->results = cJSON_CreateObject();
    for (line = data; *line;) {
        const char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line) : strlen(line);
        cJSON *rec;
        char type[32];
        int step;
        cJSON *d;

        lineno++;
        if (!nl)
            break; /* a torn tail is not part of the run */
        rec = cJSON_ParseWithLength(line, n);
        line += n + 1;
        if (!rec) {
            snprintf(err, errlen, "%s:%d: not a JSON record", path, lineno);
            rc = AG_EPARSE;
            goto fail;
        }
        if (!ag_json_str(rec, "run") ||
            strcmp(ag_json_str(rec, "run"), r->run) != 0) {
            cJSON_Delete(rec);
            continue;
        }
        snprintf(type, sizeof type, "%s",
                 ag_json_str(rec, "type") ? ag_json_str(rec, "type") : "");
        step = (int)ag_json_num(rec, "step", 0);
        d = cJSON_DetachItemFromObjectCaseSensitive(rec, "data");
        cJSON_Delete(rec);
        if (!d) {
            cJSON_Delete(d);
            continue;
        }
        if (strcmp(type, "run.start") == 0) {
            cJSON_Delete(r->start);
            r->start = d;
        } else if (strcmp(type, "run.end") == 0) {
            cJSON_Delete(r->end);
            r->end = d;
        } else if (strcmp(type, "llm.request") == 0 && step >= 0) {
            const char *h = ag_json_str(d, "sha256");
            set_at((void ***)&r->hashes, &r->caphashes, step,
                   h ? ag_xstrdup(h) : NULL);
            cJSON_Delete(d);
        } else if (strcmp(type, "llm.response") == 0 && step >= 1) {
            set_at((void ***)&r->responses, &caprespo, step - 1, d);
            if (step > r->nsteps)
                r->nsteps = step;
        } else if (strcmp(type, "tool.result") == 0 &&
                   ag_json_str(d, "call_id")) {
            cJSON_AddItemToObject(r->results, ag_json_str(d, "call_id"), d);
        } else {
            cJSON_Delete(d);
        }
    }
    content = ag_json_str(r->start, "content");
    if (content && strcmp(content, "full") != 0) {
        snprintf(err, errlen,
                 "%s: the run was logged with --audit-content %s; replay "
                 "needs the full content",
                 path, content);
        rc = AG_ENOTFOUND;
        goto fail;
    }
    free(data);
    *out = r;
    return 0;
fail:
    free(data);
    ag_replay_free(r);
    return rc;
}

void ag_replay_free(struct ag_replay *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->nsteps; i++)
        cJSON_Delete(r->responses[i]);
    for (int i = 0; i < r->caphashes; i++)
        free(r->hashes[i]);
    free(r->responses);
    free(r->hashes);
    cJSON_Delete(r->start);
    cJSON_Delete(r->end);
    cJSON_Delete(r->results);
    free(r);
}

const char *ag_replay_run(const struct ag_replay *r)
{
    return r->run;
}

const cJSON *ag_replay_start(const struct ag_replay *r)
{
    return r->start;
}

const cJSON *ag_replay_end(const struct ag_replay *r)
{
    return r->end;
}

int ag_replay_runs_in_file(const struct ag_replay *r)
{
    return r->runs;
}

int ag_replay_steps(const struct ag_replay *r)
{
    return r->nsteps;
}

const char *ag_replay_request_hash(const struct ag_replay *r, int step)
{
    return step >= 0 && step < r->caphashes ? r->hashes[step] : NULL;
}

int ag_replay_answer(struct ag_replay *r, const struct ag_llm_req *req,
                     struct ag_llm_reply *out, char *err, size_t errlen)
{
    const cJSON *d, *calls, *c, *u;
    int i = 0;

    ag_llm_reply_clear(out);
    d = req->step < r->nsteps ? r->responses[req->step] : NULL;
    if (!d) {
        snprintf(err, errlen,
                 "replay: the log holds no reply for step %d (the logged run "
                 "made %d)",
                 req->step + 1, r->nsteps);
        return AG_ENOTFOUND;
    }
    if (ag_json_str(d, "text"))
        out->text = ag_xstrdup(ag_json_str(d, "text"));
    calls = cJSON_GetObjectItemCaseSensitive(d, "tool_calls");
    out->ncalls = cJSON_GetArraySize(calls);
    out->calls =
        ag_xcalloc((size_t)(out->ncalls ? out->ncalls : 1), sizeof *out->calls);
    cJSON_ArrayForEach(c, calls)
    {
        const char *id = ag_json_str(c, "id"), *name = ag_json_str(c, "name");
        const char *args = ag_json_str(c, "arguments");
        out->calls[i].id = id && *id ? ag_xstrdup(id) : NULL;
        out->calls[i].name = ag_xstrdup(name ? name : "");
        out->calls[i].args = ag_xstrdup(args ? args : "{}");
        i++;
    }
    if (ag_json_str(d, "finish"))
        out->finish = ag_xstrdup(ag_json_str(d, "finish"));
    u = cJSON_GetObjectItemCaseSensitive(d, "usage");
    out->usage.input = (long)ag_json_num(u, "input", -1);
    out->usage.output = (long)ag_json_num(u, "output", -1);
    out->stand_in = 1;
    return 0;
}

int ag_replay_tool(void *ud, struct ag_agent *a, const char *call_id,
                   const char *tool, char **result, int *ok)
{
    struct ag_replay *r = ud;
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(r->results, call_id);
    const char *v;

    AG_UNUSED(a);
    AG_UNUSED(tool);
    if (!d)
        return AG_ENOTFOUND;
    *ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "ok"));
    v = ag_json_str(d, *ok ? "value" : "error");
    if (!v)
        return AG_ENOTFOUND;
    *result = ag_xstrdup(v);
    return 0;
}
