/* test-html.c: the HTML-to-text converter of the web_fetch tool (html.h):
 * structure (blocks, headings, lists, tables, quotes, pre), what is
 * dropped, whitespace and entities, broken markup, links and URL
 * resolution (RFC 3986 §5.4), charsets (BOM, header, <meta>, guesses,
 * invalid bytes), text and binary bodies, the size cap at UTF-8
 * boundaries, huge, deep and hostile documents (against the budget scan,
 * the parse's budget of bytes and time), the memory cap, the Lua module,
 * golden fixtures in tests/data/html (NAME.html converted must give
 * NAME.txt; AG_HTML_REGEN=1 rewrites the .txt files, to be read and
 * checked by eye), and a deterministic fuzz loop. */
#include "ag.h"
#include "html.h"
#include "tap.h"

#include <lauxlib.h>
#include <lualib.h>
#include <stdlib.h>
#include <time.h>

static struct ag_html_doc *conv_ex(const char *body, size_t len, const char *ct,
                                   const char *base, size_t max, int max_links,
                                   char *err, size_t errlen)
{
    struct ag_html_opts o = {0};
    struct ag_html_doc *d = NULL;

    o.content_type = ct;
    o.base_url = base;
    o.max_bytes = max;
    o.max_links = max_links;
    if (ag_html_convert(body, len, &o, &d, err, errlen) < 0)
        return NULL;
    return d;
}

static struct ag_html_doc *last; /* what text() returned last */
static char last_err[256];

/* The text of an HTML snippet (page https://example.org/dir/page.html),
 * or the error; kept until the next call. */
static const char *text(const char *html)
{
    ag_html_doc_free(last);
    last = conv_ex(html, strlen(html), "text/html",
                   "https://example.org/dir/page.html", 0, -1, last_err,
                   sizeof last_err);
    return last ? last->text : last_err;
}

/* Converts and renders everything: "title|charset|text|[1] t <h> ...". */
static char *render(const char *body, size_t len, const char *ct,
                    const char *base, size_t max)
{
    struct ag_html_doc *d;
    struct ag_buf b;
    char err[256];

    if (!len)
        len = strlen(body);
    if (!(d = conv_ex(body, len, ct, base, max, -1, err, sizeof err)))
        return ag_xasprintf("error: %s", err);
    ag_buf_init(&b, 1 << 24);
    ag_buf_printf(&b, "title: %s\ncharset: %s\n\n%s\n",
                  d->title ? d->title : "(none)", d->charset, d->text);
    if (d->nlinks)
        ag_buf_adds(&b, "\nlinks:\n");
    for (int i = 0; i < d->nlinks; i++)
        ag_buf_printf(&b, "[%d] %s <%s>\n", i + 1, d->links[i].text,
                      d->links[i].href);
    ag_html_doc_free(d);
    return ag_buf_steal(&b);
}

static void test_structure(void)
{
    is_str(text("<h1>Title</h1><p>One</p><p>Two</p>"), "# Title\n\nOne\n\nTwo",
           "headings and paragraphs");
    is_str(text("<h2>a</h2><h3>b</h3><h6>c</h6>"), "## a\n\n### b\n\n###### c",
           "heading levels");
    is_str(text("<div>a</div><div>b</div>"), "a\nb", "divs are lines");
    is_str(text("<p>line<br>next<br><br>after</p>"), "line\nnext\n\nafter",
           "br breaks a line, two make a paragraph");
    is_str(text("<ul><li>one</li><li>two</li></ul>"), "- one\n- two",
           "unordered list");
    is_str(text("<ol><li>one</li><li>two</li></ol>"), "1. one\n2. two",
           "ordered list");
    is_str(text("<ol start=7><li>a</li><li>b</li></ol>"), "7. a\n8. b",
           "ordered list with start");
    is_str(text("<ul><li>a<ul><li>b<ol><li>c</li></ol></li></ul></li>"
                "<li>d</li></ul>"),
           "- a\n  - b\n    1. c\n- d", "nested lists are indented");
    is_str(text("<ul><li>first line<br>second line</li></ul>"),
           "- first line\n  second line", "a list item's lines align");
    is_str(text("<ul><li></li><li>  </li><li>x</li></ul><p>after</p>"),
           "- x\n\nafter", "empty items leave nothing");
    is_str(text("<table><tr><th>Name</th><th>Age</th></tr>"
                "<tr><td>Ann</td><td>31</td></tr></table>"),
           "Name | Age\nAnn | 31", "table rows, cells split by |");
    is_str(text("<table><caption>Cap</caption><tr><td>a</td><td>b</td></tr>"
                "</table>"),
           "Cap\na | b", "table caption");
    is_str(text("<p>x</p><table><tr><td>1</td><td><table><tr><td>in</td>"
                "<td>ner</td></tr></table></td><td>3</td></tr></table>"),
           "x\n\n1\n\nin | ner\n\n3", "nested tables");
    is_str(text("<blockquote><p>quoted</p></blockquote><p>after</p>"),
           "> quoted\n\nafter", "blockquote");
    is_str(text("<blockquote>a<blockquote>b</blockquote></blockquote>"),
           "> a\n\n> > b", "nested blockquotes");
    is_str(text("<pre>  a  b\n    c\n</pre><p>x</p>"), "  a  b\n    c\n\nx",
           "pre keeps whitespace");
    is_str(text("<pre>\nfirst</pre>"), "first",
           "pre drops its leading newline");
    is_str(text("<dl><dt>Term</dt><dd>Meaning</dd></dl>"), "Term\n  Meaning",
           "definition lists");
    is_str(text("<p>a</p><hr><p>b</p>"), "a\n\n---\n\nb", "hr");
    is_str(text("<p>see <img src=x.png alt=' A  cat '> here <img src=y.png>"
                "<img alt=''></p>"),
           "see [image: A cat] here", "images by their alt text");
    is_str(text("<h1>a<br>b</h1>"), "# a\nb", "a break inside a heading");
    is_str(text("<ul><li><h2>Item</h2></li></ul>"), "- ## Item",
           "a heading inside an item");
    is_str(text("<div><div><div><p>deep</p></div></div></div>text"),
           "deep\n\ntext", "nested blocks collapse their breaks");
}

