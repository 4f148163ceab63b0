/*
 * sim-llm.c: the simulation's model calls. A call renders a named template
 * (sim/prompts/<kind>.txt: a machine-readable header, the static part,
 * then the facts; sent as a system message, the static part, and a user
 * message, the header and the facts), looks the request up in the response
 * cache (keyed by the SHA-256 of the provider-neutral request, so identical
 * requests are asked once, and an audit log can answer them all again with no
 * endpoint), and otherwise goes through the spine's client, at most
 * `concurrency` at a time. Answers are JSON objects (the first one in the
 * reply); a reply with none counts as a failure and the kind's default is used.
 * Every call is written to the run's audit log as llm.request + llm.response.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include <math.h>
#include "sim-private.h"

static const char *const kinds[AG__SIM_KINDS] = {
    "importance", "day_plan",     "hourly",    "decompose", "react",
    "chat",       "chat_summary", "questions", "insights",  "interview"};

/* What a kind's answer is when the model gives none that parses. */
static const char *const defaults[AG__SIM_KINDS] = {
    "{\"importance\":3}",
    "{\"plan\":[]}",
    "{\"blocks\":[]}",
    "{\"actions\":[]}",
    "{\"react\":false}",
    "{\"say\":\"\",\"end\":true}",
    "{\"summary\":\"\",\"facts\":[]}",
    "{\"questions\":[]}",
    "{\"insights\":[]}",
    "{\"answer\":\"\",\"facts\":[]}"};

struct ag__sim_call {
    struct ag__sim_call *next;
    struct ag__sim *s;
    int kind;
    char hash[65];
    char *prompt;       /* the user message */
    const char *system; /* the system message (the template's) */
    int *agents;        /* waiting for this answer */
    int nagents;
    uint64_t t0;
};

const char *ag__sim_kind_name(int k)
{
    return k >= 0 && k < AG__SIM_KINDS ? kinds[k] : "?";
}

static int kind_of(const char *name)
{
    for (int i = 0; i < AG__SIM_KINDS; i++)
        if (strcmp(kinds[i], name) == 0)
            return i;
    return -1;
}

int ag__sim_llm_init(struct ag__sim *s, const char *model_spec, char *err,
                     size_t errlen)
{
    const char *spec = model_spec ? model_spec : s->w.model;
    const char *colon = spec ? strchr(spec, ':') : NULL;
    struct ag_model_info mi;
    int rc;

    s->cache = ag_map_new();
    s->templates = cJSON_CreateObject();
    if (!spec || !colon) {
        snprintf(err, errlen,
                 "%s: no model: give model = \"script:FILE\" or "
                 "\"openai:NAME\" in the world, or --model",
                 s->w.path);
        return AG_ETASK;
    }
    s->provider = ag_xstrndup(spec, (size_t)(colon - spec));
    if (strcmp(s->provider, "script") == 0) {
        /* relative to the world file when it came from it */
        char *path = colon[1] == '/' || model_spec
                         ? ag_xstrdup(colon + 1)
                         : ag_xasprintf("%s/%s", s->w.dir, colon + 1);
        rc = ag_script_new(path, &s->script, err, errlen);
        free(path);
        if (rc < 0)
            return rc;
        /* the script's name is the model's: another script is another
         * model, and does not answer from this one's cache */
        s->model_name = ag_xstrdup(spec);
        s->llm.script = s->script;
    } else {
        const struct ag_codec *c = ag_codec_find(s->provider);
        const char *key, *url;
        if (!c) {
            snprintf(err, errlen,
                     "model provider must be openai, anthropic "
                     "or script (got \"%s\")",
                     s->provider);
            return AG_ETASK;
        }
        s->model_name = ag_xstrdup(colon + 1);
        s->llm.codec = c;
        key = getenv(strcmp(s->provider, "anthropic") == 0 ? "ANTHROPIC_API_KEY"
                                                           : "OPENAI_API_KEY");
        url =
            getenv(strcmp(s->provider, "anthropic") == 0 ? "ANTHROPIC_BASE_URL"
                                                         : "OPENAI_BASE_URL");
        s->llm.api_key = key && *key ? key : NULL;
        s->llm.base_url = s->base_url ? s->base_url : url && *url ? url : NULL;
    }
    ag_model_info(s->model_name, &mi);
    s->price_in = mi.price_in;
    s->price_out = mi.price_out;
    return ag__sim_embed_init(s, err, errlen);
}

void ag__sim_llm_free(struct ag__sim *s)
{
    while (s->queue) {
        struct ag__sim_call *c = s->queue;
        s->queue = c->next;
        free(c->prompt);
        free(c->agents);
        free(c);
    }
    ag__sim_embed_free(s);
    ag_map_free(s->cache);
    cJSON_Delete(s->templates);
    ag_script_free(s->script);
    free(s->model_name);
    free(s->provider);
}

