/* agent/sim-view.c: placeholder */
typedef int ag_placeholder_t;
