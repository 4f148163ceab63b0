/*
 * test-mime.c: unit tests of the email tool's mail (mime.c): the address
 * check, the MIME builder (header encodings and folding, body encodings,
 * header injection, line lengths and CRLF, a round trip through the small
 * independent decoder of tests/mime-decode.c). Sending is tests/test-smtp.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag.h"
#include "mime-decode.h"
#include "smtp.h"
#include "tap.h"

/* ---- helpers ------------------------------------------------------------- */

#define MID "<0123456789abcdef@example.org>"

static char errbuf[256];

/* Builds a message to one recipient; returns it (malloc'd) or NULL. */
static char *build1(const char *from, const char *to, const char *subject,
                    const char *body)
{
    const char *tov[1] = {to};
    struct ag_mail m = {from, tov, 1, NULL, 0, subject, body};
    struct ag_buf b;

    ag_buf_init(&b, 1 << 24);
    errbuf[0] = '\0';
    if (ag_mime_build(&m, MID, &b, errbuf, sizeof errbuf) < 0) {
        ag_buf_free(&b);
        return NULL;
    }
    return ag_buf_steal(&b);
}

/* Checks that subject survives a build and a decode, with good lines. */
static void subject_trip(const char *subject, const char *name)
{
    char *msg = build1("a@example.org", "b@example.org", subject, "x");
    char *raw = msg ? mime_header(msg, "Subject") : NULL;
    char *dec = raw ? mime_words_decode(raw) : NULL;
    char label[160];

    snprintf(label, sizeof label, "subject round trip: %s", name);
    is_str(dec, subject, label);
    snprintf(label, sizeof label, "subject lines CRLF, under 78: %s", name);
    ok(msg && mime_lines_ok(msg, 76), label);
    free(msg);
    free(raw);
    free(dec);
}

static void body_trip(const char *body, const char *want_cte, const char *name)
{
    char *msg = build1("a@example.org", "b@example.org", "s", body);
    char *cte = msg ? mime_header(msg, "Content-Transfer-Encoding") : NULL;
    char *dec = msg ? mime_body_decode(msg) : NULL, *want = mime_crlf(body);
    char label[160];

    snprintf(label, sizeof label, "body %s: %s", want_cte, name);
    is_str(cte, want_cte, label);
    snprintf(label, sizeof label, "body round trip: %s", name);
    is_str(dec, want, label);
    snprintf(label, sizeof label, "body lines CRLF, under 78: %s", name);
    ok(msg && mime_lines_ok(msg, 76), label);
    free(msg);
    free(cte);
    free(dec);
    free(want);
}

/* ---- the address check --------------------------------------------------- */

static void test_address(void)
{
    static const char *const good[] = {
        "a@example.org",
        "first.last+tag@mail.example.co.uk",
        "<a@example.org>",
        "Ann <a@example.org>",
        "  Ann Lee   <a@example.org>  ",
        "\"Doe, John\" <j@example.org>",
        "\"say \\\"hi\\\"\" <j@example.org>",
        "Zoë Ñúñez <z@example.org>",
        "o'brien@xn--bcher-kva.example",
        "x!#$%&'*+-/=?^_`{|}~y@example.org",
    };
    static const char *const bad[] = {
        "",
        "a",
        "a@",
        "@example.org",
        "a@@example.org",
        "a@b@example.org",
        "a..b@example.org",
        ".a@example.org",
        "a.@example.org",
        "a@localhost",
        "a@example",
        "a@-example.org",
        "a@example-.org",
        "a@exa_mple.org",
        "a@1.2.3.4",
        "a@[127.0.0.1]",
        "a@bücher.example",
        "ü@example.org",
        "\"quoted local\"@example.org",
        "a b@example.org",
        "a@example.org\r\nBcc: x@evil.example",
        "Ann\r\n <a@example.org>",
        "Ann <a@example.org",
        "Ann <a@example.org> trailing",
        "An\"n <a@example.org>",
        "<a@example.org> <b@example.org>",
        "a@example.org, b@example.org",
        "Ann <<a@example.org>>",
        "\"unterminated <a@example.org>",
        "Bell\a <a@example.org>",
        "a@exam\tple.org",
    };
    char longlocal[80], longlabel[100];
    const char *d = NULL;
    size_t dl = 0, i;

    for (i = 0; i < AG_ARRAY_SIZE(good); i++) {
        char label[200];
        snprintf(label, sizeof label, "address accepted: %s", good[i]);
        is_int(ag_mail_address(good[i], NULL, NULL), 0, label);
    }
    for (i = 0; i < AG_ARRAY_SIZE(bad); i++) {
        char label[200], *p;
        snprintf(label, sizeof label, "address refused: %s", bad[i]);
        for (p = label; *p; p++)
            if (*p == '\r' || *p == '\n' || *p == '\a' || *p == '\t')
                *p = '~';
        is_int(ag_mail_address(bad[i], NULL, NULL), -EINVAL, label);
    }
    is_int(ag_mail_address("\"Doe, John\" <j@Mail.Example.org>", &d, &dl), 0,
           "address with a name");
    ok(d && dl == 16 && strncmp(d, "Mail.Example.org", dl) == 0,
       "the domain points into the address, case as written");
    is_int(ag_mail_address(NULL, &d, &dl), -EINVAL, "NULL is refused");
    memset(longlocal, 'l', 65);
    strcpy(longlocal + 65, "@example.org");
    is_int(ag_mail_address(longlocal, NULL, NULL), -EINVAL,
           "a local part of 65 characters is refused");
    memset(longlabel, 'd', 64);
    strcpy(longlabel, "a@");
    memset(longlabel + 2, 'd', 64);
    strcpy(longlabel + 66, ".org");
    is_int(ag_mail_address(longlabel, NULL, NULL), -EINVAL,
           "a domain label of 64 characters is refused");
}