/* ---- templates --------------------------------------------------------- */

/* A template is laid out header, static part, per-call part. It is sent
 * as two messages: the static part as the system message, the same for
 * every call of the kind (so servers' prefix caches hold it), then the
 * header and the per-call part as the user message. The static part runs
 * from the first line after the header ("### " lines) to the last line
 * before the first placeholder. */
static void split_template(const char *t, char **sys, char **user)
{
    const char *p = t, *stat, *dyn;
    struct ag_buf b;

    while (strncmp(p, "### ", 4) == 0 && strchr(p, '\n'))
        p = strchr(p, '\n') + 1;
    while (*p == '\n')
        p++;
    stat = p;
    for (dyn = p; *dyn;
         dyn = strchr(dyn, '\n') ? strchr(dyn, '\n') + 1 : dyn + strlen(dyn)) {
        const char *nl = strchr(dyn, '\n'), *ph = strstr(dyn, "{{");
        if (ph && (!nl || ph < nl))
            break;
    }
    *sys = ag_xstrndup(stat, (size_t)(dyn - stat));
    while (**sys && (*sys)[strlen(*sys) - 1] == '\n')
        (*sys)[strlen(*sys) - 1] = '\0';
    ag_buf_init(&b, 1u << 20);
    ag_buf_add(&b, t, (size_t)(stat - t));
    ag_buf_adds(&b, dyn);
    *user = ag_buf_steal(&b);
}

/* The kind's template as {"system", "user"}, read once. */
static const cJSON *template_of(struct ag__sim *s, const char *kind)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(s->templates, kind);
    char *path, *data = NULL, *sys, *user;
    cJSON *o;

    if (t)
        return t;
    path = ag_xasprintf("%s/prompts/%s.txt", s->sim_dir, kind);
    if (ag_read_file(path, 1u << 20, &data, NULL) < 0) {
        ag_warn("sim: %s: cannot read; the prompt has only its header", path);
        data = ag_xasprintf("### kind: %s\n### agent: {{agent}}\n### facts: "
                            "{{facts_json}}\n",
                            kind);
    }
    free(path);
    split_template(data, &sys, &user);
    free(data);
    o = cJSON_AddObjectToObject(s->templates, kind);
    cJSON_AddStringToObject(o, "system", sys);
    cJSON_AddStringToObject(o, "user", user);
    free(sys);
    free(user);
    return o;
}

/* The request of a call: the system message (may be empty) and the user
 * message. */
static void request_of(struct ag__sim *s, const char *sys, const char *user,
                       struct ag_msg m[2], struct ag_llm_req *req)
{
    memset(m, 0, 2 * sizeof *m);
    memset(req, 0, sizeof *req);
    m[0].role = AG_ROLE_SYSTEM;
    m[0].text = (char *)sys;
    m[1].role = AG_ROLE_USER;
    m[1].text = (char *)user;
    req->model = s->model_name;
    req->msgs = *sys ? m : m + 1;
    req->nmsgs = *sys ? 2 : 1;
    req->temperature = -1;
}

/* Replaces {{name}} with the fact of that name (strings as they are,
 * anything else as JSON; {{facts_json}} is all of them). */
static char *render(const char *tpl, const cJSON *facts)
{
    struct ag_buf b;
    const char *p = tpl;

    ag_buf_init(&b, 64u << 20);
    while (*p) {
        const char *open = strstr(p, "{{"), *close;
        char name[64];
        const cJSON *v;
        size_t n;
        if (!open || !(close = strstr(open + 2, "}}"))) {
            ag_buf_adds(&b, p);
            break;
        }
        ag_buf_add(&b, p, (size_t)(open - p));
        n = (size_t)(close - open - 2);
        if (n >= sizeof name) {
            ag_buf_add(&b, open, 2);
            p = open + 2;
            continue;
        }
        memcpy(name, open + 2, n);
        name[n] = '\0';
        if (strcmp(name, "facts_json") == 0) {
            ag_json_canonical(facts, &b);
        } else if ((v = cJSON_GetObjectItemCaseSensitive(facts, name))) {
            if (cJSON_IsString(v))
                ag_buf_adds(&b, v->valuestring);
            else
                ag_json_canonical(v, &b);
        }
        p = close + 2;
    }
    return ag_buf_steal(&b);
}

/* The first JSON object in text, or NULL. */
static cJSON *first_object(const char *text)
{
    for (const char *p = text ? strchr(text, '{') : NULL; p;
         p = strchr(p + 1, '{')) {
        const char *end = NULL;
        cJSON *v = cJSON_ParseWithOpts(p, &end, 0);
        if (cJSON_IsObject(v))
            return v;
        cJSON_Delete(v);
    }
    return NULL;
}

