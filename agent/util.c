/*
 * util.c: error messages, logging for people, clocks, allocation that
 * aborts on failure, and reading a file whole. Logging goes to stderr with a
 * level prefix; it is for humans and never carries secrets or audit records.
 */
#include "ag.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static const char *const errmsgs[] = {
#define XX(code, msg) msg,
    AG_ERRNO_MAP(XX)
#undef XX
};

const char *ag_strerror(int err)
{
    if (err > AG__ERRBASE && err < AG__ERRMAX)
        return errmsgs[err - AG__ERRBASE - 1];
    if (err < 0 && err > -4096)
        return strerror(-err);
    if (err == 0)
        return "success";
    return "unknown error";
}

static enum ag_log_level log_level = AG_LOG_WARN;

void ag_log_set_level(enum ag_log_level lvl)
{
    log_level = lvl;
}

enum ag_log_level ag_log_get_level(void)
{
    return log_level;
}

void ag_log(enum ag_log_level lvl, const char *fmt, ...)
{
    static const char *const names[] = {"error", "warning", "info", "debug"};
    char line[2048];
    va_list ap;
    int n;

    if (lvl > log_level)
        return;
    n = snprintf(line, sizeof line, "agent: %s: ", names[lvl]);
    va_start(ap, fmt);
    vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    fprintf(stderr, "%s\n", line);
}

uint64_t ag_now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t ag_now_us(void)
{
    return ag_now_ns() / 1000u;
}

uint64_t ag_wall_us(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void oom(size_t n)
{
    fprintf(stderr, "agent: out of memory (%zu bytes)\n", n);
    abort();
}

void *ag_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);

    if (!p)
        oom(n);
    return p;
}

void *ag_xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size ? size : 1);

    if (!p)
        oom(n * size);
    return p;
}

void *ag_xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

char *ag_xstrdup(const char *s)
{
    return ag_xstrndup(s, strlen(s));
}

char *ag_xstrndup(const char *s, size_t n)
{
    char *p = ag_xmalloc(n + 1);

    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *ag_xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *p;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        oom(0);
    p = ag_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(p, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return p;
}

int ag_read_file(const char *path, size_t max, char **out, size_t *len)
{
    struct ag_buf b;
    char chunk[8192];
    FILE *f;
    size_t n;
    int rc = 0;

    *out = NULL;
    if (!(f = fopen(path, "rb")))
        return -errno;
    ag_buf_init(&b, max);
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        if ((rc = ag_buf_add(&b, chunk, n)) < 0)
            break;
    if (!rc && ferror(f))
        rc = -EIO;
    fclose(f);
    if (rc < 0) {
        ag_buf_free(&b);
        return rc;
    }
    if (len)
        *len = b.len;
    *out = ag_buf_steal(&b);
    return 0;
}

void ag_new_id(char out[33])
{
    unsigned char r[16];

    if (getrandom(r, sizeof r, 0) != (ssize_t)sizeof r) {
        uint64_t t = ag_wall_us() ^ (ag_now_ns() << 7) ^ (uint64_t)getpid();
        for (int i = 0; i < 16; i++)
            r[i] = (unsigned char)((t >> (8 * (i % 8))) ^ (unsigned)i * 131u);
    }
    for (int i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", r[i]);
}

void ag_seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

int ag_utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0], lo = 0x80, hi = 0xBF;
    int need;

    if (c < 0x80)
        return 1;
    if (c < 0xC2 || c > 0xF4)
        return -1;
    need = c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    for (int i = 1; i <= need; i++) {
        if ((size_t)i >= n || s[i] < lo || s[i] > hi)
            return -i;
        lo = 0x80;
        hi = 0xBF;
    }
    return need + 1;
}

int ag_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    int k;

    for (size_t i = 0; i < n; i += (size_t)k)
        if ((k = ag_utf8_seq(p + i, n - i)) < 0)
            return 0;
    return 1;
}

int ag_write_file(const char *path, const char *data, size_t n)
{
    char *tmp = ag_xasprintf("%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    int rc = 0;

    if (!f) {
        rc = -errno;
        free(tmp);
        return rc;
    }
    if (fwrite(data, 1, n, f) != n || fflush(f) != 0)
        rc = errno ? -errno : -EIO;
    if (fclose(f) != 0 && !rc)
        rc = -errno;
    if (!rc && rename(tmp, path) != 0)
        rc = -errno;
    if (rc)
        unlink(tmp);
    free(tmp);
    return rc;
}

int ag_is_known(const char *key, const char *const *known)
{
    for (; *known; known++)
        if (strcmp(key, *known) == 0)
            return 1;
    return 0;
}

#define WORD_MAX 32 /* longer words get no suggestion */

static int distance(const char *a, const char *b)
{
    int d[WORD_MAX + 1][WORD_MAX + 1];
    size_t la = strlen(a), lb = strlen(b), i, j;

    if (la > WORD_MAX || lb > WORD_MAX)
        return WORD_MAX;
    for (i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (i = 1; i <= la; i++) {
        for (j = 1; j <= lb; j++) {
            int v = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < v)
                v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[la][lb];
}

const char *ag_suggest(const char *key, const char *const *known)
{
    const char *best = NULL;
    int bestd = 3;

    for (; *known; known++) {
        int d = distance(key, *known);
        if (d < bestd && d * 3 <= (int)strlen(key)) {
            bestd = d;
            best = *known;
        }
    }
    return best;
}
