/*
 * test-audit.c: reading and verifying audit logs (audit-read.h): the line
 * reader and its torn tails, record fields, the chain checker, and
 * ag_audit_verify on logs tampered with in every way it tells apart. The
 * logs are built here from audit.h's definition (canonical JSON, SHA-256
 * over prev and the record without its hash), not by the writer, so these
 * tests hold whatever the writer becomes. Last, two sweeps: every byte of
 * a real log (tests/data/audit/hello.jsonl, from `agent run`) and of a
 * hand-made one with escapes, Unicode and numbers is changed in turn, and
 * each change must be caught on the line that holds it.
 *
 * Data is found under $SRCDIR (default ".").
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ag.h"
#include "audit-read.h"
#include "audit.h"
#include "json.h"
#include "tap.h"

static char tmpdir[256];

static char *write_file(const char *name, const char *data, size_t len)
{
    char *path = ag_xasprintf("%s/%s", tmpdir, name);
    FILE *f = fopen(path, "wb");

    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        printf("Bail out! cannot write %s\n", path);
        exit(99);
    }
    return path;
}

/* ---- logs built by hand ------------------------------------------------ */

#define RUN "0123456789abcdef0123456789abcdef"

/* One record's line (with its \n), as audit.h defines it; its hash in
 * hash. seq is a double so that a broken one can be made; data is JSON. */
static char *make_line(double seq, const char *ts, const char *prev,
                       const char *data, char hash[65])
{
    cJSON *rec = cJSON_CreateObject();
    struct ag_buf b;

    cJSON_AddNumberToObject(rec, "agent", 1);
    cJSON_AddItemToObject(rec, "data", cJSON_Parse(data));
    cJSON_AddStringToObject(rec, "prev", prev);
    cJSON_AddStringToObject(rec, "run", RUN);
    cJSON_AddNumberToObject(rec, "seq", seq);
    cJSON_AddNumberToObject(rec, "step", 1);
    cJSON_AddStringToObject(rec, "ts", ts);
    cJSON_AddStringToObject(rec, "type", "tool.call");
    ag_buf_init(&b, 1u << 20);
    ag_buf_adds(&b, prev);
    ag_json_canonical(rec, &b);
    ag_sha256_hex(b.data, b.len, hash);
    cJSON_AddStringToObject(rec, "hash", hash);
    ag_buf_reset(&b);
    ag_json_canonical(rec, &b);
    ag_buf_addc(&b, '\n');
    cJSON_Delete(rec);
    return ag_buf_steal(&b);
}

static void ts_of(int i, char out[32])
{
    snprintf(out, 32, "2026-01-02T03:04:05.%06dZ", 1000 * i);
}

#define MAXR 16

/* A good log: line[i] is the record with seq i + 1. */
struct log {
    int n;
    char *line[MAXR];
    char hash[MAXR][65];
};

static void log_make(struct log *l, int n, const char *tag)
{
    const char *prev = AG_AUDIT_GENESIS;

    l->n = n;
    for (int i = 0; i < n; i++) {
        char ts[32], data[128];
        ts_of(i, ts);
        snprintf(data, sizeof data,
                 "{\"tool\":\"calc\",\"arguments\":\"%s %d\"}", tag, i + 1);
        l->line[i] = make_line(i + 1, ts, prev, data, l->hash[i]);
        prev = l->hash[i];
    }
}

static void log_free(struct log *l)
{
    for (int i = 0; i < l->n; i++)
        free(l->line[i]);
}

/* The lines given, one after the other (NULL ends the list). */
static char *join(const char *first, ...)
{
    struct ag_buf b;
    va_list ap;

    ag_buf_init(&b, 1u << 24);
    va_start(ap, first);
    for (const char *s = first; s; s = va_arg(ap, const char *))
        ag_buf_adds(&b, s);
    va_end(ap);
    return ag_buf_steal(&b);
}

