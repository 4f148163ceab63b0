/*
 * llm-sse.h: an incremental parser for Server-Sent Events (the WHATWG
 * "text/event-stream" format) as spoken by LLM endpoints. Bytes are fed as
 * they arrive, split anywhere (inside a line, between \r and \n, inside a
 * UTF-8 sequence); each complete event is handed to a callback. The events
 * seen, and the codes returned, do not depend on where the input was split.
 *
 * Rules followed: lines end in \r\n, \n or \r; a line starting with ':' is
 * a comment; "field: value" strips one space after the colon; a line with no
 * colon is a field with an empty value; field names are case-sensitive;
 * "data" lines are joined with \n; an empty line dispatches the event if it
 * has data (event name defaults to "message", and an empty "event:" value
 * means "message" too); "id", "retry" and unknown fields are accepted and
 * ignored; one leading UTF-8 BOM is skipped. Every buffer has a maximum size.
 *
 * Usage:
 *
 *   struct ag_sse p;
 *   ag_sse_init(&p, 1 << 20, on_event, ctx);
 *   while (more bytes)
 *       if ((rc = ag_sse_feed(&p, bytes, n)) < 0) break;
 *   if (rc == 0) rc = ag_sse_finish(&p);
 *   ag_sse_free(&p);
 */
#ifndef AG_LLM_SSE_H
#define AG_LLM_SSE_H

#include "ag.h"

/* Called once per event. event is never NULL nor empty; it is a C string,
 * so a NUL byte in an "event:" value ends it there (and an empty result means
 * "message"). data is NUL-terminated, of length len (it may hold NUL bytes
 * of its own). Both are borrowed and valid
 * only during the call. A negative return stops parsing; ag_sse_feed returns
 * it. The callback must not feed, finish or free the parser it came from. */
typedef int (*ag_sse_cb)(void *ud, const char *event, const char *data,
                         size_t len);

/* Private: use the functions below. Invariants: line holds the bytes of the
 * current line when it spans feeds (never its terminator); data holds the
 * data lines of the current event joined by \n (has_data tells "data:" with
 * an empty value from no data line at all); event holds the last "event:"
 * value; all three are kept allocated between events. err is sticky. */
struct ag_sse {
    struct ag_buf line;  /* the current, unfinished line */
    struct ag_buf data;  /* data lines of the current event */
    struct ag_buf event; /* event name of the current event */
    ag_sse_cb cb;
    void *ud;
    size_t max;             /* largest line, largest event data */
    int err;                /* first error returned; then returned again */
    unsigned char bom;      /* BOM bytes matched at the start, 3 = done */
    unsigned char cr;       /* the last byte fed was a \r ending a line */
    unsigned char has_data; /* the current event has a data line */
    unsigned char fields;   /* a field line came since the last empty line */
};

/* Prepares a parser; max is the largest line and the largest event's data
 * (both without terminators). Allocates nothing; cannot fail. */
void ag_sse_init(struct ag_sse *p, size_t max, ag_sse_cb cb, void *ud);
/* Feeds n bytes (borrowed; buf may be NULL when n is 0). Returns 0,
 * AG_ETOOBIG (a line or event passed max), -ENOMEM, or the callback's
 * negative return. Events completed before the failure have been delivered.
 * After an error the parser must not be fed; if it is, it delivers nothing
 * and returns the same error. */
int ag_sse_feed(struct ag_sse *p, const char *buf, size_t n);
/* Marks the end of the stream. Returns 0 when the stream ended on an event
 * boundary, AG_ETRUNC when a partial line or an undispatched event remains
 * (any field line since the last empty line, even "event:" alone; the event
 * is discarded, as the standard says), or an earlier feed's error. Comments
 * alone do not count as a partial event. Afterwards the parser is back at the
 * start of a stream (error cleared, buffers kept) and may be fed again. */
int ag_sse_finish(struct ag_sse *p);
/* Frees the buffers. Safe on a parser that was initialised and never fed,
 * and twice in a row. */
void ag_sse_free(struct ag_sse *p);

#endif
