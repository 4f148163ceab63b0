/* agent/audit-otel.c: placeholder */
typedef int ag_placeholder_t;
