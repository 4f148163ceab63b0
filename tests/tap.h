/*
 * tap.h: a tiny Test Anything Protocol emitter for the unit tests. Each
 * check prints "ok N - name" or "not ok N - name" plus a diagnostic, and
 * tap_done() prints the plan and returns the exit status. automake's TAP
 * driver counts every check, so `make check` reports real per-case results.
 *
 *   int main(void) { is_int(1 + 1, 2, "adds"); return tap_done(); }
 */
#ifndef AG_TAP_H
#define AG_TAP_H

#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline int tap_ok(int cond, const char *file, int line, const char *name)
{
    ++tap_n;
    printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, name);
    if (!cond) {
        tap_failed++;
        printf("#   failed at %s:%d\n", file, line);
    }
    fflush(stdout);
    return cond;
}

#define ok(cond, name) tap_ok(!!(cond), __FILE__, __LINE__, (name))

#define is_int(got, want, name)                                                \
    do {                                                                       \
        long long g_ = (long long)(got), w_ = (long long)(want);               \
        if (!tap_ok(g_ == w_, __FILE__, __LINE__, (name)))                     \
            printf("#   got %lld, want %lld\n", g_, w_);                       \
    } while (0)

#define is_str(got, want, name)                                                \
    do {                                                                       \
        const char *g_ = (got), *w_ = (want);                                  \
        int eq_ = (g_ && w_) ? strcmp(g_, w_) == 0 : g_ == w_;                 \
        if (!tap_ok(eq_, __FILE__, __LINE__, (name)))                          \
            printf("#   got  \"%s\"\n#   want \"%s\"\n", g_ ? g_ : "(null)",   \
                   w_ ? w_ : "(null)");                                        \
    } while (0)

/* Passes when needle occurs in haystack. */
#define has_str(hay, needle, name)                                             \
    do {                                                                       \
        const char *h_ = (hay), *n_ = (needle);                                \
        if (!tap_ok(h_ && strstr(h_, n_) != NULL, __FILE__, __LINE__, (name))) \
            printf("#   \"%s\"\n#   does not contain \"%s\"\n",                \
                   h_ ? h_ : "(null)", n_);                                    \
    } while (0)

static inline void tap_diag(const char *msg)
{
    printf("# %s\n", msg);
}

static inline int tap_done(void)
{
    printf("1..%d\n", tap_n);
    return 0; /* failures are reported per case through TAP */
}

#endif
