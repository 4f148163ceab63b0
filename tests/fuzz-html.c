/*
 * fuzz-html.c: fuzz target for the HTML-to-text converter and the URL
 * resolver (html.c), for libFuzzer (./configure --enable-fuzzing CC=clang)
 * or for the standalone driver in fuzz-main.c that `make check` runs.
 *
 * The first byte of the input picks the content type (HTML, HTML with a
 * charset, none, plain text, a UTF-16 charset), the second the text cap
 * and the link cap; the rest is the body. The page's URL is fixed. Then the
 * body is split at its first newline into a base and a reference for
 * ag_html_resolve. What html.h promises is checked, and any violation
 * aborts: the text is valid UTF-8 of len bytes, NUL-terminated, within the
 * cap; every link has text and an href that is valid UTF-8 without spaces;
 * a refusal is binary content or a parse over its budget; the resolver
 * writes a NUL-terminated URL within the buffer, without spaces.
 */
#include "ag.h"
#include "html.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

extern const char *fuzz_corpus_name;
const char *fuzz_corpus_name = "html";
extern const char *fuzz_more_seeds;
const char *fuzz_more_seeds = "html"; /* tests/data/html: the test pages */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_doc(const struct ag_html_doc *d, size_t max, int max_links)
{
    if (!d->text || strlen(d->text) != d->len ||
        !ag_utf8_valid(d->text, d->len))
        abort();
    if (max >= 240 && d->len > max)
        abort();
    if (d->nlinks < 0 || d->nlinks > max_links)
        abort();
    for (int i = 0; i < d->nlinks; i++) {
        const char *t = d->links[i].text, *h = d->links[i].href;
        if (!t || !*t || strlen(t) > 100 || !ag_utf8_valid(t, strlen(t)) ||
            !h || !*h || strpbrk(h, " \t\r\n") || !ag_utf8_valid(h, strlen(h)))
            abort();
    }
    if (d->title && !ag_utf8_valid(d->title, strlen(d->title)))
        abort();
    if (!memchr(d->charset, '\0', sizeof d->charset))
        abort();
}

static void check_resolve(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t bl = nl ? (size_t)(nl - data) : size;
    char *base = malloc(bl + 1), *ref, out[300];
    size_t rl = nl ? size - bl - 1 : 0;
    int rc;

    if (!base)
        abort();
    memcpy(base, data, bl);
    base[bl] = '\0';
    ref = malloc(rl + 1);
    if (!ref)
        abort();
    if (rl)
        memcpy(ref, nl + 1, rl);
    ref[rl] = '\0';
    memset(out, 'x', sizeof out);
    rc = ag_html_resolve(base, ref, out, sizeof out);
    if (rc == 0 && (!memchr(out, '\0', sizeof out) || strpbrk(out, " \t\n")))
        abort();
    if (rc != 0 && rc != AG_ETOOBIG && rc != AG_EPARSE)
        abort();
    free(base);
    free(ref);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const types[] = {"text/html",
                                        "text/html; charset=windows-1252",
                                        NULL,
                                        "text/plain",
                                        "text/html; charset=utf-16le",
                                        "application/json",
                                        "",
                                        "image/png"};
    struct ag_html_opts o = {0};
    struct ag_html_doc *d = NULL;
    char err[256];
    size_t max;
    int rc;

    if (size < 2)
        return 0;
    o.content_type = types[data[0] % 8];
    max = 240 + (size_t)(data[1] & 0x3F) * 64;
    o.max_bytes = max;
    o.max_links = (data[1] >> 6) * 10 - 1; /* -1 (the default), 9, 19, 29 */
    o.base_url = data[0] & 0x80 ? NULL : "https://example.org/a/b?q#f";
    rc = ag_html_convert((const char *)data + 2, size - 2, &o, &d, err,
                         sizeof err);
    if (rc == 0) {
        check_doc(d, max,
                  o.max_links < 0 ? AG_HTML_LINKS_DEFAULT : o.max_links);
        ag_html_doc_free(d);
    } else if (d || !memchr(err, '\0', sizeof err) ||
               (rc != AG_EPARSE && rc != AG_ETOOBIG)) {
        abort();
    }
    check_resolve(data, size);
    return 0;
}