static void test_dropped(void)
{
    is_str(text("<head><title>T</title><style>p{}</style><script>var a;"
                "</script><meta name=x content=y></head><body>body</body>"),
           "body", "the head is dropped");
    is_str(text("<p>a<script>document.write('<p>no</p>')</script>b</p>"), "ab",
           "script dropped, its markup too");
    is_str(text("<style>.x{}</style><p>a</p>"), "a", "style dropped");
    is_str(text("<p>a</p><noscript>enable JavaScript</noscript>ok"), "a\n\nok",
           "noscript dropped");
    is_str(text("<template><p>tpl</p></template>ok"), "ok", "template dropped");
    is_str(text("<svg><title>icon</title><text>svgtext</text></svg>ok"), "ok",
           "svg dropped, its title too");
    is_str(text("<iframe src=x>frame</iframe><object>obj</object>ok"), "ok",
           "iframe and object dropped");
    is_str(text("<div hidden>secret</div><p hidden>p</p>ok"), "ok",
           "hidden elements dropped");
    is_str(text("<select><option>one</option></select><input value=v>ok"), "ok",
           "form controls dropped");
    is_str(text("<!-- a comment -->ok<!-- another -->"), "ok",
           "comments dropped");
    is_str(text("<p>a few control characters in a longer text: a\x01"
                "b\x7f"
                "c\xc2\x85"
                "d</p>"),
           "a few control characters in a longer text: abcd",
           "control characters dropped");
}

static void test_whitespace_entities(void)
{
    is_str(text("  <p>  a \n\t b   </p>  "), "a b", "whitespace collapsed");
    is_str(text("<p>a&nbsp;&nbsp;b</p>"), "a b", "nbsp collapses as a space");
    is_str(text("<p>a<b>b</b>c <i>d</i> e</p>"), "abc d e",
           "inline elements join words as written");
    is_str(text("<p>&amp; &lt;x&gt; &quot;q&quot; &#39;s&#39;</p>"),
           "& <x> \"q\" 's'", "named and numeric entities");
    is_str(text("<p>&eacute;&#233;&#xE9; &euro;&#8364; &#x1F600;</p>"),
           "\xc3\xa9\xc3\xa9\xc3\xa9 \xe2\x82\xac\xe2\x82\xac "
           "\xf0\x9f\x98\x80",
           "entities decoded to UTF-8");
    is_str(text("<p>&copy 2024 AT&T &unknown; &#0; &#x110000;</p>"),
           "\xc2\xa9 2024 AT&T &unknown; \xef\xbf\xbd \xef\xbf\xbd",
           "legacy and bad entities as browsers read them");
    is_str(text("<p>a < b > c && d</p>"), "a < b > c && d",
           "bare < > & are text");
    is_str(text("<p>a &#1111111111111111111111111111111111111111111127 b "
                "&#99999999999; c</p>"),
           "a \xef\xbf\xbd b \xef\xbf\xbd c",
           "numeric references that overflow: U+FFFD (gumbo's bytes are "
           "checked)");
    is_str(
        text("<img alt='x &#1111111111111111111111111111111111111111127'>"
             "<title>t &#1111111111111111111111111111111111111111127</title>"),
        "[image: x \xef\xbf\xbd]", "... in attributes too");
    ok(last && last->title && !strcmp(last->title, "t \xef\xbf\xbd"),
       "... and in the title");
}

static void test_broken(void)
{
    is_str(text("<p>one<p>two<p>three"), "one\n\ntwo\n\nthree",
           "unclosed paragraphs");
    is_str(text("<b><i>bold italic</b> italic?</i> plain"),
           "bold italic italic? plain", "misnested inline tags");
    is_str(text("</div></span>text</p>"), "text", "stray end tags");
    is_str(text("<div><span>never closed"), "never closed", "missing end tags");
    is_str(text("<a href=/x title=\"t>x\">link</a>"), "link [1]",
           "'>' inside a quoted attribute");
    is_str(text("<ul><li>a<li>b</ul>"), "- a\n- b", "implied </li>");
    is_str(text("<table><td>a<td>b<tr><td>c</table>"), "a | b\nc",
           "implied table rows");
    is_str(text("<p>text <div>block</div> more"), "text\n\nblock\nmore",
           "a div inside a p closes it");
    is_str(text("<table><tr><td>cell</td></tr>stray</table>"), "stray\n\ncell",
           "text in a table is moved before it");
    is_str(text("<<<>>><p>ok</p>"), "<<<>>>\n\nok", "angle brackets");
    is_str(text("<p>truncated at <a href=\"x"), "truncated at",
           "a document cut inside a tag");
    is_str(text(""), "", "an empty document");
    is_str(text("plain words, no tags"), "plain words, no tags",
           "text without tags");
    is_str(text("<html><body><body><p>x</p></body></html><p>after</p>"),
           "x\n\nafter", "content after </html>");
}

static void test_title(void)
{
    struct ag_html_doc *d;
    char err[256];
    const char *h = "<html><head><title>\n  A   &amp; B  </title></head>"
                    "<body><svg><title>svg</title></svg>x</body></html>";

    d = conv_ex(h, strlen(h), "text/html", NULL, 0, -1, err, sizeof err);
    is_str(d ? d->title : err, "A & B", "title collapsed and decoded");
    is_str(d ? d->text : err, "x", "the title is not in the text");
    ag_html_doc_free(d);
    h = "<p>no title</p>";
    d = conv_ex(h, strlen(h), "text/html", NULL, 0, -1, err, sizeof err);
    ok(d && d->title == NULL, "no title: NULL");
    ag_html_doc_free(d);
    h = "<title>first</title><title>second</title>";
    d = conv_ex(h, strlen(h), "text/html", NULL, 0, -1, err, sizeof err);
    is_str(d ? d->title : err, "first", "the first title counts");
    ag_html_doc_free(d);
}

