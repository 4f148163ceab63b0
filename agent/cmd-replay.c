/*
 * cmd-replay.c: `agent replay FILE`: runs a logged task again with the
 * model's answers taken from the log (the replay provider) and, unless
 * --live-tools, the tools' results too, then says whether the new run is
 * identical to the logged one or names the first step where it diverged.
 *
 * Two runs are compared by what the model was asked at each step: the
 * SHA-256 of the request in a provider-neutral canonical form (llm.request
 * records carry it), then by how they ended (outcome and answer). The
 * replay writes its own audit log (FILE with .replay.jsonl, or --audit).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "json.h"
#include "replay.h"
#include "session.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: agent replay FILE [--run ID] [--live-tools] [--audit OUT] "
            "[--json] [-v|-q]\n"
            "\n"
            "Runs a logged task again: the model's answers come from the "
            "audit log FILE\n"
            "(and, unless --live-tools, the tools' results too). Prints "
            "\"identical\" or the\n"
            "first step where the new run diverges from the log.\n"
            "\n"
            "options:\n"
            "  --run ID       the run to replay (a prefix of its id); "
            "default: the last run\n"
            "  --live-tools   run the tools for real instead of using the "
            "logged results\n"
            "  --audit OUT    the replay's own audit log (default: FILE "
            "with .replay.jsonl)\n"
            "  --json         one JSON object per event on stdout\n"
            "  -v, -q         more, or less, on stderr\n"
            "\n"
            "The task file named in the log must still exist; a changed "
            "one is reported.\n"
            "exit status: 0 identical, 1 diverged, 2 usage or log error\n");
}

struct compare {
    struct ag_replay *r;
    int diverged_step; /* 1-based; 0: not yet */
    char what[300];
};

static void diverge(struct compare *c, int step, const char *what)
{
    if (c->diverged_step)
        return;
    c->diverged_step = step;
    snprintf(c->what, sizeof c->what, "%s", what);
}

/* The sink that compares the new run with the log as it goes. */
static void on_event(void *ud, const struct ag_event *ev)
{
    struct compare *c = ud;
    const char *want;

    if (ev->type != AG_EV_LLM_REQUEST)
        return;
    if (ev->step >= ag_replay_steps(c->r)) {
        diverge(c, ev->step + 1,
                "the new run asks the model once more than the logged run");
        return;
    }
    want = ag_replay_request_hash(c->r, ev->step);
    if (want && ev->hash && strcmp(want, ev->hash) != 0)
        diverge(c, ev->step + 1,
                "the model is asked something else (the request differs "
                "from the logged one)");
}

static char *default_audit(const char *file)
{
    size_t n = strlen(file);

    if (n > 6 && strcmp(file + n - 6, ".jsonl") == 0)
        n -= 6;
    return ag_xasprintf("%.*s.replay.jsonl", (int)n, file);
}

