/*
 * audit-read.c: reading and verifying audit logs (see audit-read.h).
 *
 * A record is good when its line parses, its hash is SHA-256 over prev and
 * the canonical JSON of the record without hash, the line is byte for byte
 * the canonical JSON of the whole record, and seq, ts and prev are valid.
 * Together these catch any single changed byte: a byte inside a value
 * changes the hash, a byte outside one breaks the canonical form or the
 * JSON, a changed hash digit no longer matches, a changed newline merges or
 * splits lines. A good record then has to follow the one before: prev is
 * its hash, seq one more, ts not earlier.
 *
 * When a link does not fit, the records around it tell what happened, and
 * ag_audit_verify reads on (the next record) and, when it needs to, the
 * whole file again (to find a missing seq later on, or the record a copy
 * was taken from). It names the record that is out of place, which is not
 * always the one where the link broke: a record that was changed and
 * rehashed is only caught by the next one's prev.
 */
#include "audit-read.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ag.h"
#include "audit.h"
#include "json.h"

/* ---- lines ------------------------------------------------------------- */

#define READ_CHUNK 65536

struct ag_audit_reader {
    int fd;
    int hold;  /* keep an incomplete tail instead of returning it */
    char *buf; /* buffered bytes: [start, len) not yet returned */
    size_t start, len, cap;
    size_t scanned;  /* bytes after start already known to hold no \n */
    uint64_t offset; /* file offset of buf[start] */
    uint64_t lineno; /* lines returned */
};

int ag_audit_reader_open(const char *path, struct ag_audit_reader **out)
{
    struct ag_audit_reader *r;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    *out = NULL;
    if (fd < 0)
        return -errno;
    r = ag_xcalloc(1, sizeof *r);
    r->fd = fd;
    *out = r;
    return 0;
}

void ag_audit_reader_hold(struct ag_audit_reader *r, int hold)
{
    r->hold = hold;
}

uint64_t ag_audit_reader_offset(const struct ag_audit_reader *r)
{
    return r->offset;
}

int ag_audit_reader_fd(const struct ag_audit_reader *r)
{
    return r->fd;
}

int ag_audit_reader_rewind(struct ag_audit_reader *r)
{
    if (lseek(r->fd, 0, SEEK_SET) < 0)
        return -errno;
    r->start = r->len = r->scanned = 0;
    r->offset = r->lineno = 0;
    return 0;
}

void ag_audit_reader_free(struct ag_audit_reader *r)
{
    if (!r)
        return;
    close(r->fd);
    free(r->buf);
    free(r);
}

/* Hands out buf[start, start + n) as the next line. */
static int emit(struct ag_audit_reader *r, struct ag_audit_line *line, size_t n,
                int complete)
{
    line->text = r->buf + r->start;
    line->len = n;
    line->complete = complete;
    line->offset = r->offset;
    line->lineno = ++r->lineno;
    r->buf[r->start + n] = '\0';
    r->start += n + (size_t)complete;
    r->offset += n + (uint64_t)complete;
    r->scanned = 0;
    return 1;
}

/* Makes room for READ_CHUNK more bytes (plus a NUL). */
static void make_room(struct ag_audit_reader *r)
{
    if (r->start > 0) {
        memmove(r->buf, r->buf + r->start, r->len - r->start);
        r->len -= r->start;
        r->start = 0;
    }
    if (r->cap - r->len < READ_CHUNK + 1) {
        size_t cap = r->cap ? r->cap * 2 : 2 * READ_CHUNK;
        while (cap - r->len < READ_CHUNK + 1)
            cap *= 2;
        r->buf = ag_xrealloc(r->buf, cap);
        r->cap = cap;
    }
}