/* ---- headers ------------------------------------------------------------- */

static void test_headers(void)
{
    const char *tov[] = {"Ann <ann@example.org>",
                         "\"Doe, John\" <j@example.org>",
                         "José Núñez <jose@example.org>", "plain@example.org",
                         "\"Say \\\"hi\\\" =?x?=\" <q@example.org>"};
    const char *ccv[] = {"Ωμέγα Team 🚀 <omega@example.org>"};
    struct ag_mail m = {
        "Agent Smith <agent@example.org>", tov, 5, ccv, 1, "Hello", "Hi.\n"};
    struct ag_buf b;
    char *msg, *to, *cc, *dec, *from, *date, *v;
    int rc;

    ag_buf_init(&b, 1 << 20);
    rc = ag_mime_build(&m, MID, &b, errbuf, sizeof errbuf);
    is_int(rc, 0, "a message with names of all kinds builds");
    msg = ag_buf_steal(&b);
    ok(mime_lines_ok(msg, 76),
       "every header line ends in CRLF and is under 78");
    from = mime_header(msg, "From");
    is_str(from, "Agent Smith <agent@example.org>", "From: plain name");
    to = mime_header(msg, "To");
    has_str(to, "\"Doe, John\" <j@example.org>",
            "a name with a comma is quoted");
    has_str(to, "Ann <ann@example.org>", "a plain name stays plain");
    has_str(to, "=?UTF-8?Q?Jos=C3=A9_N=C3=BA=C3=B1ez?= <jose@example.org>",
            "a Latin-1 name is a Q encoded-word");
    has_str(to, ", plain@example.org,", "a bare address stays bare");
    has_str(to, "\"Say \\\"hi\\\" =?x?=\" <q@example.org>",
            "quotes are escaped; =? in a name is quoted, not a word");
    dec = mime_words_decode(to);
    is_str(dec,
           "Ann <ann@example.org>, \"Doe, John\" <j@example.org>, José Núñez "
           "<jose@example.org>, plain@example.org, \"Say \\\"hi\\\" =?x?=\" "
           "<q@example.org>",
           "To decodes to the names given");
    free(dec);
    cc = mime_header(msg, "Cc");
    has_str(cc, "=?UTF-8?B?", "a mostly non-ASCII name is a B encoded-word");
    dec = cc ? mime_words_decode(cc) : NULL;
    is_str(dec, "Ωμέγα Team 🚀 <omega@example.org>", "Cc decodes (emoji too)");
    free(dec);
    v = mime_header(msg, "Subject");
    is_str(v, "Hello", "an ASCII subject stays plain");
    free(v);
    v = mime_header(msg, "Message-ID");
    is_str(v, MID, "the caller's Message-ID");
    free(v);
    v = mime_header(msg, "MIME-Version");
    is_str(v, "1.0", "MIME-Version");
    free(v);
    v = mime_header(msg, "Content-Type");
    is_str(v, "text/plain; charset=utf-8", "Content-Type");
    free(v);
    v = mime_header(msg, "Auto-Submitted");
    is_str(v, "auto-generated", "Auto-Submitted (no auto-replies)");
    free(v);
    date = mime_header(msg, "Date");
    ok(date && strlen(date) == 31 && date[3] == ',' &&
           strcmp(date + 25, " +0000") == 0 && date[19] == ':',
       "Date in RFC 5322 form, UTC");
    tap_diag(date ? date : "(no date)");
    ok(strncmp(msg, "Date: ", 6) == 0, "Date comes first");
    free(date);
    free(from);
    free(to);
    free(cc);
    free(msg);

    /* no Cc header without Cc; no Subject without one */
    msg = build1("a@example.org", "b@example.org", "", "x");
    ok(msg && !strstr(msg, "\r\nCc:") && !strstr(msg, "\r\nSubject:"),
       "no Cc or Subject header when there are none");
    free(msg);
}

