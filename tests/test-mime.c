/*
 * test-mime.c: unit tests of the email tool's mail (mime.c and smtp.c): the
 * address check, the MIME builder (header encodings and folding, body
 * encodings, header injection, line lengths and CRLF, a round trip through
 * a small independent decoder below) and sending with ag_smtp_send to a
 * real SMTP server (Debian's aiosmtpd, started here on 127.0.0.1 and
 * storing what it receives; those cases are skipped when it is missing).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <uv.h>

#include "ag.h"
#include "http.h"
#include "smtp.h"
#include "tap.h"

/* ---- a small decoder, written apart from the encoder ----------------------
 */

static int unhex(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static int unb64(int c)
{
    const char *a =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const char *p = c ? strchr(a, c) : NULL;
    return p ? (int)(p - a) : -1;
}

/* Decodes base64 text (line breaks skipped) into out. */
static void b64_decode(const char *s, size_t n, struct ag_buf *out)
{
    unsigned long v = 0;
    int bits = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        int d = unb64((unsigned char)s[i]);
        if (d < 0)
            continue;
        v = v << 6 | (unsigned long)d;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            ag_buf_addc(out, (char)(v >> bits & 0xff));
        }
    }
}

/* Decodes quoted-printable (soft breaks removed). */
static void qp_decode(const char *s, size_t n, struct ag_buf *out)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (s[i] == '=' && i + 2 < n && s[i + 1] == '\r' && s[i + 2] == '\n') {
            i += 2;
        } else if (s[i] == '=' && i + 2 < n && unhex(s[i + 1]) >= 0 &&
                   unhex(s[i + 2]) >= 0) {
            ag_buf_addc(out, (char)(unhex(s[i + 1]) * 16 + unhex(s[i + 2])));
            i += 2;
        } else {
            ag_buf_addc(out, s[i]);
        }
    }
}

/* The unfolded value of header name (leading space dropped), or NULL. */
static char *header(const char *msg, const char *name)
{
    size_t nl = strlen(name);
    const char *p = msg, *end = strstr(msg, "\r\n\r\n");
    struct ag_buf b;

    while (p && p < end) {
        if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
            p += nl + 1;
            if (*p == ' ')
                p++;
            ag_buf_init(&b, 1 << 20);
            for (;;) {
                const char *e = strstr(p, "\r\n");
                ag_buf_add(&b, p, (size_t)(e - p));
                p = e + 2;
                if (*p != ' ' && *p != '\t')
                    break;
            }
            return ag_buf_steal(&b);
        }
        p = strstr(p, "\r\n");
        p = p ? p + 2 : NULL;
    }
    return NULL;
}

/* Decodes the encoded-words of a header value; white space between two
 * encoded-words is dropped (RFC 2047 §6.2). Returns a malloc'd string. */
static char *words_decode(const char *s)
{
    struct ag_buf out, ws;
    int after_word = 0;

    ag_buf_init(&out, 1 << 20);
    ag_buf_init(&ws, 1 << 20);
    while (*s) {
        const char *q, *e;
        if (*s == ' ' || *s == '\t') {
            ag_buf_addc(&ws, *s++);
            continue;
        }
        if (strncasecmp(s, "=?UTF-8?", 8) == 0 && s[9] == '?' && (q = s + 10) &&
            (e = strstr(q, "?="))) {
            if (!after_word && ws.len)
                ag_buf_add(&out, ws.data, ws.len);
            ag_buf_reset(&ws);
            if (s[8] == 'B' || s[8] == 'b') {
                b64_decode(q, (size_t)(e - q), &out);
            } else {
                for (; q < e; q++) {
                    if (*q == '_')
                        ag_buf_addc(&out, ' ');
                    else if (*q == '=' && q + 2 < e + 1) {
                        ag_buf_addc(&out,
                                    (char)(unhex(q[1]) * 16 + unhex(q[2])));
                        q += 2;
                    } else
                        ag_buf_addc(&out, *q);
                }
            }
            after_word = 1;
            s = e + 2;
            continue;
        }
        if (ws.len)
            ag_buf_add(&out, ws.data, ws.len);
        ag_buf_reset(&ws);
        ag_buf_addc(&out, *s++);
        after_word = 0;
    }
    if (ws.len)
        ag_buf_add(&out, ws.data, ws.len);
    ag_buf_free(&ws);
    return ag_buf_steal(&out);
}

