/*
 * ipc.h: the messages between the agent process, the zygote and the tool
 * workers (DESIGN §6). A message is a 4-byte big-endian length followed by
 * that many bytes of JSON: an object with a non-empty string "type". Sizes are capped
 * on both sides; a frame that is too long, not JSON, or not such an object is
 * malformed, and the peer that sent it is ended.
 *
 * The reader is incremental (for the agent's event loop); ag_ipc_send and
 * ag_ipc_recv are blocking helpers for the worker and the zygote, which have
 * nothing else to do while they wait.
 */
#ifndef AG_IPC_H
#define AG_IPC_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "ag.h"

#define AG_IPC_MAX_FRAME (16u << 20) /* default cap on one message */

/* Appends msg as one frame to out. Returns 0, AG_ETOOBIG (larger than the
 * buffer's max or than 4 GiB) or -ENOMEM. Borrows msg. */
int ag_ipc_encode(struct ag_buf *out, const cJSON *msg);
/* Same, from JSON text the caller already has. */
int ag_ipc_encode_raw(struct ag_buf *out, const char *json, size_t n);

struct ag_ipc_reader {
    struct ag_buf buf; /* bytes received and not yet taken */
    size_t max_frame;
};

void ag_ipc_reader_init(struct ag_ipc_reader *r, size_t max_frame);
void ag_ipc_reader_free(struct ag_ipc_reader *r);
/* Adds received bytes. Returns 0 or AG_ETOOBIG. */
int ag_ipc_reader_feed(struct ag_ipc_reader *r, const void *p, size_t n);
/* Takes the next complete message. Returns 1 and a message in *msg (the
 * caller frees it with cJSON_Delete), 0 when more bytes are needed,
 * AG_ETOOBIG when the announced length passes max_frame, AG_EPARSE when the
 * payload is not a JSON object with a non-empty string "type". After an error the
 * reader holds garbage: end the peer. */
int ag_ipc_reader_next(struct ag_ipc_reader *r, cJSON **msg);
/* The message's type, or "" (never NULL). */
const char *ag_ipc_type(const cJSON *msg);

/* Blocking: writes one frame whole (retrying on EINTR and short writes).
 * Returns 0 or -errno. */
int ag_ipc_send(int fd, const cJSON *msg);
/* Same, from JSON text. */
int ag_ipc_send_raw(int fd, const char *json, size_t n);
/* Blocking: reads one frame. Returns 1 and *msg, 0 on end of file at a frame
 * boundary, AG_ETRUNC on end of file inside a frame, AG_ETOOBIG, AG_EPARSE
 * or -errno. */
int ag_ipc_recv(int fd, size_t max_frame, cJSON **msg);

#endif
