/*
 * html-text.c: gumbo's tree walked into the text a model reads, with its
 * title and numbered links (interface in html-private.h, the rules in
 * html.h): blocks become paragraphs and line breaks, headings "# Title",
 * list items "- item" or "1. item", table rows "a | b", blockquotes "> ",
 * <pre> kept as is; what a reader does not see is skipped; each link gets
 * "[n]" after its text and an entry with its resolved URL.
 *
 * Two layers: the text writer (struct out) owes breaks, spaces and cell
 * separators and pays them only before visible text, so that empty
 * elements leave nothing; it never writes past its cap and never cuts a
 * UTF-8 sequence. The walk goes through the tree with an explicit stack of
 * frames (no recursion, however deep the page nests; elements deeper than
 * WALK_DEPTH are left out) and tells the writer what each element opens
 * and closes. Plain text goes through the same writer in pre mode.
 */
#include "html.h"
#include "html-private.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gumbo.h>

#include "ag.h"

#define LINK_TEXT    100 /* bytes of a link's text kept */
#define TITLE_MAX    300
#define PREFIX_MAX   64   /* bytes of indentation and "> " markers */
#define WALK_DEPTH   4096 /* deeper elements are not visited */
#define NOTE_RESERVE 120  /* bytes kept under the cap for the closing note */

/* ---- the text writer ---------------------------------------------------- */

/* Output is lazy: breaks, spaces and cell separators are owed and written
 * only before the next visible text, so that empty elements leave nothing
 * and the text never ends in blanks. */
struct out {
    struct ag_buf b;
    size_t cap; /* text bytes allowed (the note comes on top) */
    int full;   /* cap reached: the rest is dropped */
    int err;    /* -ENOMEM */
    int nl;     /* line breaks owed: 0, 1 or 2 (a paragraph) */
    int space;  /* a space owed */
    int sep;    /* a cell separator owed */
    int bol;    /* at the beginning of a line: the prefix is owed */
    int pre;    /* inside <pre> (or plain text): whitespace kept */
    char prefix[PREFIX_MAX + 1]; /* written at each line's start */
    size_t plen;
    char mark[32];     /* "- ", "1. ", "## ": written once, before the text */
    size_t mlen, mrep; /* mrep: prefix bytes the mark stands in for */
    int in_link;       /* inside <a>: note where its text starts */
    size_t link_start; /* SIZE_MAX until the link's first text */
};

static void put(struct out *o, const char *s, size_t n)
{
    if (o->full || o->err || !n)
        return;
    if (o->b.len + n > o->cap) {
        size_t k = o->cap - o->b.len;
        while (k > 0 && ((unsigned char)s[k] & 0xC0) == 0x80)
            k--;
        n = k;
        o->full = 1;
    }
    if (n && ag_buf_add(&o->b, s, n) < 0)
        o->err = -ENOMEM;
    if (n)
        o->bol = s[n - 1] == '\n';
}

/* Pays what is owed before visible text. */
static void flush(struct out *o)
{
    if (o->b.len == 0) {
        o->nl = o->space = o->sep = 0;
    } else if (o->nl) {
        int have = o->b.data[o->b.len - 1] != '\n'   ? 0
                   : o->b.len < 2                    ? 1
                   : o->b.data[o->b.len - 2] != '\n' ? 1
                                                     : 2;
        if (o->nl > have)
            put(o, "\n\n", (size_t)(o->nl - have));
    } else if (!o->bol && o->sep) {
        put(o, " | ", 3);
    } else if (!o->bol && o->space) {
        put(o, " ", 1);
    }
    if (o->b.len == 0 || o->bol) {
        size_t keep =
            o->mlen && o->plen >= o->mrep ? o->plen - o->mrep : o->plen;
        put(o, o->prefix, keep);
    }
    put(o, o->mark, o->mlen);
    o->mlen = o->mrep = 0;
    o->nl = o->space = o->sep = 0;
    o->bol = 0;
    if (o->in_link && o->link_start == SIZE_MAX)
        o->link_start = o->b.len;
}

static void brk(struct out *o, int n)
{
    if (o->b.len && o->nl < n)
        o->nl = n;
}

static void add_mark(struct out *o, const char *m, int replaces)
{
    size_t n = strlen(m);

    if (o->mlen + n >= sizeof o->mark)
        return;
    memcpy(o->mark + o->mlen, m, n);
    o->mlen += n;
    if (replaces)
        o->mrep += n;
}

