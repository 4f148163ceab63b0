/*
 * html-private.h: what the files of the HTML converter share, and nothing
 * else includes: html.c (the conversion and the Lua module), html-mem.c
 * (the arenas and the parse's limits), html-charset.c (charset detection
 * and decoding), html-url.c (URL resolution) and html-text.c (the walk of
 * gumbo's tree into text and links). The contract for callers is in
 * html.h.
 */
#ifndef AG_HTML_PRIVATE_H
#define AG_HTML_PRIVATE_H

#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>

#include <gumbo.h>
#include <lua.h>

#include "html.h"

#define AG__HTML_URL_MAX 4096 /* longer resolved links are left out */

/* ---- html-mem.c: the arenas and the parse's limits ---------------------- */

/* An arena over a lua_Alloc (malloc when it refuses, or when there is
 * none): blocks are cut from chunks and only freed all at once. While
 * gumbo parses into it (escape set), each allocation checks the parse's
 * budget of bytes and time and leaves the parse with longjmp past either.
 * Zeroed by ag__html_mem_init; owns its chunks until
 * ag__html_mem_free_all. */
struct ag__html_mem {
    lua_Alloc f;
    void *ud;
    struct ag__html_chunk *chunks; /* the first is the one being cut */
    size_t next_size; /* of the next chunk, doubling up to a maximum */
    size_t total;     /* bytes handed out since the last sweep */
    int refused;      /* f said no once: the conversion will fail */
    /* the parse's budget, while gumbo runs (escape set) */
    jmp_buf *escape;
    size_t budget;
    uint64_t deadline_us;
    unsigned long calls;
};

/* Sets up an empty arena over f and ud (f may be NULL: malloc). */
void ag__html_mem_init(struct ag__html_mem *m, lua_Alloc f, void *ud);

/* n bytes (rounded up to 16) owned by the arena; NULL when n is absurd
 * or even malloc fails. After f refused once, m->refused is set and malloc
 * is used instead. */
void *ag__html_mem_alloc(struct ag__html_mem *m, size_t n);

/* Gives all the chunks back; the arena stays usable. */
void ag__html_mem_free_all(struct ag__html_mem *m);

/* How many of the n bytes of s may be parsed: n, or the offset of the tag
 * past AG_HTML_MAX_DEPTH or AG_HTML_MAX_NODES (then *cut is 1). */
size_t ag__html_parse_budget(const char *s, size_t n, int *cut);

/* Parses n bytes of s into the tree arena within AG_HTML_MAX_TREE bytes
 * and until deadline_us (ag_now_us). Returns the tree (owned by the
 * arena), or NULL when the budget ran out (the arena then holds garbage
 * that ag__html_mem_free_all gives back). */
GumboOutput *ag__html_parse(struct ag__html_mem *tree, const char *s, size_t n,
                            uint64_t deadline_us);

/* ---- html-charset.c: charset detection and decoding --------------------- */

/* The decoders. */
enum ag__html_dec {
    AG__HTML_UTF8,
    AG__HTML_1252,
    AG__HTML_8859_15,
    AG__HTML_UTF16LE,
    AG__HTML_UTF16BE
};

/* HTML's ASCII whitespace. */
static inline int ag__html_is_sp(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Reads one attribute of a tag at *i in s (n bytes), as the prescan does:
 * its name lowercased into name (nl bytes), its value into val (vl bytes),
 * both cut to fit and NUL-terminated. Returns 1 and moves *i past it, or 0
 * at the tag's end (or the input's) with *i there. */
int ag__html_get_attr(const char *s, size_t n, size_t *i, char *name, size_t nl,
                      char *val, size_t vl);

/* Reads a Content-Type (ct may be NULL): the lowercased media type into
 * type and the charset parameter, trimmed and lowercased, into label; ""
 * when absent. */
void ag__html_parse_ctype(const char *ct, char *type, size_t typelen,
                          char *label, size_t lablen);

/* Picks the decoder for len bytes of body: a BOM, hlabel (the header's
 * charset, may be ""), a <meta> when html, else UTF-8 or (for bytes that
 * are not UTF-8 at all) windows-1252. Writes d->charset and *skip (the
 * BOM's length). */
enum ag__html_dec ag__html_pick_charset(struct ag_html_doc *d, const char *body,
                                        size_t len, const char *hlabel,
                                        int html, size_t *skip);

/* len bytes of body decoded to UTF-8 by dc, control characters dropped,
 * NUL-terminated, in a block of m; its length in *n. NULL when out of
 * memory. */
char *ag__html_decode_body(struct ag__html_mem *m, enum ag__html_dec dc,
                           const char *body, size_t len, size_t *n);

/* ---- html-url.c: URL pieces --------------------------------------------- */

/* A URL's components, borrowed from the string split. */
struct ag__html_url {
    const char *scheme, *auth, *path, *query, *frag; /* NULL: absent */
    size_t sl, al, pl, ql, fl;
};

/* Splits s (NUL-terminated, borrowed by u) as RFC 3986 §3 does. */
void ag__html_url_split(const char *s, struct ag__html_url *u);

/* Appends n bytes of s to out at *o (out has outlen bytes, stays
 * NUL-terminated): with enc, spaces, controls, quotes, angle brackets,
 * backticks and non-ASCII bytes are percent-encoded; without, bytes are
 * lowercased. Returns 0, or AG_ETOOBIG when out is full. */
int ag__html_url_put(char *out, size_t *o, size_t outlen, const char *s,
                     size_t n, int enc);

/* ---- html-text.c: the walk into text and links -------------------------- */

/* The state of one conversion's text, title and links; opaque. */
struct ag__html_walk;

/* A walker for opts (borrowed: base_url is read until the walker is
 * freed) with max as its text cap (max_bytes in html.h: the closing note
 * included when max is at least 240). NULL when out of memory. Free with
 * ag__html_walk_free. */
struct ag__html_walk *ag__html_walk_new(const struct ag_html_opts *opts,
                                        size_t max);

/* ag__html_walk_free(NULL) is a no-op. */
void ag__html_walk_free(struct ag__html_walk *w);

/* Writes the tree under root (borrowed) as text, title and links. */
void ag__html_walk_tree(struct ag__html_walk *w, GumboNode *root);

/* Writes n bytes of decoded plain text s, its whitespace kept. */
void ag__html_walk_text(struct ag__html_walk *w, const char *s, size_t n);

/* Sets d->truncated and ends the text with a note when it was cut: by the
 * cap, by the walk's depth, or by the parse's limits (cut; parsed of the n
 * bytes were read). Then moves the text, title and links into d. Returns
 * 0, or -ENOMEM when writing failed (d is then left without them). */
int ag__html_walk_finish(struct ag__html_walk *w, struct ag_html_doc *d,
                         int cut, size_t parsed, size_t n);

#endif
