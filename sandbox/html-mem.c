/*
 * html-mem.c: the limits that keep a hostile page from costing the
 * converter more than a bounded amount of memory and time (see
 * html-private.h for the interface, html.h for the contract).
 *
 * Memory: the decoded body and the parse tree are cut from arenas (struct
 * ag__html_mem) over the caller's lua_Alloc, so that the tool's memory cap
 * covers them, and each arena is freed in one sweep, without
 * gumbo_destroy_output (which recurses once per level of nesting).
 *
 * Work: HTML parsing has inputs that cost far more than their size (deep
 * nesting makes each tag scan the stack of open elements; misnested
 * formatting elements are cloned again and again). The budget scan cuts
 * the common cases ahead of the parse; behind it, the tree's arena has a
 * budget of bytes and of time, checked at each of gumbo's allocations, and
 * past either the parse is abandoned with longjmp (gumbo keeps no state but
 * its stack and our arena) and retried by html.c on a shorter prefix.
 */
#include "html.h"
#include "html-private.h"

#include <ctype.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gumbo.h>

#include "ag.h"

/* ---- the arena -------------------------------------------------------- */

/* Blocks are cut from chunks taken from the caller's allocator (malloc
 * when it refuses, or when there is none); freeing a block is a no-op and
 * ag__html_mem_free_all gives the chunks back. gumbo's frees are mostly of
 * vectors it has outgrown, so the waste is small (under a tenth of the
 * tree, as measured), and there is no per-block header. */
struct ag__html_chunk {
    struct ag__html_chunk *next;
    size_t size, top;
    int own; /* from malloc */
};
#define HDR       ((sizeof(struct ag__html_chunk) + 15) & ~(size_t)15)
#define CHUNK_MIN (64u << 10)
#define CHUNK_MAX (1u << 20)

void ag__html_mem_init(struct ag__html_mem *m, lua_Alloc f, void *ud)
{
    memset(m, 0, sizeof *m);
    m->f = f;
    m->ud = ud;
    m->next_size = CHUNK_MIN;
}

void *ag__html_mem_alloc(struct ag__html_mem *m, size_t n)
{
    struct ag__html_chunk *c = m->chunks;
    size_t size;
    int own = 0;

    if (n > SIZE_MAX / 2)
        return NULL;
    n = (n + 15) & ~(size_t)15;
    if (!c || c->size - c->top < n) {
        size = n > m->next_size / 4 ? n : m->next_size;
        c = NULL;
        if (m->f && !m->refused && !(c = m->f(m->ud, NULL, 0, HDR + size)))
            m->refused = 1;
        if (!c) {
            if (!(c = malloc(HDR + size)))
                return NULL;
            own = 1;
        }
        c->size = size;
        c->top = 0;
        c->own = own;
        if (size == n && m->chunks) { /* a big block: keep cutting the other */
            c->next = m->chunks->next;
            m->chunks->next = c;
        } else {
            c->next = m->chunks;
            m->chunks = c;
            if (m->next_size < CHUNK_MAX)
                m->next_size *= 2;
        }
    }
    c->top += n;
    m->total += n;
    return (char *)c + HDR + c->top - n;
}

void ag__html_mem_free_all(struct ag__html_mem *m)
{
    struct ag__html_chunk *c = m->chunks, *next;

    for (; c; c = next) {
        next = c->next;
        if (c->own)
            free(c);
        else
            m->f(m->ud, c, HDR + c->size, 0);
    }
    m->chunks = NULL;
    m->total = 0;
    m->next_size = CHUNK_MIN;
}

/* gumbo's allocator. Past the parse's budget of bytes or time it leaves the
 * parse for good (see the file's opening). gumbo cannot handle a failed
 * allocation: past malloc there is nothing to do but stop (in a worker, the
 * agent reports the death). */
static void *gumbo_alloc(void *ud, size_t n)
{
    struct ag__html_mem *m = ud;
    void *p;

    if (m->escape &&
        (m->total + n > m->budget ||
         ((++m->calls & 255) == 0 && ag_now_us() > m->deadline_us)))
        longjmp(*m->escape, 1);
    if (!(p = ag__html_mem_alloc(m, n)))
        abort();
    return p;
}

static void gumbo_free(void *ud, void *p)
{
    AG_UNUSED(ud);
    AG_UNUSED(p);
}

/* ---- the budget scan ------------------------------------------------------
 * gumbo's time grows with size times nesting depth (each start tag may scan
 * the stack of open elements) and its tree takes up to 70 bytes per input
 * byte. A light tokenizer estimates both ahead of the parse and returns how
 * many bytes may be parsed: all of them, or up to the tag that goes past
 * AG_HTML_MAX_DEPTH or AG_HTML_MAX_NODES. Its estimate only sets a limit;
 * gumbo alone decides what the page means. */

static int name_in(const char *name, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(name, *set) == 0)
            return 1;
    return 0;
}

/* Elements that nest: not void, and not closed implicitly by a sibling. */
static int nests(const char *name)
{
    static const char *const flat[] = {
        "area",   "base",     "br",      "col",   "embed",  "hr",       "img",
        "input",  "link",     "meta",    "param", "source", "track",    "wbr",
        "p",      "li",       "dt",      "dd",    "option", "optgroup", "tr",
        "td",     "th",       "thead",   "tbody", "tfoot",  "rb",       "rt",
        "rp",     "colgroup", "caption", "html",  "head",   "body",     "frame",
        "keygen", "image",    "isindex", NULL};
    return !name_in(name, flat);
}