static void test_subjects(void)
{
    char longascii[400], longword[200], manyemoji[600];
    size_t i;

    subject_trip("Weekly report", "ASCII");
    subject_trip("Café, crème brûlée à la carte", "Latin-1 characters");
    subject_trip("Launch 🚀🚀 today ✅", "emoji");
    subject_trip("Встреча в понедельник", "Cyrillic (B)");
    subject_trip("会議の議事録", "Japanese");
    subject_trip("Re: [ticket #42] =?not-a-word?= a_b?c",
                 "ASCII that looks like a word");
    subject_trip("  spaced   out  ", "leading, doubled and trailing spaces");
    subject_trip("tab\there", "a tab");
    subject_trip("e\xcc\x81 combining", "a combining accent");
    for (i = 0; i + 5 < sizeof longascii - 1; i += 5)
        memcpy(longascii + i, "word ", 5);
    longascii[i - 1] = '\0';
    subject_trip(longascii, "a long ASCII subject, folded at spaces");
    memset(longword, 'x', sizeof longword - 1);
    longword[sizeof longword - 1] = '\0';
    subject_trip(longword, "one 199-character word");
    manyemoji[0] = '\0';
    for (i = 0; i < 100; i++)
        strcat(manyemoji, i % 3 ? "é" : "😀");
    subject_trip(manyemoji, "a long non-ASCII subject, cut between characters");

    {
        char *msg = build1("a@example.org", "b@example.org", longascii, "x");
        char *p = msg ? strstr(msg, "\r\nSubject:") : NULL;
        ok(p && strstr(p + 2, "\r\n word") &&
               strstr(p + 2, "\r\n word") < strstr(p + 2, "\r\nMessage-ID"),
           "a long ASCII subject is folded onto continuation lines");
        free(msg);
        msg = build1("a@example.org", "b@example.org", "Café", "x");
        p = msg ? mime_header(msg, "Subject") : NULL;
        is_str(p, "=?UTF-8?Q?Caf=C3=A9?=", "a Latin-1 subject: Q encoding");
        free(p);
        free(msg);
    }
}

