/* agent/output.h: placeholder */
