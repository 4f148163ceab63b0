/* bench/bench-startup.c: placeholder */
typedef int ag_placeholder_t;
