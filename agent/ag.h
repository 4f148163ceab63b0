/*
 * ag.h: the few things every module of agent shares: error codes, the
 * bounded byte buffer, logging for people, and the clock.
 *
 * Errors: functions return int, 0 on success and a negative code on failure:
 * -errno where one fits, otherwise one of the AG_E* codes below. ag_strerror()
 * turns either kind into a message.
 *
 * Buffers: every buffer fed by the network or by a child process is created
 * with a maximum size (after curl's dynbuf); appending past it fails with
 * AG_ETOOBIG and leaves the contents as they were.
 */
#ifndef AG_H
#define AG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* Project error codes. Values start well above any errno. */
#define AG_ERRNO_MAP(XX)                                                       \
    XX(ETOOBIG, "size limit exceeded")                                         \
    XX(EPARSE, "malformed input")                                              \
    XX(ETRUNC, "truncated input")                                              \
    XX(EPROTO, "protocol error")                                               \
    XX(EHTTP, "HTTP error status")                                             \
    XX(ETIMEOUT, "timed out")                                                  \
    XX(ECONNECT, "cannot reach endpoint")                                      \
    XX(ESCHEMA, "value does not match schema")                                 \
    XX(ETASK, "invalid task file")                                             \
    XX(ETOOL, "tool failed")                                                   \
    XX(ECANCEL, "cancelled")                                                   \
    XX(ELUA, "Lua error")                                                      \
    XX(ENOTFOUND, "not found")                                                 \
    XX(EPOLICY, "refused by policy")

enum {
    AG__ERRBASE = -10000,
#define XX(code, _) AG_##code,
    AG_ERRNO_MAP(XX)
#undef XX
        AG__ERRMAX
};

/* Returns a static message for a negative code (project code or -errno). */
const char *ag_strerror(int err);

/* ---- bounded buffer ---------------------------------------------------- */

struct ag_buf {
    char *data; /* NUL-terminated when len > 0 or after ag_buf_cstr() */
    size_t len;
    size_t cap;
    size_t max; /* appends that would pass max fail with AG_ETOOBIG */
};

/* Initialises an empty buffer; nothing is allocated until the first append. */
void ag_buf_init(struct ag_buf *b, size_t max);
/* Frees the contents; the buffer can be used again (same max). */
void ag_buf_free(struct ag_buf *b);
/* Empties the buffer, keeping its allocation. */
void ag_buf_reset(struct ag_buf *b);
/* Copies n bytes in. Returns 0, AG_ETOOBIG or -ENOMEM. */
int ag_buf_add(struct ag_buf *b, const void *p, size_t n);
int ag_buf_adds(struct ag_buf *b, const char *s);
int ag_buf_addc(struct ag_buf *b, char c);
int ag_buf_printf(struct ag_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends s as the body of a JSON string (quotes not included). */
int ag_buf_add_json_str(struct ag_buf *b, const char *s, size_t n);
/* Drops the first n bytes. */
void ag_buf_consume(struct ag_buf *b, size_t n);
/* Returns the contents as a C string (never NULL; "" when empty). */
const char *ag_buf_cstr(struct ag_buf *b);
/* Hands the allocation to the caller (free() it); the buffer is left empty.
 * Never NULL: an empty buffer yields a fresh "". */
char *ag_buf_steal(struct ag_buf *b);

/* ---- logging for people (never secrets; the audit log is separate) ----- */

enum ag_log_level { AG_LOG_ERROR, AG_LOG_WARN, AG_LOG_INFO, AG_LOG_DEBUG };

/* Process-wide threshold; messages above it are dropped. Default WARN. */
void ag_log_set_level(enum ag_log_level lvl);
enum ag_log_level ag_log_get_level(void);
void ag_log(enum ag_log_level lvl, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
#define ag_error(...) ag_log(AG_LOG_ERROR, __VA_ARGS__)
#define ag_warn(...)  ag_log(AG_LOG_WARN, __VA_ARGS__)
#define ag_info(...)  ag_log(AG_LOG_INFO, __VA_ARGS__)
#define ag_debug(...) ag_log(AG_LOG_DEBUG, __VA_ARGS__)

/* ---- small helpers ----------------------------------------------------- */

/* Monotonic clock in microseconds and nanoseconds. */
uint64_t ag_now_us(void);
uint64_t ag_now_ns(void);
/* Wall clock in microseconds since the epoch. */
uint64_t ag_wall_us(void);

/* Allocation that aborts with a message on failure; for small fixed-size
 * structures where running out of memory cannot be handled meaningfully. */
void *ag_xmalloc(size_t n);
void *ag_xcalloc(size_t n, size_t size);
void *ag_xrealloc(void *p, size_t n);
char *ag_xstrdup(const char *s);
char *ag_xstrndup(const char *s, size_t n);
char *ag_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* A new random identifier: 32 hex digits and a NUL (128 bits from
 * getrandom, or from the clocks and pid if that fails). */
void ag_new_id(char out[33]);

/* Reads a whole file (at most max bytes). Returns 0 and a malloc'd,
 * NUL-terminated buffer in *out (length in *len if len is not NULL). */
int ag_read_file(const char *path, size_t max, char **out, size_t *len);

/* Formats a message into err (errlen bytes) when err is not NULL and
 * errlen is not 0: for functions that report why they failed. */
void ag_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* UTF-8: the length of the valid sequence at s (n > 0 bytes left), or
 * minus the length of the maximal invalid prefix that one U+FFFD replaces
 * (Unicode 3.9): overlong forms, surrogates and code points past U+10FFFF
 * are invalid. ag_utf8_valid: 1 when all n bytes are valid UTF-8. */
int ag_utf8_seq(const unsigned char *s, size_t n);
int ag_utf8_valid(const char *s, size_t n);

/* Writes n bytes to path whole or not at all: into "path.tmp", then
 * renamed over path, so a full disk leaves the old file (or none), never a
 * cut one. Returns 0 or a negative errno. */
int ag_write_file(const char *path, const char *data, size_t n);

/* For "did you mean": whether key is among known (NULL-terminated), and the
 * known word closest to key by edit distance with adjacent transpositions
 * ("gaol" is 1 from "goal"), at most 2 and at most a third of key's length
 * (no guess for "x"), or NULL. */
int ag_is_known(const char *key, const char *const *known);
const char *ag_suggest(const char *key, const char *const *known);

#define AG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define AG_UNUSED(x)     ((void)(x))

#endif
