/*
 * ipc.c: framing of the messages between processes (see ipc.h). The length
 * prefix is checked against the cap before any byte of the payload is
 * buffered, so a hostile peer cannot make us allocate more than the cap.
 */
#include "ipc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void put_be32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)(v >> 24);
    p[1] = (unsigned char)(v >> 16);
    p[2] = (unsigned char)(v >> 8);
    p[3] = (unsigned char)v;
}

static uint32_t get_be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 |
           (uint32_t)p[3];
}

int ag_ipc_encode_raw(struct ag_buf *out, const char *json, size_t n)
{
    unsigned char len[4];
    size_t mark = out->len;
    int rc;

    if (n > UINT32_MAX)
        return AG_ETOOBIG;
    put_be32(len, (uint32_t)n);
    if ((rc = ag_buf_add(out, len, 4)) < 0)
        return rc;
    if ((rc = ag_buf_add(out, json, n)) < 0) {
        out->len = mark;
        return rc;
    }
    return 0;
}

int ag_ipc_encode(struct ag_buf *out, const cJSON *msg)
{
    char *s = cJSON_PrintUnformatted(msg);
    int rc;

    if (!s)
        return -ENOMEM;
    rc = ag_ipc_encode_raw(out, s, strlen(s));
    free(s);
    return rc;
}

void ag_ipc_reader_init(struct ag_ipc_reader *r, size_t max_frame)
{
    /* The buffer may hold the tail of one frame and the start of the next;
     * the cap on each frame is checked in _next from its length prefix.
     * The slack covers one read of up to 64 KiB between two drains. */
    ag_buf_init(&r->buf, 2 * (max_frame + 4) + 65536);
    r->max_frame = max_frame;
}

void ag_ipc_reader_free(struct ag_ipc_reader *r)
{
    ag_buf_free(&r->buf);
}

int ag_ipc_reader_feed(struct ag_ipc_reader *r, const void *p, size_t n)
{
    if (r->buf.len >= 4 &&
        get_be32((const unsigned char *)r->buf.data) > r->max_frame)
        return AG_ETOOBIG;
    return ag_buf_add(&r->buf, p, n);
}

static int parse_payload(const char *p, size_t n, cJSON **msg)
{
    cJSON *v = cJSON_ParseWithLength(p, n);
    const cJSON *type;

    if (!v)
        return AG_EPARSE;
    type = cJSON_GetObjectItemCaseSensitive(v, "type");
    if (!cJSON_IsObject(v) || !cJSON_IsString(type) || !type->valuestring[0]) {
        cJSON_Delete(v);
        return AG_EPARSE;
    }
    *msg = v;
    return 1;
}

int ag_ipc_reader_next(struct ag_ipc_reader *r, cJSON **msg)
{
    uint32_t n;
    int rc;

    *msg = NULL;
    if (r->buf.len < 4)
        return 0;
    n = get_be32((const unsigned char *)r->buf.data);
    if (n > r->max_frame)
        return AG_ETOOBIG;
    if (r->buf.len - 4 < n)
        return 0;
    rc = parse_payload(r->buf.data + 4, n, msg);
    ag_buf_consume(&r->buf, 4 + (size_t)n);
    return rc;
}

const char *ag_ipc_type(const cJSON *msg)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(msg, "type");
    return cJSON_IsString(t) ? t->valuestring : "";
}

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int ag_ipc_send_raw(int fd, const char *json, size_t n)
{
    unsigned char len[4];
    int rc;

    if (n > UINT32_MAX)
        return AG_ETOOBIG;
    put_be32(len, (uint32_t)n);
    if ((rc = write_all(fd, (const char *)len, 4)) < 0)
        return rc;
    return write_all(fd, json, n);
}

int ag_ipc_send(int fd, const cJSON *msg)
{
    char *s = cJSON_PrintUnformatted(msg);
    int rc;

    if (!s)
        return -ENOMEM;
    rc = ag_ipc_send_raw(fd, s, strlen(s));
    free(s);
    return rc;
}

/* Reads exactly n bytes. Returns n, 0 at end of file before the first byte,
 * AG_ETRUNC at end of file later, or -errno. */
static ssize_t read_full(int fd, char *p, size_t n)
{
    size_t got = 0;

    while (got < n) {
        ssize_t r = read(fd, p + got, n - got);
        if (r < 0) {
            if (errno == EINTR)
                continue;
            return -errno;
        }
        if (r == 0)
            return got ? AG_ETRUNC : 0;
        got += (size_t)r;
    }
    return (ssize_t)got;
}

int ag_ipc_recv(int fd, size_t max_frame, cJSON **msg)
{
    unsigned char len[4];
    uint32_t n;
    ssize_t r;
    char *p;
    int rc;

    *msg = NULL;
    if ((r = read_full(fd, (char *)len, 4)) <= 0)
        return (int)r;
    n = get_be32(len);
    if (n > max_frame)
        return AG_ETOOBIG;
    if (!(p = malloc(n ? n : 1)))
        return -ENOMEM;
    r = read_full(fd, p, n);
    if (r == 0 && n > 0)
        r = AG_ETRUNC;
    rc = r < 0 ? (int)r : parse_payload(p, n, msg);
    free(p);
    return rc;
}
