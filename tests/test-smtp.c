/*
 * test-smtp.c: sending with ag_smtp_send (agent/smtp.c) to a real SMTP
 * server: Debian's aiosmtpd, started here on 127.0.0.1 and storing what it
 * receives (those cases are skipped when it is missing): envelopes, AUTH,
 * refused recipients, what arrives decoded with tests/mime-decode.c; and a
 * server that never answers, for the timeout and cancelling.
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
#include "mime-decode.h"
#include "tap.h"

static char errbuf[256];

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
    v = mime_header(msg, "Message-ID");
    is_str(v, o.mid, "send: the Message-ID reported is the one sent");
    free(v);
    v = mime_header(msg, "Subject");
    {
        char *d = v ? mime_words_decode(v) : NULL;
        is_str(d, "Résumé of the 🚀 launch", "send: the subject decodes");
        free(d);
    }
    free(v);
    v = mime_body_decode(msg);
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
    test_send();
    test_timeout_cancel();
    return tap_done();
}
