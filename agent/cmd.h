/*
 * cmd.h: the commands of the `agent` binary, one per file (cmd-*.c), each a
 * const descriptor listed in main.c's table.
 */
#ifndef AG_CMD_H
#define AG_CMD_H

struct ag_cmd {
    const char *name;
    const char *summary;                /* one line for `agent --help` */
    int (*main)(int argc, char **argv); /* argv[0] is the command name */
};

/* Exit codes shared by all commands. */
enum {
    AG_EXIT_OK = 0,      /* done */
    AG_EXIT_FAILED = 1,  /* the task failed: a limit, the model gave up */
    AG_EXIT_USAGE = 2,   /* bad command line or task file */
    AG_EXIT_NETWORK = 3, /* endpoint unreachable or refused after retries */
};

extern const struct ag_cmd ag_cmd_run;
extern const struct ag_cmd ag_cmd_audit;   /* cmd-audit.c */
extern const struct ag_cmd ag_cmd_replay;  /* cmd-replay.c */
extern const struct ag_cmd ag_cmd_sandbox; /* cmd-sandbox.c */
extern const struct ag_cmd ag_cmd_sim;     /* cmd-sim.c */

#endif