/* The decoded body (by Content-Transfer-Encoding), malloc'd. */
static char *body_decode(const char *msg)
{
    const char *b = strstr(msg, "\r\n\r\n");
    char *cte = header(msg, "Content-Transfer-Encoding");
    struct ag_buf out;

    ag_buf_init(&out, 1 << 24);
    b = b ? b + 4 : "";
    if (cte && strcmp(cte, "base64") == 0)
        b64_decode(b, strlen(b), &out);
    else if (cte && strcmp(cte, "quoted-printable") == 0)
        qp_decode(b, strlen(b), &out);
    else
        ag_buf_adds(&out, b);
    free(cte);
    return ag_buf_steal(&out);
}

/* 1 when every line ends with CRLF, no CR or LF stands alone, and no line
 * is longer than max characters. */
static int lines_ok(const char *s, size_t max)
{
    size_t col = 0;

    for (; *s; s++) {
        if (*s == '\r') {
            if (s[1] != '\n')
                return 0;
            s++;
            col = 0;
        } else if (*s == '\n') {
            return 0;
        } else if (++col > max) {
            return 0;
        }
    }
    return col == 0;
}

/* Text with line ends made CRLF and one at the end (what the body becomes). */
static char *crlf(const char *s)
{
    struct ag_buf b;

    ag_buf_init(&b, 1 << 24);
    while (*s) {
        size_t k = strcspn(s, "\r\n");
        ag_buf_add(&b, s, k);
        ag_buf_adds(&b, "\r\n");
        s += k;
        if (s[0] == '\r' && s[1] == '\n')
            s++;
        if (*s)
            s++;
    }
    return ag_buf_steal(&b);
}

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
    char *raw = msg ? header(msg, "Subject") : NULL;
    char *dec = raw ? words_decode(raw) : NULL;
    char label[160];

    snprintf(label, sizeof label, "subject round trip: %s", name);
    is_str(dec, subject, label);
    snprintf(label, sizeof label, "subject lines CRLF, under 78: %s", name);
    ok(msg && lines_ok(msg, 76), label);
    free(msg);
    free(raw);
    free(dec);
}

