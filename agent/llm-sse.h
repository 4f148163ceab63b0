/*
 * llm-sse.h: an incremental parser for Server-Sent Events (the WHATWG
 * "text/event-stream" format) as spoken by LLM endpoints. Bytes are fed as
 * they arrive, split anywhere (inside a line, between \r and \n, inside a
 * UTF-8 sequence); each complete event is handed to a callback.
 *
 * Rules followed: lines end in \r\n, \n or \r; a line starting with ':' is
 * a comment; "field: value" strips one space after the colon; a line with no
 * colon is a field with an empty value; "data" lines are joined with \n; an
 * empty line dispatches the event if it has data (event name defaults to
 * "message"); "id" and "retry" are accepted and ignored; a leading UTF-8 BOM
 * is skipped. Every buffer has a maximum size.
 */
#ifndef AG_LLM_SSE_H
#define AG_LLM_SSE_H

#include "ag.h"

/* Called once per event. event is never NULL. data is NUL-terminated, of
 * length len. A negative return stops parsing; ag_sse_feed returns it. */
typedef int (*ag_sse_cb)(void *ud, const char *event, const char *data,
                         size_t len);

struct ag_sse {
    struct ag_buf line;  /* the current, unfinished line */
    struct ag_buf data;  /* data lines of the current event */
    struct ag_buf event; /* event name of the current event */
    ag_sse_cb cb;
    void *ud;
    unsigned char state; /* private: CR seen, BOM check, has-data flags */
    unsigned char has_data;
    unsigned char bom_done;
};

/* Prepares a parser; max is the largest line and the largest event's data. */
void ag_sse_init(struct ag_sse *p, size_t max, ag_sse_cb cb, void *ud);
/* Feeds n bytes. Returns 0, AG_ETOOBIG (a line or event passed max), or the
 * callback's negative return. After an error the parser must not be fed. */
int ag_sse_feed(struct ag_sse *p, const char *buf, size_t n);
/* Marks the end of the stream. Returns 0 when the stream ended on an event
 * boundary, AG_ETRUNC when a partial line or undispatched event remains
 * (that event is discarded, as the standard says). */
int ag_sse_finish(struct ag_sse *p);
/* Frees the buffers. */
void ag_sse_free(struct ag_sse *p);

#endif
