/* agent/llm-price.c: placeholder */
typedef int ag_placeholder_t;
