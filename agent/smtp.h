/*
 * smtp.h: sending mail for the email tool, through the broker. The message
 * is built here (MIME, with headers and body encoded for non-ASCII text) and
 * sent with libcurl's SMTP on the agent's loop (ag_http_start_easy). The
 * relay, the sender and the credentials come from the task and never reach
 * the tool's Lua.
 *
 * The built message (ag_mime_build):
 *
 *   Date: Tue, 04 Jun 2024 12:00:00 +0000      (UTC, RFC 5322 form)
 *   From: Agent <agent@example.org>
 *   To: a@example.org, "Doe, John" <j@example.org>,
 *    =?UTF-8?Q?Jos=C3=A9?= <jose@example.org>   (folded under 78 columns)
 *   Cc: ...                                      (only when there are any)
 *   Subject: =?UTF-8?Q?Caf=C3=A9?=               (plain when it is ASCII)
 *   Message-ID: <...>                            (the caller's)
 *   Auto-Submitted: auto-generated               (RFC 3834: no auto-replies)
 *   MIME-Version: 1.0
 *   Content-Type: text/plain; charset=utf-8
 *   Content-Transfer-Encoding: 7bit | quoted-printable | base64
 *
 * Display names and the subject become RFC 2047 encoded-words (UTF-8, Q when
 * mostly ASCII, B otherwise) when they are not plain ASCII; ASCII names with
 * specials (commas, quotes) become quoted strings. The body's line ends are
 * made CRLF; it is sent as 7bit when it is short-lined ASCII, base64 when at
 * least a third of its bytes are not ASCII, quoted-printable otherwise.
 * Every line ends with CRLF and stays under 78 characters (a Message-ID
 * longer than that is the exception). Dot-stuffing is left to curl, which
 * does it while sending.
 *
 * Refused (-EINVAL and a message): CR or LF in a header value (no header
 * injection), text that is not valid UTF-8, an address ag_mail_address
 * refuses, no To recipient, a malformed Message-ID.
 */
#ifndef AG_SMTP_H
#define AG_SMTP_H

#include <stddef.h>

#include "ag.h"
#include "http.h"

/* A message to send; everything borrowed, nothing kept after the call. */
struct ag_mail {
    const char *from; /* "Name <addr>" or "addr" */
    const char *const *to;
    int nto; /* at least 1 */
    const char *const *cc;
    int ncc;
    const char *subject; /* UTF-8; NULL or "": no Subject header */
    const char *body;    /* UTF-8 text; NULL: empty */
};

struct ag_smtp_cfg {
    const char *relay; /* "smtp://host:port", "smtps://host:465"; a path
                          names the EHLO domain, else the sender's domain
                          is used; no user:password@ (it is audited) */
    const char *username, *password; /* NULL: no AUTH */
    long timeout_ms;                 /* the whole exchange; 0: 30000 */
    size_t max_bytes;                /* the built message; 0: 1 MiB */
};

/* Builds the message (see above) and appends it to out; message_id is the
 * whole "<id@domain>". Returns 0; or -EINVAL, AG_ETOOBIG (past out->max)
 * or -ENOMEM with a message in err, out then left as it was. */
int ag_mime_build(const struct ag_mail *m, const char *message_id,
                  struct ag_buf *out, char *err, size_t errlen);

/* Checks an address: "x@example.org", "<x@example.org>", "Name
 * <x@example.org>" or "\"Doe, John\" <x@example.org>". Conservative: the
 * local part is a dot-atom of ASCII (no quoted local parts), the domain is
 * ASCII host name labels with at least one dot (IDN must come as xn--
 * labels; address literals are refused); the display name may be UTF-8
 * without control characters, up to 256 bytes. Returns 0 and the bare address's
 * domain in *domain, *dlen (pointing into addr, case as written); or -EINVAL.
 * domain and dlen may be NULL. */
int ag_mail_address(const char *addr, const char **domain, size_t *dlen);

struct ag_smtp_req;

/* Called once. err 0: the relay accepted the message for every envelope
 * recipient (curl stops at the first refused RCPT, so it is all or none).
 * Otherwise a negative code and a message for people: AG_EPROTO with the
 * relay's reply when it refused ("relay refused: 550 5.1.1 no such user"),
 * AG_ETIMEOUT, AG_ECONNECT. message_id is the one the message carried
 * ("<hex@sender-domain>"), also on failure. Strings valid during the call. */
typedef void (*ag_smtp_done)(void *ud, int err, const char *message_id,
                             const char *errmsg);

/* Sends m through cfg's relay on h's loop: MAIL FROM the sender's bare
 * address, RCPT TO every To and Cc, the message built by ag_mime_build with
 * a fresh Message-ID; AUTH with cfg's credentials when given (a relay other
 * than loopback must then offer STARTTLS, or use smtps). Copies what it
 * needs from m and cfg. Returns 0 (done will be called, never from inside;
 * *out, if out is not NULL, can be cancelled until then) or a negative code
 * and a message in err (done will not be called). */
int ag_smtp_send(struct ag_http *h, const struct ag_smtp_cfg *cfg,
                 const struct ag_mail *m, ag_smtp_done done, void *ud,
                 struct ag_smtp_req **out, char *err, size_t errlen);

/* Stops a sending; done is not called. ag_smtp_cancel(NULL) is a no-op. */
void ag_smtp_cancel(struct ag_smtp_req *r);

#endif
