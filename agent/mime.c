/*
 * mime.c: the message the email tool sends (see smtp.h): the address check
 * (ag_mail_address) and the MIME builder (ag_mime_build), with header
 * encodings and folding and the body's transfer encodings. Sending is in
 * smtp.c, which takes the bare addresses for the envelope from here
 * (mime-private.h).
 *
 * Header lines are written by a small writer that knows its column and
 * folds before a token that would pass LINE_COLS; every token is at most
 * WORD_MAX long, so no line passes 76 characters before its CRLF. Non-ASCII
 * text is cut into encoded-words on UTF-8 character boundaries (RFC 2047
 * §5: each word must decode to whole characters).
 */
#include "smtp.h"
#include "mime-private.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define LINE_COLS  76  /* longest line before its CRLF */
#define WORD_MAX   75  /* longest encoded-word (RFC 2047 §2) */
#define WORD_MIN   26  /* room needed to start a word on the current line */
#define NAME_MAX_B 256 /* display name bytes */
#define LOCAL_MAX  64

static const char B64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char HEX[] = "0123456789ABCDEF";

/* Encodes 1 to 3 bytes as 4 base64 characters. */
static void b64_quantum(const unsigned char *p, size_t n, char *e)
{
    unsigned long v = (unsigned long)p[0] << 16;

    if (n > 1)
        v |= (unsigned long)p[1] << 8;
    if (n > 2)
        v |= p[2];
    e[0] = B64[v >> 18 & 63];
    e[1] = B64[v >> 12 & 63];
    e[2] = n > 1 ? B64[v >> 6 & 63] : '=';
    e[3] = n > 2 ? B64[v & 63] : '=';
}

/* ---- addresses ----------------------------------------------------------- */

struct addr {
    char name[NAME_MAX_B + 1]; /* display name, unquoted; "" when none */
    size_t nlen;
    const char *spec; /* local@domain, in the caller's string */
    size_t slen;
    const char *domain;
    size_t dlen;
};

static int is_alnum(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9');
}

static int is_atext(int c)
{
    return is_alnum(c) || (c && strchr("!#$%&'*+-/=?^_`{|}~", c));
}

static int is_ctl(int c)
{
    return (c >= 0 && c < 0x20) || c == 0x7f;
}

static int check_local(const char *p, size_t n)
{
    size_t i;

    if (n == 0 || n > LOCAL_MAX || p[0] == '.' || p[n - 1] == '.')
        return -EINVAL;
    for (i = 0; i < n; i++) {
        if (p[i] == '.' ? p[i + 1] == '.' : !is_atext((unsigned char)p[i]))
            return -EINVAL;
    }
    return 0;
}

static int check_domain(const char *p, size_t n)
{
    size_t i = 0, start, labels = 0, last_alpha = 0;

    if (n == 0 || n > 253)
        return -EINVAL;
    while (i <= n) {
        start = i;
        last_alpha = 0;
        while (i < n && p[i] != '.') {
            if (!is_alnum((unsigned char)p[i]) && p[i] != '-')
                return -EINVAL;
            if (!(p[i] >= '0' && p[i] <= '9') && p[i] != '-')
                last_alpha = 1;
            i++;
        }
        if (i == start || i - start > 63 || p[start] == '-' || p[i - 1] == '-')
            return -EINVAL;
        labels++;
        i++; /* past the dot, or past the end */
    }
    /* a top-level label of digits only would be an IPv4 address */
    return labels >= 2 && last_alpha ? 0 : -EINVAL;
}

static int check_spec(struct addr *a, const char *p, size_t n)
{
    const char *at = memchr(p, '@', n);

    if (!at || n > AG__ADDR_MAX ||
        memchr(at + 1, '@', n - (size_t)(at + 1 - p)))
        return -EINVAL;
    if (check_local(p, (size_t)(at - p)) < 0 ||
        check_domain(at + 1, n - (size_t)(at + 1 - p)) < 0)
        return -EINVAL;
    a->spec = p;
    a->slen = n;
    a->domain = at + 1;
    a->dlen = n - (size_t)(at + 1 - p);
    return 0;
}

