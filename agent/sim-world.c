/* agent/sim-world.c: placeholder */
typedef int ag_placeholder_t;