static void test_links(void)
{
    char *r;
    const char *h;

    r = render(
        "<a href='https://other.example/x?a=1&amp;b=2'>abs</a> "
        "<a href='../up/there'>rel</a> <a href='/root'>root</a> "
        "<a href='//cdn.example/lib'>proto</a> <a href='?q=2'>query</a> "
        "<a href='other.html#sec'>frag</a> <a href='#top'>top</a> "
        "<a href=''>self</a> <a href='javascript:alert(1)'>js</a> "
        "<a href=' JavaScript:x'>js2</a> <a href='java\tscript:x'>js3</a> "
        "<a href='data:text/html,hi'>data</a> "
        "<a href='vbscript:x'>vb</a> <a href='mailto:a@b.example'>mail</a> "
        "<a href='ftp://f.example/'>ftp</a> <a>no href</a> "
        "<a href='a b/\xc3\xbc'>space</a>",
        0, "text/html", "https://example.org/dir/page.html?x=1#f", 0);
    is_str(r,
           "title: (none)\ncharset: utf-8\n\n"
           "abs [1] rel [2] root [3] proto [4] query [5] frag [6] top self "
           "js js2 js3 data vb mail [7] ftp no href space [8]\n\nlinks:\n"
           "[1] abs <https://other.example/x?a=1&b=2>\n"
           "[2] rel <https://example.org/up/there>\n"
           "[3] root <https://example.org/root>\n"
           "[4] proto <https://cdn.example/lib>\n"
           "[5] query <https://example.org/dir/page.html?q=2>\n"
           "[6] frag <https://example.org/dir/other.html#sec>\n"
           "[7] mail <mailto:a@b.example>\n"
           "[8] space <https://example.org/dir/a%20b/%C3%BC>\n",
           "links: resolved, numbered; javascript:, data:, vbscript:, ftp: "
           "and links to the page itself left out");
    free(r);
    r = render("<a href='page.html#s'>s1</a> <a href='./page.html'>s2</a> "
               "<a href='page.html?v=2'>other</a>",
               0, "text/html", "https://example.org/dir/page.html#top", 0);
    has_str(r,
            "s1 s2 other [1]\n\nlinks:\n[1] other <https://example.org/"
            "dir/page.html?v=2>\n",
            "links to the page itself, by any spelling, are left out");
    free(r);
    r = render("<a href=/a>One</a> <a href='/a'>again</a> <a href=/b>Two</a>",
               0, "text/html", "http://h.example/", 0);
    is_str(
        r,
        "title: (none)\ncharset: utf-8\n\nOne [1] again [1] Two [2]\n\n"
        "links:\n[1] One <http://h.example/a>\n[2] Two <http://h.example/b>\n",
        "the same target keeps its number");
    free(r);
    r = render("<head><base href='https://base.example/x/'></head>"
               "<a href='y'>y</a><base href='https://ignored.example/'>",
               0, "text/html", "https://example.org/page", 0);
    has_str(r, "[1] y <https://base.example/x/y>", "<base href> is used");
    free(r);
    r = render("<base href='/sub/'><a href='y'>y</a>", 0, "text/html",
               "https://example.org/page", 0);
    has_str(r, "[1] y <https://example.org/sub/y>",
            "a relative <base href> resolves against the page");
    free(r);
    r = render("<a href='x'><img src=i.png alt='Logo'></a> "
               "<a href='t' title='Titled'></a> <a href='e'><img src=i></a>",
               0, "text/html", "https://example.org/", 0);
    is_str(r,
           "title: (none)\ncharset: utf-8\n\n[image: Logo] [1] Titled [2]\n\n"
           "links:\n[1] [image: Logo] <https://example.org/x>\n"
           "[2] Titled <https://example.org/t>\n",
           "links without text: alt, then title; none: left out");
    free(r);
    r = render("<a href='rel/x'>rel</a> <a href='https://abs.example/'>abs</a>"
               " <a href=' a b\t\xc3\xa9 '>sp</a>",
               0, "text/html", NULL, 0);
    has_str(r,
            "[1] rel <rel/x>\n[2] abs <https://abs.example/>\n"
            "[3] sp <a%20b%C3%A9>",
            "no base URL: relative links stay as written, encoded");
    free(r);
    {
        struct ag_buf b;
        struct ag_html_doc *d;
        char err[128];
        ag_buf_init(&b, 1 << 20);
        for (int i = 0; i < 30; i++)
            ag_buf_printf(&b, "<a href='/p%d'>%d</a> ", i, i);
        d = conv_ex(b.data, b.len, "text/html", "http://x.example/", 0, 5, err,
                    sizeof err);
        is_int(d ? d->nlinks : -1, 5, "max_links caps the list");
        has_str(d ? d->text : err, "4 [5] 5 6", "... and the markers");
        ag_html_doc_free(d);
        ag_buf_free(&b);
    }
    h = "<a href=/x>This is a very long link text that goes on and on and on "
        "well past the hundred bytes that are kept of it \xc3\xa9\xc3\xa9</a>";
    {
        char err[128];
        struct ag_html_doc *d =
            conv_ex(h, strlen(h), "text/html", "http://x.example/", 0, -1, err,
                    sizeof err);
        ok(d && d->nlinks == 1 && strlen(d->links[0].text) <= 100 &&
               ag_utf8_valid(d->links[0].text, strlen(d->links[0].text)),
           "link text capped at 100 bytes, valid UTF-8");
        ag_html_doc_free(d);
    }
}

static void resolve_is(const char *base, const char *ref, const char *want)
{
    char out[512], name[300];
    int rc = ag_html_resolve(base, ref, out, sizeof out);

    snprintf(name, sizeof name, "resolve \"%s\"", ref);
    for (char *p = name; *p; p++)
        if ((unsigned char)*p < 0x20)
            *p = '?';
    is_str(rc == 0 ? out : "(error)", want, name);
}

