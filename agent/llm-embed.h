/* agent/llm-embed.h: placeholder */