/* Verifies text and checks the fault, its line and seq. */
static void check(const char *name, const char *text, const char *head,
                  enum ag_audit_fault fault, uint64_t lineno, long long seq,
                  const char *msg_part)
{
    char *path = write_file("check.jsonl", text, strlen(text));
    struct ag_audit_report rep;
    char label[160];
    int rc = ag_audit_verify(path, head, &rep);

    snprintf(label, sizeof label, "%s: verify runs", name);
    is_int(rc, 0, label);
    snprintf(label, sizeof label, "%s: %s", name, ag_audit_fault_name(fault));
    is_str(ag_audit_fault_name(rep.fault), ag_audit_fault_name(fault), label);
    snprintf(label, sizeof label, "%s: line %llu, seq %lld", name,
             (unsigned long long)lineno, seq);
    ok(rep.lineno == lineno && rep.seq == seq, label);
    if (rep.lineno != lineno || rep.seq != seq)
        printf("#   got line %llu, seq %lld: %s\n",
               (unsigned long long)rep.lineno, rep.seq, rep.msg);
    if (msg_part) {
        snprintf(label, sizeof label, "%s: says \"%s\"", name, msg_part);
        has_str(rep.msg, msg_part, label);
    }
    free(path);
}

/* ---- the reader -------------------------------------------------------- */

static void test_reader(void)
{
    static const char text[] = "a\nbb\n\nccc";
    char *path = write_file("lines", text, sizeof text - 1);
    struct ag_audit_reader *r;
    struct ag_audit_line l;
    FILE *f;

    is_int(ag_audit_reader_open(path, &r), 0, "reader: opens");
    is_int(ag_audit_reader_next(r, &l), 1, "reader: first line");
    ok(l.len == 1 && strcmp(l.text, "a") == 0 && l.lineno == 1 &&
           l.offset == 0 && l.complete,
       "reader: \"a\", line 1, offset 0, complete");
    ag_audit_reader_next(r, &l);
    ok(strcmp(l.text, "bb") == 0 && l.lineno == 2 && l.offset == 2,
       "reader: \"bb\" at offset 2");
    ag_audit_reader_next(r, &l);
    ok(l.len == 0 && l.complete && l.lineno == 3, "reader: an empty line");
    is_int(ag_audit_reader_next(r, &l), 1, "reader: the tail is a line");
    ok(strcmp(l.text, "ccc") == 0 && !l.complete && l.offset == 6,
       "reader: the tail without \\n is marked incomplete");
    is_int(ag_audit_reader_next(r, &l), 0, "reader: then the end");
    is_int(ag_audit_reader_offset(r), 9, "reader: all bytes consumed");

    is_int(ag_audit_reader_rewind(r), 0, "reader: rewinds");
    ag_audit_reader_hold(r, 1);
    ag_audit_reader_next(r, &l);
    is_str(l.text, "a", "reader: from the start again");
    ag_audit_reader_next(r, &l);
    ag_audit_reader_next(r, &l);
    is_int(ag_audit_reader_next(r, &l), 0, "hold: an incomplete tail waits");
    f = fopen(path, "ab");
    fputs("d\ne", f);
    fclose(f);
    is_int(ag_audit_reader_next(r, &l), 1, "hold: the rest arrives");
    ok(strcmp(l.text, "cccd") == 0 && l.complete && l.lineno == 4,
       "hold: the whole line, once");
    is_int(ag_audit_reader_next(r, &l), 0, "hold: \"e\" waits in turn");
    ag_audit_reader_free(r);
    ag_audit_reader_free(NULL);
    free(path);

    {
        size_t n = 300000;
        char *big = ag_xmalloc(n + 8);
        memset(big, 'x', n);
        memcpy(big + n, "\n\0y\n", 4);
        path = write_file("big", big, n + 4);
        ag_audit_reader_open(path, &r);
        ag_audit_reader_next(r, &l);
        ok(l.len == n && l.text[n - 1] == 'x' && l.complete,
           "reader: a 300 kB line");
        ag_audit_reader_next(r, &l);
        ok(l.len == 2 && l.text[0] == '\0' && l.text[1] == 'y',
           "reader: a NUL inside a line counts");
        ag_audit_reader_free(r);
        free(path);
        free(big);
    }
    path = ag_xasprintf("%s/missing", tmpdir);
    is_int(ag_audit_reader_open(path, &r), -ENOENT, "reader: -ENOENT");
    ok(r == NULL, "reader: NULL on failure");
    free(path);
}