static void test_resolve(void)
{
    const char *b = "http://a/b/c/d;p?q";
    static const char *const rfc[][2] = {
        /* RFC 3986 §5.4.1 */
        {"g:h", "g:h"},
        {"g", "http://a/b/c/g"},
        {"./g", "http://a/b/c/g"},
        {"g/", "http://a/b/c/g/"},
        {"/g", "http://a/g"},
        {"//g", "http://g/"},
        {"?y", "http://a/b/c/d;p?y"},
        {"g?y", "http://a/b/c/g?y"},
        {"#s", "http://a/b/c/d;p?q#s"},
        {"g#s", "http://a/b/c/g#s"},
        {"g?y#s", "http://a/b/c/g?y#s"},
        {";x", "http://a/b/c/;x"},
        {"g;x", "http://a/b/c/g;x"},
        {"g;x?y#s", "http://a/b/c/g;x?y#s"},
        {"", "http://a/b/c/d;p?q"},
        {".", "http://a/b/c/"},
        {"./", "http://a/b/c/"},
        {"..", "http://a/b/"},
        {"../", "http://a/b/"},
        {"../g", "http://a/b/g"},
        {"../..", "http://a/"},
        {"../../", "http://a/"},
        {"../../g", "http://a/g"},
        /* §5.4.2 */
        {"../../../g", "http://a/g"},
        {"../../../../g", "http://a/g"},
        {"/./g", "http://a/g"},
        {"/../g", "http://a/g"},
        {"g.", "http://a/b/c/g."},
        {".g", "http://a/b/c/.g"},
        {"g..", "http://a/b/c/g.."},
        {"..g", "http://a/b/c/..g"},
        {"./../g", "http://a/b/g"},
        {"./g/.", "http://a/b/c/g/"},
        {"g/./h", "http://a/b/c/g/h"},
        {"g/../h", "http://a/b/c/h"},
        {"g;x=1/./y", "http://a/b/c/g;x=1/y"},
        {"g;x=1/../y", "http://a/b/c/y"},
        {"g?y/./x", "http://a/b/c/g?y/./x"},
        {"g#s/../x", "http://a/b/c/g#s/../x"},
    };
    char out[16];

    for (size_t i = 0; i < AG_ARRAY_SIZE(rfc); i++)
        resolve_is(b, rfc[i][0], rfc[i][1]);
    resolve_is("https://example.org/dir/page", "  /x\n/y\t ",
               "https://example.org/x/y");
    resolve_is("https://example.org/dir/page", "\\\\evil.example\\x",
               "https://evil.example/x");
    resolve_is("https://example.org", "a", "https://example.org/a");
    resolve_is("https://example.org/", "HTTPS://Other.example",
               "https://Other.example/");
    resolve_is("https://example.org/", "/a b?c d#e f",
               "https://example.org/a%20b?c%20d#e%20f");
    is_int(ag_html_resolve("relative/base", "x", out, sizeof out), AG_EPARSE,
           "a relative base cannot resolve a relative reference");
    is_int(ag_html_resolve("http://a/", "http://a/0123456789abcdef", out,
                           sizeof out),
           AG_ETOOBIG, "a result longer than the buffer");
}

/* Converts body (len bytes) and checks text and charset. */
static void cs_is(const char *body, size_t len, const char *ct,
                  const char *want_text, const char *want_cs, const char *name)
{
    char err[256], n2[200];
    struct ag_html_doc *d =
        conv_ex(body, len, ct, NULL, 0, -1, err, sizeof err);

    is_str(d ? d->text : err, want_text, name);
    snprintf(n2, sizeof n2, "%s: charset", name);
    is_str(d ? d->charset : err, want_cs, n2);
    ag_html_doc_free(d);
}

#define CS(body, ct, text, cs, name)                                           \
    cs_is(body, sizeof(body) - 1, ct, text, cs, name)

static void test_charsets(void)
{
    char big[1400];

    CS("<p>Caf\xe9 na\xefve</p>", "text/html; charset=ISO-8859-1",
       "Caf\xc3\xa9 na\xc3\xafve", "iso-8859-1", "latin1 bytes (header)");
    CS("<p>\x93quoted\x94 \x96 \x80 5 \x85</p>",
       "text/html; charset=windows-1252",
       "\xe2\x80\x9cquoted\xe2\x80\x9d \xe2\x80\x93 \xe2\x82\xac 5 "
       "\xe2\x80\xa6",
       "windows-1252", "cp1252 smart quotes, dash, euro, ellipsis");
    CS("<p>\x93x\x94</p>", "text/html; charset=\"latin1\"",
       "\xe2\x80\x9cx\xe2\x80\x9d", "iso-8859-1",
       "latin1 label decoded as windows-1252, as browsers do");
    CS("<p>\xa4 \xbd</p>", "text/html; charset=iso-8859-15",
       "\xe2\x82\xac \xc5\x93", "iso-8859-15", "iso-8859-15");
    CS("<p>plain \xe9</p>", "text/html; charset=us-ascii", "plain \xc3\xa9",
       "us-ascii", "us-ascii label with a high byte");
    CS("<meta charset=\"iso-8859-1\"><p>Caf\xe9</p>", "text/html",
       "Caf\xc3\xa9", "iso-8859-1", "<meta charset>");
    CS("<meta http-equiv=\"Content-Type\" content=\"text/html; "
       "charset=windows-1252\"><p>\x93q\x94</p>",
       "text/html", "\xe2\x80\x9cq\xe2\x80\x9d", "windows-1252",
       "<meta http-equiv content>");
    CS("<meta content='text/html; charset=windows-1252'><p>\xe9</p>",
       "text/html", "\xc3\xa9", "windows-1252 (guessed: not UTF-8)",
       "<meta content> without http-equiv is ignored");
    CS("<!-- <meta charset=latin1> --><p>\xc3\xa9</p>", "text/html", "\xc3\xa9",
       "utf-8", "a <meta> in a comment is ignored");
    CS("<div title='<meta charset=latin1>'><p>\xc3\xa9</p>", "text/html",
       "\xc3\xa9", "utf-8", "a <meta> inside an attribute is ignored");
    CS("<meta charset=utf-16><p>\xc3\xa9</p>", "text/html", "\xc3\xa9", "utf-8",
       "<meta charset=utf-16> means UTF-8");
    CS("<meta charset=latin1><p>\xc3\xa9</p>", "text/html; charset=utf-8",
       "\xc3\xa9", "utf-8", "the header wins over <meta>");
    CS("\xef\xbb\xbf<p>\xc3\xa9</p>", "text/html; charset=latin1", "\xc3\xa9",
       "utf-8", "a UTF-8 BOM wins over the header");
    CS("\xff\xfe<\0p\0>\0H\0\xe9\0 \0\xac\x20 \0=\xd8\0\xde<\0/\0p\0>\0",
       "text/html", "H\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "utf-16le",
       "UTF-16LE with a BOM, a surrogate pair");
    CS("\xfe\xff\0<\0p\0>\0H\0\xe9\0<\0/\0p\0>", "", "H\xc3\xa9", "utf-16be",
       "UTF-16BE with a BOM, no content type");
    CS("\xff\xfeh\0i\0\x00\xd8!\0x", "text/plain",
       "hi\xef\xbf\xbd!\xef\xbf\xbd", "utf-16le",
       "UTF-16: a lone surrogate and an odd byte become U+FFFD");
    CS("h\0i\0", "text/plain; charset=utf-16le", "hi", "utf-16le",
       "UTF-16LE by the header, no BOM");
    CS("<p>bad \xff end \xe2\x82 x \xc0\xaf y \xed\xa0\x80 z \xf4\x90\x80\x80"
       " \xc3\xa9</p>",
       "text/html; charset=utf-8",
       "bad \xef\xbf\xbd end \xef\xbf\xbd x \xef\xbf\xbd\xef\xbf\xbd y "
       "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd z "
       "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd \xc3\xa9",
       "utf-8", "invalid UTF-8: one U+FFFD per maximal invalid subpart");
    CS("<p>\xe9t\xe9 \xc3\xa9 \xff</p>", "text/html",
       "\xef\xbf\xbdt\xef\xbf\xbd \xc3\xa9 \xef\xbf\xbd", "utf-8",
       "no charset, mostly UTF-8: UTF-8 with replacement");
    CS("<p>\xe9t\xe9 \x93x\x94</p>", "text/html",
       "\xc3\xa9t\xc3\xa9 \xe2\x80\x9cx\xe2\x80\x9d",
       "windows-1252 (guessed: not UTF-8)",
       "no charset, not UTF-8 at all: windows-1252");
    CS("<p>\xc3\xa9 \xff</p>", "text/html; charset=koi8-r",
       "\xc3\xa9 \xef\xbf\xbd", "koi8-r (unsupported: decoded as UTF-8)",
       "an unsupported charset is reported");
    CS("<meta charset=shift_jis><p>x</p>", "text/html", "x",
       "shift_jis (unsupported: decoded as UTF-8)",
       "an unsupported <meta> charset is reported");
    CS("<meta charset=latin1><p>\xe9</p>", "text/html; charset=x-bogus",
       "\xc3\xa9", "iso-8859-1",
       "an unknown header charset gives way to <meta>");
    memset(big, ' ', sizeof big);
    memcpy(big, "<p>", 3);
    memcpy(big + 1100, "<meta charset=latin1>\xc3\xa9", 23);
    cs_is(big, 1123, "text/html", "\xc3\xa9", "utf-8",
          "a <meta> after the first 1024 bytes is not seen");
}

