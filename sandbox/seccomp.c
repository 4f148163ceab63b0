/* sandbox/seccomp.c: placeholder */
typedef int ag_placeholder_t;