static void test_injection(void)
{
    const char *tov[] = {"b@example.org"};
    const char *evil_to[] = {"b@example.org\r\nBcc: c@evil.example"};
    const char *evil_name[] = {"Bob\r\nBcc: c@evil.example <b@example.org>"};
    struct ag_mail m = {"a@example.org", tov, 1, NULL, 0, "ok", "ok"};
    struct ag_buf b;
    int rc;

    ag_buf_init(&b, 1 << 20);
    ag_buf_adds(&b, "keep");
    m.subject = "Hi\r\nBcc: c@evil.example";
    rc = ag_mime_build(&m, MID, &b, errbuf, sizeof errbuf);
    is_int(rc, -EINVAL, "CRLF in the subject is refused");
    has_str(errbuf, "line breaks", "... saying why");
    is_str(ag_buf_cstr(&b), "keep", "... and the buffer is left as it was");
    m.subject = "Hi\nthere";
    is_int(ag_mime_build(&m, MID, &b, errbuf, sizeof errbuf), -EINVAL,
           "a bare LF in the subject is refused");
    m.subject = "Hi\rthere";
    is_int(ag_mime_build(&m, MID, &b, errbuf, sizeof errbuf), -EINVAL,
           "a bare CR in the subject is refused");
    m.subject = "ok";
    m.to = evil_to;
    is_int(ag_mime_build(&m, MID, &b, errbuf, sizeof errbuf), -EINVAL,
           "CRLF in a To address is refused");
    has_str(errbuf, "invalid To address #1", "... naming which");
    m.to = evil_name;
    is_int(ag_mime_build(&m, MID, &b, errbuf, sizeof errbuf), -EINVAL,
           "CRLF in a display name is refused");
    m.to = tov;
    m.cc = evil_to;
    m.ncc = 1;
    is_int(ag_mime_build(&m, MID, &b, errbuf, sizeof errbuf), -EINVAL,
           "CRLF in a Cc address is refused");
    m.ncc = 0;
    m.from = "a@example.org\nBcc: c@evil.example";
    is_int(ag_mime_build(&m, MID, &b, errbuf, sizeof errbuf), -EINVAL,
           "LF in the From address is refused");
    m.from = "a@example.org";
    is_int(ag_mime_build(&m, "<x@y>\r\nBcc: c@evil.example", &b, errbuf,
                         sizeof errbuf),
           -EINVAL, "CRLF in the Message-ID is refused");
    is_int(
        ag_mime_build(&m, "no-brackets@example.org", &b, errbuf, sizeof errbuf),
        -EINVAL, "a Message-ID without angle brackets is refused");
    m.subject = "bad \xc3\x28 utf-8";
    is_int(ag_mime_build(&m, MID, &b, errbuf, sizeof errbuf), -EINVAL,
           "a subject that is not UTF-8 is refused");
    m.subject = "overlong \xc0\xaf";
    is_int(ag_mime_build(&m, MID, &b, errbuf, sizeof errbuf), -EINVAL,
           "an overlong UTF-8 form is refused");
    m.subject = "surrogate \xed\xa0\x80";
    is_int(ag_mime_build(&m, MID, &b, errbuf, sizeof errbuf), -EINVAL,
           "a UTF-8 surrogate is refused");
    m.subject = "ok";
    m.body = "truncated \xe2\x82";
    is_int(ag_mime_build(&m, MID, &b, errbuf, sizeof errbuf), -EINVAL,
           "a body that is not UTF-8 is refused");
    has_str(errbuf, "body", "... saying it is the body");
    m.body = "ok";
    m.nto = 0;
    is_int(ag_mime_build(&m, MID, &b, errbuf, sizeof errbuf), -EINVAL,
           "no To recipient is refused");
    m.nto = 1;
    m.from = NULL;
    is_int(ag_mime_build(&m, MID, &b, errbuf, sizeof errbuf), -EINVAL,
           "no From is refused");
    is_str(ag_buf_cstr(&b), "keep",
           "after all refusals the buffer is unchanged");
    ag_buf_free(&b);
}

static void test_body(void)
{
    char longline[300], cyr[2000], mixed[3000];
    size_t i;

    body_trip("Hello,\n\nSee you at 10.\n-- \nAgent\n", "7bit", "short ASCII");
    body_trip("no final newline", "7bit", "no final line end");
    body_trip("a\r\nb\rc\nd", "7bit", "CRLF, CR and LF all become CRLF");
    body_trip(".\n..\n.leading dot\n", "7bit", "lines with leading dots");
    body_trip("", "7bit", "empty");
    body_trip("Prix : 12 €, à bientôt.\nÇa va ?\n", "quoted-printable",
              "French");
    body_trip("-- \nsignature\ttab\t\n", "7bit",
              "trailing white space kept in 7bit");
    body_trip("déjà vu \ntab\t\n", "quoted-printable",
              "trailing white space in QP (=20, =09)");
    body_trip("a=b, 50% off =?x?=\n", "7bit", "equals signs in 7bit");
    body_trip("café = coffee\n", "quoted-printable", "an equals sign in QP");
    body_trip("bell \a here\n", "quoted-printable", "a control character");
    memset(longline, 'z', sizeof longline - 1);
    longline[sizeof longline - 1] = '\0';
    body_trip(longline, "quoted-printable",
              "a 299-character line (soft breaks)");
    for (i = 0; i + 1 < sizeof longline - 1; i += 2)
        memcpy(longline + i, "é", 2) /* two bytes each */;
    longline[i] = '\0';
    body_trip(longline, "base64", "a long line of é");
    cyr[0] = '\0';
    for (i = 0; i < 40; i++)
        strcat(cyr, i % 8 == 7 ? "Привет, мир!\n" : "Привет, мир! ");
    body_trip(cyr, "base64", "mostly non-ASCII (Cyrillic)");
    mixed[0] = '\0';
    for (i = 0; i < 60; i++)
        strcat(mixed, i % 5 == 4 ? "emoji 🎉 line\n" : "plain text, ");
    body_trip(mixed, "quoted-printable", "mostly ASCII with emoji");
    {
        char *msg = build1("a@example.org", "b@example.org", "s", "one\ntwo\n");
        const char *b = msg ? strstr(msg, "\r\n\r\n") : NULL;
        is_str(b, "\r\n\r\none\r\ntwo\r\n", "a 7bit body is sent as it is");
        free(msg);
    }
}

