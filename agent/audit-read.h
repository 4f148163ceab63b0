/*
 * audit-read.h: reading and verifying audit logs (the format is audit.h's
 * top comment). Three layers, each usable on its own:
 *
 *  - a line reader over a file, with a bounded line length, that can hand
 *    back a last line without its newline (a torn tail) or hold it until
 *    the rest arrives (for following a growing log);
 *  - a record parser giving the fields every record has;
 *  - a chain checker that takes the lines of a log one at a time and says
 *    whether each one is the next record of the chain, and ag_audit_verify,
 *    which checks a whole file and, at the first bad record, reads around
 *    it to tell what happened: edited, deleted, reordered, inserted, torn.
 *
 * The checks never look inside data: new record types and fields may come,
 * and a verifier must not care about them.
 */
#ifndef AG_AUDIT_READ_H
#define AG_AUDIT_READ_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

/* Longest line the reader accepts (a record with a full request body). */
#define AG_AUDIT_LINE_MAX (64u << 20)

/* ---- lines ------------------------------------------------------------- */

struct ag_audit_reader; /* opaque */

struct ag_audit_line {
    const char *text; /* the line without its \n, NUL-terminated; borrowed,
                         valid until the next call on the reader */
    size_t len;       /* bytes in text (a NUL inside counts) */
    uint64_t lineno;  /* from 1 */
    uint64_t offset;  /* of the line's first byte in the file */
    int complete;     /* 1: ended by \n; 0: the file ends inside it */
};

/* Opens path for reading. Returns 0 and a reader in *out (free it with
 * ag_audit_reader_free), or -errno. */
int ag_audit_reader_open(const char *path, struct ag_audit_reader **out);

/* Reads the next line into *line. Returns 1 with a line, 0 at the end of
 * the file, AG_ETOOBIG for a line longer than AG_AUDIT_LINE_MAX, or -errno.
 * At the end of the file a last line without \n is returned with
 * complete = 0, unless the reader holds tails (ag_audit_reader_hold): then
 * 0 is returned and the next call reads the tail again from its first byte
 * (a writer may have cut it off and written it anew), so that a growing
 * file can be followed. */
int ag_audit_reader_next(struct ag_audit_reader *r, struct ag_audit_line *line);

/* Whether an incomplete last line is held back (1) or returned (0, the
 * default). */
void ag_audit_reader_hold(struct ag_audit_reader *r, int hold);

/* Bytes consumed so far (the offset of the next line). */
uint64_t ag_audit_reader_offset(const struct ag_audit_reader *r);

/* Starts again from the beginning of the file (after it was truncated, or
 * for a second pass). Returns 0 or -errno. */
int ag_audit_reader_rewind(struct ag_audit_reader *r);

/* The file's descriptor, for fstat (still owned by the reader). */
int ag_audit_reader_fd(const struct ag_audit_reader *r);

/* Closes the file and frees the reader; NULL is a no-op. */
void ag_audit_reader_free(struct ag_audit_reader *r);

/* ---- records ----------------------------------------------------------- */

/* The fields every record has. Strings are borrowed from json, NULL when
 * the field is missing or not a string; numbers are -1 when missing or not
 * a non-negative integer. */
struct ag_audit_rec {
    cJSON *json; /* the whole record; owned, see ag_audit_rec_free */
    long long seq, agent, step;
    const char *ts, *run, *type, *prev, *hash;
    const cJSON *data; /* NULL when missing or not an object */
};

/* Parses len bytes of text (one line without its \n) into *rec. Returns 0,
 * or AG_EPARSE when the text is not one JSON object (rec is then empty). */
int ag_audit_rec_parse(const char *text, size_t len, struct ag_audit_rec *rec);

/* Frees what rec holds and empties it; an empty rec is a no-op. */
void ag_audit_rec_free(struct ag_audit_rec *rec);

/* ---- runs ------------------------------------------------------------- */

/* Where the records of each run are in a file, for reading a run back
 * (show, replay, export) without keeping the whole log in memory. */
struct ag_audit_run {
    char id[33];   /* the run id, cut to 32 characters ("?" when missing) */
    size_t n, cap; /* records (cap: private) */
    struct {
        uint64_t offset;
        size_t len;
    } * at; /* where each record's line is, in file order */
};

struct ag_audit_index {
    struct ag_audit_run *runs; /* in the order of their first record */
    size_t nruns;
    struct ag_audit_reader *r; /* private: the open file */
};

/* Reads path once, noting the runs and where their records are. Lines that
 * are not JSON objects and a torn last line are left out (verify tells of
 * them). Returns 0, or a negative code as ag_audit_reader_open and _next;
 * ix is then empty. Free with ag_audit_index_free. */
