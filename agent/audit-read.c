/* agent/audit-read.c: placeholder */
typedef int ag_placeholder_t;