/* Length of whitespace at s (ASCII, or U+00A0), 0 if none. */
static size_t ws_at(const unsigned char *s, size_t n)
{
    if (ag__html_is_sp(*s))
        return 1;
    return n >= 2 && s[0] == 0xC2 && s[1] == 0xA0 ? 2 : 0;
}

/* Length of a control character at s (C0 but \t \n, DEL, C1), 0 if none. */
static size_t ctl_at(const unsigned char *s, size_t n)
{
    if ((*s < 0x20 && *s != '\t' && *s != '\n') || *s == 0x7F)
        return 1;
    return n >= 2 && s[0] == 0xC2 && s[1] >= 0x80 && s[1] < 0xA0 ? 2 : 0;
}

/* Writes text: whitespace collapsed, or kept in pre mode. gumbo's text is
 * not always UTF-8 (a numeric character reference that overflows leaves a
 * stray byte), so it is checked here again. */
static void emit(struct out *o, const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0, j, w;
    int k;

    while (i < n && !o->full && !o->err) {
        if (o->pre && s[i] == '\r' && i + 1 < n && s[i + 1] == '\n') {
            i++;
            continue;
        }
        if (o->pre && (s[i] == '\n' || s[i] == '\r')) {
            if (o->b.len && !o->nl)
                put(o, "\n", 1);
            i++;
            continue;
        }
        if (!o->pre && (w = ws_at(s + i, n - i))) {
            o->space = 1;
            i += w;
            continue;
        }
        if ((w = ctl_at(s + i, n - i))) {
            i += w;
            continue;
        }
        if (s[i] >= 0x80 && (k = ag_utf8_seq(s + i, n - i)) < 0) {
            flush(o);
            put(o, "\xEF\xBF\xBD", 3);
            i += (size_t)-k;
            continue;
        }
        for (j = i; j < n && s[j] != '\n' && s[j] != '\r' &&
                    !ctl_at(s + j, n - j) &&
                    (o->pre || !ws_at(s + j, n - j));) {
            if (s[j] < 0x80)
                j++;
            else if ((k = ag_utf8_seq(s + j, n - j)) > 0)
                j += (size_t)k;
            else
                break;
        }
        flush(o);
        put(o, str + i, j - i);
        i = j;
    }
}

/* Collapses whitespace of s into out (at most outlen - 1 bytes, whole
 * UTF-8 sequences only; bytes that are not UTF-8 become U+FFFD). */
static void collapse(const char *s, size_t n, char *out, size_t outlen)
{
    const unsigned char *u = (const unsigned char *)s;
    size_t k = 0, w, i = 0;
    int space = 0, len;

    while (i < n) {
        const char *p = s + i;
        if ((w = ws_at(u + i, n - i)) || (w = ctl_at(u + i, n - i))) {
            space = k > 0;
            i += w;
            continue;
        }
        len = u[i] < 0x80 ? 1 : ag_utf8_seq(u + i, n - i);
        if (len < 0) {
            p = "\xEF\xBF\xBD";
            i += (size_t)-len;
            len = 3;
        } else {
            i += (size_t)len;
        }
        if (k + (size_t)space + (size_t)len >= outlen)
            break;
        if (space)
            out[k++] = ' ';
        space = 0;
        memcpy(out + k, p, (size_t)len);
        k += (size_t)len;
    }
    out[k] = '\0';
}

/* ---- the walk ------------------------------------------------------------ */

enum kind {
    K_INLINE,
    K_SKIP,
    K_HEAD,
    K_TITLE,
    K_BASE,
    K_LINE,
    K_PARA,
    K_HEADING,
    K_LIST,
    K_LI,
    K_DD,
    K_QUOTE,
    K_PRE,
    K_ROW,
    K_CELL,
    K_BR,
    K_HR,
    K_IMG,
    K_A
};

/* One open element. Invariant: restoring plen, list and row on close puts
 * the writer back as it was before the element. */
struct frame {
    GumboNode *node;
    unsigned next; /* the next child to visit */
    enum kind kind;
    int list, row; /* the enclosing list and row frames, to restore */
    int ordered;   /* list: <ol> */
    long count;    /* list: next item number; row: cells so far */
    size_t plen;   /* prefix length to restore */
    size_t start;  /* link: the writer's link_start to restore */
};

