/*
 * html.c: fetched bodies to readable text (contract in html.h): what the
 * body is (HTML, text, or binary content to refuse), the conversion that
 * runs the steps in order, and the Lua module the web_fetch tool calls.
 *
 * ag_html_convert decides what the body is (here), finds its charset and
 * decodes it (html-charset.c) into an arena (html-mem.c). HTML is then
 * parsed by gumbo up to the budget scan's limit, again on shorter prefixes
 * while the parse goes over its budget of tree bytes or time (html-mem.c),
 * and the tree is walked into text and links (html-text.c, which resolves
 * links with html-url.c); other text goes through the same writer as it
 * is. What these files share is declared in html-private.h.
 *
 * The arenas are freed in one sweep when the conversion ends, whatever
 * happened; the results (text, title, links) are malloc'd and handed to
 * the caller in a struct ag_html_doc. In the Lua module that document is
 * held by a userdata with a __gc, so that a Lua error while the result
 * table is built does not leak it.
 */
#include "html.h"
#include "html-private.h"

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gumbo.h>
#include <lauxlib.h>

#include "ag.h"

#define DOC_MT "ag.html.doc"

/* ---- what the body is ------------------------------------------------------
 */

enum cls { C_HTML, C_TEXT, C_BINARY, C_SNIFF };

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

static enum cls classify(const char *type)
{
    static const char *const text[] = {"application/json",
                                       "application/xml",
                                       "application/javascript",
                                       "application/ecmascript",
                                       "application/x-javascript",
                                       "application/x-sh",
                                       "application/yaml",
                                       "application/x-yaml",
                                       "application/toml",
                                       "application/sql",
                                       "application/graphql",
                                       "application/x-ndjson",
                                       "application/csv",
                                       "message/rfc822",
                                       NULL};
    static const char *const binary[] = {"image/",
                                         "audio/",
                                         "video/",
                                         "font/",
                                         "model/",
                                         "application/pdf",
                                         "application/zip",
                                         "application/gzip",
                                         "application/x-gzip",
                                         "application/x-tar",
                                         "application/x-bzip2",
                                         "application/x-xz",
                                         "application/x-7z-compressed",
                                         "application/wasm",
                                         "application/msword",
                                         "application/x-rar-compressed",
                                         "application/java-archive",
                                         "application/vnd.ms-",
                                         NULL};

    if (!type[0])
        return C_SNIFF;
    if (strcmp(type, "text/html") == 0 ||
        strcmp(type, "application/xhtml+xml") == 0)
        return C_HTML;
    if (strncmp(type, "text/", 5) == 0 || ends_with(type, "+json") ||
        ends_with(type, "+xml"))
        return C_TEXT;
    for (const char *const *t = text; *t; t++)
        if (strcmp(type, *t) == 0)
            return C_TEXT;
    for (const char *const *b = binary; *b; b++)
        if (strncmp(type, *b, strlen(*b)) == 0)
            return C_BINARY;
    return C_SNIFF;
}

/* Magic numbers, NUL bytes or many control bytes in the first 8 KiB. */
static int looks_binary(const unsigned char *s, size_t n)
{
    static const struct {
        const char *m;
        size_t n;
    } magic[] = {{"\x89PNG", 4},
                 {"GIF8", 4},
                 {"\xFF\xD8\xFF", 3},
                 {"%PDF-", 5},
                 {"PK\x03\x04", 4},
                 {"\x1F\x8B", 2},
                 {"\x7F"
                  "ELF",
                  4},
                 {"RIFF", 4}};
    size_t m = n < 8192 ? n : 8192, ctl = 0;

    for (size_t i = 0; i < AG_ARRAY_SIZE(magic); i++)
        if (n >= magic[i].n && memcmp(s, magic[i].m, magic[i].n) == 0)
            return 1;
    for (size_t i = 0; i < m; i++) {
        if (s[i] == 0)
            return 1;
        if (s[i] < 0x20 && !ag__html_is_sp(s[i]) && s[i] != 0x1B)
            ctl++;
    }
    return ctl * 20 > m;
}

/* Does a body without a type start like HTML? */
static int sniff_html(const char *s, size_t n)
{
    static const char *const starts[] = {
        "<!doctype html", "<html",   "<head", "<body",
        "<script",        "<iframe", "<h1",   "<div",
        "<font",          "<table",  "<a",    "<style",
        "<title",         "<b",      "<br",   "<p",
        "<!--",           NULL};

    while (n && (ag__html_is_sp(*s) || (unsigned char)*s >= 0x80)) {
        s++; /* spaces and a UTF-8 BOM */
        n--;
    }
    for (const char *const *p = starts; *p; p++) {
        size_t k = strlen(*p);
        if (n > k && strncasecmp(s, *p, k) == 0 &&
            (ag__html_is_sp(s[k]) || s[k] == '>' || strcmp(*p, "<!--") == 0))
            return 1;
    }
    return 0;
}

/* ---- the conversion ------------------------------------------------------ */

