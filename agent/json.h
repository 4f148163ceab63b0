/* agent/json.h: placeholder */