int ag_audit_reader_next(struct ag_audit_reader *r, struct ag_audit_line *line)
{
    for (;;) {
        size_t avail = r->len - r->start;
        char *nl = avail > r->scanned ? memchr(r->buf + r->start + r->scanned,
                                               '\n', avail - r->scanned)
                                      : NULL;
        ssize_t n;

        if (nl)
            return emit(r, line, (size_t)(nl - (r->buf + r->start)), 1);
        r->scanned = avail;
        if (avail > AG_AUDIT_LINE_MAX)
            return AG_ETOOBIG;
        make_room(r);
        do
            n = read(r->fd, r->buf + r->len, r->cap - r->len - 1);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            return -errno;
        if (n == 0 && r->hold && r->len > r->start) {
            /* read the tail again next time: a writer may cut it off */
            r->len = r->start;
            r->scanned = 0;
            return lseek(r->fd, (off_t)r->offset, SEEK_SET) < 0 ? -errno : 0;
        }
        if (n == 0)
            return r->len == r->start ? 0 : emit(r, line, r->len - r->start, 0);
        r->len += (size_t)n;
    }
}

/* ---- records ----------------------------------------------------------- */

/* A non-negative integer member (one a double holds exactly), or -1. */
static long long int_field(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    double d;

    if (!cJSON_IsNumber(v))
        return -1;
    d = v->valuedouble;
    if (!(d >= 0 && d < 9007199254740992.0) || d != floor(d))
        return -1;
    return (long long)d;
}

int ag_audit_rec_parse(const char *text, size_t len, struct ag_audit_rec *rec)
{
    const cJSON *data;
    const char *end = NULL;

    memset(rec, 0, sizeof *rec);
    rec->seq = rec->agent = rec->step = -1;
    rec->json = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    while (rec->json && end < text + len &&
           (*end == ' ' || *end == '\t' || *end == '\r'))
        end++;
    if (!cJSON_IsObject(rec->json) || end != text + len) {
        cJSON_Delete(rec->json);
        rec->json = NULL;
        return AG_EPARSE;
    }
    rec->seq = int_field(rec->json, "seq");
    rec->agent = int_field(rec->json, "agent");
    rec->step = int_field(rec->json, "step");
    rec->ts = ag_json_str(rec->json, "ts");
    rec->run = ag_json_str(rec->json, "run");
    rec->type = ag_json_str(rec->json, "type");
    rec->prev = ag_json_str(rec->json, "prev");
    rec->hash = ag_json_str(rec->json, "hash");
    data = cJSON_GetObjectItemCaseSensitive(rec->json, "data");
    rec->data = cJSON_IsObject(data) ? data : NULL;
    return 0;
}

void ag_audit_rec_free(struct ag_audit_rec *rec)
{
    cJSON_Delete(rec->json);
    memset(rec, 0, sizeof *rec);
    rec->seq = rec->agent = rec->step = -1;
}

/* ---- runs ------------------------------------------------------------- */

static size_t run_index(struct ag_audit_index *ix, const char *id)
{
    char key[33];

    snprintf(key, sizeof key, "%s", id ? id : "?");
    for (size_t i = ix->nruns; i-- > 0;)
        if (strcmp(ix->runs[i].id, key) == 0)
            return i;
    ix->runs = ag_xrealloc(ix->runs, (ix->nruns + 1) * sizeof *ix->runs);
    memset(&ix->runs[ix->nruns], 0, sizeof *ix->runs);
    memcpy(ix->runs[ix->nruns].id, key, sizeof key);
    return ix->nruns++;
}

int ag_audit_index(const char *path, struct ag_audit_index *ix)
{
    struct ag_audit_line line;
    struct ag_audit_rec rec;
    int rc;

    memset(ix, 0, sizeof *ix);
    if ((rc = ag_audit_reader_open(path, &ix->r)) < 0)
        return rc;
    while ((rc = ag_audit_reader_next(ix->r, &line)) == 1) {
        struct ag_audit_run *run;
        size_t ri;
        if (!line.complete || ag_audit_rec_parse(line.text, line.len, &rec) < 0)
            continue;
        ri = run_index(ix, rec.run); /* may move ix->runs */
        run = &ix->runs[ri];
        ag_audit_rec_free(&rec);
        if (run->n == run->cap) {
            run->cap = run->cap ? 2 * run->cap : 32;
            run->at = ag_xrealloc(run->at, run->cap * sizeof *run->at);
        }
        run->at[run->n].offset = line.offset;
        run->at[run->n++].len = line.len;
    }
    if (rc < 0)
        ag_audit_index_free(ix);
    return rc;
}