static void test_rec(void)
{
    struct ag_audit_rec rec;
    char hash[65], ts[32];
    const char *x;
    char *line;

    ts_of(0, ts);
    line = make_line(1, ts, AG_AUDIT_GENESIS, "{\"a\":1}", hash);
    is_int(ag_audit_rec_parse(line, strlen(line) - 1, &rec), 0, "rec: parses");
    ok(rec.seq == 1 && rec.agent == 1 && rec.step == 1, "rec: numbers");
    ok(rec.ts && strcmp(rec.ts, ts) == 0 && strcmp(rec.run, RUN) == 0 &&
           strcmp(rec.type, "tool.call") == 0 &&
           strcmp(rec.prev, AG_AUDIT_GENESIS) == 0 &&
           strcmp(rec.hash, hash) == 0,
       "rec: strings");
    ok(rec.data && ag_json_num(rec.data, "a", 0) == 1, "rec: data");
    ag_audit_rec_free(&rec);
    ok(rec.json == NULL && rec.seq == -1, "rec: freed and emptied");
    free(line);

    is_int(ag_audit_rec_parse("[1]", 3, &rec), AG_EPARSE, "rec: not an object");
    is_int(ag_audit_rec_parse("{\"seq\":1} x", 11, &rec), AG_EPARSE,
           "rec: trailing bytes");
    x = "{\"seq\":2.5,\"step\":-1,\"ts\":3}";
    ag_audit_rec_parse(x, strlen(x), &rec);
    ok(rec.seq == -1 && rec.step == -1 && rec.ts == NULL && !rec.data,
       "rec: fields of the wrong kind are missing");
    ag_audit_rec_free(&rec);
    is_str(ag_audit_fault_name(AG_AUDIT_REORDERED), "reordered", "fault name");
    ok(ag_audit_is_hash(AG_AUDIT_GENESIS) && !ag_audit_is_hash("ABCDEF") &&
           !ag_audit_is_hash(NULL),
       "is_hash");
}

static void test_chain(void)
{
    struct log l;
    struct ag_audit_chain c;
    struct ag_audit_line line;
    char msg[256];
    enum ag_audit_fault f;

    log_make(&l, 3, "chain");
    ag_audit_chain_init(&c);
    is_str(c.head, AG_AUDIT_GENESIS, "chain: starts at genesis");
    for (int i = 0; i < 2; i++) {
        line.text = l.line[i];
        line.len = strlen(l.line[i]) - 1;
        line.lineno = (uint64_t)i + 1;
        line.complete = 1;
        f = ag_audit_chain_add(&c, &line, NULL, msg, sizeof msg);
        is_int(f, AG_AUDIT_OK, "chain: a good record");
    }
    ok(c.records == 2 && c.seq == 2 && strcmp(c.head, l.hash[1]) == 0 &&
           c.lineno == 2,
       "chain: advanced");
    f = ag_audit_chain_add(&c, &line, NULL, msg, sizeof msg); /* again */
    is_int(f, AG_AUDIT_BROKEN, "chain: a record repeated does not follow");
    is_int(c.records, 2, "chain: not advanced by a bad record");
    line.text = l.line[2];
    line.len = strlen(l.line[2]) - 5;
    line.complete = 0;
    f = ag_audit_chain_add(&c, &line, NULL, msg, sizeof msg);
    is_int(f, AG_AUDIT_TORN, "chain: an incomplete line is torn");
    has_str(msg, "a crash while writing?", "chain: torn says why");
    log_free(&l);
}

/* ---- verify: what each kind of tampering looks like -------------------- */