/* Unquotes a display name into a->name: "..." with backslash escapes, or
 * bare words without quotes or angle brackets. */
static int set_name(struct addr *a, const char *p, size_t n)
{
    size_t i, k = 0;
    int quoted = n >= 2 && p[0] == '"' && p[n - 1] == '"';

    if (quoted)
        p++, n -= 2;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (is_ctl(c))
            return -EINVAL;
        if (quoted && c == '\\') {
            if (++i == n || is_ctl((unsigned char)p[i]))
                return -EINVAL;
            c = (unsigned char)p[i];
        } else if (c == '"' || (!quoted && (c == '<' || c == '>'))) {
            return -EINVAL;
        }
        if (k == NAME_MAX_B)
            return -EINVAL;
        a->name[k++] = (char)c;
    }
    a->name[k] = '\0';
    a->nlen = k;
    return ag_utf8_valid(a->name, k) ? 0 : -EINVAL;
}

static int parse_addr(const char *s, struct addr *a)
{
    size_t n = strlen(s), lt;
    int inq = 0;

    memset(a, 0, sizeof *a);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    if (n == 0 || s[n - 1] != '>')
        return check_spec(a, s, n);
    for (lt = 0; lt < n; lt++) {
        if (s[lt] == '\\' && inq && lt + 1 < n)
            lt++;
        else if (s[lt] == '"')
            inq = !inq;
        else if (s[lt] == '<' && !inq)
            break;
    }
    if (lt == n || check_spec(a, s + lt + 1, n - lt - 2) < 0)
        return -EINVAL;
    n = lt;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return set_name(a, s, n);
}

int ag__mail_spec(const char *addr, const char **spec, size_t *slen,
                  const char **domain, size_t *dlen)
{
    struct addr a;

    if (!addr || parse_addr(addr, &a) < 0)
        return -EINVAL;
    if (spec)
        *spec = a.spec;
    if (slen)
        *slen = a.slen;
    if (domain)
        *domain = a.domain;
    if (dlen)
        *dlen = a.dlen;
    return 0;
}

int ag_mail_address(const char *addr, const char **domain, size_t *dlen)
{
    return ag__mail_spec(addr, NULL, NULL, domain, dlen);
}

/* ---- header writer ------------------------------------------------------- */

struct hw {
    struct ag_buf *b;
    size_t col;
    int rc;
};

static void hw_raw(struct hw *w, const char *p, size_t n)
{
    if (!w->rc)
        w->rc = ag_buf_add(w->b, p, n);
    w->col += n;
}

static void hw_str(struct hw *w, const char *s)
{
    hw_raw(w, s, strlen(s));
}

static void hw_start(struct hw *w, const char *name)
{
    hw_str(w, name);
    hw_raw(w, ":", 1);
}

/* Writes one space and a token, or a fold and the token when it would pass
 * the line's end. */
static void hw_token(struct hw *w, const char *p, size_t n)
{
    if (w->col + 1 + n > LINE_COLS) {
        hw_raw(w, "\r\n ", 3);
        w->col = 1;
    } else {
        hw_raw(w, " ", 1);
    }
    hw_raw(w, p, n);
}

static void hw_end(struct hw *w)
{
    hw_raw(w, "\r\n", 2);
    w->col = 0;
}

/* Q-encoding's literal characters: the phrase set of RFC 2047 §5(3), and
 * in unstructured text also the other printable ASCII but = ? _. */
static int q_literal(unsigned char c, int phrase)
{
    if (is_alnum(c) || (c && strchr("!*+-/", c)))
        return 1;
    return !phrase && c > 0x20 && c < 0x7f && !strchr("=?_\"", c);
}

static size_t q_width(unsigned char c, int phrase)
{
    return c == ' ' || q_literal(c, phrase) ? 1 : 3;
}

/* Writes text as encoded-words, each whole characters and at most
 * WORD_MAX long, folding between them. */