struct ag__html_walk {
    struct out o;
    struct frame *st;
    int sp, cap;
    int list, row; /* innermost list and row frames, or -1 */
    int silent;    /* inside <head>: only <title> and <base> count */
    int deep;      /* elements past WALK_DEPTH were left out */
    int have_base;
    char base[AG__HTML_URL_MAX + 1]; /* links resolve against this; "" none */
    const char *page;                /* the page's URL, or NULL */
    char self[AG__HTML_URL_MAX + 1]; /* the page's URL, no fragment, or "" */
    char *title;
    struct ag_html_link *links;
    int nlinks, max_links;
};

static enum kind kind_of(const GumboNode *n)
{
    const GumboElement *e = &n->v.element;

    if (n->type != GUMBO_NODE_ELEMENT ||
        e->tag_namespace == GUMBO_NAMESPACE_SVG ||
        gumbo_get_attribute(&e->attributes, "hidden"))
        return K_SKIP;
    switch (e->tag) {
    case GUMBO_TAG_SCRIPT:
    case GUMBO_TAG_STYLE:
    case GUMBO_TAG_NOSCRIPT:
    case GUMBO_TAG_TEMPLATE:
    case GUMBO_TAG_IFRAME:
    case GUMBO_TAG_OBJECT:
    case GUMBO_TAG_EMBED:
    case GUMBO_TAG_CANVAS:
    case GUMBO_TAG_AUDIO:
    case GUMBO_TAG_VIDEO:
    case GUMBO_TAG_SELECT:
    case GUMBO_TAG_DATALIST:
    case GUMBO_TAG_NOFRAMES:
    case GUMBO_TAG_NOEMBED:
    case GUMBO_TAG_MAP:
    case GUMBO_TAG_RP:
    case GUMBO_TAG_INPUT:
    case GUMBO_TAG_META:
    case GUMBO_TAG_LINK:
        return K_SKIP;
    case GUMBO_TAG_HEAD:
        return K_HEAD;
    case GUMBO_TAG_TITLE:
        return K_TITLE;
    case GUMBO_TAG_BASE:
        return K_BASE;
    case GUMBO_TAG_P:
    case GUMBO_TAG_DL:
    case GUMBO_TAG_FIGURE:
    case GUMBO_TAG_ADDRESS:
    case GUMBO_TAG_FORM:
    case GUMBO_TAG_FIELDSET:
    case GUMBO_TAG_SECTION:
    case GUMBO_TAG_ARTICLE:
    case GUMBO_TAG_ASIDE:
    case GUMBO_TAG_HEADER:
    case GUMBO_TAG_FOOTER:
    case GUMBO_TAG_MAIN:
    case GUMBO_TAG_NAV:
    case GUMBO_TAG_DETAILS:
    case GUMBO_TAG_CENTER:
    case GUMBO_TAG_HGROUP:
    case GUMBO_TAG_TABLE:
        return K_PARA;
    case GUMBO_TAG_H1:
    case GUMBO_TAG_H2:
    case GUMBO_TAG_H3:
    case GUMBO_TAG_H4:
    case GUMBO_TAG_H5:
    case GUMBO_TAG_H6:
        return K_HEADING;
    case GUMBO_TAG_UL:
    case GUMBO_TAG_OL:
    case GUMBO_TAG_MENU:
    case GUMBO_TAG_DIR:
        return K_LIST;
    case GUMBO_TAG_DIV:
    case GUMBO_TAG_DT:
    case GUMBO_TAG_CAPTION:
    case GUMBO_TAG_FIGCAPTION:
    case GUMBO_TAG_SUMMARY:
    case GUMBO_TAG_LEGEND:
        return K_LINE;
    case GUMBO_TAG_LI:
        return K_LI;
    case GUMBO_TAG_DD:
        return K_DD;
    case GUMBO_TAG_BLOCKQUOTE:
        return K_QUOTE;
    case GUMBO_TAG_PRE:
    case GUMBO_TAG_LISTING:
    case GUMBO_TAG_XMP:
    case GUMBO_TAG_PLAINTEXT:
        return K_PRE;
    case GUMBO_TAG_TR:
        return K_ROW;
    case GUMBO_TAG_TD:
    case GUMBO_TAG_TH:
        return K_CELL;
    case GUMBO_TAG_BR:
        return K_BR;
    case GUMBO_TAG_HR:
        return K_HR;
    case GUMBO_TAG_IMG:
        return K_IMG;
    case GUMBO_TAG_A:
        return K_A;
    default:
        return K_INLINE;
    }
}

