/* agent/sim-engine.c: placeholder */
typedef int ag_placeholder_t;