int ag_audit_index_find(const struct ag_audit_index *ix, const char *prefix)
{
    int found = -1;

    for (size_t i = 0; i < ix->nruns; i++)
        if (strncmp(ix->runs[i].id, prefix, strlen(prefix)) == 0) {
            if (found >= 0)
                return -2;
            found = (int)i;
        }
    return found;
}

int ag_audit_index_rec(const struct ag_audit_index *ix, size_t i, size_t k,
                       struct ag_audit_rec *rec)
{
    size_t len = ix->runs[i].at[k].len;
    char *buf = ag_xmalloc(len + 1);
    ssize_t got = pread(ix->r->fd, buf, len, (off_t)ix->runs[i].at[k].offset);
    int rc = got < 0 ? -errno : got != (ssize_t)len ? AG_ETRUNC : 0;

    memset(rec, 0, sizeof *rec);
    rec->seq = rec->agent = rec->step = -1;
    if (rc == 0)
        rc = ag_audit_rec_parse(buf, len, rec);
    free(buf);
    return rc;
}

void ag_audit_index_free(struct ag_audit_index *ix)
{
    for (size_t i = 0; i < ix->nruns; i++)
        free(ix->runs[i].at);
    free(ix->runs);
    ag_audit_reader_free(ix->r);
    memset(ix, 0, sizeof *ix);
}

/* ---- checking one record ----------------------------------------------- */

static const char *const fault_names[] = {
#define XX(_, name) name,
    AG_AUDIT_FAULT_MAP(XX)
#undef XX
};

const char *ag_audit_fault_name(enum ag_audit_fault f)
{
    return (unsigned)f < AG_ARRAY_SIZE(fault_names) ? fault_names[f] : "?";
}

int ag_audit_is_hash(const char *s)
{
    if (!s)
        return 0;
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return s[64] == '\0';
}

