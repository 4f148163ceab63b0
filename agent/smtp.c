/*
 * smtp.c: mail for the email tool (see smtp.h). Three parts: the address
 * check, the MIME builder (header encodings with folding, body encodings)
 * and the sending, which runs libcurl's SMTP on the agent's loop through
 * ag_http_start_easy.
 *
 * Header lines are written by a small writer that knows its column and
 * folds before a token that would pass LINE_COLS; every token is at most
 * WORD_MAX long, so no line passes 76 characters before its CRLF. Non-ASCII
 * text is cut into encoded-words on UTF-8 character boundaries (RFC 2047
 * §5: each word must decode to whole characters).
 *
 * Sending: curl reports each of the relay's reply lines to the header
 * callback; the last one in the 4xx/5xx range is kept so that a refusal
 * reaches the model as the relay put it, not as curl's "RCPT failed: 550".
 * The easy handle is ours: it is cleaned up when the request ends or is
 * cancelled.
 */
#include "smtp.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <arpa/inet.h>

#define LINE_COLS  76  /* longest line before its CRLF */
#define WORD_MAX   75  /* longest encoded-word (RFC 2047 §2) */
#define WORD_MIN   26  /* room needed to start a word on the current line */
#define NAME_MAX_B 256 /* display name bytes */
#define LOCAL_MAX  64
#define ADDR_MAX   254
#define MSGID_MAX  250

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

/* ---- UTF-8 --------------------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (n bytes left), or 0. Refuses
 * overlong forms, surrogates and code points past U+10FFFF. */
