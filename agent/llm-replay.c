/* agent/llm-replay.c: placeholder */
typedef int ag_placeholder_t;
