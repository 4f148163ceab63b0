/*
 * main.c: the `agent` binary's entry point: global options, the table of
 * commands, and the hidden zygote mode that the runtime re-executes itself
 * in (see sandbox/sandbox.h).
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "ag.h"
#include "cmd.h"
#include "sandbox.h"

static const struct ag_cmd *const commands[] = {
    &ag_cmd_run, &ag_cmd_audit, &ag_cmd_replay, &ag_cmd_sandbox, &ag_cmd_sim};

static void usage(FILE *f)
{
    fprintf(f, "usage: agent [--help] [--version] COMMAND [ARGS]\n\n"
               "An LLM agent runtime: a model plans, tools act in a sandbox, "
               "every step is audited.\n\ncommands:\n");
    for (size_t i = 0; i < AG_ARRAY_SIZE(commands); i++)
        fprintf(f, "  %-10s %s\n", commands[i]->name, commands[i]->summary);
    fprintf(f, "\nRun `agent COMMAND --help` for a command's options; "
               "`man agent` for the whole manual.\n");
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], AG_ZYGOTE_ARG) == 0)
        return ag_zygote_main();
    if (argc < 2) {
        usage(stderr);
        return AG_EXIT_USAGE;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
        strcmp(argv[1], "help") == 0) {
        usage(stdout);
        return AG_EXIT_OK;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("agent %s\n", PACKAGE_VERSION);
        return AG_EXIT_OK;
    }
    for (size_t i = 0; i < AG_ARRAY_SIZE(commands); i++)
        if (strcmp(argv[1], commands[i]->name) == 0)
            return commands[i]->main(argc - 1, argv + 1);
    fprintf(stderr, "agent: unknown command \"%s\"\n", argv[1]);
    usage(stderr);
    return AG_EXIT_USAGE;
}
