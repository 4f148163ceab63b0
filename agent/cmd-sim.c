/* cmd-sim.c: placeholder while `agent sim` is written. */
#include <stdio.h>

#include "cmd.h"

static int sim_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "agent sim: not yet\n");
    return AG_EXIT_USAGE;
}

const struct ag_cmd ag_cmd_sim = {"sim", "run a simulated society of agents",
                                  sim_main};