static void test_verify(void)
{
    struct log l, other;
    char h[65], ts[32], *t, *x, *y;

    log_make(&l, 6, "a");
    log_make(&other, 3, "b");

    t = join(l.line[0], l.line[1], l.line[2], l.line[3], l.line[4], l.line[5],
             NULL);
    check("good", t, NULL, AG_AUDIT_OK, 0, -1, NULL);
    check("--head at the end", t, l.hash[5], AG_AUDIT_OK, 0, -1, NULL);
    check("--head earlier", t, l.hash[3], AG_AUDIT_EXTENDED, 0, -1,
          "is line 4 (seq 4), and 2 records follow it");
    check("--head unknown", t, other.hash[0], AG_AUDIT_TRUNCATED, 0, -1,
          "the log ends at");
    {
        char *path = write_file("good.jsonl", t, strlen(t));
        struct ag_audit_report rep;
        ag_audit_verify(path, NULL, &rep);
        ok(rep.records == 6 && strcmp(rep.head, l.hash[5]) == 0,
           "good: 6 records, head is the last hash");
        free(path);
        path = ag_xasprintf("%s/none.jsonl", tmpdir);
        is_int(ag_audit_verify(path, NULL, &rep), -ENOENT,
               "a missing file is an error, not a verdict");
        free(path);
    }
    free(t);
    check("empty", "", NULL, AG_AUDIT_OK, 0, -1, NULL);

    t = join(l.line[0], l.line[1], l.line[2], l.line[3], NULL);
    check("cut at a line boundary, --head", t, l.hash[5], AG_AUDIT_TRUNCATED, 0,
          -1, l.hash[3]);
    free(t);

    /* edited */
    x = ag_xstrdup(l.line[2]);
    *strstr(x, "a 3") = 'z';
    t = join(l.line[0], l.line[1], x, l.line[3], NULL);
    check("value changed", t, NULL, AG_AUDIT_EDITED, 3, 3, "its hash");
    free(t);
    free(x);
    x = ag_xstrdup(l.line[2]);
    y = join("{\"agent\": ", strchr(x, ':') + 1, NULL);
    t = join(l.line[0], l.line[1], y, l.line[3], NULL);
    check("white space added", t, NULL, AG_AUDIT_EDITED, 3, 3,
          "not the canonical JSON of its record (first difference at byte 10)");
    free(t);
    free(y);
    for (char *p = strstr(x, "\"hash\":\"") + 8; *p != '"'; p++)
        if (*p >= 'a' && *p <= 'f')
            *p = (char)(*p - 'a' + 'A');
    t = join(l.line[0], l.line[1], x, NULL);
    check("hash in upper case", t, NULL, AG_AUDIT_EDITED, 3, 3,
          "64 lowercase hex");
    free(t);
    free(x);
    t = join(l.line[0], "not json\n", l.line[1], NULL);
    check("a line that is not JSON", t, NULL, AG_AUDIT_EDITED, 2, -1,
          "not a JSON object");
    free(t);
    ts_of(2, ts);
    x = make_line(3, ts, l.hash[1], "{\"tool\":\"rm\"}", h);
    t = join(l.line[0], l.line[1], x, l.line[3], l.line[4], NULL);
    check("changed and rehashed", t, NULL, AG_AUDIT_EDITED, 3, 3,
          "hash recomputed: the next record (line 4)");
    free(t);
    free(x);
    x = make_line(7, ts, l.hash[2], "{}", h);
    t = join(l.line[0], l.line[1], l.line[2], x, NULL);
    check("seq changed and rehashed", t, NULL, AG_AUDIT_EDITED, 4, 7,
          "seq is 7 but the record links to the one before");
    free(t);
    free(x);
    x = make_line(1, ts, l.hash[4], "{}", h);
    t = join(x, l.line[1], NULL);
    check("first record not at genesis", t, NULL, AG_AUDIT_EDITED, 1, 1,
          "not the genesis value");
    free(t);
    free(x);

    /* deleted */
    t = join(l.line[0], l.line[1], l.line[3], l.line[4], NULL);
    check("one deleted", t, NULL, AG_AUDIT_DELETED, 3, 4,
          "seq 3 is missing: 1 record");
    free(t);
    t = join(l.line[0], l.line[1], l.line[4], l.line[5], NULL);
    check("two deleted", t, NULL, AG_AUDIT_DELETED, 3, 5,
          "seq 3 to 4 are missing: 2 records");
    free(t);
    t = join(l.line[1], l.line[2], NULL);
    check("the first deleted", t, NULL, AG_AUDIT_DELETED, 1, 2,
          "seq 1 is missing");
    free(t);

    /* reordered */
    t = join(l.line[0], l.line[1], l.line[3], l.line[2], l.line[4], NULL);
    check("two swapped", t, NULL, AG_AUDIT_REORDERED, 3, 4,
          "seq 4 comes before seq 3 (line 4)");
    free(t);
    t = join(l.line[0], l.line[2], l.line[3], l.line[4], l.line[1], NULL);
    check("one moved to the end", t, NULL, AG_AUDIT_REORDERED, 2, 3,
          "seq 3 comes before seq 2 (line 5)");
    free(t);
    t = join(l.line[0], l.line[4], l.line[1], l.line[2], l.line[3], NULL);
    check("one moved up", t, NULL, AG_AUDIT_REORDERED, 2, 5,
          "seq 5 comes before seq 2 (line 3)");
    free(t);

    /* inserted */
    t = join(l.line[0], l.line[1], l.line[2], l.line[3], l.line[1], l.line[4],
             NULL);
    check("a copy inserted", t, NULL, AG_AUDIT_INSERTED, 5, 2,
          "a copy of line 2 (seq 2)");
    free(t);
    t = join(l.line[0], l.line[1], l.line[2], l.line[2], l.line[3], NULL);
    check("a record doubled", t, NULL, AG_AUDIT_INSERTED, 4, 3,
          "a copy of line 3");
    free(t);
    t = join(l.line[0], l.line[1], other.line[0], other.line[1], NULL);
    check("two logs joined", t, NULL, AG_AUDIT_INSERTED, 3, 1,
          "a new chain starts here");
    free(t);
    ts_of(3, ts);
    x = make_line(4, ts, other.hash[2], "{\"tool\":\"evil\"}", h);
    t = join(l.line[0], l.line[1], l.line[2], x, l.line[3], l.line[4], NULL);
    check("a foreign record", t, NULL, AG_AUDIT_INSERTED, 4, 4,
          "its prev matches no record before it, and the next record "
          "(line 5) links");
    free(t);
    free(x);
    x = make_line(4, ts, l.hash[2], "{\"tool\":\"evil\"}", h);
    t = join(l.line[0], l.line[1], l.line[2], x, l.line[3], l.line[4], NULL);
    check("a second version of a record", t, NULL, AG_AUDIT_INSERTED, 4, 4,
          "the next line (5) has the same seq and prev");
    free(t);
    free(x);

    /* torn */
    t = join(l.line[0], l.line[1], l.line[2], NULL);
    t[strlen(t) - 20] = '\0';
    check("torn tail", t, NULL, AG_AUDIT_TORN, 3, -1, "the last line (");
    free(t);
    t = join(l.line[0], l.line[1], NULL);
    t[strlen(t) - 1] = '\0';
    check("no newline at the end", t, NULL, AG_AUDIT_TORN, 2, -1,
          "is incomplete; a crash while writing?");
    free(t);
    x = ag_xstrndup(l.line[2], 50);
    t = join(l.line[0], l.line[1], x, l.line[2], l.line[3], NULL);
    check("torn, then written on", t, NULL, AG_AUDIT_TORN, 3, -1,
          "starts with 50 bytes of an incomplete record");
    free(t);
    free(x);

    /* valid hashes, invalid fields */
    ts_of(2, ts);
    x = make_line(3, "2026-01-02 03:04:05Z", l.hash[1], "{}", h);
    t = join(l.line[0], l.line[1], x, NULL);
    check("ts in another format", t, NULL, AG_AUDIT_MALFORMED, 3, 3,
          "ts is not RFC 3339");
    free(t);
    free(x);
    x = make_line(3.5, ts, l.hash[1], "{}", h);
    t = join(l.line[0], l.line[1], x, NULL);
    check("seq not an integer", t, NULL, AG_AUDIT_MALFORMED, 3, -1,
          "seq is missing or not a positive integer");
    free(t);
    free(x);
    x = make_line(3, "2026-01-02T03:04:04.999999Z", l.hash[1], "{}", h);
    t = join(l.line[0], l.line[1], x, NULL);
    check("time going back", t, NULL, AG_AUDIT_TIME, 3, 3,
          "is earlier than the record before (line 2");
    free(t);
    free(x);
    log_free(&l);
    log_free(&other);
}

