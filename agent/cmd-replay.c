/* cmd-replay.c: placeholder while `agent replay` is written. */
#include <stdio.h>

#include "cmd.h"

static int replay_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "agent replay: not yet\n");
    return AG_EXIT_USAGE;
}

const struct ag_cmd ag_cmd_replay = {
    "replay", "run a logged task again and compare", replay_main};