static int replay_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"run", required_argument, NULL, 'r'},
        {"live-tools", no_argument, NULL, 'l'},
        {"audit", required_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {0}};
    struct ag_session_opts o;
    struct ag_session_result res;
    struct compare cmp;
    const char *run = NULL, *audit = NULL, *task_file, *sha, *outcome, *ans;
    const cJSON *start, *end;
    char err[600], now_sha[65], *audit_path;
    int c, status;

    memset(&o, 0, sizeof o);
    memset(&cmp, 0, sizeof cmp);
    optind = 1;
    while ((c = getopt_long(argc, argv, "vqh", opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            run = optarg;
            break;
        case 'l':
            o.live_tools = 1;
            break;
        case 'a':
            audit = optarg;
            break;
        case 'j':
            o.json = 1;
            break;
        case 'v':
            o.verbosity = 1;
            break;
        case 'q':
            o.verbosity = -1;
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
        fprintf(stderr, "agent replay: give one audit log\n");
        usage(stderr);
        return AG_EXIT_USAGE;
    }
    if (ag_replay_load(argv[optind], run, &cmp.r, err, sizeof err) < 0) {
        fprintf(stderr, "agent replay: %s\n", err);
        return AG_EXIT_USAGE;
    }
    start = ag_replay_start(cmp.r);
    task_file = ag_json_str(start, "task_file");
    if (!task_file) {
        fprintf(stderr, "agent replay: the run's run.start names no task "
                        "file\n");
        ag_replay_free(cmp.r);
        return AG_EXIT_USAGE;
    }
    sha = ag_json_str(start, "task_sha256");
    if (ag_file_sha256(task_file, now_sha) < 0) {
        /* the file is gone: the log's copy of it, if it holds one */
        o.task_text = ag_json_str(start, "task_text");
        if (!o.task_text) {
            fprintf(stderr,
                    "agent replay: %s: cannot read it, and the log holds "
                    "no copy of it (logs written with --audit-content "
                    "full do)\n",
                    task_file);
            ag_replay_free(cmp.r);
            return AG_EXIT_USAGE;
        }
        if (o.verbosity >= 0)
            fprintf(stderr,
                    "agent replay: %s is gone; replaying the task as the "
                    "log recorded it\n",
                    task_file);
    } else if (sha && strcmp(sha, now_sha) != 0) {
        fprintf(stderr,
                "agent replay: warning: %s changed since the run (its "
                "SHA-256 differs); the replay may diverge\n",
                task_file);
    }
    if (o.verbosity >= 0 && ag_replay_runs_in_file(cmp.r) > 1 && !run)
        fprintf(stderr,
                "agent replay: the log holds %d runs; replaying the "
                "last, %s (choose with --run)\n",
                ag_replay_runs_in_file(cmp.r), ag_replay_run(cmp.r));

    audit_path = audit ? ag_xstrdup(audit) : default_audit(argv[optind]);
    o.task_path = task_file;
    o.audit_path = audit_path;
    o.audit_content = "full";
    o.replay = cmp.r;
    o.replay_provider = ag_json_str(start, "provider");
    o.replay_model = ag_json_str(start, "model");
    o.no_answer = 1;
    o.extra_sink = on_event;
    o.extra_ud = &cmp;
    status = ag_session_run(&o, &res);
    if (status == AG_EXIT_USAGE) {
        free(audit_path);
        ag_replay_free(cmp.r);
        return status;
    }

    /* how the two runs ended */
    end = ag_replay_end(cmp.r);
    outcome = ag_json_str(end, "outcome");
    ans = ag_json_str(end, "answer");
    if (!cmp.diverged_step) {
        if (!end)
            diverge(&cmp, res.steps,
                    "the logged run never ended (it crashed or was killed)");
        else if (!outcome || strcmp(outcome, ag_outcome_name(res.outcome)) != 0)
            diverge(&cmp, res.steps, "the run ends differently");
        else if ((ans || res.answer) &&
                 (!ans || !res.answer || strcmp(ans, res.answer) != 0))
            diverge(&cmp, res.steps, "the final answer differs");
        else if ((int)ag_json_num(end, "steps", -1) != res.steps)
            diverge(&cmp, res.steps, "the number of steps differs");
    }
    if (cmp.diverged_step) {
        printf("diverged at step %d: %s\n", cmp.diverged_step, cmp.what);
        status = AG_EXIT_FAILED;
    } else {
        printf("identical: %d step%s, %s, the same answer\n", res.steps,
               res.steps == 1 ? "" : "s", ag_outcome_name(res.outcome));
        status = AG_EXIT_OK;
    }
    if (o.verbosity >= 0)
        fprintf(stderr, "agent replay: the replay's audit log: %s\n",
                audit_path);
    free(res.answer);
    free(res.reason);
    free(audit_path);
    ag_replay_free(cmp.r);
    return status;
}

const struct ag_cmd ag_cmd_replay = {
    "replay", "run a logged task again and compare", replay_main};
