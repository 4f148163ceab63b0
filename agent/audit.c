/*
 * audit.c: the hash-chained audit writer (the format is in audit.h).
 *
 * Records are built in memory (canonical JSON, hash over prev and the
 * record) and appended to a buffer; libuv's file operations write the
 * buffer from its thread pool, so the loop never waits on the disk. Two
 * buffers take turns: while one is being written, records go into the
 * other. After each write the file is synced when the policy asks, then the
 * barriers waiting for those records are released (group commit: one write
 * and one sync serve every agent that waited).
 *
 * SHA-256 comes from OpenSSL's libcrypto: a well-kept implementation, not
 * a hand-written one.
 */
#include "audit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "json.h"

#define TAIL_MAX (1u << 20)   /* the longest record a torn tail may follow */
#define FLUSH_AT (256u << 10) /* a buffer this full is written at once */

struct waiter {
    struct waiter *next;
    unsigned long long seq; /* released once this record is safe */
    struct ag_agent *agent;
    void (*resume)(struct ag_agent *a);
};

struct ag_audit {
    uv_loop_t *loop;
    int fd;
    char *path;
    struct ag_audit_cfg cfg;
    const struct ag_redactor *redact;
    unsigned long long seq;  /* of the last record made */
    unsigned long long safe; /* records up to here are written (synced) */
    char prev[65];
    uint64_t last_us; /* ts never goes backwards */

    struct ag_buf buf[2]; /* filling, and being written */
    int filling;
    unsigned long long buf_last[2]; /* seq of the last record in each */
    int writing;                    /* a write or sync is in flight */
    size_t written;                 /* bytes of the in-flight buffer done */
    uv_fs_t req;
    uv_buf_t iov;

    struct waiter *waiters;
    int failed; /* a write failed: reported once, the run goes on */
    int err;
    char torn_note[160]; /* the repair made at open, for the first record */
    size_t torn_bytes;
};

void ag_sha256_hex(const void *p, size_t n, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;

    EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
    for (unsigned i = 0; i < 32; i++) {
        out[2 * i] = hex[md[i] >> 4];
        out[2 * i + 1] = hex[md[i] & 15];
    }
    out[64] = '\0';
}

int ag_file_sha256(const char *path, char out[65])
{
    char *data;
    size_t n;
    int rc;

    if ((rc = ag_read_file(path, (size_t)-1 / 4, &data, &n)) < 0)
        return rc;
    ag_sha256_hex(data, n, out);
    free(data);
    return 0;
}

int ag_audit_parse_content(const char *s, struct ag_audit_cfg *cfg)
{
    char *end;
    long n;

    if (strcmp(s, "full") == 0) {
        cfg->content = AG_CONTENT_FULL;
        return 0;
    }
    if (strcmp(s, "hash") == 0) {
        cfg->content = AG_CONTENT_HASH;
        return 0;
    }
    if (strncmp(s, "truncate:", 9) == 0) {
        n = strtol(s + 9, &end, 10);
        if (end != s + 9 && !*end && n > 0) {
            cfg->content = AG_CONTENT_TRUNCATE;
            cfg->truncate = (size_t)n;
            return 0;
        }
    }
    return -EINVAL;
}

int ag_audit_parse_fsync(const char *s, struct ag_audit_cfg *cfg)
{
    if (strcmp(s, "step") == 0)
        cfg->fsync = AG_FSYNC_STEP;
    else if (strcmp(s, "always") == 0)
        cfg->fsync = AG_FSYNC_ALWAYS;
    else if (strcmp(s, "never") == 0)
        cfg->fsync = AG_FSYNC_NEVER;
    else
        return -EINVAL;
    return 0;
}

/* ---- opening: continue the chain, repair a torn tail ------------------- */

