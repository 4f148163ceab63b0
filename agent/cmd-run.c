/* agent/cmd-run.c: placeholder */
typedef int ag_placeholder_t;