static const char *attr(const GumboNode *n, const char *name)
{
    const GumboAttribute *a =
        gumbo_get_attribute(&n->v.element.attributes, name);
    return a ? a->value : NULL;
}

static void add_prefix(struct out *o, const char *s, size_t n)
{
    if (o->plen + n <= PREFIX_MAX) {
        memcpy(o->prefix + o->plen, s, n);
        o->plen += n;
    }
}

/* Writes a whole piece or nothing (link markers must not be cut). */
static int put_all(struct out *o, const char *s, size_t n)
{
    if (o->b.len + n > o->cap) {
        o->full = 1;
        return 0;
    }
    put(o, s, n);
    return 1;
}

/* The link an href stands for, or 0 when it is left out. */
static int link_url(struct ag__html_walk *w, const char *href, char *url,
                    size_t n)
{
    struct ag__html_url u;
    const char *p = href;

    while (*p && (unsigned char)*p <= 0x20)
        p++;
    if (!*p || *p == '#') /* the page itself */
        return 0;
    if (ag_html_resolve(w->base, p, url, n) < 0) {
        /* relative, and no base to resolve by: kept, but encoded */
        size_t o = 0, k = strlen(p);
        if (w->base[0])
            return 0;
        while (k > 0 && (unsigned char)p[k - 1] <= 0x20)
            k--;
        url[0] = '\0';
        for (size_t i = 0; i < k; i++)
            if (p[i] != '\t' && p[i] != '\n' && p[i] != '\r' &&
                ag__html_url_put(url, &o, n, p + i, 1, 1) < 0)
                return 0;
    }
    if (w->self[0] && strncmp(url, w->self, strcspn(url, "#")) == 0 &&
        w->self[strcspn(url, "#")] == '\0')
        return 0; /* the page itself, maybe at a fragment */
    ag__html_url_split(url, &u);
    return !u.scheme || (u.sl == 4 && memcmp(u.scheme, "http", 4) == 0) ||
           (u.sl == 5 && memcmp(u.scheme, "https", 5) == 0) ||
           (u.sl == 6 && memcmp(u.scheme, "mailto", 6) == 0);
}

static void finish_link(struct ag__html_walk *w, struct frame *f)
{
    struct out *o = &w->o;
    const char *href = attr(f->node, "href"), *alt;
    char url[AG__HTML_URL_MAX + 1], text[LINK_TEXT + 1], mk[24];
    struct ag_html_link *l;
    int num = 0;

    if (!href || o->full || o->err || !link_url(w, href, url, sizeof url))
        return;
    text[0] = '\0';
    if (o->link_start < o->b.len)
        collapse(o->b.data + o->link_start, o->b.len - o->link_start, text,
                 sizeof text);
    if (!text[0] && ((alt = attr(f->node, "aria-label")) ||
                     (alt = attr(f->node, "title")))) {
        collapse(alt, strlen(alt), text, sizeof text);
        emit(o, text, strlen(text));
    }
    if (!text[0])
        return;
    for (int i = 0; i < w->nlinks && !num; i++)
        if (strcmp(w->links[i].href, url) == 0)
            num = i + 1;
    if (!num && w->nlinks >= w->max_links)
        return;
    snprintf(mk, sizeof mk, " [%d]", num ? num : w->nlinks + 1);
    if (!put_all(o, mk, strlen(mk)) || num)
        return;
    l = &w->links[w->nlinks];
    if (!(l->text = strdup(text)) || !(l->href = strdup(url))) {
        free(l->text);
        l->text = NULL;
        o->err = -ENOMEM;
        return;
    }
    w->nlinks++;
}

static void take_title(struct ag__html_walk *w, const GumboNode *n)
{
    const GumboVector *kids = &n->v.element.children;
    char t[TITLE_MAX + 1];

    if (w->title || kids->length == 0)
        return;
    n = kids->data[0];
    if (n->type != GUMBO_NODE_TEXT && n->type != GUMBO_NODE_WHITESPACE)
        return;
    collapse(n->v.text.text, strlen(n->v.text.text), t, sizeof t);
    if (t[0] && !(w->title = strdup(t)))
        w->o.err = -ENOMEM;
}