/* Where the comment opened at s[i] ("<!--") ends, as the tokenizer reads
 * it: "<!-->" and "<!--->" are whole comments; else the first "-->" or
 * "--!>". */
static size_t comment_end(const char *s, size_t n, size_t i)
{
    const char *a, *b;

    if (i + 4 < n && s[i + 4] == '>')
        return i + 5;
    if (i + 5 < n && s[i + 4] == '-' && s[i + 5] == '>')
        return i + 6;
    a = memmem(s + i + 4, n - i - 4, "-->", 3);
    b = memmem(s + i + 4, n - i - 4, "--!>", 4);
    if (a && (!b || a < b))
        return (size_t)(a - s) + 3;
    return b ? (size_t)(b - s) + 4 : n;
}

struct open_count {
    char name[16];
    long n;
};

static int find_open(const struct open_count *open, int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (strcmp(open[i].name, name) == 0)
            return i;
    return -1;
}

size_t ag__html_parse_budget(const char *s, size_t n, int *cut)
{
    /* raw text and RCDATA elements: no markup inside, outside svg and
     * math (gumbo parses <noscript> as markup: it runs without scripts) */
    static const char *const raw[] = {"script",  "style",    "textarea",
                                      "title",   "xmp",      "iframe",
                                      "noembed", "noframes", NULL};
    struct open_count open[64]; /* open elements by name */
    long depth = 0, nodes = 0, foreign = 0;
    int nopen = 0;
    size_t i = 0;

    *cut = 0;
    while (i < n) {
        const char *lt = memchr(s + i, '<', n - i), *e;
        char name[16], an[8], av[8];
        size_t start, k = 0;
        int closing, selfclose = 0, svg;

        if (!lt || (size_t)(lt - s) + 2 >= n)
            break;
        start = i = (size_t)(lt - s);
        if (n - i >= 4 && memcmp(s + i, "<!--", 4) == 0) {
            i = comment_end(s, n, i);
            nodes++;
            continue;
        }
        if (s[i + 1] == '!' || s[i + 1] == '?') {
            e = memchr(s + i, '>', n - i);
            i = e ? (size_t)(e - s) + 1 : n;
            continue;
        }
        closing = s[i + 1] == '/';
        i += 1 + (size_t)closing;
        if (i >= n || !isalpha((unsigned char)s[i]))
            continue;
        for (; i < n && !ag__html_is_sp(s[i]) && s[i] != '>' && s[i] != '/';
             i++)
            if (k + 1 < sizeof name)
                name[k++] = (char)tolower((unsigned char)s[i]);
        name[k] = '\0';
        while (ag__html_get_attr(s, n, &i, an, sizeof an, av, sizeof av))
            nodes++;
        /* "/>" closes an element in svg and math only */
        if (i < n && s[i] == '>')
            selfclose = foreign && i > 0 && s[i - 1] == '/';
        i++;
        svg = strcmp(name, "svg") == 0 || strcmp(name, "math") == 0;
        if (closing) {
            /* an end tag closes only what is open (when the table of
             * names is full, an unknown name is believed) */
            int o = find_open(open, nopen, name);
            if (o >= 0 ? open[o].n > 0 : nopen == (int)AG_ARRAY_SIZE(open)) {
                if (o >= 0)
                    open[o].n--;
                depth -= depth > 0 && nests(name);
            }
            foreign -= foreign > 0 && svg;
            continue;
        }
        nodes++;
        foreign += svg && !selfclose;
        if (!foreign && strcmp(name, "plaintext") == 0)
            break;
        if (!foreign && name_in(name, raw)) {
            /* skip to its end tag, as the tokenizer does */
            e = NULL;
            while (i < n && (e = memchr(s + i, '<', n - i))) {
                i = (size_t)(e - s) + 1;
                if (i < n && s[i] == '/' && n - i - 1 >= k &&
                    strncasecmp(s + i + 1, name, k) == 0)
                    break;
            }
            if (!e)
                i = n;
            continue;
        }
        if (!selfclose && nests(name)) {
            int o = find_open(open, nopen, name);
            if (o < 0 && nopen < (int)AG_ARRAY_SIZE(open)) {
                o = nopen++;
                memcpy(open[o].name, name, k + 1);
                open[o].n = 0;
            }
            if (o >= 0)
                open[o].n++;
            depth++;
        }
        if (depth > AG_HTML_MAX_DEPTH || nodes > AG_HTML_MAX_NODES) {
            *cut = 1;
            return start;
        }
    }
    return n;
}

/* ---- the parse ----------------------------------------------------------- */

/* Parses n bytes of s into the tree arena within its budget. Returns the
 * tree, or NULL when the budget ran out (the arena then holds garbage). */
GumboOutput *ag__html_parse(struct ag__html_mem *tree, const char *s, size_t n,
                            uint64_t deadline_us)
{
    GumboOptions go = kGumboDefaultOptions;
    GumboOutput *volatile g = NULL;
    jmp_buf env;

    go.allocator = gumbo_alloc;
    go.deallocator = gumbo_free;
    go.userdata = tree;
    go.max_errors = 0;
    tree->budget = AG_HTML_MAX_TREE;
    tree->deadline_us = deadline_us;
    if (setjmp(env) == 0) {
        tree->escape = &env;
        g = gumbo_parse_with_options(&go, n ? s : "", n);
    }
    tree->escape = NULL;
    return g;
}
