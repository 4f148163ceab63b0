/* agent/sim-llm.c: placeholder */
typedef int ag_placeholder_t;