/* ---- calls ------------------------------------------------------------- */

static void send_next(struct ag__sim *s);

static void audit_call(struct ag__sim *s, struct ag__sim_call *c, int agent,
                       const struct ag_llm_reply *r, const char *text,
                       double ms)
{
    cJSON *d;

    if (!s->audit)
        return;
    d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "provider", s->provider);
    cJSON_AddStringToObject(d, "model", s->model_name);
    cJSON_AddStringToObject(d, "kind", kinds[c->kind]);
    cJSON_AddStringToObject(d, "sha256", c->hash);
    cJSON_AddNumberToObject(d, "messages", *c->system ? 2 : 1);
    if (*c->system)
        ag_audit_add_content(s->audit, d, "system", c->system,
                             strlen(c->system));
    ag_audit_add_content(s->audit, d, "body", c->prompt, strlen(c->prompt));
    ag__sim_audit(s, agent, "llm.request", d);
    d = cJSON_CreateObject();
    ag_audit_add_content(s->audit, d, "text", text, strlen(text));
    cJSON_AddItemToObject(d, "tool_calls", cJSON_CreateArray());
    if (r) {
        cJSON *u = cJSON_AddObjectToObject(d, "usage");
        cJSON_AddNumberToObject(u, "input", (double)r->usage.input);
        cJSON_AddNumberToObject(u, "output", (double)r->usage.output);
        cJSON_AddBoolToObject(d, "stand_in", r->stand_in);
    }
    cJSON_AddNumberToObject(d, "latency_ms", ms);
    cJSON_AddStringToObject(d, "sha256", c->hash);
    ag__sim_audit(s, agent, "llm.response", d);
}

static void deliver(struct ag__sim *s, struct ag__sim_call *c, const char *text)
{
    for (int i = 0; i < c->nagents; i++) {
        struct ag__sim_agent *a = &s->agents[c->agents[i]];
        cJSON *ans = first_object(text);
        if (!ans) {
            if (s->usage[c->kind].failures++ == 0 && *text)
                ag_warn("sim: a %s answer holds no JSON object (\"%.60s\"); "
                        "the agent goes on with %s (counted in metrics.json "
                        "as failures)",
                        kinds[c->kind], text, defaults[c->kind]);
            ans = cJSON_Parse(defaults[c->kind]);
        }
        a->answer = ans;
        a->call = NULL;
    }
}

/* A failed attempt (it is retried, or the call fails): an "error" record
 * as agent run writes, so that a run's log shows every 429 and cut. */
void ag__sim_audit_attempt(struct ag__sim *s, int agent, const char *what,
                           const struct ag_llm_attempt *at)
{
    cJSON *d;

    if (!s->audit)
        return;
    d = cJSON_CreateObject();
    cJSON_AddStringToObject(d, "what", what);
    cJSON_AddNumberToObject(d, "attempt", at->n);
    cJSON_AddNumberToObject(d, "status", (double)at->status);
    cJSON_AddStringToObject(d, "message", at->message ? at->message : "");
    cJSON_AddNumberToObject(d, "retry_in_ms", at->retry_in_ms);
    ag__sim_audit(s, agent, "error", d);
}

static void on_attempt(void *ud, const struct ag_llm_attempt *at)
{
    struct ag__sim_call *c = ud;

    c->s->usage[c->kind].retries++;
    ag__sim_audit_attempt(c->s, c->agents[0], "llm.attempt", at);
}

static void on_done(void *ud, int err, struct ag_llm_reply *r,
                    const char *message, int attempts)
{
    struct ag__sim_call *c = ud;
    struct ag__sim *s = c->s;
    struct ag__sim_usage *u = &s->usage[c->kind];
    double ms = (double)(ag_now_ns() - c->t0) / 1e6;
    const char *text = err < 0 ? "" : (r->text ? r->text : "");

    AG_UNUSED(attempts);
    s->inflight--;
    u->calls++;
    u->ms += ms;
    if (err < 0) {
        u->failures++;
        ag_warn("sim: %s call failed: %s", kinds[c->kind], message);
    } else {
        long in = r->usage.input > 0 ? r->usage.input : 0;
        long out = r->usage.output > 0 ? r->usage.output : 0;
        double cost = (in * s->price_in + out * s->price_out) / 1e6;
        u->tokens_in += in;
        u->tokens_out += out;
        u->cost += cost;
        s->new_tokens += in + out;
        s->new_cost += cost;
        ag_map_put(s->cache, c->hash, text);
    }
    audit_call(s, c, c->agents[0], err < 0 ? NULL : r, text, ms);
    deliver(s, c, text);
    free(c->prompt);
    free(c->agents);
    free(c);
    send_next(s);
}

