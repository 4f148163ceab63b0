/*
 * fuzz-main.c: a standalone driver for the fuzz targets, used when the
 * build is not with libFuzzer. It is linked with one target (fuzz-sse.c,
 * fuzz-ipc.c...), which defines LLVMFuzzerTestOneInput and names its corpus
 * in fuzz_corpus_name.
 *
 * Without arguments it runs the target on every file of
 * $SRCDIR/tests/data/fuzz-<name>/ (names starting with '.' are skipped),
 * then on FUZZ_RUNS (default 20000) inputs made by a deterministic PRNG with
 * a fixed seed that mutates those files: bit flips, byte inserts, overwrites
 * and deletes, splices from other seeds, repeated chunks, big-endian
 * integers, and random lengths up to 4 KiB. It prints TAP: one result for
 * the corpus pass and one for the random pass. Every input is handed over in
 * an exact-size heap copy so that ASan sees reads past its end.
 *
 * With arguments it runs the target on those files only, to reproduce a
 * crash. A crash or an abort kills the process, which the test harness
 * reports as a failure; before dying the driver prints which input it was
 * on (a signal handler, and the sanitizers' death callback when present),
 * and since the inputs are deterministic, FUZZ_RUNS=<n+1> reproduces it.
 */
#include "ag.h"

#include "tap.h"

#include <dirent.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define INPUT_MAX 4096       /* largest generated input */
#define SEED_MAX  (1u << 20) /* largest corpus file read */
#define SEED      0x5eed5eedf00dULL

extern const char *fuzz_corpus_name;
/* A module may name a second folder under tests/data whose files are seeds
 * too (the HTML module: the test pages), rather than keeping copies. */
extern const char *fuzz_more_seeds __attribute__((weak));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The sanitizers' runtime provides this; without them it stays NULL. */
extern void __sanitizer_set_death_callback(void (*cb)(void))
    __attribute__((weak));

struct seed {
    char *name;
    uint8_t *data;
    size_t len;
};

/* What is running now, for the crash report. */
static char current[512] = "(start-up)";

static void report_current(void)
{
    static const char pre[] = "# fuzz driver: died while running ";
    ssize_t w;

    w = write(STDOUT_FILENO, pre, sizeof pre - 1);
    w = write(STDOUT_FILENO, current, strlen(current));
    w = write(STDOUT_FILENO, "\n", 1);
    (void)w;
}

static const int fatal_signals[] = {SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGILL};
static struct sigaction old_actions[AG_ARRAY_SIZE(fatal_signals)];

/* Reports the input, puts back the handler that was there before (the
 * default, or a sanitizer's) and returns: a fault happens again, abort()
 * raises again. */
static void on_fatal(int sig)
{
    size_t i;

    report_current();
    for (i = 0; i < AG_ARRAY_SIZE(fatal_signals); i++)
        if (fatal_signals[i] == sig)
            sigaction(sig, &old_actions[i], NULL);
}

static void install_handlers(void)
{
    struct sigaction sa;
    size_t i;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_fatal;
    sigemptyset(&sa.sa_mask);
    for (i = 0; i < AG_ARRAY_SIZE(fatal_signals); i++)
        sigaction(fatal_signals[i], &sa, &old_actions[i]);
    if (__sanitizer_set_death_callback)
        __sanitizer_set_death_callback(report_current);
}

/* Runs the target on an exact-size copy. Returns the target's result. */
static int run_one(const uint8_t *data, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    int rc;

    if (!copy) {
        perror("malloc");
        exit(99);
    }
    if (len)
        memcpy(copy, data, len);
    rc = LLVMFuzzerTestOneInput(copy, len);
    free(copy);
    return rc;
}

/* Appends the files of dir, sorted by name, to *out (*count of them so
 * far). Returns 0, or -1 when the directory cannot be read. */
