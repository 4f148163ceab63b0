/* agent/audit-read.h: placeholder */
