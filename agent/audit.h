/*
 * audit.h: the audit log (DESIGN §7): JSON Lines, one record per event,
 * each chained to the one before by a SHA-256 hash, so that a later reader
 * can prove nothing was edited, removed, reordered or inserted.
 *
 *   {"seq":1,"ts":"2026-11-28T17:54:09.123456Z","run":"<32 hex>","agent":1,
 *    "step":0,"type":"run.start","data":{...},"prev":"<64 hex>","hash":"..."}
 *
 * hash = SHA-256 over prev followed by the record's canonical JSON (keys
 * sorted, no white space) without the hash field. The first record's prev is
 * 64 zeros. Secrets are redacted before hashing.
 *
 * This is the writer of the spine: synchronous buffered writes, flushed
 * before every model request and at the end of a run. Verification,
 * replay, content settings and crash recovery build on it.
 */
#ifndef AG_AUDIT_H
#define AG_AUDIT_H

#include <stdio.h>

#include "agent.h"
#include "output.h"

#define AG_AUDIT_GENESIS                                                       \
    "0000000000000000000000000000000000000000000000000000000000000000"

struct ag_audit {
    FILE *f;
    char *path;
    char run[33];
    unsigned long long seq;
    char prev[65];
    const struct ag_redactor *redact;
    const char *model_label;
    int stand_in;
    int failed; /* a write failed; reported once */
};

/* Opens (appending to) path. Returns 0 or -errno. */
int ag_audit_open(struct ag_audit *a, const char *path,
                  const struct ag_redactor *redact);
/* Appends one record; data is taken over (freed). Returns 0 or -errno. */
int ag_audit_write(struct ag_audit *a, unsigned agent, int step,
                   const char *type, cJSON *data);
/* Flushes buffered records to the kernel. */
int ag_audit_flush(struct ag_audit *a);
/* The event sink (ud is the struct ag_audit). */
void ag_audit_event(void *ud, const struct ag_event *ev);
/* Flushes and closes. Returns 0 or -errno from the last write. */
int ag_audit_close(struct ag_audit *a);

/* SHA-256 of p as 64 lowercase hex digits plus NUL in out. */
void ag_sha256_hex(const void *p, size_t n, char out[65]);

#endif
