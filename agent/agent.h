/* agent/agent.h: placeholder */