static void body_trip(const char *body, const char *want_cte, const char *name)
{
    char *msg = build1("a@example.org", "b@example.org", "s", body);
    char *cte = msg ? header(msg, "Content-Transfer-Encoding") : NULL;
    char *dec = msg ? body_decode(msg) : NULL, *want = crlf(body);
    char label[160];

    snprintf(label, sizeof label, "body %s: %s", want_cte, name);
    is_str(cte, want_cte, label);
    snprintf(label, sizeof label, "body round trip: %s", name);
    is_str(dec, want, label);
    snprintf(label, sizeof label, "body lines CRLF, under 78: %s", name);
    ok(msg && lines_ok(msg, 76), label);
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
    ok(lines_ok(msg, 76), "every header line ends in CRLF and is under 78");
    from = header(msg, "From");
    is_str(from, "Agent Smith <agent@example.org>", "From: plain name");
    to = header(msg, "To");
    has_str(to, "\"Doe, John\" <j@example.org>",
            "a name with a comma is quoted");
    has_str(to, "Ann <ann@example.org>", "a plain name stays plain");
    has_str(to, "=?UTF-8?Q?Jos=C3=A9_N=C3=BA=C3=B1ez?= <jose@example.org>",
            "a Latin-1 name is a Q encoded-word");
    has_str(to, ", plain@example.org,", "a bare address stays bare");
    has_str(to, "\"Say \\\"hi\\\" =?x?=\" <q@example.org>",
            "quotes are escaped; =? in a name is quoted, not a word");
    dec = words_decode(to);
    is_str(dec,
           "Ann <ann@example.org>, \"Doe, John\" <j@example.org>, José Núñez "
           "<jose@example.org>, plain@example.org, \"Say \\\"hi\\\" =?x?=\" "
           "<q@example.org>",
           "To decodes to the names given");
    free(dec);
    cc = header(msg, "Cc");
    has_str(cc, "=?UTF-8?B?", "a mostly non-ASCII name is a B encoded-word");
    dec = cc ? words_decode(cc) : NULL;
    is_str(dec, "Ωμέγα Team 🚀 <omega@example.org>", "Cc decodes (emoji too)");
    free(dec);
    v = header(msg, "Subject");
    is_str(v, "Hello", "an ASCII subject stays plain");
    free(v);
    v = header(msg, "Message-ID");
    is_str(v, MID, "the caller's Message-ID");
    free(v);
    v = header(msg, "MIME-Version");
    is_str(v, "1.0", "MIME-Version");
    free(v);
    v = header(msg, "Content-Type");
    is_str(v, "text/plain; charset=utf-8", "Content-Type");
    free(v);
    v = header(msg, "Auto-Submitted");
    is_str(v, "auto-generated", "Auto-Submitted (no auto-replies)");
    free(v);
    date = header(msg, "Date");
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
        p = msg ? header(msg, "Subject") : NULL;
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
        lines += lines_ok(msg, 76);
        raw = header(msg, "Subject");
        dec = raw ? words_decode(raw) : strdup("");
        subj_ok += strcmp(dec, subject) == 0;
        free(raw);
        free(dec);
        raw = header(msg, "To");
        dec = raw ? words_decode(raw) : NULL;
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
        dec = body_decode(msg);
        want = crlf(body);
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

/* ---- sending through a real relay ---------------------------------------- */

/* An SMTP server on 127.0.0.1 (aiosmtpd) that stores each message in DIR/N.eml
 * after X-Envelope-From, X-Envelope-To and X-Auth-User lines, refuses
 * recipients named nobody@, and takes AUTH agent / s3cret-relay-pw. */
static const char relay_py[] =
    "import asyncio, os, sys\n"
    "from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword\n"
    "out, portfile = sys.argv[1], sys.argv[2]\n"
    "class Handler:\n"
    "    n = 0\n"
    "    async def handle_RCPT(self, server, session, envelope, address, "
    "opts):\n"
    "        if address.lower().startswith('nobody@'):\n"
    "            return '550 5.1.1 <%s>: no such user' % address\n"
    "        envelope.rcpt_tos.append(address)\n"
    "        return '250 OK'\n"
    "    async def handle_DATA(self, server, session, envelope):\n"
    "        Handler.n += 1\n"
    "        name = os.path.join(out, '%d.eml' % Handler.n)\n"
    "        with open(name + '.tmp', 'wb') as f:\n"
    "            f.write(b'X-Envelope-From: %s\\r\\n' % "
    "envelope.mail_from.encode())\n"
    "            for r in envelope.rcpt_tos:\n"
    "                f.write(b'X-Envelope-To: %s\\r\\n' % r.encode())\n"
    "            if session.authenticated:\n"
    "                f.write(b'X-Auth-User: %s\\r\\n' % "
    "session.auth_data.login)\n"
    "            f.write(envelope.original_content)\n"
    "        os.rename(name + '.tmp', name)\n"
    "        return '250 2.0.0 stored'\n"
    "def auth(server, session, envelope, mechanism, data):\n"
    "    ok = (isinstance(data, LoginPassword) and data.login == b'agent'\n"
    "          and data.password == b's3cret-relay-pw')\n"
    "    return AuthResult(success=ok, handled=False, auth_data=data)\n"
    "async def main():\n"
    "    loop = asyncio.get_running_loop()\n"
    "    srv = await loop.create_server(lambda: SMTP(Handler(),\n"
    "        authenticator=auth, auth_require_tls=False,\n"
    "        hostname='relay.test'), '127.0.0.1', 0)\n"
    "    with open(portfile + '.tmp', 'w') as f:\n"
    "        f.write(str(srv.sockets[0].getsockname()[1]))\n"
    "    os.rename(portfile + '.tmp', portfile)\n"
    "    await asyncio.Event().wait()\n"
    "asyncio.run(main())\n";

struct relay {
    pid_t pid;
    int port;
    char dir[64];
};

static int relay_start(struct relay *r)
{
    char portfile[128], *s = NULL;
    int i;

    snprintf(r->dir, sizeof r->dir, "/tmp/test-mime.XXXXXX");
    if (!mkdtemp(r->dir))
        return -1;
    snprintf(portfile, sizeof portfile, "%s/port", r->dir);
    if ((r->pid = fork()) == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        dup2(fd, 2);
        execl("/usr/bin/python3", "python3", "-c", relay_py, r->dir, portfile,
              (char *)NULL);
        _exit(127);
    }
    for (i = 0; i < 200; i++) {
        if (ag_read_file(portfile, 64, &s, NULL) == 0) {
            r->port = atoi(s);
            free(s);
            return 0;
        }
        if (waitpid(r->pid, NULL, WNOHANG) == r->pid)
            break;
        usleep(25000);
    }
    kill(r->pid, SIGKILL);
    waitpid(r->pid, NULL, 0);
    return -1;
}

static void relay_stop(struct relay *r)
{
    char cmd[128];

    kill(r->pid, SIGTERM);
    waitpid(r->pid, NULL, 0);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", r->dir);
    if (system(cmd) != 0)
        tap_diag("could not remove the relay's directory");
}

/* The N-th stored message, or NULL. */
static char *stored(struct relay *r, int n)
{
    char path[128], *s = NULL;

    snprintf(path, sizeof path, "%s/%d.eml", r->dir, n);
    return ag_read_file(path, 1 << 24, &s, NULL) == 0 ? s : NULL;
}

struct outcome {
    int done, err;
    char mid[256], msg[700];
};

static void on_sent(void *ud, int err, const char *message_id,
                    const char *errmsg)
{
    struct outcome *o = ud;

    o->done++;
    o->err = err;
    snprintf(o->mid, sizeof o->mid, "%s", message_id ? message_id : "");
    snprintf(o->msg, sizeof o->msg, "%s", errmsg ? errmsg : "");
}

/* Sends m through relay on a fresh loop; returns ag_smtp_send's code. */
static int send_one(const char *relay, const char *user, const char *pass,
                    long timeout_ms, const struct ag_mail *m, struct outcome *o)
{
    uv_loop_t loop;
    struct ag_http *h;
    struct ag_smtp_cfg cfg = {relay, user, pass, timeout_ms, 0};
    int rc;

    memset(o, 0, sizeof *o);
    uv_loop_init(&loop);
    ag_http_new(&loop, &h);
    rc = ag_smtp_send(h, &cfg, m, on_sent, o, NULL, errbuf, sizeof errbuf);
    if (rc == 0 && o->done)
        tap_diag("done was called from inside ag_smtp_send");
    if (rc == 0)
        uv_run(&loop, UV_RUN_DEFAULT);
    ag_http_close(h);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    return rc;
}

static void test_send(void)
{
    const char *tov[] = {"Ann Lee <ann@example.org>", "bob@example.org"};
    const char *ccv[] = {"Zoë <zoe@example.net>"};
    const char *nobody[] = {"nobody@example.org"};
    struct ag_mail m = {"Agent <agent@example.org>",
                        tov,
                        2,
                        ccv,
                        1,
                        "Résumé of the 🚀 launch",
                        "Bonjour,\n.\n..two dots\nÀ bientôt.\n"};
    struct relay r;
    struct outcome o;
    char url[64], *msg, *v;
    int rc;

    if (access("/usr/bin/python3", X_OK) != 0 || relay_start(&r) < 0) {
        tap_diag("skipping the relay cases: no aiosmtpd (python3-aiosmtpd)");
        ok(1, "# SKIP no aiosmtpd");
        return;
    }
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", r.port);

    rc = send_one(url, "agent", "s3cret-relay-pw", 5000, &m, &o);
    is_int(rc, 0, "send: started");
    is_int(o.done, 1, "send: done called once");
    is_int(o.err, 0, "send: accepted by the relay");
    if (o.err)
        tap_diag(o.msg);
    ok(o.mid[0] == '<' && strstr(o.mid, "@example.org>"),
       "send: a Message-ID in the sender's domain");
    msg = stored(&r, 1);
    ok(msg != NULL, "send: the relay stored the message");
    msg = msg ? msg : strdup("");
    has_str(msg, "X-Envelope-From: agent@example.org\r\n",
            "send: MAIL FROM is the bare sender");
    has_str(
        msg,
        "X-Envelope-To: ann@example.org\r\nX-Envelope-To: bob@example.org\r\n"
        "X-Envelope-To: zoe@example.net\r\n",
        "send: RCPT TO every To and Cc");
    has_str(msg, "X-Auth-User: agent\r\n", "send: AUTH with the credentials");
    v = header(msg, "Message-ID");
    is_str(v, o.mid, "send: the Message-ID reported is the one sent");
    free(v);
    v = header(msg, "Subject");
    {
        char *d = v ? words_decode(v) : NULL;
        is_str(d, "Résumé of the 🚀 launch", "send: the subject decodes");
        free(d);
    }
    free(v);
    v = body_decode(msg);
    is_str(v, "Bonjour,\r\n.\r\n..two dots\r\nÀ bientôt.\r\n",
           "send: the body decodes, lines of dots intact");
    free(v);
    free(msg);

    /* 7bit with dot lines: curl's dot-stuffing must carry them */
    m.subject = "dots";
    m.body = "first\n.\n.hidden\nlast\n";
    send_one(url, NULL, NULL, 5000, &m, &o);
    is_int(o.err, 0, "send without AUTH: accepted");
    msg = stored(&r, 2);
    ok(msg && strstr(msg, "\r\n\r\nfirst\r\n.\r\n.hidden\r\nlast\r\n"),
       "send: a 7bit body with lone dots arrives whole (curl dot-stuffs)");
    ok(msg && !strstr(msg, "X-Auth-User"), "send: no AUTH without credentials");
    free(msg);

    m.cc = nobody;
    send_one(url, NULL, NULL, 5000, &m, &o);
    is_int(o.err, AG_EPROTO, "a refused recipient: AG_EPROTO");
    is_str(o.msg, "relay refused: 550 5.1.1 <nobody@example.org>: no such user",
           "... with the relay's reply");
    ok(stored(&r, 3) == NULL, "... and nothing is stored");
    m.cc = ccv;

    send_one(url, "agent", "wrong-password", 5000, &m, &o);
    is_int(o.err, AG_EPROTO, "wrong credentials: AG_EPROTO");
    has_str(o.msg, "relay refused: 535", "... with the relay's 535");
    ok(!strstr(o.msg, "wrong-password"), "... and not the password");

    rc = send_one("http://127.0.0.1:1/", NULL, NULL, 5000, &m, &o);
    is_int(rc, -EINVAL, "an http:// relay is refused");
    has_str(errbuf, "smtp:// or smtps://", "... saying what is expected");
    is_int(o.done, 0, "... and done is not called");
    rc = send_one("smtp://agent:s3cret-relay-pw@127.0.0.1:1/", NULL, NULL, 5000,
                  &m, &o);
    is_int(rc, -EINVAL, "a relay URL with credentials in it is refused");
    ok(!strstr(errbuf, "s3cret"), "... without repeating them");
    m.subject = "bad\r\nBcc: x@evil.example";
    rc = send_one(url, NULL, NULL, 5000, &m, &o);
    is_int(rc, -EINVAL, "send: header injection refused before sending");
    has_str(errbuf, "line breaks", "... with the builder's message");
    m.subject = "ok";
    {
        struct ag_smtp_cfg cfg = {url, NULL, NULL, 5000, 100};
        uv_loop_t loop;
        struct ag_http *h;
        uv_loop_init(&loop);
        ag_http_new(&loop, &h);
        rc =
            ag_smtp_send(h, &cfg, &m, on_sent, &o, NULL, errbuf, sizeof errbuf);
        is_int(rc, AG_ETOOBIG, "a message past max_bytes is refused");
        has_str(errbuf, "larger than 100 bytes", "... saying the limit");
        ag_http_close(h);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
    }
    relay_stop(&r);

    /* nothing listens any more */
    send_one(url, NULL, NULL, 5000, &m, &o);
    is_int(o.err, AG_ECONNECT, "a relay that is gone: AG_ECONNECT");
    has_str(o.msg, "cannot reach the relay", "... saying so");
}

/* A relay that accepts the connection and never speaks. */
static int silent_listener(int *port)
{
    struct sockaddr_in a;
    socklen_t al = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0 ||
        listen(fd, 8) < 0 || getsockname(fd, (struct sockaddr *)&a, &al) < 0)
        return -1;
    *port = ntohs(a.sin_port);
    return fd;
}

