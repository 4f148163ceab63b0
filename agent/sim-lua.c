/* agent/sim-lua.c: placeholder */
typedef int ag_placeholder_t;
