/*
 * session.c: one task, start to end, in this process (see session.h).
 *
 * Order of strength for the endpoint and key: the command line, then the
 * task file, then the environment (OPENAI_BASE_URL, OPENAI_API_KEY,
 * ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY). The key is passed to the HTTP
 * client only; the tool sandbox is started with an empty environment and
 * every string shown or audited passes through the redactor.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "output.h"
#include "approve.h"
#include "replay.h"
#include "session.h"

struct run {
    uv_loop_t *loop;
    struct ag_agent agent;
    uv_signal_t sigint, sigterm;
    int signals;
};

static void on_end(struct ag_agent *a)
{
    struct run *r = a->data;

    if (r->signals) {
        uv_close((uv_handle_t *)&r->sigint, NULL);
        uv_close((uv_handle_t *)&r->sigterm, NULL);
        r->signals = 0;
    }
    ag_rt_close(a->rt);
}

static void on_signal(uv_signal_t *h, int sig)
{
    struct run *r = h->data;
    char reason[64];

    snprintf(reason, sizeof reason, "interrupted by %s",
             sig == SIGINT ? "SIGINT" : "SIGTERM");
    ag_agent_stop(&r->agent, reason);
}

/* Tool folders, in order: AGENT_TOOLS_PATH, the task's own tools/, the
 * installed ones (or, in a build tree that was not installed, the source
 * tree's). */
static int tool_dirs(const struct ag_task *t, char **dirs, int max)
{
    const char *env = getenv("AGENT_TOOLS_PATH");
    int n = 0;

    if (env && *env) {
        char *copy = ag_xstrdup(env), *save = NULL;
        for (char *p = strtok_r(copy, ":", &save); p && n < max - 2;
             p = strtok_r(NULL, ":", &save))
            dirs[n++] = ag_xstrdup(p);
        free(copy);
    }
    dirs[n++] = ag_xasprintf("%s/tools", t->dir);
    dirs[n++] = ag_xstrdup(access(AG_TOOLS_DIR, R_OK) == 0 ? AG_TOOLS_DIR
                                                           : AG_SRC_TOOLS_DIR);
    return n;
}

/* The string options of the task's tools that are credentials (password,
 * token, secret, api_key): their count, and them into out when not NULL. */
static int tool_credentials(const struct ag_task *t, const char **out)
{
    static const char *const names[] = {"password", "token", "secret",
                                        "api_key", NULL};
    const cJSON *o;
    int n = 0;

    for (int i = 0; i < t->ntools; i++)
        cJSON_ArrayForEach(o, t->tools[i].opts)
        {
            if (!cJSON_IsString(o) || !o->string ||
                !ag_is_known(o->string, names))
                continue;
            if (out)
                out[n] = o->valuestring;
            n++;
        }
    return n;
}

int ag_session_run(const struct ag_session_opts *o,
                   struct ag_session_result *res)
{
    int rc, ndirs = 0;
    char err[1024], *dirs[16];
    const char **secrets = NULL;
    struct ag_task *task = NULL;
    struct ag_registry *reg = NULL;
    struct ag_script *script = NULL;
    struct ag_redactor redact = {NULL, 0};
    struct ag_agent_cfg cfg;
    struct ag_out out;
    struct ag_audit_sink sink = {0};
    cJSON *layers = NULL;
    char task_sha[65];
    const char *audit_path, *content_label;
    struct ag_audit_cfg acfg;
    struct ag_rt rt;
    struct run run;
    char *label = NULL;
    int status, stand_in;
    struct ag_asker *asker = NULL;

    if (res)
        memset(res, 0, sizeof *res);
    if (o->verbosity > 0)
        ag_log_set_level(AG_LOG_INFO);