/* Pseudo-random UTF-8 text from pieces that stress the encoders. */
static void random_text(unsigned *seed, char *out, size_t max, int lines)
{
    static const char *const pieces[] = {
        "a", "Z", " ", "  ", "=",    "?", "_",  "=?", "?=", "\"",   "\\",
        ",", "é", "ß", "€",  "日本", "😀", "\t", ".",  "-",  "word", "x=3D",
    };
    size_t n = 0;

    out[0] = '\0';
    while (n + 16 < max) {
        const char *p;
        *seed = *seed * 1103515245u + 12345u;
        if (lines && (*seed >> 16) % 13 == 0)
            p = (*seed >> 8) % 2 ? "\n" : "\r\n";
        else
            p = pieces[(*seed >> 16) % AG_ARRAY_SIZE(pieces)];
        strcpy(out + n, p);
        n += strlen(p);
        if ((*seed >> 4) % 50 == 0)
            break;
    }
}

static void test_roundtrip(void)
{
    unsigned seed = 20240601;
    int i, subj_ok = 0, body_ok = 0, lines = 0, names_ok = 0;

    for (i = 0; i < 300; i++) {
        char subject[400], body[4000], name[200], to[260];
        char *msg, *raw, *dec, *want;
        random_text(&seed, subject, sizeof subject, 0);
        random_text(&seed, body, sizeof body, 1);
        random_text(&seed, name, 60, 0);
        /* a display name is quoted when it has specials; keep it simple */
        snprintf(to, sizeof to, "X%sX <to@example.org>",
                 strpbrk(name, "\"\\\t<>") ? "name" : name);
        msg = build1("a@example.org", to, subject, body);
        if (!msg) {
            tap_diag(errbuf);
            continue;
        }
        lines += mime_lines_ok(msg, 76);
        raw = mime_header(msg, "Subject");
        dec = raw ? mime_words_decode(raw) : strdup("");
        subj_ok += strcmp(dec, subject) == 0;
        free(raw);
        free(dec);
        raw = mime_header(msg, "To");
        dec = raw ? mime_words_decode(raw) : NULL;
        if (dec && dec[0] == '"') {
            /* quoted: undo the quoting to compare */
            char *s = dec + 1, *d = dec;
            for (; *s && *s != '"'; s++)
                *d++ = *s == '\\' ? *++s : *s;
            memmove(d, s + 1, strlen(s + 1) + 1);
        }
        names_ok += dec && strcmp(dec, to) == 0;
        free(raw);
        free(dec);
        dec = mime_body_decode(msg);
        want = mime_crlf(body);
        body_ok += strcmp(dec, want) == 0;
        free(dec);
        free(want);
        free(msg);
    }
    is_int(subj_ok, 300, "300 random subjects decode to what was given");
    is_int(names_ok, 300, "300 random display names decode to what was given");
    is_int(body_ok, 300, "300 random bodies decode to what was given");
    is_int(lines, 300, "... every line CRLF and under 78 characters");
}

static void test_limits(void)
{
    const char *tov[] = {"b@example.org"};
    struct ag_mail m = {"a@example.org", tov, 1, NULL, 0, "s", NULL};
    struct ag_buf b;
    char *big = malloc(5000);

    memset(big, 'a', 4999);
    big[4999] = '\0';
    m.body = big;
    ag_buf_init(&b, 2048);
    is_int(ag_mime_build(&m, MID, &b, errbuf, sizeof errbuf), AG_ETOOBIG,
           "a message past the buffer's maximum is refused");
    has_str(errbuf, "larger than 2048 bytes", "... saying the limit");
    is_int((int)b.len, 0, "... and nothing is left in the buffer");
    ag_buf_free(&b);
    free(big);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    test_address();
    test_headers();
    test_subjects();
    test_injection();
    test_body();
    test_roundtrip();
    test_limits();
    return tap_done();
}