static void take_base(struct ag__html_walk *w, const GumboNode *n)
{
    const char *href = attr(n, "href");
    char url[AG__HTML_URL_MAX + 1];

    if (w->have_base || !href)
        return;
    w->have_base = 1;
    if (ag_html_resolve(w->page, href, url, sizeof url) == 0)
        snprintf(w->base, sizeof w->base, "%s", url);
}

static void open_el(struct ag__html_walk *w, GumboNode *n)
{
    struct out *o = &w->o;
    enum kind k = kind_of(n);
    struct frame *f;
    const char *a;
    char mk[32];

    if (w->silent && k != K_TITLE && k != K_BASE)
        return;
    switch (k) {
    case K_SKIP:
        return;
    case K_TITLE:
        take_title(w, n);
        return;
    case K_BASE:
        take_base(w, n);
        return;
    case K_BR:
        if (o->b.len && o->nl < 2)
            o->nl++;
        return;
    case K_HR:
        brk(o, 2);
        flush(o);
        put(o, "---", 3);
        brk(o, 2);
        return;
    case K_IMG:
        if ((a = attr(n, "alt"))) {
            char alt[TITLE_MAX + 1];
            collapse(a, strlen(a), alt, sizeof alt);
            if (alt[0]) {
                o->space = 1;
                emit(o, "[image: ", 8);
                emit(o, alt, strlen(alt));
                emit(o, "]", 1);
                o->space = 1;
            }
        }
        return;
    default:
        break;
    }
    if (w->sp >= WALK_DEPTH) {
        w->deep = 1;
        return;
    }
    if (w->sp == w->cap) {
        struct frame *st = realloc(w->st, (size_t)w->cap * 2 * sizeof *st);
        if (!st) {
            o->err = -ENOMEM;
            return;
        }
        w->st = st;
        w->cap *= 2;
    }
    f = &w->st[w->sp];
    memset(f, 0, sizeof *f);
    f->node = n;
    f->kind = k;
    f->list = w->list;
    f->row = w->row;
    f->plen = o->plen;
    switch (k) {
    case K_HEAD:
        w->silent++;
        break;
    case K_LINE:
        brk(o, 1);
        break;
    case K_PARA:
        brk(o, 2);
        break;
    case K_HEADING:
        brk(o, 2);
        snprintf(mk, sizeof mk, "%.*s ",
                 (int)(n->v.element.tag - GUMBO_TAG_H1 + 1), "######");
        add_mark(o, mk, 0);
        break;
    case K_LIST:
        brk(o, w->list >= 0 ? 1 : 2);
        f->ordered = n->v.element.tag == GUMBO_TAG_OL;
        f->count = (a = attr(n, "start")) ? strtol(a, NULL, 10) : 1;
        w->list = w->sp;
        break;
    case K_LI:
        brk(o, 1);
        if (w->list >= 0 && w->st[w->list].ordered)
            snprintf(mk, sizeof mk, "%ld. ", w->st[w->list].count++ % 100000);
        else
            snprintf(mk, sizeof mk, "- ");
        add_mark(o, mk, 1);
        add_prefix(o, "          ", strlen(mk));
        break;
    case K_DD:
        brk(o, 1);
        add_prefix(o, "  ", 2);
        break;
    case K_QUOTE:
        brk(o, 2);
        add_prefix(o, "> ", 2);
        break;
    case K_PRE:
        brk(o, 2);
        o->pre++;
        break;
    case K_ROW:
        brk(o, 1);
        w->row = w->sp;
        break;
    case K_CELL:
        if (w->row >= 0 && w->st[w->row].count++ > 0)
            o->sep = 1;
        break;
    case K_A:
        f->start = o->link_start; /* restored on close */
        o->link_start = SIZE_MAX;
        o->in_link++;
        break;
    default:
        break;
    }
    w->sp++;
}

static void close_el(struct ag__html_walk *w, struct frame *f)
{
    struct out *o = &w->o;

    switch (f->kind) {
    case K_HEAD:
        w->silent--;
        break;
    case K_LINE:
    case K_LI:
    case K_DD:
    case K_ROW:
        brk(o, 1);
        break;
    case K_PARA:
    case K_QUOTE:
    case K_HEADING:
        brk(o, 2);
        break;
    case K_LIST:
        brk(o, f->list >= 0 ? 1 : 2);
        break;
    case K_PRE:
        o->pre--;
        brk(o, 2);
        break;
    case K_A:
        finish_link(w, f);
        o->in_link--;
        o->link_start = f->start;
        break;
    default:
        break;
    }
    if (f->kind == K_LI || f->kind == K_HEADING)
        o->mlen = o->mrep = 0;
    o->plen = f->plen;
    w->list = f->list;
    w->row = f->row;
}