static void hw_encoded(struct hw *w, const char *s, size_t n, int phrase)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i, qlen = 0;
    int b64;

    /* Q reads better; B is shorter for text that is mostly not ASCII */
    for (i = 0; i < n; i++)
        qlen += q_width(p[i], phrase);
    b64 = 2 * qlen > 3 * ((n + 2) / 3 * 4);
    i = 0;
    while (i < n) {
        char word[WORD_MAX + 1];
        size_t room = LINE_COLS - 1 > w->col ? LINE_COLS - 1 - w->col : 0;
        size_t k, j = i, used = 0;

        if (room < WORD_MIN || room > WORD_MAX)
            room = WORD_MAX; /* a fold comes first */
        room -= 12;          /* =?UTF-8?X? and ?= */
        /* as many whole characters as fit (at least one: room >= 14) */
        while (j < n) {
            int sl = ag_utf8_seq(p + j, n - j);
            size_t cl = sl > 0 ? (size_t)sl : 1, need = used, c;
            /* sl < 0 is not reached: the text was checked */
            if (b64)
                need = (j + cl - i + 2) / 3 * 4;
            else
                for (c = 0; c < cl; c++)
                    need += q_width(p[j + c], phrase);
            if (need > room && j > i)
                break;
            used = need;
            j += cl;
        }
        memcpy(word, b64 ? "=?UTF-8?B?" : "=?UTF-8?Q?", 10);
        k = 10;
        if (b64) {
            size_t q;
            for (q = i; q < j; q += 3, k += 4)
                b64_quantum(p + q, j - q < 3 ? j - q : 3, word + k);
        } else {
            size_t q;
            for (q = i; q < j; q++) {
                if (p[q] == ' ') {
                    word[k++] = '_';
                } else if (q_literal(p[q], phrase)) {
                    word[k++] = (char)p[q];
                } else {
                    word[k++] = '=';
                    word[k++] = HEX[p[q] >> 4];
                    word[k++] = HEX[p[q] & 15];
                }
            }
        }
        word[k++] = '?';
        word[k++] = '=';
        hw_token(w, word, k);
        i = j;
    }
}

/* Splits plain text into words at single spaces: 1 when every word is at
 * most WORD_MAX - 10 long, there are no doubled, leading or trailing spaces,
 * accept() takes every byte and (unless quoted) no "=?" would read as the
 * start of an encoded-word. */
static int plain_words(const char *s, size_t n, int (*accept)(int), int quoted)
{
    size_t i, run = 0;

    if (n == 0 || s[0] == ' ' || s[n - 1] == ' ')
        return 0;
    for (i = 0; i < n; i++) {
        if (s[i] == ' ') {
            if (run == 0)
                return 0;
            run = 0;
        } else if (!accept((unsigned char)s[i]) || ++run > WORD_MAX - 10) {
            return 0;
        }
        if (!quoted && s[i] == '=' && i + 1 < n && s[i + 1] == '?')
            return 0;
    }
    return 1;
}

static void hw_words(struct hw *w, const char *s, size_t n)
{
    size_t i = 0, j;

    while (i < n) {
        for (j = i; j < n && s[j] != ' '; j++)
            ;
        hw_token(w, s + i, j - i);
        i = j + 1;
    }
}

static int text_char(int c)
{
    return c > 0x20 && c < 0x7f;
}

static void hw_name(struct hw *w, const struct addr *a)
{
    char q[2 * NAME_MAX_B + 3];
    size_t i, k = 0;

    if (a->nlen == 0)
        return;
    if (plain_words(a->name, a->nlen, is_atext, 0)) {
        hw_words(w, a->name, a->nlen);
        return;
    }
    if (plain_words(a->name, a->nlen, text_char, 1) && a->nlen < 60) {
        q[k++] = '"';
        for (i = 0; i < a->nlen; i++) {
            if (a->name[i] == '"' || a->name[i] == '\\')
                q[k++] = '\\';
            q[k++] = a->name[i];
        }
        q[k++] = '"';
        hw_token(w, q, k);
        return;
    }
    hw_encoded(w, a->name, a->nlen, 1);
}

