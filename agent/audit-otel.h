/*
 * audit-otel.h: exporting audit logs as OpenTelemetry traces in OTLP/JSON,
 * following the GenAI semantic conventions: one trace per run, an
 * `invoke_agent {task}` span per agent run, a `chat {model}` span per model
 * call and an `execute_tool {tool}` span per tool call, with gen_ai.*
 * attributes, so that a run can be loaded into any OTel back end.
 */
#ifndef AG_AUDIT_OTEL_H
#define AG_AUDIT_OTEL_H

#include <stdio.h>

/* Reads the audit log at in and writes one OTLP/JSON document
 * ({"resourceSpans": [...]}) to out. run selects one run by id (NULL: all
 * runs in the file). Returns 0, or a negative code with a message in err
 * naming the file, the line and what was wrong. */
int ag_otel_export(const char *in, FILE *out, const char *run, char *err,
                   size_t errlen);

#endif
