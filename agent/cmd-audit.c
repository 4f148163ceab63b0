/* cmd-audit.c: placeholder while `agent audit` is written. */
#include <stdio.h>

#include "cmd.h"

static int audit_main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "agent audit: not yet\n");
    return AG_EXIT_USAGE;
}

const struct ag_cmd ag_cmd_audit = {
    "audit", "verify, show or export an audit log", audit_main};
