/* agent/sim-light.c: placeholder */
typedef int ag_placeholder_t;