/* ---- every byte -------------------------------------------------------- */

/* Changes each byte of text in turn, to three other values, and checks
 * that verify fails on the line holding that byte. */
static void sweep(const char *name, const char *text, size_t len)
{
    static const char structural[] = "\"\n \\}{,:0\0aZ";
    char *copy = ag_xmalloc(len + 1), label[128];
    char *path = ag_xasprintf("%s/sweep.jsonl", tmpdir);
    long missed = 0, misplaced = 0, tries = 0;
    uint64_t lineno = 1, lines = 0;
    struct ag_audit_report rep;

    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        unsigned char v[3] = {c ^ 0x01, c ^ 0x20, 0};
        v[2] = (unsigned char)structural[i % (sizeof structural - 1)];
        if (v[2] == c)
            v[2] = (unsigned char)(c ^ 0x80);
        for (int k = 0; k < 3; k++) {
            FILE *f;
            memcpy(copy, text, len);
            copy[i] = (char)v[k];
            f = fopen(path, "wb");
            fwrite(copy, 1, len, f);
            fclose(f);
            tries++;
            if (ag_audit_verify(path, NULL, &rep) != 0 ||
                rep.fault == AG_AUDIT_OK) {
                if (missed++ < 5)
                    printf("# %s: byte %zu changed to 0x%02x not caught\n",
                           name, i, v[k]);
            } else if (rep.lineno != lineno ||
                       (rep.fault != AG_AUDIT_EDITED &&
                        !(rep.fault == AG_AUDIT_TORN && lineno == lines))) {
                if (misplaced++ < 5)
                    printf("# %s: byte %zu (line %llu) to 0x%02x: line %llu, "
                           "%s: %s\n",
                           name, i, (unsigned long long)lineno, v[k],
                           (unsigned long long)rep.lineno,
                           ag_audit_fault_name(rep.fault), rep.msg);
            }
        }
        lineno += c == '\n';
    }
    free(write_file("sweep.jsonl", text, len));
    ag_audit_verify(path, NULL, &rep);
    snprintf(label, sizeof label, "%s: the log itself verifies", name);
    is_int(rep.fault, AG_AUDIT_OK, label);
    snprintf(label, sizeof label, "%s: all %ld one-byte changes caught", name,
             tries);
    is_int(missed, 0, label);
    snprintf(label, sizeof label,
             "%s: each one named on its own line, as edited (torn: the "
             "last newline)",
             name);
    is_int(misplaced, 0, label);
    free(copy);
    free(path);
}

