/*
 * cmd-sim.c: `agent sim WORLD.lua`: runs a simulated society (sim.h), and
 * its companions `agent sim view DIR` and `agent sim interview DIR AGENT
 * "question"`.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cmd.h"
#include "json.h"
#include "sim.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: agent sim WORLD.lua [--seed N] [--until TIME] [--model "
            "PROVIDER:NAME]\n"
            "                 [--base-url URL] [--out DIR] [--tick SECONDS] "
            "[--replay "
            "AUDIT.jsonl] [--resume]\n"
            "                 [--set KEY=VALUE]... [-q]\n"
            "       agent sim view DIR [-o FILE]\n"
            "       agent sim interview DIR AGENT \"question\"\n"
            "\n"
            "Runs a society of generative agents in one world and one game "
            "clock: each agent\n"
            "plans its day, perceives, remembers, reflects and talks; the "
            "model answers through\n"
            "the same client as agent run. The same world, seed and scripted "
            "stand-in give a\n"
            "byte-identical timeline.\n"
            "\n"
            "  --seed N          the seed of every random choice (default 1)\n"
            "  --until TIME      stop at this game time, \"YYYY-MM-DD HH:MM\" "
            "(default: a day)\n"
            "  --model P:NAME    the model (default: the world's)\n"
            "  --base-url URL    the endpoint (default: $OPENAI_BASE_URL or "
            "the provider's)\n"
            "  --out DIR         where the run is written (default "
            "sim-out)\n"
            "  --tick SECONDS    lock-step mode: every agent steps every "
            "SECONDS\n"
            "  --replay FILE     answer from this audit log first (no "
            "endpoint needed)\n"
            "  --resume          continue the run in --out from its "
            "checkpoint\n"
            "  --set KEY=VALUE   override a setting of the world "
            "(repeatable): memory=false,\n"
            "                    attention=3, weights.recency=2\n"
            "  -q, --quiet       no progress or summary on stderr\n"
            "\n"
            "exit status: 0 done, 1 a limit stopped the run (a checkpoint is "
            "written),\n"
            "2 usage or world error\n");
}

static int run_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"seed", required_argument, NULL, 's'},
        {"until", required_argument, NULL, 'u'},
        {"model", required_argument, NULL, 'm'},
        {"base-url", required_argument, NULL, 'b'},
        {"out", required_argument, NULL, 'o'},
        {"tick", required_argument, NULL, 't'},
        {"replay", required_argument, NULL, 'r'},
        {"resume", no_argument, NULL, 'R'},
        {"set", required_argument, NULL, 'S'},
        {"quiet", no_argument, NULL, 'q'},
        {"help", no_argument, NULL, 'h'},
        {0}};
    const char **sets = ag_xcalloc((size_t)argc + 1, sizeof *sets);
    struct ag_sim_opts o;
    struct ag_sim_result res;
    char err[1024] = "", *end;
    int c, rc, quiet = 0, status = AG_EXIT_USAGE;

    memset(&o, 0, sizeof o);
    o.seed = 1;
    o.out = "sim-out";
    o.tick = -1;
    o.progress = isatty(2);
    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        switch (c) {
        case 's':
            o.seed = strtoull(optarg, &end, 10);
            if (*end || !*optarg) {
                fprintf(stderr,
                        "agent sim: --seed must be a number (got "
                        "\"%s\")\n",
                        optarg);
                goto done;
            }
            break;
        case 'u':
            o.until = optarg;
            break;
        case 'm':
            o.model = optarg;
            break;
        case 'b':
            o.base_url = optarg;
            break;
        case 'o':
            o.out = optarg;
            break;
        case 't':
            o.tick = (int)strtol(optarg, &end, 10);
            if (*end || o.tick < 1) {
                fprintf(stderr,
                        "agent sim: --tick must be a positive number "
                        "of seconds (got \"%s\")\n",
                        optarg);
                goto done;
            }
            break;
        case 'r':
            o.replay = optarg;
            break;
        case 'R':
            o.resume = 1;
            break;
        case 'S':
            sets[o.nsets++] = optarg;
            break;
        case 'q':
            quiet = 1;
            break;
        case 'h':
            usage(stdout);
            status = AG_EXIT_OK;
            goto done;
        default:
            usage(stderr);
            goto done;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "agent sim: give one world file\n");
        usage(stderr);
        goto done;
    }
    o.world = argv[optind];
    o.sets = sets;
    if (quiet)
        o.progress = 0;
    rc = ag_sim_run(&o, &res, err, sizeof err);
    if (err[0])
        fprintf(stderr, "agent sim: %s\n", err);
    if (rc == 0 && !quiet)
        fprintf(stderr,
                "agent sim: %ld events, %ld model calls, %ld cache "
                "hits, %ld failed; written to %s\n",
                res.events, res.calls, res.cache_hits, res.failures, o.out);
    status = rc == 0 ? AG_EXIT_OK : rc == 1 ? AG_EXIT_FAILED : AG_EXIT_USAGE;
done:
    free(sets);
    return status;
}

/* agent sim view DIR [-o FILE] */
static int view_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {0}};
    const char *out = NULL;
    char err[1024] = "";
    int c;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'o':
            out = optarg;
            break;
        case 'h':
            printf("usage: agent sim view DIR [-o FILE]\n\n"
                   "Writes one self-contained HTML page (no network needed) "
                   "showing the run in DIR:\n"
                   "the map replayed over a timeline slider, each fact's "
                   "diffusion curve, the\n"
                   "relationship graph and model usage. Default FILE: "
                   "DIR/view.html.\n");
            return AG_EXIT_OK;
        default:
            fprintf(stderr, "usage: agent sim view DIR [-o FILE]\n");
            return AG_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, "usage: agent sim view DIR [-o FILE]\n");
        return AG_EXIT_USAGE;
    }
    if (ag_sim_view(argv[optind], out, err, sizeof err) < 0) {
        fprintf(stderr, "agent sim view: %s\n", err);
        return AG_EXIT_FAILED;
    }
    if (out)
        fprintf(stderr, "agent sim view: wrote %s\n", out);
    else
        fprintf(stderr, "agent sim view: wrote %s/view.html\n", argv[optind]);
    return AG_EXIT_OK;
}

