/* agent/sim-memory.c: placeholder */
typedef int ag_placeholder_t;
