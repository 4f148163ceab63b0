/* cmd-sandbox.c: placeholder while `agent sandbox check` is written. */
#include <stdio.h>

#include "cmd.h"

static int sandbox_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "agent sandbox: not yet\n");
    return AG_EXIT_USAGE;
}

const struct ag_cmd ag_cmd_sandbox = {
    "sandbox", "check the tool sandbox on this machine", sandbox_main};
