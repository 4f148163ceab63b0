/* agent/llm-anthropic.c: placeholder */
typedef int ag_placeholder_t;
