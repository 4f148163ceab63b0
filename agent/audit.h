/* agent/audit.h: placeholder */