static int load_corpus(const char *dir, struct seed **out, int *count)
{
    struct dirent **names;
    struct seed *seeds;
    int i, n, k = *count;

    n = scandir(dir, &names, NULL, alphasort);
    if (n < 0)
        return -1;
    seeds = ag_xrealloc(*out, sizeof *seeds * (size_t)(k + n + 1));
    for (i = 0; i < n; i++) {
        char *path = ag_xasprintf("%s/%s", dir, names[i]->d_name);
        struct stat st;
        char *data;
        size_t len;

        if (names[i]->d_name[0] != '.' && stat(path, &st) == 0 &&
            S_ISREG(st.st_mode) &&
            ag_read_file(path, SEED_MAX, &data, &len) == 0) {
            seeds[k].name = ag_xstrdup(path);
            seeds[k].data = (uint8_t *)data;
            seeds[k].len = len;
            k++;
        }
        free(path);
        free(names[i]);
    }
    free(names);
    *out = seeds;
    *count = k;
    return 0;
}

static uint64_t rnd_state = SEED;

/* splitmix64 */
static uint64_t rnd(void)
{
    uint64_t z = (rnd_state += 0x9e3779b97f4a7c15ULL);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static size_t below(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

/* Bytes that parsers of text protocols and JSON tend to care about. */
static uint8_t interesting_byte(void)
{
    static const uint8_t b[] = {0,    '\n', '\r', ':',  ' ',  '"',  '\\', '{',
                                '}',  '[',  ']',  ',',  '0',  'e',  0x7f, 0x80,
                                0xbf, 0xc0, 0xef, 0xbb, 0xff, 0xf0, 0xf4, 0xfe};

    return rnd() % 2 ? b[below(sizeof b)] : (uint8_t)rnd();
}

/* Opens a gap of n bytes at pos (n already fits). */
static void make_room(uint8_t *buf, size_t *len, size_t pos, size_t n)
{
    memmove(buf + pos + n, buf + pos, *len - pos);
    *len += n;
}

static void mutate(uint8_t *buf, size_t *len, const struct seed *seeds,
                   int nseeds)
{
    size_t pos = below(*len + 1), room = INPUT_MAX - *len, n, i;

    switch (rnd() % 9) {
    case 0: /* flip a bit */
        if (*len)
            buf[below(*len)] ^= (uint8_t)(1u << below(8));
        break;
    case 1: /* insert bytes */
        n = 1 + below(8);
        if (n > room)
            n = room;
        make_room(buf, len, pos, n);
        for (i = 0; i < n; i++)
            buf[pos + i] = interesting_byte();
        break;
    case 2: /* overwrite a byte */
        if (*len)
            buf[below(*len)] = interesting_byte();
        break;
    case 3: /* delete a run */
        if (pos < *len) {
            n = 1 + below(*len - pos < 32 ? *len - pos : 32);
            memmove(buf + pos, buf + pos + n, *len - pos - n);
            *len -= n;
        }
        break;
    case 4: /* splice in a piece of a seed */
        if (nseeds) {
            const struct seed *s = &seeds[below((size_t)nseeds)];
            size_t from = below(s->len + 1);

            n = below(s->len - from + 1);
            if (n > 512)
                n = 512;
            if (n > room)
                n = room;
            make_room(buf, len, pos, n);
            memcpy(buf + pos, s->data + from, n);
        }
        break;
    case 5: /* repeat a chunk of the input */
        if (*len) {
            size_t from = below(*len);

            n = 1 + below(*len - from);
            if (n > 64)
                n = 64;
            for (i = 1 + below(8); i > 0 && n <= room; i--) {
                make_room(buf, len, pos, n);
                memmove(buf + pos, buf + (from < pos ? from : from + n), n);
                room -= n;
            }
        }
        break;
    case 6: /* cut at a random length */
        *len = below(*len + 1);
        break;
    case 7: /* a big-endian 32-bit integer, as in length prefixes */
        if (room >= 4) {
            static const uint32_t v[] = {
                0,     1,      0x7f,       0x80,       0xff,
                0x100, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff};
            uint32_t x = rnd() % 2 ? v[below(AG_ARRAY_SIZE(v))]
                                   : (uint32_t)below(*len + 16);

            make_room(buf, len, pos, 4);
            buf[pos] = (uint8_t)(x >> 24);
            buf[pos + 1] = (uint8_t)(x >> 16);
            buf[pos + 2] = (uint8_t)(x >> 8);
            buf[pos + 3] = (uint8_t)x;
        }
        break;
    default: /* grow to a random length with random bytes */
        n = below(room + 1);
        for (i = 0; i < n; i++)
            buf[(*len)++] = (uint8_t)rnd();
        break;
    }
}

/* Makes one input of the random pass in buf (INPUT_MAX bytes). */
static size_t generate(uint8_t *buf, const struct seed *seeds, int nseeds)
{
    size_t len = 0, i, rounds;

    if (nseeds && rnd() % 8) {
        const struct seed *s = &seeds[below((size_t)nseeds)];

        len = s->len < INPUT_MAX ? s->len : INPUT_MAX;
        memcpy(buf, s->data, len);
    } else {
        len = below(INPUT_MAX + 1);
        for (i = 0; i < len; i++)
            buf[i] = rnd() % 4 ? interesting_byte() : (uint8_t)rnd();
    }
    rounds = 1 + below(8);
    for (i = 0; i < rounds; i++)
        mutate(buf, &len, seeds, nseeds);
    return len;
}

static int run_files(int argc, char **argv)
{
    int i;

    for (i = 1; i < argc; i++) {
        char *data, label[512];
        size_t len;
        int rc = ag_read_file(argv[i], SEED_MAX, &data, &len);

        snprintf(current, sizeof current, "file %s", argv[i]);
        snprintf(label, sizeof label, "%s: %s", fuzz_corpus_name, argv[i]);
        if (rc < 0) {
            ok(0, label);
            printf("#   %s\n", ag_strerror(rc));
            continue;
        }
        rc = run_one((const uint8_t *)data, len);
        ok(rc == 0 || rc == -1, label);
        free(data);
    }
    return tap_done();
}

int main(int argc, char **argv)
{
    const char *src = getenv("SRCDIR"), *env = getenv("FUZZ_RUNS");
    unsigned long runs = env ? strtoul(env, NULL, 10) : 20000, k;
    char *dir, label[512];
    struct seed *seeds = NULL;
    uint8_t *buf;
    int nseeds = 0, i, bad = 0, rc;
    uint64_t t0;

    install_handlers();
    if (argc > 1)
        return run_files(argc, argv);

    dir = ag_xasprintf("%s/tests/data/fuzz-%s", src && *src ? src : ".",
                       fuzz_corpus_name);
    rc = load_corpus(dir, &seeds, &nseeds);
    if (rc == 0 && &fuzz_more_seeds && fuzz_more_seeds) {
        free(dir);
        dir = ag_xasprintf("%s/tests/data/%s", src && *src ? src : ".",
                           fuzz_more_seeds);
        rc = load_corpus(dir, &seeds, &nseeds);
    }
    if (rc < 0) {
        snprintf(label, sizeof label, "%s corpus: cannot read %s",
                 fuzz_corpus_name, dir);
        ok(0, label);
        tap_diag("set SRCDIR to the source tree");
    } else {
        for (i = 0; i < nseeds; i++) {
            snprintf(current, sizeof current, "corpus file %s", seeds[i].name);
            rc = run_one(seeds[i].data, seeds[i].len);
            if (rc != 0 && rc != -1 && !bad++)
                printf("#   %s returned %d\n", seeds[i].name, rc);
        }
        snprintf(label, sizeof label, "%s corpus: %d files", fuzz_corpus_name,
                 nseeds);
        ok(bad == 0, label);
    }

    buf = ag_xmalloc(INPUT_MAX);
    t0 = ag_now_us();
    for (k = 0, bad = 0; k < runs; k++) {
        size_t len = generate(buf, seeds, nseeds);

        snprintf(current, sizeof current,
                 "random input %lu of %lu (%zu bytes; FUZZ_RUNS=%lu "
                 "reproduces it)",
                 k, runs, len, k + 1);
        rc = run_one(buf, len);
        if (rc != 0 && rc != -1 && !bad++)
            printf("#   random input %lu returned %d\n", k, rc);
    }
    snprintf(label, sizeof label,
             "%s random: %lu mutated inputs up to %d bytes", fuzz_corpus_name,
             runs, INPUT_MAX);
    printf("# %lu inputs in %.2f s\n", runs, (double)(ag_now_us() - t0) / 1e6);
    ok(bad == 0, label);

    for (i = 0; i < nseeds; i++) {
        free(seeds[i].name);
        free(seeds[i].data);
    }
    free(seeds);
    free(buf);
    free(dir);
    return tap_done();
}