static void interview_usage(FILE *f)
{
    fprintf(f,
            "usage: agent sim interview DIR AGENT \"question\" [--model "
            "PROVIDER:NAME]\n"
            "                             [--base-url URL] [--at TIME] "
            "[--json]\n"
            "\n"
            "Asks AGENT of the run in DIR a question; the answer comes from "
            "what the run left\n"
            "(persona, memories, facts held, plan), or with --at \"YYYY-MM-DD "
            "HH:MM\" from what\n"
            "the agent had then. The facts the answer "
            "relies on are checked\n"
            "against the agent's provenance (who told it, when, the memories "
            "that mention it);\n"
            "an answer that relies on a fact the agent never learned is "
            "reported as a\n"
            "hallucination. --json prints the whole report.\n"
            "\n"
            "exit status: 0 answered, 1 answered with a hallucination, 2 "
            "usage or run error\n");
}

/* agent sim interview DIR AGENT "question" */
static int interview_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"model", required_argument, NULL, 'm'},
        {"base-url", required_argument, NULL, 'b'},
        {"at", required_argument, NULL, 'a'},
        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},
        {0}};
    struct ag_sim_interview_opts o = {0};
    cJSON *rep = NULL;
    const cJSON *f, *b;
    char err[1024] = "";
    int c, json = 0, bad;

    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'm':
            o.model = optarg;
            break;
        case 'j':
            json = 1;
            break;
        case 'a':
            o.at = optarg;
            break;
        case 'b':
            o.base_url = optarg;
            break;
        case 'h':
            interview_usage(stdout);
            return AG_EXIT_OK;
        default:
            interview_usage(stderr);
            return AG_EXIT_USAGE;
        }
    }
    if (argc - optind != 3) {
        interview_usage(stderr);
        return AG_EXIT_USAGE;
    }
    o.dir = argv[optind];
    o.agent = argv[optind + 1];
    o.question = argv[optind + 2];
    if (ag_sim_interview(&o, &rep, err, sizeof err) < 0) {
        fprintf(stderr, "agent sim interview: %s\n", err);
        return AG_EXIT_USAGE;
    }
    bad = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(rep, "hallucination"));
    if (json) {
        char *t = cJSON_Print(rep);
        puts(t);
        free(t);
    } else {
        printf("%s: %s\n", o.agent, ag_json_str(rep, "answer"));
        cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(rep, "facts"))
        {
            const cJSON *chain = cJSON_GetObjectItemCaseSensitive(f, "chain");
            const cJSON *t;
            printf("  relies on \"%s\": held since %s, ",
                   ag_json_str(f, "fact"), ag_json_str(f, "since"));
            if (cJSON_GetArraySize(chain) == 0)
                printf("from the start");
            else {
                printf("told by");
                cJSON_ArrayForEach(t, chain) printf(
                    "%s %s", t == chain->child ? "" : " <-", t->valuestring);
            }
            printf(" (%d memories mention it)\n",
                   cJSON_GetArraySize(
                       cJSON_GetObjectItemCaseSensitive(f, "memories")));
        }
        cJSON_ArrayForEach(b,
                           cJSON_GetObjectItemCaseSensitive(rep, "unsupported"))
        {
            const char *id = ag_json_str(b, "fact");
            printf("  HALLUCINATION%s%s%s: %s\n", id && *id ? " \"" : "",
                   id && *id ? id : "", id && *id ? "\"" : "",
                   ag_json_str(b, "why"));
        }
    }
    cJSON_Delete(rep);
    return bad ? AG_EXIT_FAILED : AG_EXIT_OK;
}

static int sim_main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "view") == 0)
        return view_main(argc - 1, argv + 1);
    if (argc >= 2 && strcmp(argv[1], "interview") == 0)
        return interview_main(argc - 1, argv + 1);
    return run_main(argc, argv);
}

const struct ag_cmd ag_cmd_sim = {"sim", "run a simulated society of agents",
                                  sim_main};