static int read_tail(struct ag_audit *a, char *err, size_t errlen)
{
    struct stat st;
    size_t n, keep;
    char *tail, *nl;
    off_t from;
    ssize_t got;
    cJSON *rec;

    if (fstat(a->fd, &st) < 0 || st.st_size == 0)
        return 0;
    n = (size_t)st.st_size < TAIL_MAX ? (size_t)st.st_size : TAIL_MAX;
    from = st.st_size - (off_t)n;
    tail = ag_xmalloc(n + 1);
    got = pread(a->fd, tail, n, from);
    if (got != (ssize_t)n) {
        free(tail);
        snprintf(err, errlen, "%s: cannot read the log's end", a->path);
        return -EIO;
    }
    tail[n] = '\0';
    /* bytes after the last newline are a torn record */
    nl = memrchr(tail, '\n', n);
    keep = nl ? (size_t)(nl - tail) + 1 : 0;
    if (keep < n) {
        if (!nl && from > 0) {
            free(tail);
            snprintf(err, errlen,
                     "%s: the last line is longer than %u bytes; not a log?",
                     a->path, TAIL_MAX);
            return AG_EPARSE;
        }
        if (ftruncate(a->fd, from + (off_t)keep) < 0) {
            int rc = -errno;
            free(tail);
            snprintf(err, errlen, "%s: cannot cut the torn last line: %s",
                     a->path, strerror(-rc));
            return rc;
        }
        a->torn_bytes = n - keep;
    }
    if (keep > 0) {
        char *start;
        tail[keep - 1] = '\0';
        start = memrchr(tail, '\n', keep - 1);
        start = start ? start + 1 : tail;
        rec = cJSON_Parse(start);
        if (!rec || !ag_json_str(rec, "hash") ||
            strlen(ag_json_str(rec, "hash")) != 64) {
            cJSON_Delete(rec);
            free(tail);
            snprintf(err, errlen,
                     "%s: the last record is not an audit record (run "
                     "`agent audit verify %s`)",
                     a->path, a->path);
            return AG_EPARSE;
        }
        memcpy(a->prev, ag_json_str(rec, "hash"), 65);
        a->seq = (unsigned long long)ag_json_num(rec, "seq", 0);
        cJSON_Delete(rec);
    }
    free(tail);
    return 0;
}

int ag_audit_open(uv_loop_t *loop, const char *path,
                  const struct ag_audit_cfg *cfg,
                  const struct ag_redactor *redact, struct ag_audit **out,
                  char *err, size_t errlen)
{
    struct ag_audit *a = ag_xcalloc(1, sizeof *a);
    int rc;

    *out = NULL;
    a->loop = loop;
    a->redact = redact;
    if (cfg)
        a->cfg = *cfg;
    a->path = ag_xstrdup(path);
    memcpy(a->prev, AG_AUDIT_GENESIS, 65);
    ag_buf_init(&a->buf[0], (size_t)-1 / 4);
    ag_buf_init(&a->buf[1], (size_t)-1 / 4);
    a->fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (a->fd < 0) {
        rc = -errno;
        snprintf(err, errlen, "%s: %s", path, strerror(-rc));
        free(a->path);
        free(a);
        return rc;
    }
    if ((rc = read_tail(a, err, errlen)) < 0) {
        close(a->fd);
        free(a->path);
        free(a);
        return rc;
    }
    a->safe = a->seq;
    *out = a;
    if (a->torn_bytes) {
        cJSON *d = cJSON_CreateObject();
        cJSON_AddStringToObject(d, "what", "torn tail");
        cJSON_AddNumberToObject(d, "bytes", (double)a->torn_bytes);
        cJSON_AddStringToObject(
            d, "message",
            "the log ended in an incomplete record (a crash while writing?); "
            "its bytes were cut and the chain goes on from the last whole "
            "record");
        ag_audit_write(a, AG_AUDIT_NO_RUN, 0, 0, "error", d);
    }
    return 0;
}

/* ---- records ----------------------------------------------------------- */

/* A string that is not valid UTF-8 (a page in another charset, bytes from
 * a tool) gets U+FFFD for each bad byte: a log line must be valid JSON,
 * readable by any tool that reads UTF-8. Returns NULL when s is fine. */
static char *utf8_fix(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), i = 0;
    int k;
    struct ag_buf b;

    while (i < n) { /* ASCII, the common case, without a call */
        if (p[i] < 0x80)
            i++;
        else if ((k = ag_utf8_seq(p + i, n - i)) > 0)
            i += (size_t)k;
        else
            break;
    }
    if (i == n)
        return NULL;
    ag_buf_init(&b, (size_t)-1 / 4);
    ag_buf_add(&b, s, i);
    while (i < n) {
        if ((k = ag_utf8_seq(p + i, n - i)) > 0) {
            ag_buf_add(&b, s + i, (size_t)k);
            i += (size_t)k;
        } else {
            ag_buf_adds(&b, "\xEF\xBF\xBD");
            i++;
        }
    }
    return ag_buf_steal(&b);
}

/* Redacts secrets and repairs invalid UTF-8 in every string of v. */
static void clean_tree(const struct ag_redactor *r, cJSON *v)
{
    if (cJSON_IsString(v) && v->valuestring) {
        char *fixed = utf8_fix(v->valuestring);
        if (fixed) {
            cJSON_SetValuestring(v, fixed);
            free(fixed);
        }
        if (r && r->n &&
            ag_redact_needed(r, v->valuestring, strlen(v->valuestring))) {
            char *s = ag_redact(r, v->valuestring, strlen(v->valuestring));
            cJSON_SetValuestring(v, s);
            free(s);
        }
    }
    for (cJSON *c = v ? v->child : NULL; c; c = c->next)
        clean_tree(r, c);
}