void ag_html_doc_free(struct ag_html_doc *d)
{
    if (!d)
        return;
    for (int i = 0; i < d->nlinks; i++) {
        free(d->links[i].text);
        free(d->links[i].href);
    }
    free(d->links);
    free(d->title);
    free(d->text);
    free(d);
}

static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int fail(int rc, char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (errlen)
        vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return rc;
}

/* Parses and walks, on shorter prefixes while the parse goes over its
 * budget (each a quarter of the last, cut before a tag). The attempts
 * share ms: each but the last may take half of what is left. */
static int html_to_text(struct ag__html_walk *w, struct ag__html_mem *tree,
                        const char *s, size_t n, unsigned ms, int *cut,
                        size_t *parsed)
{
    uint64_t end = ag_now_us() + (uint64_t)ms * 1000, now, deadline;
    size_t len = ag__html_parse_budget(s, n, cut);
    GumboOutput *g;

    for (int tries = 0;; tries++) {
        now = ag_now_us();
        deadline = tries == 2 || now >= end ? end : now + (end - now) / 2;
        if ((g = ag__html_parse(tree, s, len, deadline)))
            break;
        ag__html_mem_free_all(tree);
        *cut = 1;
        if (tries == 2 || len < 64)
            return AG_ETOOBIG;
        len /= 4;
        while (len > 0 && s[len] != '<')
            len--;
    }
    *parsed = len;
    ag__html_walk_tree(w, g->document);
    return 0;
}

/* Decides what the body is and how to decode it: fills d->type and
 * d->charset, *cls, *dc and *skip (a BOM's length). Returns 0, or
 * AG_EPARSE for binary content. */
static int prepare(struct ag_html_doc *d, const char *body, size_t len,
                   const char *ctype, enum cls *cls, enum ag__html_dec *dc,
                   size_t *skip)
{
    char hlabel[48];

    ag__html_parse_ctype(ctype, d->type, sizeof d->type, hlabel, sizeof hlabel);
    *cls = classify(d->type);
    if (*cls == C_SNIFF)
        *cls = d->type[0] ? C_TEXT : sniff_html(body, len) ? C_HTML : C_SNIFF;
    *dc = ag__html_pick_charset(d, body, len, hlabel, *cls == C_HTML, skip);
    if (*cls == C_BINARY ||
        (*dc != AG__HTML_UTF16LE && *dc != AG__HTML_UTF16BE &&
         looks_binary((const unsigned char *)body, len)))
        return AG_EPARSE;
    return 0;
}

int ag_html_convert(const char *body, size_t len,
                    const struct ag_html_opts *opts, struct ag_html_doc **out,
                    char *err, size_t errlen)
{
    static const struct ag_html_opts none = {.max_links = -1};
    struct ag__html_walk *w = NULL;
    struct ag_html_doc *d;
    struct ag__html_mem text, tree;
    size_t skip, n = 0, parsed = 0;
    enum cls cls;
    enum ag__html_dec dc;
    int cut = 0, rc;
    char *s;

    *out = NULL;
    opts = opts ? opts : &none;
    if (!(d = calloc(1, sizeof *d)))
        return fail(-ENOMEM, err, errlen, "out of memory");
    if ((rc = prepare(d, body, len, opts->content_type, &cls, &dc, &skip)) <
        0) {
        fail(rc, err, errlen, "binary content (%s), %zu bytes",
             d->type[0] ? d->type : "no content type", len);
        ag_html_doc_free(d);
        return rc;
    }
    ag__html_mem_init(&text, opts->alloc, opts->alloc_ud);
    ag__html_mem_init(&tree, opts->alloc, opts->alloc_ud);
    if (!(s = ag__html_decode_body(&text, dc, body + skip, len - skip, &n)) ||
        !(w = ag__html_walk_new(opts, opts->max_bytes ? opts->max_bytes
                                                      : AG_HTML_MAX_DEFAULT))) {
        rc = -ENOMEM;
        goto done;
    }
    if (cls == C_SNIFF)
        cls = sniff_html(s, n) ? C_HTML : C_TEXT;
    d->kind = cls == C_HTML ? AG_HTML_HTML : AG_HTML_TEXT;
    if (cls == C_HTML) {
        rc = html_to_text(w, &tree, s, n,
                          opts->parse_ms ? opts->parse_ms : AG_HTML_PARSE_MS,
                          &cut, &parsed);
    } else {
        ag__html_walk_text(w, s, n);
    }
    if (rc == 0)
        rc = ag__html_walk_finish(w, d, cut, parsed, n);
done:
    ag__html_mem_free_all(&tree);
    ag__html_mem_free_all(&text);
    ag__html_walk_free(w);
    if (rc == 0 && (text.refused || tree.refused))
        rc = fail(AG_ETOOBIG, err, errlen,
                  "the page is too large to convert within the tool's "
                  "memory limit");
    else if (rc == AG_ETOOBIG)
        fail(rc, err, errlen,
             "the page's markup is too costly to convert (more than %u MiB "
             "of parse tree or %u ms of parsing, even for a sixteenth of it)",
             AG_HTML_MAX_TREE >> 20,
             opts->parse_ms ? opts->parse_ms : AG_HTML_PARSE_MS);
    else if (rc < 0)
        fail(rc, err, errlen, "out of memory");
    if (rc < 0) {
        ag_html_doc_free(d);
        return rc;
    }
    *out = d;
    return 0;
}

