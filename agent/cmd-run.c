/*
 * cmd-run.c: `agent run TASK.lua`: runs one task to its end and exits. The
 * options are parsed here; the run itself is a session (session.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "approve.h"
#include "session.h"

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
            "  --audit-content MODE   full (default), hash, or truncate:N "
            "(bytes) for prompts,\n"
            "                         arguments and results in the log\n"
            "  --audit-fsync POLICY   step (default: before each model "
            "call), always, never\n"
            "  --approve yes|no|ask   the answer for calls the task wants "
            "approved (default:\n"
            "                         ask on a terminal, else no)\n"
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

/* Parses a positive integer; -1 when s is not one. */
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
        {"audit-content", required_argument, NULL, 'C'},
        {"audit-fsync", required_argument, NULL, 'F'},
        {"approve", required_argument, NULL, 'A'},
        {"max-steps", required_argument, NULL, 's'},
        {"workers", required_argument, NULL, 'w'},
        {"no-stream", no_argument, NULL, 'S'},
        {"json", no_argument, NULL, 'j'},
        {"verbose", no_argument, NULL, 'v'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {0}};
    struct ag_session_opts o;
    long workers = 2;
    int c;

    memset(&o, 0, sizeof o);
    optind = 1;
    while ((c = getopt_long(argc, argv, "vqh", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            o.model = optarg;
            break;
        case 'b':
            o.base_url = optarg;
            break;
        case 'a':
            o.audit_path = optarg;
            break;
        case 'C':
            if (ag_audit_parse_content(optarg, &o.audit) < 0) {
                fprintf(stderr,
                        "agent run: --audit-content must be full, hash or "
                        "truncate:N (got \"%s\")\n",
                        optarg);
                return AG_EXIT_USAGE;
            }
            o.audit_content = optarg;
            break;
        case 'F':
            if (ag_audit_parse_fsync(optarg, &o.audit) < 0) {
                fprintf(stderr,
                        "agent run: --audit-fsync must be step, always or "
                        "never (got \"%s\")\n",
                        optarg);
                return AG_EXIT_USAGE;
            }
            o.audit_fsync = optarg;
            break;
        case 'A': {
            enum ag_approve_mode m;
            if (ag_approve_parse(optarg, &m) < 0) {
                fprintf(stderr,
                        "agent run: --approve must be yes, no or ask (got "
                        "\"%s\")\n",
                        optarg);
                return AG_EXIT_USAGE;
            }
            o.approve = m;
            break;
        }
        case 's':
            if (parse_positive(optarg, &o.max_steps) < 0) {
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
            o.no_stream = 1;
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
        fprintf(stderr, optind >= argc ? "agent run: no task file given\n"
                                       : "agent run: one task file only\n");
        usage(stderr);
        return AG_EXIT_USAGE;
    }
    o.task_path = argv[optind];
    o.workers = (int)workers;
    return ag_session_run(&o, NULL);
}

const struct ag_cmd ag_cmd_run = {"run", "run one task to its end", run_main};
