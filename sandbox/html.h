/*
 * html.h: turns a fetched body into text a model can read (the web_fetch
 * tool's converter, DESIGN §4). The body is decoded to UTF-8 from its
 * charset (a BOM, the Content-Type charset, a <meta> in the first 1024
 * bytes, else UTF-8 or, when that is not valid, windows-1252), control
 * characters dropped, then:
 *
 *   - HTML is parsed with gumbo and walked: blocks become paragraphs and
 *     line breaks, headings "# Title", list items "- item" or "1. item",
 *     table rows "a | b", blockquotes "> ", <pre> kept as is; script, style,
 *     noscript, template, svg, iframe, hidden elements and the head are
 *     dropped; whitespace is collapsed. Each link gets a number "[n]" after
 *     its text and an entry {n, text, href} with href resolved against the
 *     page's URL (or its <base href>); the same target keeps its number.
 *     Links to the page itself ("#top", "") and links whose scheme is not
 *     http, https or mailto (javascript:, data:, ...) are left out.
 *   - text/plain and other text types, JSON and XML pass through decoded.
 *   - without a type, a body that starts like HTML is HTML, else text.
 *   - binary content is refused: "binary content (image/png), 12345 bytes"
 *     (image, audio, video, font, PDF and archive types, or NUL bytes,
 *     magic numbers or many control bytes in the first 8 KiB).
 *
 * The text is capped at a byte size, cut at a UTF-8 boundary, and then ends
 * with a note saying so. Work and memory are bounded too (and the text is
 * then marked truncated): a page whose elements nest deeper than
 * AG_HTML_MAX_DEPTH, or that holds more than AG_HTML_MAX_NODES tags and
 * attributes, is parsed only up to that point; a page whose parse still
 * takes more than AG_HTML_MAX_TREE bytes of tree or parse_ms milliseconds
 * (markup built to make a parser work hard) is parsed again on shorter
 * prefixes, and refused when even a sixteenth is too much.
 *
 * Charsets are decoded here, without iconv (which loads modules from files
 * at run time, which the sandbox forbids): UTF-8 (invalid sequences become
 * U+FFFD), windows-1252 (also for the iso-8859-1 and us-ascii labels, as
 * browsers do), iso-8859-15, UTF-16LE and UTF-16BE. Another charset is
 * decoded as UTF-8 with replacement and reported as unsupported.
 */
#ifndef AG_HTML_H
#define AG_HTML_H

#include <stddef.h>

#include <lua.h>

#define AG_HTML_MAX_DEFAULT   32768  /* text bytes when max_bytes is 0 */
#define AG_HTML_LINKS_DEFAULT 100    /* links when max_links is < 0 */
#define AG_HTML_MAX_DEPTH     512    /* elements nested deeper are cut */
#define AG_HTML_MAX_NODES     120000 /* tags and attributes parsed at most */
#define AG_HTML_MAX_TREE      (48u << 20) /* bytes of parse tree at most */
#define AG_HTML_PARSE_MS      3000        /* parse time when parse_ms is 0 */

enum ag_html_kind { AG_HTML_HTML, AG_HTML_TEXT };

struct ag_html_opts {
    const char *base_url;     /* borrowed; NULL: links stay as written */
    const char *content_type; /* borrowed; NULL or "": sniffed */
    size_t max_bytes;         /* text cap, the note included when it is at
                                 least 240; 0: AG_HTML_MAX_DEFAULT */
    int max_links;            /* < 0: AG_HTML_LINKS_DEFAULT */
    unsigned parse_ms;        /* 0: AG_HTML_PARSE_MS */
    /* Allocator for the large transient data (the decoded body and the
     * parse tree), with lua_Alloc's contract; NULL: malloc. A Lua caller
     * passes its state's, so that the tool's memory cap covers parsing.
     * When it refuses, the conversion carries on with malloc (gumbo cannot
     * fail an allocation) and then fails with AG_ETOOBIG. */
    lua_Alloc alloc;
    void *alloc_ud;
};

struct ag_html_link {
    char *text; /* collapsed, 1 to 100 bytes (a link without text, alt,
                   aria-label or title is left out) */
    char *href; /* resolved */
};

/* A conversion's result; everything in it is malloc'd and freed by
 * ag_html_doc_free. */
struct ag_html_doc {
    enum ag_html_kind kind;
    char *text; /* NUL-terminated, len bytes, valid UTF-8 */
    size_t len;
    char *title; /* collapsed <title>, or NULL */
    struct ag_html_link *links;
    int nlinks;       /* links[i] is "[i + 1]" in the text */
    char type[80];    /* the media type: "text/html", or "" */
    char charset[96]; /* "utf-8", "windows-1252 (guessed: not UTF-8)",
                         "koi8-r (unsupported: decoded as UTF-8)" */
    int truncated;    /* the text was cut (size, depth, node cap or the
                         parse's budget) */
};

/* Converts body (len bytes, borrowed; need not be NUL-terminated). Returns 0
 * and a document in *out (free with ag_html_doc_free), or a negative code
 * and a message in err: AG_EPARSE "binary content (image/png), 12345 bytes",
 * AG_ETOOBIG when the allocator refused or the page is too costly to parse,
 * -ENOMEM. */
int ag_html_convert(const char *body, size_t len,
                    const struct ag_html_opts *opts, struct ag_html_doc **out,
                    char *err, size_t errlen);

/* ag_html_doc_free(NULL) is a no-op. */
void ag_html_doc_free(struct ag_html_doc *doc);

/* Resolves ref against base (RFC 3986 §5.2, with the web's leniencies:
 * surrounding spaces trimmed, tabs and newlines removed, "\" read as "/"
 * in http(s), spaces and non-ASCII bytes percent-encoded). Writes at most
 * outlen bytes including the NUL. base may be NULL. Returns 0, AG_ETOOBIG
 * when it does not fit, or AG_EPARSE when ref is relative and base is not
 * absolute. */
int ag_html_resolve(const char *base, const char *ref, char *out,
                    size_t outlen);

/* Pushes the Lua module (a table) for the sandbox:
 *
 *   html.text(body, { base_url =, content_type =, max_bytes =,
 *                     max_links = })
 *     -> { text =, title =, links = { { n =, text =, href = }, ... },
 *          charset =, content_type =, kind = "html" | "text",
 *          truncated = bool }
 *     or nil, "binary content (image/png), 12345 bytes"
 *   html.resolve(base, ref) -> url or nil, message
 *
 * Wrong argument types raise; runtime failures return nil, message. */
int ag_html_open(lua_State *L);

#endif
