/* agent/llm-sse.c: placeholder */
typedef int ag_placeholder_t;