/* ---- the Lua module -------------------------------------------------------
 */

static int doc_gc(lua_State *L)
{
    struct ag_html_doc **box = luaL_checkudata(L, 1, DOC_MT);
    ag_html_doc_free(*box);
    *box = NULL;
    return 0;
}

/* opts[key] as a string left on the stack, or NULL. */
static const char *opt_str(lua_State *L, const char *key)
{
    int t = lua_getfield(L, 2, key);

    if (t == LUA_TNIL)
        return NULL;
    if (t != LUA_TSTRING)
        luaL_error(L, "bad argument #2 to 'text' (%s must be a string)", key);
    return lua_tostring(L, -1);
}

static lua_Integer opt_int(lua_State *L, const char *key, lua_Integer def,
                           lua_Integer lo, lua_Integer hi)
{
    int isint;
    lua_Integer v;

    if (lua_getfield(L, 2, key) == LUA_TNIL) {
        lua_pop(L, 1);
        return def;
    }
    v = lua_tointegerx(L, -1, &isint);
    if (!isint || v < lo || v > hi)
        luaL_error(L,
                   "bad argument #2 to 'text' (%s must be an integer from "
                   "%I to %I)",
                   key, (LUAI_UACINT)lo, (LUAI_UACINT)hi);
    lua_pop(L, 1);
    return v;
}

static int l_text(lua_State *L)
{
    struct ag_html_opts o = {.max_links = -1};
    struct ag_html_doc **box, *d;
    size_t len;
    const char *body = luaL_checklstring(L, 1, &len);
    char err[256];

    if (!lua_isnoneornil(L, 2)) {
        luaL_checktype(L, 2, LUA_TTABLE);
        o.max_bytes =
            (size_t)opt_int(L, "max_bytes", AG_HTML_MAX_DEFAULT, 512, 16 << 20);
        o.max_links =
            (int)opt_int(L, "max_links", AG_HTML_LINKS_DEFAULT, 0, 10000);
        o.base_url = opt_str(L, "base_url");         /* stays on the stack */
        o.content_type = opt_str(L, "content_type"); /* stays on the stack */
    }
    o.alloc = lua_getallocf(L, &o.alloc_ud);
    box = lua_newuserdatauv(L, sizeof *box, 0);
    *box = NULL;
    luaL_setmetatable(L, DOC_MT);
    if (ag_html_convert(body, len, &o, box, err, sizeof err) < 0) {
        luaL_pushfail(L);
        lua_pushstring(L, err);
        return 2;
    }
    d = *box;
    lua_createtable(L, 0, 7);
    lua_pushlstring(L, d->text, d->len);
    lua_setfield(L, -2, "text");
    if (d->title) {
        lua_pushstring(L, d->title);
        lua_setfield(L, -2, "title");
    }
    lua_pushstring(L, d->charset);
    lua_setfield(L, -2, "charset");
    if (d->type[0]) {
        lua_pushstring(L, d->type);
        lua_setfield(L, -2, "content_type");
    }
    lua_pushstring(L, d->kind == AG_HTML_HTML ? "html" : "text");
    lua_setfield(L, -2, "kind");
    lua_pushboolean(L, d->truncated);
    lua_setfield(L, -2, "truncated");
    lua_createtable(L, d->nlinks, 0);
    for (int i = 0; i < d->nlinks; i++) {
        lua_createtable(L, 0, 3);
        lua_pushinteger(L, i + 1);
        lua_setfield(L, -2, "n");
        lua_pushstring(L, d->links[i].text);
        lua_setfield(L, -2, "text");
        lua_pushstring(L, d->links[i].href);
        lua_setfield(L, -2, "href");
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "links");
    ag_html_doc_free(d);
    *box = NULL;
    return 1;
}

static int l_resolve(lua_State *L)
{
    const char *base = luaL_checkstring(L, 1);
    const char *ref = luaL_checkstring(L, 2);
    char url[AG__HTML_URL_MAX + 1];
    int rc = ag_html_resolve(base, ref, url, sizeof url);

    if (rc < 0) {
        luaL_pushfail(L);
        lua_pushstring(L, rc == AG_ETOOBIG ? "URL too long"
                                           : "relative URL without a base");
        return 2;
    }
    lua_pushstring(L, url);
    return 1;
}

int ag_html_open(lua_State *L)
{
    static const luaL_Reg fns[] = {
        {"text", l_text}, {"resolve", l_resolve}, {NULL, NULL}};

    if (luaL_newmetatable(L, DOC_MT)) {
        lua_pushcfunction(L, doc_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "__metatable");
    }
    lua_pop(L, 1);
    luaL_newlib(L, fns);
    return 1;
}