static void test_sweeps(void)
{
    const char *src = getenv("SRCDIR");
    char *path = ag_xasprintf("%s/tests/data/audit/hello.jsonl",
                              src && *src ? src : ".");
    char *text, *made, h1[65], h2[65], h3[65], ts[32];
    size_t len;
    struct log l;

    if (ag_read_file(path, 1u << 20, &text, &len) < 0) {
        printf("Bail out! cannot read %s\n", path);
        exit(99);
    }
    sweep("hello.jsonl", text, len);
    free(text);
    free(path);

    ts_of(1, ts);
    log_make(&l, 1, "x");
    {
        char *a =
            make_line(2, ts, l.hash[0],
                      "{\"s\":\"q\\\"b\\\\s\\n\\t\\u0001 é ✓ \\ud83d\\ude00\","
                      "\"n\":[-1.5,1e-7,0,12345678901234,3.14159],"
                      "\"o\":{\"\":null,\"t\":true,\"f\":false,\"e\":[]},"
                      "\"z\":\"\"}",
                      h1);
        char *b = make_line(3, ts, h1,
                            "{\"x\":{\"sha256\":\"00ff\",\"bytes\":3}}", h2);
        char *c = make_line(4, ts, h2, "{}", h3);
        made = join(l.line[0], a, b, c, NULL);
        free(a);
        free(b);
        free(c);
    }
    sweep("escapes, Unicode, numbers", made, strlen(made));
    free(made);
    log_free(&l);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");

    snprintf(tmpdir, sizeof tmpdir, "%s/test-audit.XXXXXX",
             tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(tmpdir)) {
        printf("Bail out! mkdtemp: %s\n", strerror(errno));
        return 99;
    }
    test_reader();
    test_rec();
    test_chain();
    test_verify();
    test_sweeps();
    {
        static const char *const files[] = {"lines", "big", "check.jsonl",
                                            "good.jsonl", "sweep.jsonl"};
        for (size_t i = 0; i < AG_ARRAY_SIZE(files); i++) {
            char *p = ag_xasprintf("%s/%s", tmpdir, files[i]);
            unlink(p);
            free(p);
        }
        if (rmdir(tmpdir) != 0)
            tap_diag("could not remove the temporary directory");
    }
    return tap_done();
}