    /* the task, with command-line overrides */
    if ((o->task_text
             ? ag_task_load_text(o->task_path, o->task_text,
                                 strlen(o->task_text), &task, err, sizeof err)
             : ag_task_load(o->task_path, &task, err, sizeof err)) < 0) {
        fprintf(stderr, "agent: %s\n", err);
        return AG_EXIT_USAGE;
    }
    if (o->model && ag_task_set_model(task, o->model, err, sizeof err) < 0) {
        fprintf(stderr, "agent: --model: %s\n", err);
        ag_task_free(task);
        return AG_EXIT_USAGE;
    }
    if (o->base_url) {
        free(task->base_url);
        task->base_url = ag_xstrdup(o->base_url);
    }
    if (o->max_steps > 0)
        task->limits.steps = o->max_steps;
    if (o->no_stream)
        task->stream = 0;
    task->replaying = o->replay != NULL;
    if (ag_task_check(task, err, sizeof err) < 0) {
        fprintf(stderr, "agent: %s\n", err);
        ag_task_free(task);
        return AG_EXIT_USAGE;
    }
    if (strcmp(task->provider, "script") != 0) {
        int anth = strcmp(task->provider, "anthropic") == 0;
        const char *k = getenv(anth ? "ANTHROPIC_API_KEY" : "OPENAI_API_KEY");
        const char *u = getenv(anth ? "ANTHROPIC_BASE_URL" : "OPENAI_BASE_URL");
        if (!task->api_key && k && *k)
            task->api_key = ag_xstrdup(k);
        if (!task->base_url && u && *u)
            task->base_url = ag_xstrdup(u);
    }

    /* tools and model */
    ndirs = tool_dirs(task, dirs, (int)AG_ARRAY_SIZE(dirs));
    rc = ag_registry_load((const char *const *)dirs, ndirs, task->tools,
                          task->ntools, &reg, err, sizeof err);
    for (int i = 0; i < ndirs; i++)
        free(dirs[i]);
    if (rc < 0) {
        fprintf(stderr, "agent: %s: %s\n", task->path, err);
        ag_task_free(task);
        return AG_EXIT_USAGE;
    }
    if (task->script && !o->replay &&
        ag_script_new(task->script, &script, err, sizeof err) < 0) {
        fprintf(stderr, "agent: %s\n", err);
        ag_registry_free(reg);
        ag_task_free(task);
        return AG_EXIT_USAGE;
    }
    ag_agent_cfg_from_task(&cfg, task, reg);
    cfg.llm.script = script;
    stand_in = script != NULL;
    if (o->replay) {
        /* the logged run's model answers, under its own names, so that the
         * requests hash as they did */
        cfg.llm.codec = NULL;
        cfg.llm.script = NULL;
        cfg.llm.replay = o->replay;
        cfg.provider = o->replay_provider;
        cfg.model = o->replay_model;
        stand_in = 1;
    }
    label = o->replay ? ag_xasprintf("replay:%s:%s", cfg.provider, cfg.model)
            : script  ? ag_xasprintf("script:%s", task->script)
                      : ag_xasprintf("%s:%s", task->provider, task->model);

    /* what must never be shown or logged: the key, the task's secrets and
     * the credentials among tools' options (in run.start's copy of the
     * task file, they would otherwise be logged) */
    secrets =
        ag_xcalloc((size_t)task->nsecrets + 1 + tool_credentials(task, NULL),
                   sizeof *secrets);
    if (task->api_key)
        secrets[redact.n++] = task->api_key;
    for (int i = 0; i < task->nsecrets; i++)
        secrets[redact.n++] = task->secrets[i];
    redact.n += tool_credentials(task, secrets + redact.n);
    redact.secrets = secrets;

