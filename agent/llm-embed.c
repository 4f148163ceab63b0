/* agent/llm-embed.c: placeholder */
typedef int ag_placeholder_t;