static void test_timeout_cancel(void)
{
    const char *tov[] = {"b@example.org"};
    struct ag_mail m = {"a@example.org", tov, 1, NULL, 0, "s", "b"};
    struct outcome o;
    char url[64];
    int port = 0, fd = silent_listener(&port);
    uint64_t t0;

    if (fd < 0) {
        ok(0, "a listening socket");
        return;
    }
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d", port);
    t0 = ag_now_us();
    send_one(url, NULL, NULL, 300, &m, &o);
    is_int(o.err, AG_ETIMEOUT, "a relay that never greets: AG_ETIMEOUT");
    has_str(o.msg, "relay timed out", "... saying so");
    ok(ag_now_us() - t0 < 3000000, "... after the timeout, not later");

    {
        uv_loop_t loop;
        struct ag_http *h;
        struct ag_smtp_cfg cfg = {url, NULL, NULL, 5000, 0};
        struct ag_smtp_req *req = NULL;
        memset(&o, 0, sizeof o);
        uv_loop_init(&loop);
        ag_http_new(&loop, &h);
        is_int(
            ag_smtp_send(h, &cfg, &m, on_sent, &o, &req, errbuf, sizeof errbuf),
            0, "cancel: started");
        uv_run(&loop, UV_RUN_NOWAIT);
        ag_smtp_cancel(req);
        is_int(ag_http_active(h), 0, "cancel: nothing left in flight");
        ag_http_close(h);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
        is_int(o.done, 0, "cancel: done is not called");
        ag_smtp_cancel(NULL);
        ok(1, "ag_smtp_cancel(NULL) is a no-op");
    }
    close(fd);
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
    test_send();
    test_timeout_cancel();
    return tap_done();
}