    /* the runtime and its sinks */
    run.loop = uv_default_loop();
    signal(SIGPIPE, SIG_IGN);
    {
        struct ag_pool_cfg pc = {NULL, o->workers > 0 ? o->workers : 2, 0};
        const cJSON *src = o->replay && !o->live_tools ? NULL : reg->sources;
        if ((rc = ag_rt_init(&rt, run.loop, src, &pc)) < 0) {
            fprintf(stderr, "agent: cannot start the runtime: %s\n",
                    ag_strerror(rc));
            status = AG_EXIT_FAILED;
            goto out;
        }
    }
    ag_out_init(&out, o->json, o->verbosity, &redact);
    out.model_label = label;
    out.stand_in = stand_in;
    out.no_answer = o->no_answer;
    ag_rt_add_sink(&rt, ag_out_event, &out, out.live);
    /* the command line's audit settings, else the task's */
    audit_path = o->audit_path ? o->audit_path : task->audit_file;
    acfg = o->audit;
    content_label = o->audit_content;
    if (!content_label && task->audit_content &&
        ag_audit_parse_content(task->audit_content, &acfg) == 0)
        content_label = task->audit_content;
    if (!o->audit_fsync && task->audit_fsync)
        ag_audit_parse_fsync(task->audit_fsync, &acfg);
    if (audit_path) {
        if ((rc = ag_audit_open(run.loop, audit_path, &acfg, &redact, &sink.log,
                                err, sizeof err)) < 0) {
            fprintf(stderr, "agent: %s%s\n",
                    o->audit_path ? "--audit " : "audit.file: ", err);
            ag_rt_close(&rt);
            uv_run(run.loop, UV_RUN_DEFAULT);
            status = AG_EXIT_USAGE;
            goto out;
        }
        layers = ag_sandbox_layers();
        if (task->source) {
            ag_sha256_hex(task->source, task->source_len, task_sha);
            cfg.task_sha256 = task_sha;
        }
        sink.model_label = label;
        sink.stand_in = stand_in;
        sink.content_label = content_label ? content_label : "full";
        sink.sandbox = layers;
        ag_rt_add_sink(&rt, ag_audit_event, &sink, 0);
        rt.want_hash = 1;
        rt.barrier = ag_audit_barrier;
        rt.barrier_ud = sink.log;
    }

    if (o->replay && !o->live_tools) {
        rt.recorded = ag_replay_tool;
        rt.recorded_ud = o->replay;
    }
    asker = ag_asker_new(run.loop, (enum ag_approve_mode)o->approve, &redact);
    ag_asker_attach(asker, &rt);
    if (o->extra_sink) {
        ag_rt_add_sink(&rt, o->extra_sink, o->extra_ud, 0);
        rt.want_hash = 1;
    }

    ag_agent_init(&run.agent, &rt, &cfg, task->goal, 1);
    run.agent.on_end = on_end;
    run.agent.data = &run;
    uv_signal_init(run.loop, &run.sigint);
    uv_signal_init(run.loop, &run.sigterm);
    run.sigint.data = run.sigterm.data = &run;
    uv_signal_start(&run.sigint, on_signal, SIGINT);
    uv_signal_start(&run.sigterm, on_signal, SIGTERM);
    run.signals = 1;
    if ((rc = ag_agent_start(&run.agent)) < 0) {
        fprintf(stderr, "agent: cannot start: %s\n", ag_strerror(rc));
        ag_agent_stop(&run.agent, "cannot start");
    }
    uv_run(run.loop, UV_RUN_DEFAULT);

    switch (run.agent.outcome) {
    case AG_OUT_DONE:
        status = AG_EXIT_OK;
        break;
    case AG_OUT_ENDPOINT:
        status = AG_EXIT_NETWORK;
        break;
    default:
        status = AG_EXIT_FAILED;
        break;
    }
    if (status != AG_EXIT_OK && !out.live) {
        char *r = ag_redact(&redact, run.agent.reason ? run.agent.reason : "",
                            strlen(run.agent.reason ? run.agent.reason : ""));
        fprintf(stderr, "agent: failed: %s\n", r);
        free(r);
    }
    if (res) {
        res->outcome = run.agent.outcome;
        res->steps = run.agent.step;
        res->answer = run.agent.answer ? ag_xstrdup(run.agent.answer) : NULL;
        res->reason = run.agent.reason ? ag_xstrdup(run.agent.reason) : NULL;
    }
    ag_agent_free(&run.agent);
    ag_asker_close(asker);
    asker = NULL;
    ag_out_free(&out);
    uv_run(run.loop, UV_RUN_DEFAULT); /* let the last handles close */
    if (sink.log && ag_audit_close(sink.log) < 0 && status == AG_EXIT_OK)
        status = AG_EXIT_FAILED;
out:
    uv_loop_close(run.loop);
    cJSON_Delete(layers);
    free(secrets);
    free(label);
    ag_script_free(script);
    ag_registry_free(reg);
    ag_task_free(task);
    return status;
}