double ag_audit_ts_us(const char *ts)
{
    static const char pat[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";
    struct tm tm;

    if (!ts || strlen(ts) != sizeof pat - 1)
        return -1;
    for (size_t i = 0; i < sizeof pat - 1; i++)
        if (pat[i] == 'd' ? ts[i] < '0' || ts[i] > '9' : ts[i] != pat[i])
            return -1;
    memset(&tm, 0, sizeof tm);
    if (!strptime(ts, "%Y-%m-%dT%H:%M:%S", &tm) || tm.tm_year < 70)
        return -1;
    return (double)timegm(&tm) * 1e6 + atoi(ts + 20);
}

/* RFC 3339 UTC with microseconds, exactly as the writer puts it. */
static int valid_ts(const char *s)
{
    return ag_audit_ts_us(s) >= 0;
}

void ag_audit_chain_init(struct ag_audit_chain *c)
{
    memset(c, 0, sizeof *c);
    memcpy(c->head, AG_AUDIT_GENESIS, 65);
}

/* Whether a key appears twice at the top level. */
static const char *duplicate_key(const cJSON *obj)
{
    for (const cJSON *a = obj->child; a; a = a->next)
        for (const cJSON *b = a->next; b; b = b->next)
            if (a->string && b->string && strcmp(a->string, b->string) == 0)
                return a->string;
    return NULL;
}

/* Computes the record's hash: SHA-256 over prev and the canonical JSON of
 * the record without its hash field (taken out and put back). */
static int record_hash(cJSON *json, const char *prev, struct ag_buf *b,
                       char out[65])
{
    cJSON *h = cJSON_DetachItemFromObjectCaseSensitive(json, "hash");
    int rc;

    ag_buf_reset(b);
    if ((rc = ag_buf_adds(b, prev ? prev : "")) == 0 &&
        (rc = ag_json_canonical(json, b)) == 0)
        ag_sha256_hex(b->data, b->len, out);
    if (h)
        cJSON_AddItemToObject(json, "hash", h);
    return rc;
}

/* A line that begins with the torn bytes of one record, followed by a
 * whole record: what a writer that does not repair a torn tail leaves.
 * Returns the length of the torn part, or 0. */
static size_t torn_prefix(const struct ag_audit_line *line, struct ag_buf *b)
{
    int tries = 0;

    if (line->len > (1u << 20))
        return 0;
    for (size_t k = 1; k + 1 < line->len && tries < 64; k++) {
        struct ag_audit_rec rec;
        int same;

        if (line->text[k] != '{' || line->text[k + 1] != '"')
            continue;
        tries++;
        if (ag_audit_rec_parse(line->text + k, line->len - k, &rec) < 0)
            continue;
        ag_buf_reset(b);
        same = ag_json_canonical(rec.json, b) == 0 && b->len == line->len - k &&
               memcmp(b->data, line->text + k, b->len) == 0 &&
               ag_audit_is_hash(rec.hash);
        ag_audit_rec_free(&rec);
        if (same)
            return k;
    }
    return 0;
}

/* Whether the first n bytes of text, or all but the last, are a JSON
 * object: a record whose newline was changed rather than one cut short. */
static int whole(const char *text, size_t n)
{
    struct ag_audit_rec rec;

    for (size_t m = n; m + 1 >= n && m > 0; m--)
        if (ag_audit_rec_parse(text, m, &rec) == 0) {
            ag_audit_rec_free(&rec);
            return 1;
        }
    return 0;
}

/* The checks that need only the line itself. */
static enum ag_audit_fault check_alone(const struct ag_audit_line *line,
                                       struct ag_audit_rec *rec,
                                       struct ag_buf *b, char *msg,
                                       size_t msglen)
{
    char hash[65];
    const char *dup;
    size_t k;

    if (ag_audit_rec_parse(line->text, line->len, rec) < 0) {
        if ((k = torn_prefix(line, b)) > 0 && whole(line->text, k)) {
            snprintf(msg, msglen,
                     "two records on one line: the newline after the first "
                     "(byte %zu) was changed",
                     k);
            return AG_AUDIT_EDITED;
        }
        if (k > 0) {
            snprintf(msg, msglen,
                     "the line starts with %zu bytes of an incomplete record "
                     "(a crash while writing?), then a whole record follows "
                     "on the same line",
                     k);
            return AG_AUDIT_TORN;
        }
        snprintf(msg, msglen, "the line is not a JSON object");
        return AG_AUDIT_EDITED;
    }
    if (!rec->hash) {
        snprintf(msg, msglen, "the record has no hash");
        return AG_AUDIT_EDITED;
    }
    if (!ag_audit_is_hash(rec->hash)) {
        snprintf(msg, msglen, "the hash is not 64 lowercase hex digits");
        return AG_AUDIT_EDITED;
    }
    if (record_hash(rec->json, rec->prev, b, hash) < 0) {
        snprintf(msg, msglen, "the record cannot be put in canonical form");
        return AG_AUDIT_EDITED;
    }
    if (strcmp(hash, rec->hash) != 0) {
        snprintf(msg, msglen,
                 "the record does not match its hash: its content was "
                 "changed");
        return AG_AUDIT_EDITED;
    }
    ag_buf_reset(b);
    if (ag_json_canonical(rec->json, b) < 0 || b->len != line->len ||
        memcmp(b->data, line->text, b->len) != 0) {
        size_t at = 0;
        while (at < b->len && at < line->len && b->data[at] == line->text[at])
            at++;
        snprintf(msg, msglen,
                 "the line is not the canonical JSON of its record (first "
                 "difference at byte %zu): it was changed",
                 at + 1);
        return AG_AUDIT_EDITED;
    }
    if ((dup = duplicate_key(rec->json))) {
        snprintf(msg, msglen, "the field \"%.40s\" appears twice", dup);
        return AG_AUDIT_MALFORMED;
    }
    if (!ag_audit_is_hash(rec->prev)) {
        snprintf(msg, msglen, "prev is not 64 lowercase hex digits");
        return AG_AUDIT_MALFORMED;
    }
    if (rec->seq < 1) {
        snprintf(msg, msglen, "seq is missing or not a positive integer");
        return AG_AUDIT_MALFORMED;
    }
    if (!valid_ts(rec->ts)) {
        snprintf(msg, msglen,
                 "ts is not RFC 3339 UTC with microseconds "
                 "(YYYY-MM-DDTHH:MM:SS.uuuuuuZ)");
        return AG_AUDIT_MALFORMED;
    }
    return AG_AUDIT_OK;
}

enum ag_audit_fault ag_audit_chain_add(struct ag_audit_chain *c,
                                       const struct ag_audit_line *line,
                                       struct ag_audit_rec *out, char *msg,
                                       size_t msglen)
{
    struct ag_audit_rec rec;
    struct ag_buf b;
    enum ag_audit_fault f;

    msg[0] = '\0';
    if (out) {
        memset(out, 0, sizeof *out);
        out->seq = out->agent = out->step = -1;
    }
    if (!line->complete) {
        snprintf(msg, msglen,
                 "the last line (%zu bytes) is incomplete; a crash while "
                 "writing?",
                 line->len);
        return AG_AUDIT_TORN;
    }
    ag_buf_init(&b, 2 * (size_t)AG_AUDIT_LINE_MAX);
    f = check_alone(line, &rec, &b, msg, msglen);
    ag_buf_free(&b);
    if (f == AG_AUDIT_OK &&
        (strcmp(rec.prev, c->head) != 0 || rec.seq != c->seq + 1)) {
        if (strcmp(rec.prev, c->head) != 0)
            snprintf(msg, msglen,
                     "prev does not match the hash of the record before");
        else
            snprintf(msg, msglen, "seq is %lld, expected %lld", rec.seq,
                     c->seq + 1);
        f = AG_AUDIT_BROKEN;
    } else if (f == AG_AUDIT_OK && strcmp(rec.ts, c->ts) < 0) {
        snprintf(msg, msglen,
                 "ts %s is earlier than the record before (line %llu, %s)",
                 rec.ts, (unsigned long long)c->lineno, c->ts);
        f = AG_AUDIT_TIME;
    }
    if (f == AG_AUDIT_OK) {
        c->records++;
        c->seq = rec.seq;
        memcpy(c->head, rec.hash, 65);
        snprintf(c->ts, sizeof c->ts, "%s", rec.ts);
        c->lineno = line->lineno;
    }
    if (out)
        *out = rec;
    else
        ag_audit_rec_free(&rec);
    return f;
}

/* ---- verifying a file -------------------------------------------------- */

/* What telling faults apart needs to know of a record. */
struct link {
    int have;
    uint64_t lineno;
    long long seq;
    char hash[65], prev[65];
};

static void set_link(struct link *l, const struct ag_audit_rec *rec,
                     uint64_t lineno)
{
    l->have = 1;
    l->lineno = lineno;
    l->seq = rec->seq;
    snprintf(l->hash, sizeof l->hash, "%s", rec->hash ? rec->hash : "");
    snprintf(l->prev, sizeof l->prev, "%s", rec->prev ? rec->prev : "");
}

/* The record on the next line, if it parses. */
static void next_link(struct ag_audit_reader *r, struct link *l)
{
    struct ag_audit_line line;
    struct ag_audit_rec rec;

    memset(l, 0, sizeof *l);
    if (ag_audit_reader_next(r, &line) == 1 && line.complete &&
        ag_audit_rec_parse(line.text, line.len, &rec) == 0) {
        set_link(l, &rec, line.lineno);
        ag_audit_rec_free(&rec);
    }
}

/* A search of the whole file: the first record strictly between lines
 * after and before (0: no bound) whose hash is hash or, when hash is NULL,
 * whose seq is strictly between lo and hi. */
struct query {
    const char *hash;
    long long lo, hi;
    uint64_t after, before;
};

static int find(struct ag_audit_reader *r, const struct query *q,
                struct link *found)
{
    struct ag_audit_line line;
    struct ag_audit_rec rec;
    int hit = 0;

    memset(found, 0, sizeof *found);
    if (ag_audit_reader_rewind(r) < 0)
        return 0;
    while (!hit && ag_audit_reader_next(r, &line) == 1) {
        if (line.lineno <= q->after || !line.complete)
            continue;
        if (q->before && line.lineno >= q->before)
            break;
        if (ag_audit_rec_parse(line.text, line.len, &rec) < 0)
            continue;
        hit = q->hash ? rec.hash && strcmp(rec.hash, q->hash) == 0
                      : rec.seq > q->lo && rec.seq < q->hi;
        if (hit)
            set_link(found, &rec, line.lineno);
        ag_audit_rec_free(&rec);
    }
    return hit;
}

static void report(struct ag_audit_report *rep, enum ag_audit_fault f,
                   uint64_t lineno, long long seq, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void report(struct ag_audit_report *rep, enum ag_audit_fault f,
                   uint64_t lineno, long long seq, const char *fmt, ...)
{
    va_list ap;

    rep->fault = f;
    rep->lineno = lineno;
    rep->seq = seq;
    va_start(ap, fmt);
    vsnprintf(rep->msg, sizeof rep->msg, fmt, ap);
    va_end(ap);
}

/* The record before the break is the bad one: the report steps back. */
static void step_back(struct ag_audit_report *rep, const char *p_prev)
{
    rep->records--;
    memcpy(rep->head, p_prev, 65);
}

#define LL(x) ((unsigned long long)(x))

/* b, on line bl, is whole and hashes fine, but its prev or seq do not
 * follow the chain c, whose last record (if any) had prev p_prev. The
 * reader is just past b. */
static void classify(struct ag_audit_reader *r, const struct ag_audit_chain *c,
                     const char *p_prev, const struct ag_audit_rec *b,
                     uint64_t bl, struct ag_audit_report *rep)
{
    long long p = c->seq, s = b->seq;
    int first = c->records == 0;
    struct link n1, hit;
    struct query q = {NULL, 0, 0, 0, 0};

    next_link(r, &n1);
    if (strcmp(b->prev, c->head) == 0) {
        report(rep, AG_AUDIT_EDITED, bl, s,
               "seq is %lld but the record links to the one before (seq "
               "%lld): its seq was changed and its hash recomputed",
               s, p);
    } else if (s == p + 1) {
        if (n1.have && strcmp(n1.prev, c->head) == 0)
            report(rep, AG_AUDIT_INSERTED, bl, s,
                   "not part of the chain: its prev matches no record "
                   "before it, and the next record (line %llu) links to %s",
                   LL(n1.lineno), first ? "the start" : "the one before");
        else if (!first && n1.have && strcmp(n1.prev, b->hash) == 0) {
            report(rep, AG_AUDIT_EDITED, c->lineno, p,
                   "the record was changed and its hash recomputed: the "
                   "next record (line %llu) links to a different one",
                   LL(bl));
            step_back(rep, p_prev);
        } else if (first)
            report(rep, AG_AUDIT_EDITED, bl, s,
                   "prev is not the genesis value (64 zeros) although this "
                   "is the first record");
        else
            report(rep, AG_AUDIT_EDITED, bl, s,
                   "prev does not match the hash of the record before (line "
                   "%llu): one of the two was changed and its hash "
                   "recomputed, or this record comes from another log",
                   LL(c->lineno));
    } else if (s > p + 1) {
        q.lo = p, q.hi = s, q.after = bl;
        if (find(r, &q, &hit))
            report(rep, AG_AUDIT_REORDERED, bl, s,
                   "seq %lld comes before seq %lld (line %llu): records were "
                   "swapped or moved",
                   s, hit.seq, LL(hit.lineno));
        else if (s == p + 2)
            report(rep, AG_AUDIT_DELETED, bl, s,
                   "seq %lld is missing: 1 record was deleted before this "
                   "one, and the chain is broken",
                   p + 1);
        else
            report(rep, AG_AUDIT_DELETED, bl, s,
                   "seq %lld to %lld are missing: %lld records were deleted "
                   "before this one, and the chain is broken",
                   p + 1, s - 1, s - p - 1);
    } else {
        q.hash = b->hash, q.before = bl;
        if (find(r, &q, &hit))
            report(rep, AG_AUDIT_INSERTED, bl, s,
                   "a copy of line %llu (seq %lld), inserted here",
                   LL(hit.lineno), hit.seq);
        else if (s == 1 && strcmp(b->prev, AG_AUDIT_GENESIS) == 0)
            report(rep, AG_AUDIT_INSERTED, bl, s,
                   "a new chain starts here (seq 1, prev genesis) after seq "
                   "%lld: were two logs joined?",
                   p);
        else if (s == p && strcmp(b->prev, p_prev) == 0 && n1.have &&
                 strcmp(n1.prev, b->hash) == 0) {
            report(rep, AG_AUDIT_INSERTED, c->lineno, p,
                   "not part of the chain: the next line (%llu) has the same "
                   "seq and prev, and the chain goes on from that one",
                   LL(bl));
            step_back(rep, p_prev);
        } else if (s == p && strcmp(b->prev, p_prev) == 0)
            report(rep, AG_AUDIT_INSERTED, bl, s,
                   "not part of the chain: it repeats seq %lld with the same "
                   "prev as line %llu",
                   p, LL(c->lineno));
        else if (n1.have && strcmp(n1.prev, c->head) == 0)
            report(rep, AG_AUDIT_INSERTED, bl, s,
                   "not part of the chain: seq %lld after seq %lld, and the "
                   "next record (line %llu) links to the one before",
                   s, p, LL(n1.lineno));
        else
            report(rep, AG_AUDIT_REORDERED, bl, s,
                   "seq goes back from %lld to %lld", p, s);
    }
}

/* The log verified; does it end at want? */
static void check_head(struct ag_audit_reader *r,
                       const struct ag_audit_chain *c, const char *want,
                       struct ag_audit_report *rep)
{
    struct query q = {want, 0, 0, 0, 0};
    struct link hit;

    if (strcmp(c->head, want) == 0)
        return;
    if (find(r, &q, &hit))
        report(rep, AG_AUDIT_EXTENDED, 0, -1,
               "the log goes on past the expected head: %s is line %llu (seq "
               "%lld), and %lld records follow it",
               want, LL(hit.lineno), hit.seq, c->seq - hit.seq);
    else
        report(rep, AG_AUDIT_TRUNCATED, 0, -1,
               "the log ends at %s, expected %s", c->head, want);
}

int ag_audit_verify(const char *path, const char *want_head,
                    struct ag_audit_report *rep)
{
    struct ag_audit_reader *r;
    struct ag_audit_chain c;
    struct ag_audit_line line;
    struct ag_audit_rec rec;
    char p_prev[65], msg[sizeof rep->msg];
    int rc;

    memset(rep, 0, sizeof *rep);
    rep->seq = -1;
    memcpy(rep->head, AG_AUDIT_GENESIS, 65);
    if ((rc = ag_audit_reader_open(path, &r)) < 0)
        return rc;
    ag_audit_chain_init(&c);
    memcpy(p_prev, AG_AUDIT_GENESIS, 65);
    while ((rc = ag_audit_reader_next(r, &line)) == 1) {
        enum ag_audit_fault f =
            ag_audit_chain_add(&c, &line, &rec, msg, sizeof msg);
        if (f == AG_AUDIT_OK) {
            memcpy(p_prev, rec.prev, 65);
            ag_audit_rec_free(&rec);
            continue;
        }
        rep->records = c.records;
        memcpy(rep->head, c.head, 65);
        if (f == AG_AUDIT_BROKEN)
            classify(r, &c, p_prev, &rec, line.lineno, rep);
        else
            report(rep, f, line.lineno, rec.seq, "%s", msg);
        ag_audit_rec_free(&rec);
        break;
    }
    if (rc == 0) {
        rep->records = c.records;
        memcpy(rep->head, c.head, 65);
        if (want_head)
            check_head(r, &c, want_head, rep);
    }
    ag_audit_reader_free(r);
    return rc < 0 ? rc : 0;
}
