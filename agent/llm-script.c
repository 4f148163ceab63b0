/* agent/llm-script.c: placeholder */
typedef int ag_placeholder_t;