static void test_kinds(void)
{
    char err[256];
    struct ag_html_doc *d;
    const char *h;
    static const char png[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

    h = "line 1\r\nline 2\rline 3\n\n\n<b>not html</b>\t!";
    d = conv_ex(h, strlen(h), "text/plain", NULL, 0, -1, err, sizeof err);
    is_str(d ? d->text : err, "line 1\nline 2\nline 3\n\n\n<b>not html</b>\t!",
           "text/plain passes through, newlines normalised");
    ok(d && d->kind == AG_HTML_TEXT && d->nlinks == 0 && !d->title,
       "text/plain: kind text, no links, no title");
    ag_html_doc_free(d);
    h = "{\"a\": \"caf\xc3\xa9\", \"b\": [1, 2]}";
    d = conv_ex(h, strlen(h), "application/json", NULL, 0, -1, err, sizeof err);
    is_str(d ? d->text : err, "{\"a\": \"caf\xc3\xa9\", \"b\": [1, 2]}",
           "JSON passes through");
    is_str(d ? d->type : err, "application/json", "... its media type");
    ag_html_doc_free(d);
    d = conv_ex("<feed><t>x</t></feed>", 21, "application/atom+xml", NULL, 0,
                -1, err, sizeof err);
    is_str(d ? d->text : err, "<feed><t>x</t></feed>", "+xml is text");
    ag_html_doc_free(d);
    d = conv_ex(png, sizeof png - 1, "image/png", NULL, 0, -1, err, sizeof err);
    ok(!d, "a PNG is refused");
    is_str(err, "binary content (image/png), 16 bytes", "... saying so");
    d = conv_ex("GIF89a...", 9, "image/gif", NULL, 0, -1, err, sizeof err);
    is_str(d ? "converted" : err, "binary content (image/gif), 9 bytes",
           "image types are binary");
    d = conv_ex(png, sizeof png - 1, "text/html", NULL, 0, -1, err, sizeof err);
    is_str(d ? "converted" : err, "binary content (text/html), 16 bytes",
           "binary bytes under a text type are refused");
    d = conv_ex(png, sizeof png - 1, NULL, NULL, 0, -1, err, sizeof err);
    is_str(d ? "converted" : err, "binary content (no content type), 16 bytes",
           "binary bytes without a type are refused");
    d = conv_ex("%PDF-1.7\n...", 12, "application/pdf", NULL, 0, -1, err,
                sizeof err);
    is_str(d ? "converted" : err, "binary content (application/pdf), 12 bytes",
           "PDF is binary");
    d = conv_ex("just text", 9, "application/octet-stream", NULL, 0, -1, err,
                sizeof err);
    is_str(d ? d->text : err, "just text",
           "octet-stream that is text is returned as text");
    ag_html_doc_free(d);
    d = conv_ex("  <!DOCTYPE html><title>T</title><p>x", 37, NULL, NULL, 0, -1,
                err, sizeof err);
    ok(d && d->kind == AG_HTML_HTML && d->title && !strcmp(d->text, "x"),
       "no type, looks like HTML: converted as HTML");
    ag_html_doc_free(d);
    d = conv_ex("a < b", 5, "", NULL, 0, -1, err, sizeof err);
    ok(d && d->kind == AG_HTML_TEXT && !strcmp(d->text, "a < b"),
       "no type, not HTML: text");
    ag_html_doc_free(d);
    d = conv_ex("<p>x</p>", 8, "application/xhtml+xml", NULL, 0, -1, err,
                sizeof err);
    ok(d && d->kind == AG_HTML_HTML && !strcmp(d->text, "x"),
       "XHTML is read as HTML");
    ag_html_doc_free(d);
    d = conv_ex("", 0, "text/html", NULL, 0, -1, err, sizeof err);
    ok(d && d->len == 0 && !d->truncated, "an empty body");
    ag_html_doc_free(d);
}

/* The cap: for every size from 320 to 420 bytes, the text of a page of
 * two- three- and four-byte characters is valid UTF-8, at most max bytes,
 * and ends with the note. */
static void test_cap(void)
{
    struct ag_buf b;
    int bad_len = 0, bad_utf8 = 0, no_note = 0, not_trunc = 0;
    struct ag_html_doc *d;
    char err[256];

    ag_buf_init(&b, 1 << 20);
    ag_buf_adds(&b, "<p>");
    for (int i = 0; i < 200; i++)
        ag_buf_adds(&b, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80 ");
    ag_buf_adds(&b, "</p><a href=/late>late link</a>");
    for (size_t max = 320; max <= 420; max++) {
        d = conv_ex(b.data, b.len, "text/html", "http://x.example/", max, -1,
                    err, sizeof err);
        if (!d) {
            bad_len++;
            continue;
        }
        bad_len += d->len > max;
        bad_utf8 += !ag_utf8_valid(d->text, d->len);
        no_note += !strstr(d->text, "[truncated: the text goes on past");
        not_trunc += !d->truncated || d->nlinks != 0;
        ag_html_doc_free(d);
    }
    is_int(bad_len, 0, "the cap: never more than max_bytes");
    is_int(bad_utf8, 0, "the cap: always cut at a UTF-8 boundary");
    is_int(no_note, 0, "the cap: the text says it was cut");
    is_int(not_trunc, 0, "the cap: truncated, and links past the cut left out");
    d = conv_ex(b.data, b.len, "text/plain", NULL, 1000, -1, err, sizeof err);
    ok(d && d->len <= 1000 && ag_utf8_valid(d->text, d->len) && d->truncated,
       "the cap applies to plain text too");
    ag_html_doc_free(d);
    d = conv_ex(b.data, b.len, "text/html", NULL, 1 << 20, -1, err, sizeof err);
    ok(d && !d->truncated && !strstr(d->text, "[truncated"),
       "under the cap: not truncated");
    ag_html_doc_free(d);
    ag_buf_free(&b);
    /* a link whose marker would pass the cap gets no number */
    ag_buf_init(&b, 1 << 20);
    ag_buf_adds(&b, "<p>");
    for (int i = 0; i < 50; i++)
        ag_buf_adds(&b, "abcdefgh ");
    ag_buf_adds(&b, "<a href=/x>x</a> tail tail tail tail tail</p>");
    d = conv_ex(b.data, b.len, "text/html", "http://x.example/", 573, -1, err,
                sizeof err);
    ok(d && d->nlinks == 0 && !strstr(d->text, "[1"),
       "no marker is cut in half");
    ag_html_doc_free(d);
    ag_buf_free(&b);
}

/* Builds COUNT copies of PIECE between HEAD and TAIL. */
static char *repeat(const char *head, const char *piece, int count,
                    const char *tail, size_t *len)
{
    size_t pl = strlen(piece), hl = strlen(head), tl = strlen(tail);
    char *s = malloc(hl + pl * (size_t)count + tl + 1), *p = s;

    memcpy(p, head, hl);
    p += hl;
    for (int i = 0; i < count; i++, p += pl)
        memcpy(p, piece, pl);
    memcpy(p, tail, tl + 1);
    *len = hl + pl * (size_t)count + tl;
    return s;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void big_case(const char *head, const char *piece, int count,
                     const char *tail, int want_trunc, const char *name)
{
    size_t len;
    char *s = repeat(head, piece, count, tail, &len), err[256], n2[200];
    double t0 = now_s(), dt;
    struct ag_html_doc *d = conv_ex(s, len, "text/html", "http://x.example/",
                                    65536, -1, err, sizeof err);

    dt = now_s() - t0;
    ok(d && ag_utf8_valid(d->text, d->len) && d->len <= 65536, name);
    snprintf(n2, sizeof n2, "%s: %s", name,
             want_trunc ? "truncated" : "not truncated");
    ok(d && d->truncated == want_trunc, n2);
    snprintf(n2, sizeof n2, "%s: %.2f s (under 5)", name, dt);
    ok(dt < 5, n2);
    ag_html_doc_free(d);
    free(s);
}

static void test_huge(void)
{
    big_case("", "<div>", 400000, "deep", 1, "400,000 nested divs");
    big_case("", "<b>", 300000, "x", 1, "300,000 nested <b>");
    big_case("", "<span><i>", 100000, "x", 1, "nested inline elements");
    big_case("", "<ul><li>", 50000, "x", 1, "50,000 nested lists");
    big_case("", "<blockquote>", 50000, "x", 1, "50,000 nested quotes");
    big_case("", "<table><tr><td>", 30000, "x", 1, "30,000 nested tables");
    big_case("", "<p>x", 500000, "", 1, "2 MB of paragraphs");
    big_case("", "<i a=1 b=2 c=3 d=4>", 100000, "", 1, "many attributes");
    big_case("<p>", "word ", 400000, "</p>", 1, "one 2 MB paragraph");
    big_case("<table>", "<tr><td>a</td><td>b</td></tr>", 40000, "</table>", 1,
             "40,000 table rows");
    big_case("", "<a href=/p>link</a> ", 40000, "", 1, "40,000 links");
    big_case("<pre>", "line\n", 300000, "</pre>", 1, "a 1.5 MB pre");
    big_case("", "<div>", 400, "ok", 0, "400 nested divs are fine");
    big_case("<script>", "<div>", 300000, "</script>ok", 0,
             "a script full of tags is skipped, not counted");
    big_case("", "<!--", 100000, "", 0, "unclosed comments");
    big_case("", "&amp;", 100000, "", 1, "many entities");
    /* markup built against the budget scan or the parser */
    big_case("<p>x</p><noscript>", "<div>", 100000, "", 1,
             "nesting inside <noscript> (parsed as markup)");
    big_case("<svg><title>", "<div>", 100000, "", 1,
             "nesting inside an svg <title> (not raw text there)");
    big_case("<!-->", "<div>", 100000, "", 1,
             "nesting after an abrupt comment");
    big_case("", "<div/>", 400000, "", 1, "<div/> does not close in HTML");
    big_case("", "<b><div></b>", 100000, "", 1,
             "misnested formatting (the adoption agency)");
    big_case("<div>", "<b a=1></div>", 100000, "", 1,
             "end tags of elements not open");
}

/* Past the parse's budget of bytes or time: shorter prefixes, then an
 * error. */
static void test_budget(void)
{
    struct ag_buf b;
    struct ag_html_opts o = {0};
    struct ag_html_doc *d = NULL;
    size_t len;
    char *s, err[256];
    double t0;
    int rc;

    /* each <p> clones the 480 <b>s closed by </div>: a tree hundreds of
     * times the size of the page */
    ag_buf_init(&b, 1 << 20);
    ag_buf_adds(&b, "<div>");
    for (int i = 0; i < 480; i++)
        ag_buf_printf(&b, "<b a=%d>", i);
    ag_buf_adds(&b, "</div>");
    for (int i = 0; i < 3000; i++)
        ag_buf_adds(&b, "<p>x</p>");
    o.max_links = -1;
    t0 = now_s();
    rc = ag_html_convert(b.data, b.len, &o, &d, err, sizeof err);
    ok(rc == 0 && d && d->truncated, "a tree past 48 MiB: a prefix is read");
    ok(now_s() - t0 < 5, "... quickly");
    has_str(d ? d->text : err, "[truncated: only ",
            "... and the text says how much");
    ag_html_doc_free(d);
    ag_buf_free(&b);
    s = repeat("<table>", "<tr><td>a</td><td>b</td></tr>", 60000, "</table>",
               &len);
    o.parse_ms = 1;
    d = NULL;
    rc = ag_html_convert(s, len, &o, &d, err, sizeof err);
    is_int(rc, AG_ETOOBIG,
           "a parse past its time, even on a sixteenth: "
           "AG_ETOOBIG");
    has_str(err, "too costly to convert", "... saying why");
    ok(!d, "... and no document");
    free(s);
}

/* An allocator that refuses past a limit, like the worker's. */
struct capped {
    size_t used, limit;
    int refused;
};

static void *capped_alloc(void *ud, void *p, size_t osize, size_t nsize)
{
    struct capped *c = ud;
    size_t old = p ? osize : 0;

    if (nsize == 0) {
        c->used -= old;
        free(p);
        return NULL;
    }
    if (nsize > old && c->used + nsize - old > c->limit) {
        c->refused = 1;
        return NULL;
    }
    if (!(p = realloc(p, nsize)))
        return NULL;
    c->used += nsize - old;
    return p;
}

static void test_memory(void)
{
    struct capped c = {0, 4u << 20, 0};
    struct ag_html_opts o = {0};
    struct ag_html_doc *d = NULL;
    size_t len;
    char *s = repeat("", "<p>x", 100000, "", &len), err[256];
    int rc;

    o.alloc = capped_alloc;
    o.alloc_ud = &c;
    o.max_links = -1;
    rc = ag_html_convert(s, len, &o, &d, err, sizeof err);
    is_int(rc, AG_ETOOBIG, "the allocator refuses: AG_ETOOBIG");
    has_str(err, "memory limit", "... saying why");
    ok(c.refused && c.used == 0, "... and everything is given back");
    c.limit = 256u << 20;
    c.refused = 0;
    rc = ag_html_convert(s, len, &o, &d, err, sizeof err);
    ok(rc == 0 && d && c.used == 0,
       "under the limit: converted, the tree given back");
    ag_html_doc_free(d);
    ag_html_doc_free(NULL);
    free(s);
}

static void lua_is(lua_State *L, const char *code, const char *want,
                   const char *name)
{
    const char *got;

    if (luaL_dostring(L, code) != LUA_OK) {
        is_str(lua_tostring(L, -1), want, name);
        lua_settop(L, 0);
        return;
    }
    got = lua_tostring(L, -1);
    is_str(got ? got : "(not a string)", want, name);
    lua_settop(L, 0);
}

static void test_lua(void)
{
    lua_State *L = luaL_newstate();

    luaL_openlibs(L);
    ag_html_open(L);
    lua_setglobal(L, "html");
    lua_is(L,
           "local r = html.text('<title>T</title><h1>H</h1><a href=x>l</a>',"
           " { base_url = 'https://e.example/d/', content_type = 'text/html' })"
           "\nreturn table.concat({ r.title, r.text, r.charset, r.kind,"
           " r.content_type, tostring(r.truncated), #r.links, r.links[1].n,"
           " r.links[1].text, r.links[1].href }, '|')",
           "T|# H\n\nl [1]|utf-8|html|text/html|false|1|1|l|"
           "https://e.example/d/x",
           "html.text returns the fields");
    lua_is(L,
           "local r, e = html.text('\\137PNG\\r\\n\\26\\n\\0', "
           "{ content_type = 'image/png' }) return tostring(r) .. ' ' .. e",
           "nil binary content (image/png), 9 bytes",
           "html.text: nil, message for binary content");
    lua_is(L,
           "local r = html.text(string.rep('abc ', 1000), { max_bytes = 600,"
           " content_type = 'text/plain' }) return #r.text <= 600 and"
           " tostring(r.truncated) .. ' ' .. r.kind",
           "true text", "html.text: max_bytes");
    lua_is(L, "return html.text('<p>x</p>').text", "x",
           "html.text without options sniffs");
    lua_is(
        L,
        "local r = html.text(string.rep('<a href=/p>x</a>', 5), "
        "{ max_links = 0, base_url = 'http://a/' }) return #r.links .. r.text",
        "0xxxxx", "html.text: max_links = 0");
    lua_is(L,
           "local ok, e = pcall(html.text, '<p>', { max_bytes = 10 }) "
           "return e",
           "bad argument #2 to 'text' (max_bytes must be an integer from 512 "
           "to 16777216)",
           "html.text: a bad max_bytes raises");
    lua_is(L,
           "local ok, e = pcall(html.text, '<p>', { base_url = 5 }) "
           "return e",
           "bad argument #2 to 'text' (base_url must be a string)",
           "html.text: a bad base_url raises");
    lua_is(L,
           "local ok, e = pcall(function() return html.text({}) end) "
           "return (e:gsub('^.-:1: ', ''))",
           "bad argument #1 to 'text' (string expected, got table)",
           "html.text: a body that is not a string raises");
    lua_is(L, "return html.resolve('https://a.example/b/c', '../d?e#f')",
           "https://a.example/d?e#f", "html.resolve");
    lua_is(L, "local u, e = html.resolve('nobase', 'x') return e",
           "relative URL without a base", "html.resolve: nil, message");
    lua_is(L,
           "local n = 0 for i = 1, 200 do local r = html.text('<p>' .. i) "
           "n = n + #r.text end collectgarbage() return tostring(n)",
           "492", "html.text many times (no leak under ASan)");
    lua_close(L);
}

static const struct {
    const char *name, *type, *base;
} fixtures[] = {
    {"article", "text/html; charset=utf-8",
     "https://news.example/2024/05/rivers.html"},
    {"latin1", "text/html", "http://old.example/~user/index.htm"},
    {"broken", "text/html", "https://soup.example/a/b"},
    {"docs", "text/html", "https://docs.example/lib/v2/api.html"},
    {"utf16", "text/html", "https://wide.example/"},
};

static void test_fixtures(void)
{
    const char *src = getenv("SRCDIR") ? getenv("SRCDIR") : ".";

    for (size_t i = 0; i < AG_ARRAY_SIZE(fixtures); i++) {
        char path[512], name[700], *html = NULL, *want = NULL, *got;
        size_t len;
        snprintf(path, sizeof path, "%s/tests/data/html/%s.html", src,
                 fixtures[i].name);
        if (ag_read_file(path, 1 << 20, &html, &len) < 0) {
            snprintf(name, sizeof name, "fixture %s: cannot read %s",
                     fixtures[i].name, path);
            ok(0, name);
            continue;
        }
        snprintf(path, sizeof path, "%s/tests/data/html/%s.txt", src,
                 fixtures[i].name);
        ag_read_file(path, 1 << 20, &want, NULL);
        got = render(html, len, fixtures[i].type, fixtures[i].base, 0);
        if (getenv("AG_HTML_REGEN")) { /* rewrite the golden files */
            FILE *f = fopen(path, "w");
            if (f) {
                fputs(got, f);
                fclose(f);
            }
        }
        snprintf(name, sizeof name, "fixture %s", fixtures[i].name);
        is_str(got, want ? want : "(no .txt)", name);
        free(got);
        free(want);
        free(html);
    }
}

/* Random documents from pieces of markup, entities and raw bytes: each must
 * convert (or be refused as binary) to valid UTF-8 within the cap. */
static void test_fuzz(void)
{
    static const char *const pieces[] = {"<p>",
                                         "</p>",
                                         "<div>",
                                         "</div>",
                                         "<a href=\"/x?a=1&b=2\">",
                                         "</a>",
                                         "<a href='javascript:x'>",
                                         "<ul>",
                                         "<li>",
                                         "</ul>",
                                         "<ol start=-3>",
                                         "<table>",
                                         "<tr>",
                                         "<td>",
                                         "<th>",
                                         "</table>",
                                         "<pre>",
                                         "</pre>",
                                         "<blockquote>",
                                         "<h1>",
                                         "</h1>",
                                         "<br>",
                                         "<hr>",
                                         "<img alt=\"i\">",
                                         "<script>",
                                         "</script>",
                                         "<style>",
                                         "<!--",
                                         "-->",
                                         "<title>",
                                         "</title>",
                                         "<base href=\"//b.example/\">",
                                         "<svg>",
                                         "<math>",
                                         "<template>",
                                         "<select>",
                                         "<![CDATA[",
                                         "]]>",
                                         "<meta charset=latin1>",
                                         "&amp;",
                                         "&#x1F600;",
                                         "&#0;",
                                         "&",
                                         "<",
                                         ">",
                                         "\"",
                                         " ",
                                         "\n",
                                         "\t",
                                         "word",
                                         "\xc3\xa9",
                                         "\xe2\x82\xac",
                                         "\xff",
                                         "\x80",
                                         "\xe2\x82",
                                         "\0",
                                         "\r",
                                         "<dl><dt>",
                                         "<dd>",
                                         "<xmp>",
                                         "<plaintext>",
                                         "<textarea>",
                                         "<frameset>",
                                         "<body>",
                                         "<html>",
                                         "<head>",
                                         "</body>",
                                         "<button>",
                                         "<form>",
                                         "<input hidden>",
                                         "<p hidden>",
                                         "<noscript>",
                                         "<iframe>"};
    unsigned long seed = 12345;
    int bad = 0, failed = 0;
    double t0 = now_s();
    char err[256];

    for (int iter = 0; iter < 3000; iter++) {
        char doc[4096];
        size_t len = 0, max = 512 + (size_t)(iter % 7) * 300;
        int n = 1 + iter % 120;
        struct ag_html_doc *d;
        for (int k = 0; k < n; k++) {
            const char *p;
            size_t pl;
            seed = seed * 6364136223846793005ul + 1442695040888963407ul;
            p = pieces[(seed >> 33) % AG_ARRAY_SIZE(pieces)];
            pl = strcmp(p, "\0") == 0 ? 1 : strlen(p);
            if (len + pl >= sizeof doc)
                break;
            memcpy(doc + len, p, pl);
            len += pl;
        }
        d = conv_ex(doc, len, iter % 5 ? "text/html" : NULL,
                    iter % 3 ? "https://h.example/a/b" : NULL, max, -1, err,
                    sizeof err);
        if (!d) {
            failed += strncmp(err, "binary content", 14) != 0;
            continue;
        }
        bad += !ag_utf8_valid(d->text, d->len) || d->len > max ||
               strlen(d->text) != d->len;
        for (int i = 0; i < d->nlinks; i++)
            bad += !ag_utf8_valid(d->links[i].href, strlen(d->links[i].href));
        ag_html_doc_free(d);
    }
    is_int(bad, 0, "fuzz: 3000 random documents give valid, capped UTF-8");
    is_int(failed, 0, "fuzz: the only refusals are binary content");
    ok(now_s() - t0 < 20, "fuzz: in reasonable time");
}

int main(void)
{
    test_structure();
    test_dropped();
    test_whitespace_entities();
    test_broken();
    test_title();
    test_links();
    test_resolve();
    test_charsets();
    test_kinds();
    test_cap();
    test_huge();
    test_budget();
    test_memory();
    test_lua();
    test_fixtures();
    test_fuzz();
    ag_html_doc_free(last);
    return tap_done();
}