static void send_next(struct ag__sim *s)
{
    while (s->queue && s->inflight < s->w.set.concurrency) {
        struct ag__sim_call *c = s->queue;
        struct ag_msg m[2];
        struct ag_llm_req req;
        struct ag_llm_cb cb = {NULL, NULL, on_attempt, on_done, c};
        int rc;

        s->queue = c->next;
        if (!s->queue)
            s->queue_tail = NULL;
        request_of(s, c->system, c->prompt, m, &req);
        c->t0 = ag_now_ns();
        s->inflight++;
        s->new_calls++;
        if ((rc = ag_llm_send(s->loop, s->http, &s->llm, &req, &cb, NULL)) <
            0) {
            s->inflight--;
            s->usage[c->kind].failures++;
            deliver(s, c, "");
            free(c->prompt);
            free(c->agents);
            free(c);
        }
    }
}

/* Is the request already queued (not yet sent)? Then wait for it too. */
static struct ag__sim_call *queued(struct ag__sim *s, const char *hash)
{
    for (struct ag__sim_call *c = s->queue; c; c = c->next)
        if (strcmp(c->hash, hash) == 0)
            return c;
    return NULL;
}

int ag__sim_ask(struct ag__sim *s, int agent, const char *kind,
                const cJSON *facts, cJSON **answer)
{
    int k = kind_of(kind);
    struct ag__sim_call *c;
    struct ag_llm_req req;
    struct ag_msg m[2];
    struct ag_buf b;
    const cJSON *tpl;
    const char *hit, *sys;
    char hash[65], *prompt;

    *answer = NULL;
    if (k < 0)
        return -EINVAL;
    tpl = template_of(s, kind);
    sys = ag_json_str(tpl, "system");
    prompt = render(ag_json_str(tpl, "user"), facts);
    request_of(s, sys, prompt, m, &req);
    ag_buf_init(&b, (size_t)-1 / 4);
    ag_llm_req_canonical(&req, &b);
    ag_sha256_hex(ag_buf_cstr(&b), b.len, hash);
    ag_buf_free(&b);
    /* An answer at hand is still given at the end of the round, as one
     * from the endpoint would be: the same run, cached or not. */
    if ((hit = ag_map_get(s->cache, hash)) || s->stopping) {
        cJSON *ans = hit ? first_object(hit) : NULL;
        if (hit)
            s->usage[k].cache_hits++;
        if (!ans) {
            if (hit)
                s->usage[k].failures++;
            ans = cJSON_Parse(defaults[k]);
        }
        free(prompt);
        s->agents[agent].answer = ans;
        s->waiting++;
        return 0;
    }
    if ((c = queued(s, hash))) { /* the same request is waiting: share it */
        free(prompt);
        s->usage[k].cache_hits++;
    } else {
        c = ag_xcalloc(1, sizeof *c);
        c->s = s;
        c->kind = k;
        memcpy(c->hash, hash, 65);
        c->prompt = prompt;
        c->system = sys;
        if (s->queue_tail)
            s->queue_tail->next = c;
        else
            s->queue = c;
        s->queue_tail = c;
    }
    c->agents =
        ag_xrealloc(c->agents, sizeof *c->agents * (size_t)(c->nagents + 1));
    c->agents[c->nagents++] = agent;
    s->agents[agent].call = c;
    s->waiting++;
    return 0;
}

/* Sends what the round queued. Called by the engine once every agent of
 * the round has had its turn, so that identical requests are merged. */
void ag__sim_flush(struct ag__sim *s)
{
    ag__sim_embed_flush(s);
    send_next(s);
}

int ag__sim_llm_preload(struct ag__sim *s, const char *audit, char *err,
                        size_t errlen)
{
    char *data, *line, *save = NULL;
    size_t n;
    int rc, loaded = 0;

    if ((rc = ag_read_file(audit, (size_t)1 << 31, &data, &n)) < 0) {
        snprintf(err, errlen, "%s: cannot read: %s", audit, ag_strerror(rc));
        return rc;
    }
    for (line = strtok_r(data, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        cJSON *rec = cJSON_Parse(line);
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(rec, "data");
        const char *type = ag_json_str(rec, "type");
        const char *h = ag_json_str(d, "sha256"),
                   *text = ag_json_str(d, "text");
        if (type && strcmp(type, "embed.response") == 0)
            ag__sim_embed_preload(s, d);
        if (type && strcmp(type, "llm.response") == 0 && h && text &&
            ag_map_put(s->cache, h, text))
            loaded++;
        cJSON_Delete(rec);
    }
    free(data);
    ag_info("sim: %d answers loaded from %s", loaded, audit);
    return loaded;
}
