/*
 * cmd-run.c: `agent run TASK.lua`: runs one task to its end and exits.
 *
 * Order of strength for the endpoint and key: the command line, then the
 * task file, then the environment (OPENAI_BASE_URL, OPENAI_API_KEY,
 * ANTHROPIC_BASE_URL, ANTHROPIC_API_KEY). The key is passed to the HTTP
 * client only; the tool sandbox is started with an empty environment and
 * every string shown or audited passes through the redactor.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "audit.h"
#include "cmd.h"
#include "output.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: agent run TASK.lua [options]\n"
            "\n"
            "Runs one task: the model plans, tools run in sandboxed workers, "
            "until the model\nanswers or a limit is hit. The answer goes to "
            "stdout; progress to stderr.\n"
            "\n"
            "options:\n"
            "  --model PROVIDER:NAME  model to use: openai:gpt-4o-mini, "
            "anthropic:claude-sonnet-4-5,\n"
            "                         script:FILE.lua (a scripted stand-in, "
            "offline)\n"
            "  --base-url URL         endpoint base URL (llama.cpp, vLLM, "
            "Ollama, LM Studio, ...)\n"
            "  --audit FILE           append the hash-chained audit log to "
            "FILE\n"
            "  --max-steps N          stop after N model replies (overrides "
            "limits.steps)\n"
            "  --no-stream            ask for whole replies instead of "
            "streamed ones\n"
            "  --workers N            warm tool workers (default 2)\n"
            "  --json                 print one JSON object per event on "
            "stdout\n"
            "  -v, --verbose          show every step, even when not on a "
            "terminal\n"
            "  -q, --quiet            show nothing but errors and the answer\n"
            "  -h, --help             show this help\n"
            "\n"
            "environment: OPENAI_API_KEY, OPENAI_BASE_URL, ANTHROPIC_API_KEY, "
            "ANTHROPIC_BASE_URL,\n"
            "AGENT_MODEL (default model), AGENT_TOOLS_PATH (extra tool "
            "folders, ':'-separated)\n"
            "\n"
            "exit status: 0 done, 1 the task failed (a limit, the model gave "
            "up),\n"
            "2 usage or task-file error, 3 endpoint unreachable or refused "
            "after retries\n");
}

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

static int parse_positive(const char *s, long *out)
{
    char *end;
    long v;

    errno = 0;
    v = strtol(s, &end, 10);
    if (errno || *end || v <= 0)
        return -1;
    *out = v;
    return 0;
}

static int run_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},
        {"base-url", required_argument, NULL, 'b'},
        {"audit", required_argument, NULL, 'a'},
        {"max-steps", required_argument, NULL, 's'},
        {"workers", required_argument, NULL, 'w'},
        {"no-stream", no_argument, NULL, 'S'},
        {"json", no_argument, NULL, 'j'},
        {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {0}};
    const char *model = NULL, *base_url = NULL, *audit_path = NULL;
    long max_steps = 0, workers = 2;
    int json = 0, verbosity = 0, no_stream = 0, c, rc, ndirs = 0;
    char err[1024], *dirs[16];
    const char **secrets = NULL;
    struct ag_task *task = NULL;
    struct ag_registry *reg = NULL;
    struct ag_script *script = NULL;
    struct ag_redactor redact = {NULL, 0};
    struct ag_agent_cfg cfg;
    struct ag_out out;
    struct ag_audit audit;
    struct ag_rt rt;
    struct run run;
    char *label = NULL;
    int audit_open = 0, status;

    optind = 1;
    while ((c = getopt_long(argc, argv, "vqh", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            model = optarg;
            break;
        case 'b':
            base_url = optarg;
            break;
        case 'a':
            audit_path = optarg;
            break;
        case 's':
            if (parse_positive(optarg, &max_steps) < 0) {
                fprintf(stderr,
                        "agent run: --max-steps must be a positive "
                        "integer (got \"%s\")\n",
                        optarg);
                return AG_EXIT_USAGE;
            }
            break;
        case 'w':
            if (parse_positive(optarg, &workers) < 0 || workers > 64) {
                fprintf(stderr,
                        "agent run: --workers must be 1 to 64 (got "
                        "\"%s\")\n",
                        optarg);
                return AG_EXIT_USAGE;
            }
            break;
        case 'S':
            no_stream = 1;
            break;
        case 'j':
            json = 1;
            break;
        case 'v':
            verbosity = 1;
            break;
        case 'q':
            verbosity = -1;
            break;
        case 'h':
            usage(stdout);
            return AG_EXIT_OK;
        default:
            usage(stderr);
            return AG_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, optind >= argc ? "agent run: no task file given\n"
                                       : "agent run: one task file only\n");
        usage(stderr);
        return AG_EXIT_USAGE;
    }
    if (verbosity > 0)
        ag_log_set_level(AG_LOG_INFO);

    /* the task, with command-line overrides */
    if (ag_task_load(argv[optind], &task, err, sizeof err) < 0) {
        fprintf(stderr, "agent: %s\n", err);
        return AG_EXIT_USAGE;
    }
    if (model && ag_task_set_model(task, model, err, sizeof err) < 0) {
        fprintf(stderr, "agent: --model: %s\n", err);
        ag_task_free(task);
        return AG_EXIT_USAGE;
    }
    if (base_url) {
        free(task->base_url);
        task->base_url = ag_xstrdup(base_url);
    }
    if (max_steps)
        task->limits.steps = max_steps;
    if (no_stream)
        task->stream = 0;
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
    if (task->script &&
        ag_script_new(task->script, &script, err, sizeof err) < 0) {
        fprintf(stderr, "agent: %s\n", err);
        ag_registry_free(reg);
        ag_task_free(task);
        return AG_EXIT_USAGE;
    }
    ag_agent_cfg_from_task(&cfg, task, reg);
    cfg.llm.script = script;
    label = script ? ag_xasprintf("script:%s", task->script)
                   : ag_xasprintf("%s:%s", task->provider, task->model);

    /* what must never be shown or logged */
    secrets = ag_xcalloc((size_t)task->nsecrets + 1, sizeof *secrets);
    if (task->api_key)
        secrets[redact.n++] = task->api_key;
    for (int i = 0; i < task->nsecrets; i++)
        secrets[redact.n++] = task->secrets[i];
    redact.secrets = secrets;

    /* the runtime and its sinks */
    run.loop = uv_default_loop();
    signal(SIGPIPE, SIG_IGN);
    {
        struct ag_pool_cfg pc = {NULL, (int)workers, 0};
        if ((rc = ag_rt_init(&rt, run.loop, reg->sources, &pc)) < 0) {
            fprintf(stderr, "agent: cannot start the runtime: %s\n",
                    ag_strerror(rc));
            status = AG_EXIT_FAILED;
            goto out;
        }
    }
    ag_out_init(&out, json, verbosity, &redact);
    out.model_label = label;
    out.stand_in = script != NULL;
    ag_rt_add_sink(&rt, ag_out_event, &out, out.live);
    if (audit_path) {
        if ((rc = ag_audit_open(&audit, audit_path, &redact)) < 0) {
            fprintf(stderr, "agent: --audit %s: %s\n", audit_path,
                    ag_strerror(rc));
            ag_rt_close(&rt);
            uv_run(run.loop, UV_RUN_DEFAULT);
            status = AG_EXIT_USAGE;
            goto out;
        }
        audit.model_label = label;
        audit.stand_in = script != NULL;
        audit_open = 1;
        ag_rt_add_sink(&rt, ag_audit_event, &audit, 0);
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
    ag_agent_free(&run.agent);
    ag_out_free(&out);
    uv_run(run.loop, UV_RUN_DEFAULT); /* let the last handles close */
    if (audit_open && ag_audit_close(&audit) < 0 && status == AG_EXIT_OK)
        status = AG_EXIT_FAILED;
out:
    uv_loop_close(run.loop);
    free(secrets);
    free(label);
    ag_script_free(script);
    ag_registry_free(reg);
    ag_task_free(task);
    return status;
}

const struct ag_cmd ag_cmd_run = {"run", "run one task to its end", run_main};