void ag__html_walk_tree(struct ag__html_walk *w, GumboNode *root)
{
    w->cap = 64;
    if (!(w->st = malloc((size_t)w->cap * sizeof *w->st))) {
        w->o.err = -ENOMEM;
        return;
    }
    memset(&w->st[0], 0, sizeof w->st[0]);
    w->st[0].node = root;
    w->st[0].kind = K_INLINE;
    w->st[0].list = w->st[0].row = -1;
    w->sp = 1;
    while (w->sp > 0) {
        struct frame *f = &w->st[w->sp - 1];
        const GumboVector *kids = f->node->type == GUMBO_NODE_DOCUMENT
                                      ? &f->node->v.document.children
                                      : &f->node->v.element.children;
        GumboNode *c;

        if (f->next >= kids->length || w->o.full || w->o.err) {
            close_el(w, f);
            w->sp--;
            continue;
        }
        c = kids->data[f->next++];
        if (c->type == GUMBO_NODE_ELEMENT)
            open_el(w, c);
        else if (!w->silent &&
                 (c->type == GUMBO_NODE_TEXT || c->type == GUMBO_NODE_CDATA ||
                  c->type == GUMBO_NODE_WHITESPACE))
            emit(&w->o, c->v.text.text, strlen(c->v.text.text));
    }
}

/* ---- the walker ---------------------------------------------------------- */

void ag__html_walk_free(struct ag__html_walk *w)
{
    if (!w)
        return;
    for (int i = 0; i < w->nlinks; i++) {
        free(w->links[i].text);
        free(w->links[i].href);
    }
    free(w->links);
    free(w->title);
    free(w->st);
    ag_buf_free(&w->o.b);
    free(w);
}

struct ag__html_walk *ag__html_walk_new(const struct ag_html_opts *opts,
                                        size_t max)
{
    struct ag__html_walk *w = calloc(1, sizeof *w);

    if (!w)
        return NULL;
    w->list = w->row = -1;
    w->page = opts->base_url;
    if (opts->base_url) {
        snprintf(w->base, sizeof w->base, "%s", opts->base_url);
        if (ag_html_resolve(opts->base_url, "", w->self, sizeof w->self) < 0)
            w->self[0] = '\0';
    }
    w->max_links =
        opts->max_links < 0 ? AG_HTML_LINKS_DEFAULT : opts->max_links;
    if (w->max_links &&
        !(w->links = calloc((size_t)w->max_links, sizeof *w->links))) {
        free(w);
        return NULL;
    }
    ag_buf_init(&w->o.b, max + NOTE_RESERVE + 1);
    w->o.cap = max >= 2 * NOTE_RESERVE ? max - NOTE_RESERVE : max / 2;
    w->o.bol = 1;
    return w;
}

void ag__html_walk_text(struct ag__html_walk *w, const char *s, size_t n)
{
    w->o.pre = 1;
    emit(&w->o, s, n);
}

/* Ends the text with the truncation note and moves the results to d. */
int ag__html_walk_finish(struct ag__html_walk *w, struct ag_html_doc *d,
                         int cut, size_t parsed, size_t n)
{
    d->truncated = w->o.full || cut || w->deep;
    if (w->o.full)
        ag_buf_printf(&w->o.b,
                      "\n\n[truncated: the text goes on past %zu bytes]",
                      w->o.cap);
    else if (d->truncated)
        ag_buf_printf(&w->o.b,
                      "%s[truncated: only %zu of %zu bytes were read, the "
                      "page is too large or too deeply nested]",
                      w->o.b.len ? "\n\n" : "", parsed, n);
    if (w->o.err)
        return w->o.err;
    d->len = w->o.b.len;
    d->text = ag_buf_steal(&w->o.b);
    d->title = w->title;
    d->links = w->links;
    d->nlinks = w->nlinks;
    w->title = NULL;
    w->links = NULL;
    w->nlinks = 0;
    return 0;
}