static void timestamp(struct ag_audit *a, char *out, size_t n)
{
    uint64_t us = ag_wall_us();
    struct tm tm;
    time_t secs;
    size_t k;

    if (us < a->last_us)
        us = a->last_us;
    a->last_us = us;
    secs = (time_t)(us / 1000000);
    gmtime_r(&secs, &tm);
    k = strftime(out, n, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + k, n - k, ".%06uZ", (unsigned)(us % 1000000));
}

static void flush(struct ag_audit *a);

int ag_audit_write(struct ag_audit *a, const char *run, unsigned agent,
                   int step, const char *type, cJSON *data)
{
    struct ag_buf *b = &a->buf[a->filling];
    struct ag_buf head, tail;
    char ts[64], hash[65], seq[32];
    size_t mark = b->len, dlen;
    int rc = 0;

    if (a->failed) { /* the trail is broken already: say it once, at the end */
        cJSON_Delete(data);
        return a->err ? a->err : -EIO;
    }
    if (!data)
        data = cJSON_CreateObject();
    clean_tree(a->redact, data);
    timestamp(a, ts, sizeof ts);
    snprintf(seq, sizeof seq, "%llu", a->seq + 1);

    /* The canonical record without its hash is
     *   {"agent":A,"data":D,"prev":P,"run":R,"seq":S,"step":T,"ts":X,
     *    "type":Y}
     * and the line is the same with "hash":H between data and prev (keys
     * sorted), so data is serialised once and spliced into both. */
    ag_buf_init(&head, (size_t)-1 / 4);
    ag_buf_init(&tail, 4096);
    ag_buf_printf(&head, "%s{\"agent\":%u,\"data\":", a->prev, agent);
    rc = ag_json_canonical(data, &head);
    dlen = head.len;
    ag_buf_printf(&tail, ",\"prev\":\"%s\",\"run\":\"%s\",\"seq\":%s,", a->prev,
                  run ? run : AG_AUDIT_NO_RUN, seq);
    ag_buf_printf(&tail, "\"step\":%d,\"ts\":\"%s\",\"type\":\"", step, ts);
    ag_buf_add_json_str(&tail, type, strlen(type));
    ag_buf_adds(&tail, "\"}");
    if (rc == 0 && (rc = ag_buf_add(&head, tail.data, tail.len)) == 0) {
        ag_sha256_hex(head.data, head.len, hash);
        /* the line: head without prev, the hash, the tail */
        rc = ag_buf_add(b, head.data + 64, dlen - 64);
        if (!rc)
            rc = ag_buf_printf(b, ",\"hash\":\"%s\"", hash);
        if (!rc)
            rc = ag_buf_add(b, tail.data, tail.len);
        if (!rc)
            rc = ag_buf_addc(b, '\n');
    }
    ag_buf_free(&head);
    ag_buf_free(&tail);
    cJSON_Delete(data);
    if (rc < 0) {
        b->len = mark;
        if (!a->failed) {
            a->failed = 1;
            a->err = rc;
            ag_error("audit log %s: cannot make a record: %s", a->path,
                     ag_strerror(rc));
        }
        return rc;
    }
    memcpy(a->prev, hash, 65);
    a->seq++;
    a->buf_last[a->filling] = a->seq;
    if (a->cfg.fsync == AG_FSYNC_ALWAYS || b->len >= FLUSH_AT)
        flush(a);
    return 0;
}

void ag_audit_add_content(struct ag_audit *a, cJSON *obj, const char *key,
                          const char *s, size_t n)
{
    char *red = NULL;

    if (!s)
        return;
    /* secrets go first: a hash of a secret would let it be guessed */
    if (a->redact && ag_redact_needed(a->redact, s, n)) {
        red = ag_redact(a->redact, s, n);
        s = red;
        n = strlen(red);
    }
    if (a->cfg.content == AG_CONTENT_HASH) {
        cJSON *h = cJSON_AddObjectToObject(obj, key);
        char hex[65];
        ag_sha256_hex(s, n, hex);
        cJSON_AddStringToObject(h, "sha256", hex);
        cJSON_AddNumberToObject(h, "bytes", (double)n);
    } else if (a->cfg.content == AG_CONTENT_TRUNCATE && n > a->cfg.truncate) {
        size_t k = a->cfg.truncate;
        char *t;
        while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
            k--; /* do not cut a UTF-8 sequence */
        t = ag_xasprintf("%.*s [+%zu bytes]", (int)k, s, n - k);
        cJSON_AddStringToObject(obj, key, t);
        free(t);
    } else {
        char *t = ag_xstrndup(s, n);
        cJSON_AddStringToObject(obj, key, t);
        free(t);
    }
    free(red);
}

