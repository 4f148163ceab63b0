/* agent/llm-msg.c: placeholder */
typedef int ag_placeholder_t;
