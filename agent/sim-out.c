/* agent/sim-out.c: placeholder */
typedef int ag_placeholder_t;
