/*
 * smtp.c: sending mail for the email tool (see smtp.h). ag_smtp_send
 * builds the message with ag_mime_build (mime.c) and runs libcurl's SMTP
 * on the agent's loop through ag_http_start_easy: the relay URL is checked
 * here, the envelope takes the bare addresses that mime.c finds, and a
 * fresh Message-ID is made in the sender's domain.
 *
 * Curl reports each of the relay's reply lines to the header callback; the
 * last one in the 4xx/5xx range is kept so that a refusal reaches the model
 * as the relay put it, not as curl's "RCPT failed: 550". The easy handle is
 * ours: it is cleaned up when the request ends or is cancelled.
 */
#include "smtp.h"
#include "mime-private.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <arpa/inet.h>

struct ag_smtp_req {
    CURL *e;
    struct ag_http_req *hr;
    struct curl_slist *rcpt;
    struct ag_buf msg;
    size_t sent;
    ag_smtp_done done;
    void *ud;
    char mid[AG__MSGID_MAX + 1];
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

static int is_ctl(int c)
{
    return (c >= 0 && c < 0x20) || c == 0x7f;
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
static int relay_url(const char *relay, const char *domain, size_t dlen,
                     char *url, size_t urlmax, int *loopback)
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
        char d[AG__ADDR_MAX + 2];
        snprintf(d, sizeof d, "/%.*s", (int)dlen, domain);
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
    const char *spec;
    size_t slen;
    char b[AG__ADDR_MAX + 3];
    struct curl_slist *l;
    int i;

    for (i = 0; i < n; i++) {
        if (ag__mail_spec(v[i], &spec, &slen, NULL, NULL) < 0)
            return -EINVAL;
        snprintf(b, sizeof b, "<%.*s>", (int)slen, spec);
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
    const char *from, *domain;
    size_t flen, dlen;
    char id[33], url[1024], mail_from[AG__ADDR_MAX + 3];
    long timeout = cfg->timeout_ms > 0 ? cfg->timeout_ms : 30000;
    int loopback = 0, rc;

    if (ag__mail_spec(m->from, &from, &flen, &domain, &dlen) < 0) {
        snprintf(err, errlen, "invalid From address");
        return -EINVAL;
    }
    if (relay_url(cfg->relay, domain, dlen, url, sizeof url, &loopback) < 0) {
        snprintf(err, errlen,
                 "the relay must be an smtp:// or smtps:// URL without "
                 "credentials (those go in username and password)");
        return -EINVAL;
    }
    r = ag_xcalloc(1, sizeof *r);
    r->done = done;
    r->ud = ud;
    ag_new_id(id);
    snprintf(r->mid, sizeof r->mid, "<%s@%.*s>", id, (int)dlen, domain);
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
    snprintf(mail_from, sizeof mail_from, "<%.*s>", (int)flen, from);
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
