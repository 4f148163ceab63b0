/* agent/llm-openai.c: placeholder */
typedef int ag_placeholder_t;