static size_t utf8_len(const unsigned char *p, size_t n)
{
    size_t k, i;
    unsigned long cp;

    if (p[0] < 0x80)
        return 1;
    if (p[0] >= 0xc2 && p[0] <= 0xdf)
        k = 2, cp = p[0] & 0x1f;
    else if (p[0] >= 0xe0 && p[0] <= 0xef)
        k = 3, cp = p[0] & 0x0f;
    else if (p[0] >= 0xf0 && p[0] <= 0xf4)
        k = 4, cp = p[0] & 0x07;
    else
        return 0;
    if (k > n)
        return 0;
    for (i = 1; i < k; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (p[i] & 0x3f);
    }
    if ((k == 3 && cp < 0x800) || (k == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return 0;
    return k;
}

static int utf8_valid(const char *s, size_t n)
{
    size_t i = 0, k;

    while (i < n) {
        if (!(k = utf8_len((const unsigned char *)s + i, n - i)))
            return 0;
        i += k;
    }
    return 1;
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

    if (!at || n > ADDR_MAX || memchr(at + 1, '@', n - (size_t)(at + 1 - p)))
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
    return utf8_valid(a->name, k) ? 0 : -EINVAL;
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

int ag_mail_address(const char *addr, const char **domain, size_t *dlen)
{
    struct addr a;

    if (!addr || parse_addr(addr, &a) < 0)
        return -EINVAL;
    if (domain)
        *domain = a.domain;
    if (dlen)
        *dlen = a.dlen;
    return 0;
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
            size_t cl = utf8_len(p + j, n - j), need = used, c;
            if (!cl)
                cl = 1; /* not reached: the text was checked */
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
    char tok[ADDR_MAX + 4];
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

    if (n < 5 || n > MSGID_MAX || id[0] != '<' || id[n - 1] != '>' ||
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
    if (!utf8_valid(subj, sn)) {
        snprintf(err, errlen, "the subject is not valid UTF-8");
        return -EINVAL;
    }
    if (m->body && !utf8_valid(m->body, strlen(m->body))) {
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

/* ---- sending ------------------------------------------------------------- */

struct ag_smtp_req {
    CURL *e;
    struct ag_http_req *hr;
    struct curl_slist *rcpt;
    struct ag_buf msg;
    size_t sent;
    ag_smtp_done done;
    void *ud;
    char mid[MSGID_MAX + 1];
    char line[512]; /* the reply line being read */
    size_t llen;
    char refusal[512]; /* the last 4xx/5xx reply line */
    int need_tls;      /* credentials to a relay past loopback */
};

static void req_free(struct ag_smtp_req *r)
{
    if (r->e)
        curl_easy_cleanup(r->e);
    curl_slist_free_all(r->rcpt);
    ag_buf_free(&r->msg);
    free(r);
}

static size_t on_read(char *p, size_t size, size_t n, void *ud)
{
    struct ag_smtp_req *r = ud;
    size_t k = r->msg.len - r->sent;

    if (k > size * n)
        k = size * n;
    memcpy(p, r->msg.data + r->sent, k);
    r->sent += k;
    return k;
}

/* Reply lines from the relay, possibly in pieces. */
static size_t on_reply(char *p, size_t size, size_t n, void *ud)
{
    struct ag_smtp_req *r = ud;
    size_t len = size * n, i;

    for (i = 0; i < len; i++) {
        if (p[i] != '\n') {
            if (r->llen < sizeof r->line - 1 && p[i] != '\r')
                r->line[r->llen++] = is_ctl((unsigned char)p[i]) ? ' ' : p[i];
            continue;
        }
        r->line[r->llen] = '\0';
        if ((r->line[0] == '4' || r->line[0] == '5') && r->llen >= 3) {
            memcpy(r->refusal, r->line, r->llen + 1);
            if (r->llen > 3 && r->refusal[3] == '-')
                r->refusal[3] = ' '; /* a continued reply: its last line */
        } else if (strncmp(r->line, "221", 3) != 0) {
            r->refusal[0] = '\0'; /* curl went on (221 answers QUIT) */
        }
        r->llen = 0;
    }
    return len;
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
    AG_UNUSED(p);
    AG_UNUSED(ud);
    return size * n;
}

static void on_done(void *ud, const struct ag_http_result *res)
{
    struct ag_smtp_req *r = ud;
    char msg[700];
    int err = res->err;

    if (err && r->refusal[0]) {
        err = AG_EPROTO;
        snprintf(msg, sizeof msg, "relay refused: %s", r->refusal);
    } else if (err && r->need_tls && strstr(res->errmsg, "STARTTLS")) {
        snprintf(msg, sizeof msg,
                 "the relay offers no STARTTLS, and credentials are only "
                 "sent over TLS (use smtps:// or a relay with STARTTLS)");
    } else if (err == AG_ETIMEOUT) {
        snprintf(msg, sizeof msg, "relay timed out: %s", res->errmsg);
    } else if (err) {
        snprintf(msg, sizeof msg, "cannot reach the relay: %s", res->errmsg);
    } else {
        msg[0] = '\0';
    }
    r->hr = NULL;
    r->done(r->ud, err, r->mid, msg);
    req_free(r);
}

/* 1 for localhost and the loopback addresses (by address, so that a name
 * such as 127.mail.example is not mistaken for one). */
static int is_loopback(const char *host)
{
    struct in_addr a4;

    if (strcasecmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0)
        return 1;
    return inet_pton(AF_INET, host, &a4) == 1 &&
           (ntohl(a4.s_addr) >> 24) == 127;
}

/* Checks the relay URL; sets the EHLO domain when it names none, and says
 * whether the host is loopback. */
static int relay_url(const char *relay, const struct addr *from, char *url,
                     size_t urlmax, int *loopback)
{
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL, *path = NULL, *full = NULL, *user = NULL;
    int rc = -EINVAL;

    if (!u || !relay ||
        curl_url_set(u, CURLUPART_URL, relay, CURLU_NON_SUPPORT_SCHEME))
        goto out;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) ||
        (strcmp(scheme, "smtp") && strcmp(scheme, "smtps")) ||
        curl_url_get(u, CURLUPART_HOST, &host, 0))
        goto out;
    /* credentials belong in username and password: a URL is audited */
    if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK)
        goto out;
    *loopback = is_loopback(host);
    if (curl_url_get(u, CURLUPART_PATH, &path, 0) == CURLUE_OK &&
        strcmp(path, "/") == 0) {
        char d[ADDR_MAX + 2];
        snprintf(d, sizeof d, "/%.*s", (int)from->dlen, from->domain);
        curl_url_set(u, CURLUPART_PATH, d, 0);
    }
    if (curl_url_get(u, CURLUPART_URL, &full, 0) || strlen(full) >= urlmax)
        goto out;
    memcpy(url, full, strlen(full) + 1);
    rc = 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_free(path);
    curl_free(full);
    curl_free(user);
    curl_url_cleanup(u);
    return rc;
}

static int add_rcpts(struct ag_smtp_req *r, const char *const *v, int n)
{
    struct addr a;
    char b[ADDR_MAX + 3];
    struct curl_slist *l;
    int i;

    for (i = 0; i < n; i++) {
        if (parse_addr(v[i], &a) < 0)
            return -EINVAL;
        snprintf(b, sizeof b, "<%.*s>", (int)a.slen, a.spec);
        if (!(l = curl_slist_append(r->rcpt, b)))
            return -ENOMEM;
        r->rcpt = l;
    }
    return 0;
}

int ag_smtp_send(struct ag_http *h, const struct ag_smtp_cfg *cfg,
                 const struct ag_mail *m, ag_smtp_done done, void *ud,
                 struct ag_smtp_req **out, char *err, size_t errlen)
{
    struct ag_smtp_req *r;
    struct ag_http_opts o;
    struct addr from;
    char id[33], url[1024], mail_from[ADDR_MAX + 3];
    long timeout = cfg->timeout_ms > 0 ? cfg->timeout_ms : 30000;
    int loopback = 0, rc;

    if (!m->from || parse_addr(m->from, &from) < 0) {
        snprintf(err, errlen, "invalid From address");
        return -EINVAL;
    }
    if (relay_url(cfg->relay, &from, url, sizeof url, &loopback) < 0) {
        snprintf(err, errlen,
                 "the relay must be an smtp:// or smtps:// URL without "
                 "credentials (those go in username and password)");
        return -EINVAL;
    }
    r = ag_xcalloc(1, sizeof *r);
    r->done = done;
    r->ud = ud;
    ag_new_id(id);
    snprintf(r->mid, sizeof r->mid, "<%s@%.*s>", id, (int)from.dlen,
             from.domain);
    ag_buf_init(&r->msg, cfg->max_bytes ? cfg->max_bytes : 1u << 20);
    if ((rc = ag_mime_build(m, r->mid, &r->msg, err, errlen)) < 0) {
        req_free(r);
        return rc;
    }
    /* the addresses passed ag_mime_build: only memory can fail here */
    if (add_rcpts(r, m->to, m->nto) < 0 || add_rcpts(r, m->cc, m->ncc) < 0 ||
        !(r->e = curl_easy_init())) {
        snprintf(err, errlen, "out of memory");
        req_free(r);
        return -ENOMEM;
    }
    snprintf(mail_from, sizeof mail_from, "<%.*s>", (int)from.slen, from.spec);
    curl_easy_setopt(r->e, CURLOPT_URL, url);
    curl_easy_setopt(r->e, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
    curl_easy_setopt(r->e, CURLOPT_PROXY, "");
    curl_easy_setopt(r->e, CURLOPT_MAIL_FROM, mail_from);
    curl_easy_setopt(r->e, CURLOPT_MAIL_RCPT, r->rcpt);
    curl_easy_setopt(r->e, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(r->e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->msg.len);
    curl_easy_setopt(r->e, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(r->e, CURLOPT_READDATA, r);
    curl_easy_setopt(r->e, CURLOPT_HEADERFUNCTION, on_reply);
    curl_easy_setopt(r->e, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(r->e, CURLOPT_WRITEFUNCTION, on_body);
    if (cfg->username) {
        curl_easy_setopt(r->e, CURLOPT_USERNAME, cfg->username);
        curl_easy_setopt(r->e, CURLOPT_PASSWORD,
                         cfg->password ? cfg->password : "");
    }
    /* STARTTLS when offered; required before credentials go off the host */
    r->need_tls = cfg->username && !loopback;
    curl_easy_setopt(r->e, CURLOPT_USE_SSL,
                     r->need_tls ? (long)CURLUSESSL_ALL : (long)CURLUSESSL_TRY);
    memset(&o, 0, sizeof o);
    o.url = url;
    o.connect_ms = timeout < 10000 ? timeout : 10000;
    o.total_ms = timeout;
    o.first_byte_ms = timeout + 1000; /* curl's total timeout comes first */
    o.idle_ms = timeout + 1000;
    o.on_done = on_done;
    o.ud = r;
    if ((rc = ag_http_start_easy(h, r->e, &o, &r->hr)) < 0) {
        snprintf(err, errlen, "cannot start: %s", ag_strerror(rc));
        req_free(r);
        return rc;
    }
    if (out)
        *out = r;
    return 0;
}

void ag_smtp_cancel(struct ag_smtp_req *r)
{
    if (!r)
        return;
    if (r->hr)
        ag_http_cancel(r->hr);
    req_free(r);
}