int ag_audit_index(const char *path, struct ag_audit_index *ix);

/* The run whose id starts with prefix: its position in ix->runs, -1 when
 * there is none, -2 when there are several. */
int ag_audit_index_find(const struct ag_audit_index *ix, const char *prefix);

/* Reads back and parses record k of run i into rec (caller frees it with
 * ag_audit_rec_free). Returns 0, AG_EPARSE or -errno. */
int ag_audit_index_rec(const struct ag_audit_index *ix, size_t i, size_t k,
                       struct ag_audit_rec *rec);

/* Frees what ix holds and closes the file; an empty ix is a no-op. */
void ag_audit_index_free(struct ag_audit_index *ix);

/* ---- verifying --------------------------------------------------------- */

#define AG_AUDIT_FAULT_MAP(XX)                                                 \
    XX(OK, "ok")                                                               \
    XX(EDITED, "edited")       /* content, hash or form changed */             \
    XX(DELETED, "deleted")     /* records missing from the middle */           \
    XX(REORDERED, "reordered") /* records moved or swapped */                  \
    XX(INSERTED, "inserted")   /* a record that is not part of the chain */    \
    XX(TORN, "torn")           /* a line cut short: a crash while writing */   \
    XX(TRUNCATED, "truncated") /* ends before the expected head */             \
    XX(EXTENDED, "extended")   /* goes on past the expected head */            \
    XX(MALFORMED, "malformed") /* hashes fine, but a field is not valid */     \
    XX(TIME, "time")           /* ts goes backwards */                         \
    XX(BROKEN, "broken")       /* chain check only: prev or seq do not follow  \
                                  (ag_audit_verify tells which kind) */

enum ag_audit_fault {
#define XX(name, _) AG_AUDIT_##name,
    AG_AUDIT_FAULT_MAP(XX)
#undef XX
};

/* "edited", "deleted", ... for a fault. */
const char *ag_audit_fault_name(enum ag_audit_fault f);

/* The state of a chain being checked: what the last good record was. */
struct ag_audit_chain {
    uint64_t records; /* good records so far */
    long long seq;    /* seq of the last good record, 0 before the first */
    char head[65];    /* its hash; AG_AUDIT_GENESIS before the first */
    char ts[32];      /* its ts; "" before the first */
    uint64_t lineno;  /* its line, 0 before the first */
};

void ag_audit_chain_init(struct ag_audit_chain *c);

/* Checks one line as the next record of the chain c. On success returns
 * AG_AUDIT_OK and advances c. Otherwise returns the fault and leaves c as
 * it was, with a message in msg: AG_AUDIT_TORN (an incomplete line, or a
 * line that starts with one), AG_AUDIT_EDITED (not JSON, hash mismatch,
 * not canonical, two records on one line),
 * AG_AUDIT_MALFORMED (hash fine, but seq, ts or prev not valid),
 * AG_AUDIT_BROKEN (prev or seq do not follow c) or AG_AUDIT_TIME (ts goes
 * back). The line is borrowed. When rec is not NULL it receives the parsed
 * record whatever the outcome (empty when the line does not parse); the
 * caller frees it with ag_audit_rec_free. */
enum ag_audit_fault ag_audit_chain_add(struct ag_audit_chain *c,
                                       const struct ag_audit_line *line,
                                       struct ag_audit_rec *rec, char *msg,
                                       size_t msglen);

/* What ag_audit_verify found. */
struct ag_audit_report {
    enum ag_audit_fault fault;
    uint64_t records; /* good records before the bad one (all when ok) */
    char head[65];    /* hash of the last good record (genesis if none) */
    uint64_t lineno;  /* line of the first bad record; 0 when ok or for
                         truncated / extended */
    long long seq;    /* its seq, -1 when unknown */
    char msg[512];    /* what is wrong, for people ("" when ok) */
};

/* Verifies the log at path: every record's hash, its line being the
 * canonical JSON of the record, the chain links, seq without gaps, ts never
 * going back, a newline after the last line; and, when want_head is not
 * NULL, that the log ends at that hash. Returns 0 with the outcome in *rep
 * (rep->fault is AG_AUDIT_OK or what the first bad record shows), or a
 * negative code when the file cannot be read (-errno, AG_ETOOBIG for a line
 * longer than AG_AUDIT_LINE_MAX). */
int ag_audit_verify(const char *path, const char *want_head,
                    struct ag_audit_report *rep);

/* Microseconds since the epoch of a record's ts (RFC 3339 UTC with
 * microseconds, as audit.h writes it, from 1970 on), or -1 when it is not
 * one. */
double ag_audit_ts_us(const char *ts);

/* Whether s is 64 lowercase hex digits followed by NUL. */
int ag_audit_is_hash(const char *s);

#endif