static int hw_addrs(struct hw *w, const char *hname, const char *const *v,
                    int n, char *err, size_t errlen)
{
    struct addr a;
    char tok[AG__ADDR_MAX + 4];
    int i;

    hw_start(w, hname);
    for (i = 0; i < n; i++) {
        if (!v[i] || parse_addr(v[i], &a) < 0) {
            snprintf(err, errlen, "invalid %s address #%d", hname, i + 1);
            return -EINVAL;
        }
        hw_name(w, &a);
        snprintf(tok, sizeof tok, a.nlen ? "<%.*s>%s" : "%.*s%s", (int)a.slen,
                 a.spec, i + 1 < n ? "," : "");
        hw_token(w, tok, strlen(tok));
    }
    hw_end(w);
    return 0;
}

/* ---- body ---------------------------------------------------------------- */

/* Appends s with its line ends made CRLF, ending with one. */
static int body_crlf(const char *s, struct ag_buf *o)
{
    size_t i = 0, j;
    int rc = 0;

    while (s[i] && !rc) {
        for (j = i; s[j] && s[j] != '\r' && s[j] != '\n'; j++)
            ;
        if (!(rc = ag_buf_add(o, s + i, j - i)))
            rc = ag_buf_add(o, "\r\n", 2);
        if (s[j] == '\r' && s[j + 1] == '\n')
            j++;
        i = s[j] ? j + 1 : j;
    }
    return rc;
}

static int body_qp(const char *s, size_t n, struct ag_buf *o)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i, col = 0;
    int rc = 0;

    for (i = 0; i < n && !rc; i++) {
        char e[3];
        size_t k;
        if (p[i] == '\r' && i + 1 < n && p[i + 1] == '\n') {
            rc = ag_buf_add(o, "\r\n", 2);
            col = 0;
            i++;
            continue;
        }
        if ((p[i] > 0x20 && p[i] < 0x7f && p[i] != '=') ||
            ((p[i] == ' ' || p[i] == '\t') && p[i + 1] != '\r')) {
            e[0] = (char)p[i];
            k = 1;
        } else {
            e[0] = '=';
            e[1] = HEX[p[i] >> 4];
            e[2] = HEX[p[i] & 15];
            k = 3;
        }
        if (col + k > LINE_COLS - 1) {
            rc = ag_buf_add(o, "=\r\n", 3);
            col = 0;
        }
        if (!rc)
            rc = ag_buf_add(o, e, k);
        col += k;
    }
    return rc;
}

static int body_b64(const char *s, size_t n, struct ag_buf *o)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i;
    int rc = 0;

    for (i = 0; i < n && !rc; i += 3) {
        char e[4];
        b64_quantum(p + i, n - i < 3 ? n - i : 3, e);
        rc = ag_buf_add(o, e, 4);
        if (!rc && ((i / 3 + 1) % (LINE_COLS / 4) == 0 || i + 3 >= n))
            rc = ag_buf_add(o, "\r\n", 2);
    }
    return rc;
}

/* Chooses the transfer encoding of the CRLF-ended text s. */
static const char *body_encoding(const char *s, size_t n)
{
    size_t i, high = 0, col = 0, longest = 0;
    int ctl = 0;

    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '\r' && i + 1 < n && s[i + 1] == '\n') {
            col = 0;
            i++;
            continue;
        }
        high += c >= 0x80;
        ctl |= is_ctl(c) && c != '\t';
        if (++col > longest)
            longest = col;
    }
    if (!high && !ctl && longest <= LINE_COLS)
        return "7bit";
    return high * 3 >= n ? "base64" : "quoted-printable";
}

/* ---- the message --------------------------------------------------------- */

static int check_msgid(const char *id)
{
    size_t n = id ? strlen(id) : 0, i;

    if (n < 5 || n > AG__MSGID_MAX || id[0] != '<' || id[n - 1] != '>' ||
        !memchr(id, '@', n))
        return -EINVAL;
    for (i = 1; i + 1 < n; i++)
        if (!text_char((unsigned char)id[i]) || id[i] == '<' || id[i] == '>')
            return -EINVAL;
    return 0;
}

