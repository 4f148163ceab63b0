/* cmd-run.c: placeholder while the runtime is assembled. */
#include "cmd.h"

static int run_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    return 2;
}

const struct ag_cmd ag_cmd_run = {"run", "run one task to its end", run_main};