/* ---- writing on the thread pool ---------------------------------------- */

static void release(struct ag_audit *a)
{
    struct waiter **pp = &a->waiters;

    while (*pp) {
        struct waiter *w = *pp;
        if (w->seq <= a->safe || a->failed) {
            *pp = w->next;
            w->resume(w->agent);
            free(w);
        } else {
            pp = &w->next;
        }
    }
}

static void write_failed(struct ag_audit *a, int err)
{
    if (!a->failed) {
        a->failed = 1;
        a->err = err;
        ag_error("audit log %s: write failed: %s; no more records are "
                 "written to it",
                 a->path, uv_strerror(err));
    }
}

static void on_synced(uv_fs_t *req)
{
    struct ag_audit *a = req->data;

    if (req->result < 0)
        write_failed(a, (int)req->result);
    uv_fs_req_cleanup(req);
    a->writing = 0;
    a->safe = a->buf_last[!a->filling];
    ag_buf_reset(&a->buf[!a->filling]);
    release(a);
    if (a->buf[a->filling].len &&
        (a->waiters || a->cfg.fsync == AG_FSYNC_ALWAYS ||
         a->buf[a->filling].len >= FLUSH_AT))
        flush(a);
}

static void on_written(uv_fs_t *req)
{
    struct ag_audit *a = req->data;
    struct ag_buf *b = &a->buf[!a->filling];
    ssize_t n = req->result;

    uv_fs_req_cleanup(req);
    if (n < 0) {
        write_failed(a, (int)n);
        on_synced(req);
        return;
    }
    a->written += (size_t)n;
    if (a->written < b->len) { /* a short write: the rest */
        a->iov =
            uv_buf_init(b->data + a->written, (unsigned)(b->len - a->written));
        uv_fs_write(a->loop, &a->req, a->fd, &a->iov, 1, -1, on_written);
        return;
    }
    if (a->cfg.fsync == AG_FSYNC_NEVER) {
        req->result = 0;
        on_synced(req);
        return;
    }
    uv_fs_fdatasync(a->loop, &a->req, a->fd, on_synced);
}

static void flush(struct ag_audit *a)
{
    struct ag_buf *b;

    if (a->writing || a->failed || a->buf[a->filling].len == 0)
        return;
    a->writing = 1;
    a->filling = !a->filling; /* new records go to the other buffer */
    b = &a->buf[!a->filling];
    a->written = 0;
    a->req.data = a;
    a->iov = uv_buf_init(b->data, (unsigned)b->len);
    uv_fs_write(a->loop, &a->req, a->fd, &a->iov, 1, -1, on_written);
}

int ag_audit_barrier(void *ud, struct ag_agent *agent,
                     void (*resume)(struct ag_agent *a))
{
    struct ag_audit *a = ud;
    struct waiter *w;

    if (a->failed || a->safe >= a->seq)
        return 0;
    if (a->cfg.fsync == AG_FSYNC_NEVER) {
        /* no promise to keep: write in the background, do not wait */
        flush(a);
        return 0;
    }
    w = ag_xcalloc(1, sizeof *w);
    w->seq = a->seq;
    w->agent = agent;
    w->resume = resume;
    w->next = a->waiters;
    a->waiters = w;
    flush(a);
    return 1;
}

const char *ag_audit_head(const struct ag_audit *a)
{
    return a->prev;
}

int ag_audit_close(struct ag_audit *a)
{
    int rc;

    if (!a)
        return 0;
    /* Called once the loop has stopped, so no write is in flight; what is
     * left is written here, synchronously. */
    for (int i = 0; i < 2; i++) {
        struct ag_buf *b = &a->buf[a->filling ^ i ^ 1];
        size_t off = 0;
        while (!a->failed && off < b->len) {
            ssize_t n = write(a->fd, b->data + off, b->len - off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                write_failed(a, n < 0 ? -errno : -EIO);
                break;
            }
            off += (size_t)n;
        }
        ag_buf_free(b);
    }
    if (!a->failed && a->cfg.fsync != AG_FSYNC_NEVER && fdatasync(a->fd) < 0)
        write_failed(a, -errno);
    if (close(a->fd) < 0 && !a->failed)
        write_failed(a, -errno);
    rc = a->failed ? (a->err ? a->err : -EIO) : 0;
    while (a->waiters) {
        struct waiter *w = a->waiters;
        a->waiters = w->next;
        free(w);
    }
    free(a->path);
    free(a);
    return rc;
}