static void add_date(struct hw *w)
{
    static const char *const days[] = {"Sun", "Mon", "Tue", "Wed",
                                       "Thu", "Fri", "Sat"};
    static const char *const mons[] = {"Jan", "Feb", "Mar", "Apr",
                                       "May", "Jun", "Jul", "Aug",
                                       "Sep", "Oct", "Nov", "Dec"};
    time_t now = time(NULL);
    struct tm tm;
    char d[64];

    gmtime_r(&now, &tm);
    snprintf(d, sizeof d, "Date: %s, %02d %s %04d %02d:%02d:%02d +0000\r\n",
             days[tm.tm_wday % 7], tm.tm_mday, mons[tm.tm_mon % 12],
             tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    hw_str(w, d);
    w->col = 0;
}

static int build(const struct ag_mail *m, const char *mid, struct ag_buf *out,
                 struct ag_buf *text, char *err, size_t errlen)
{
    struct hw w = {out, 0, 0};
    const char *subj = m->subject ? m->subject : "";
    const char *from = m->from;
    const char *enc;
    size_t sn = strlen(subj);
    int rc;

    if (m->nto < 1 || !m->to || m->ncc < 0 || (m->ncc && !m->cc)) {
        snprintf(err, errlen, "no To recipient");
        return -EINVAL;
    }
    if (check_msgid(mid) < 0) {
        snprintf(err, errlen, "invalid Message-ID");
        return -EINVAL;
    }
    if (strpbrk(subj, "\r\n")) {
        snprintf(err, errlen, "the subject must not contain line breaks");
        return -EINVAL;
    }
    if (!ag_utf8_valid(subj, sn)) {
        snprintf(err, errlen, "the subject is not valid UTF-8");
        return -EINVAL;
    }
    if (m->body && !ag_utf8_valid(m->body, strlen(m->body))) {
        snprintf(err, errlen, "the body is not valid UTF-8");
        return -EINVAL;
    }
    if (!from) {
        snprintf(err, errlen, "no From address");
        return -EINVAL;
    }
    add_date(&w);
    if ((rc = hw_addrs(&w, "From", &from, 1, err, errlen)) < 0 ||
        (rc = hw_addrs(&w, "To", m->to, m->nto, err, errlen)) < 0 ||
        (m->ncc && (rc = hw_addrs(&w, "Cc", m->cc, m->ncc, err, errlen)) < 0))
        return rc;
    if (sn) {
        hw_start(&w, "Subject");
        if (plain_words(subj, sn, text_char, 0))
            hw_words(&w, subj, sn);
        else
            hw_encoded(&w, subj, sn, 0);
        hw_end(&w);
    }
    hw_start(&w, "Message-ID");
    hw_token(&w, mid, strlen(mid));
    hw_end(&w);
    if ((rc = body_crlf(m->body ? m->body : "", text)) < 0)
        return rc;
    enc = body_encoding(text->data ? text->data : "", text->len);
    hw_str(&w, "Auto-Submitted: auto-generated\r\n"
               "MIME-Version: 1.0\r\n"
               "Content-Type: text/plain; charset=utf-8\r\n"
               "Content-Transfer-Encoding: ");
    hw_str(&w, enc);
    hw_str(&w, "\r\n\r\n");
    if (w.rc)
        return w.rc;
    if (enc[0] == '7')
        return text->len ? ag_buf_add(out, text->data, text->len) : 0;
    if (enc[0] == 'b')
        return body_b64(text->data, text->len, out);
    return body_qp(text->data ? text->data : "", text->len, out);
}

int ag_mime_build(const struct ag_mail *m, const char *message_id,
                  struct ag_buf *out, char *err, size_t errlen)
{
    struct ag_buf text;
    size_t start = out->len;
    int rc;

    ag_buf_init(&text, out->max ? out->max : (size_t)-1);
    rc = build(m, message_id, out, &text, err, errlen);
    ag_buf_free(&text);
    if (rc < 0) {
        if (rc == AG_ETOOBIG)
            snprintf(err, errlen, "the message is larger than %zu bytes",
                     out->max);
        else if (rc == -ENOMEM)
            snprintf(err, errlen, "out of memory");
        out->len = start;
        if (out->data)
            out->data[start] = '\0';
    }
    return rc;
}
