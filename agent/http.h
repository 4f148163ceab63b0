/*
 * http.h: HTTP requests on the event loop, through libcurl's multi-socket
 * interface driven by libuv poll and timer handles (the pattern of curl's
 * docs/examples/multi-uv.c). Nothing blocks; connections are kept and reused
 * across requests by the one multi handle.
 *
 * Timeouts: connect (curl's), first byte (from the start of the request to
 * the first byte of the response), idle (the longest silence once the
 * response has started) and total. Every response body has a size cap.
 */
#ifndef AG_HTTP_H
#define AG_HTTP_H

#include <stddef.h>

#include <curl/curl.h>
#include <uv.h>

struct ag_http;
struct ag_http_req;

#include <sys/socket.h>

struct ag_http_result {
    int err;            /* 0, AG_ECONNECT (could not connect, or the
                           connection failed before an answer), AG_ETIMEOUT,
                           AG_ETRUNC (closed in the middle of the body),
                           AG_ETOOBIG, or on_data's negative return */
    const char *errmsg; /* what went wrong, for people; "" when err is 0 */
    long status;        /* HTTP status; 0 when none arrived */
    double retry_after; /* seconds asked by Retry-After; -1 when absent */
    const char *content_type; /* or "" */
    const char *body; /* the body when it was collected (no on_data, or a
                         status other than 2xx); else "" */
    size_t body_len;
    int truncated;        /* with truncate_body: body_len is max_body and
                             the rest of the body was not read */
    const char *headers;  /* with want_headers: the final response's header
                             lines, "name: value\r\n" each; else "" */
    double ms_first_byte; /* from start to the first response byte */
    double ms_total;
};

struct ag_http_opts {
    const char *url;
    const char *method; /* NULL: GET, or POST when there is a body; "HEAD"
                           asks for no body; others are sent as given */
    const struct curl_slist *headers; /* borrowed until on_done */
    const char *body;                 /* POST when not NULL; borrowed */
    size_t body_len;
    long connect_ms;    /* default 10000 */
    long first_byte_ms; /* default 120000 */
    long idle_ms;       /* default 60000 */
    long total_ms;      /* 0: none */
    size_t max_body;    /* default 64 MiB */
    int truncate_body;  /* a longer body is cut at max_body and the request
                           succeeds with res->truncated set (else AG_ETOOBIG) */
    /* Called with body bytes as they arrive, for 2xx responses only (other
     * bodies are collected whole for the error message). A negative return
     * aborts the transfer; on_done then reports it as err. May be NULL:
     * then the body is collected. */
    int (*on_data)(void *ud, const char *p, size_t n);
    /* Called with each address curl is about to connect to (after DNS,
     * for every attempt); a negative return refuses it: the transfer then
     * fails with AG_EPOLICY and why as its message. May be NULL. */
    int (*check_addr)(void *ud, const struct sockaddr *sa, char *why,
                      size_t whylen);
    int want_headers; /* collect the response's header lines */
    /* Called once when the transfer ends, never from inside ag_http_start.
     * The result and what it points to are valid only during the call. */
    void (*on_done)(void *ud, const struct ag_http_result *res);
    void *ud;
};

/* Creates the client of one loop. Returns 0 or a negative code. */
int ag_http_new(uv_loop_t *loop, struct ag_http **out);

/* Starts a request. Returns 0 (on_done will be called) or a negative code
 * (it will not). *out, when out is not NULL, can be passed to
 * ag_http_cancel until on_done runs. */
int ag_http_start(struct ag_http *h, const struct ag_http_opts *o,
                  struct ag_http_req **out);

/* The response's Content-Type so far ("" before the headers arrive); for
 * on_data callbacks that must tell formats apart. */
const char *ag_http_content_type(const struct ag_http_req *r);

/* Runs a transfer the caller prepared on its own easy handle (another
 * protocol: SMTP), on the same loop: the caller sets the URL and protocol
 * options; o gives on_done, ud, connect_ms and total_ms (url, body and
 * on_data are ignored; no first-byte or idle watchdog). The handle stays
 * the caller's: clean it up in on_done or after ag_http_cancel. */
int ag_http_start_easy(struct ag_http *h, CURL *e, const struct ag_http_opts *o,
                       struct ag_http_req **out);

/* Stops a request; its on_done is not called. */
void ag_http_cancel(struct ag_http_req *r);

/* Number of requests in flight. */
int ag_http_active(const struct ag_http *h);

/* Cancels what is in flight and closes the client's handles; it is freed
 * once they are closed (run the loop). ag_http_close(NULL) is a no-op. */
void ag_http_close(struct ag_http *h);

#endif
