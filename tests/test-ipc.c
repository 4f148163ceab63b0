/*
 * test-ipc.c: message framing between processes: round trips, frames split
 * at every byte, several frames in one read, oversized and malformed frames,
 * and the blocking helpers over a real socketpair.
 */
#include "ipc.h"
#include "tap.h"

#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

static int count_msgs(struct ag_ipc_reader *r, int *err)
{
    cJSON *m;
    int n = 0, rc;

    while ((rc = ag_ipc_reader_next(r, &m)) == 1) {
        n++;
        cJSON_Delete(m);
    }
    *err = rc;
    return n;
}

int main(void)
{
    struct ag_buf b;
    struct ag_ipc_reader r;
    cJSON *m, *got;
    int err, n, sv[2], split_ok = 1;

    ag_buf_init(&b, 1 << 20);
    m = cJSON_Parse("{\"type\":\"call\",\"id\":7,\"args\":{\"x\":\"é\"}}");
    is_int(ag_ipc_encode(&b, m), 0, "encode");
    ok(b.len > 4 && b.data[0] == 0 && b.data[3] == (char)(b.len - 4),
       "big-endian length prefix");
    ag_ipc_encode_raw(&b, "{\"type\":\"result\",\"id\":7,\"value\":1}", 34);

    /* every split point of two frames gives the same two messages */
    for (size_t cut = 0; cut <= b.len; cut++) {
        ag_ipc_reader_init(&r, 1024);
        ag_ipc_reader_feed(&r, b.data, cut);
        n = count_msgs(&r, &err);
        ag_ipc_reader_feed(&r, b.data + cut, b.len - cut);
        n += count_msgs(&r, &err);
        if (n != 2 || err != 0)
            split_ok = 0;
        ag_ipc_reader_free(&r);
    }
    ok(split_ok, "two frames split at every byte give two messages");

    ag_ipc_reader_init(&r, 1024);
    ag_ipc_reader_feed(&r, b.data, b.len);
    ok(ag_ipc_reader_next(&r, &got) == 1 &&
           strcmp(ag_ipc_type(got), "call") == 0,
       "first message is the call");
    is_str(
        cJSON_GetObjectItem(cJSON_GetObjectItem(got, "args"), "x")->valuestring,
        "é", "UTF-8 survives");
    cJSON_Delete(got);
    ag_ipc_reader_free(&r);

    /* oversized: refused from the prefix alone */
    ag_ipc_reader_init(&r, 16);
    ag_ipc_reader_feed(&r, "\0\0\0\x20", 4);
    is_int(ag_ipc_reader_next(&r, &got), AG_ETOOBIG,
           "frame longer than the cap refused before its payload");
    ag_ipc_reader_free(&r);

    /* malformed payloads */
    {
        static const char *bad[] = {"[1,2]", "{\"id\":1}", "{\"type\":3}",
                                    "{\"type\":\"x\"", "nul\0l"};
        int all = 1;
        for (size_t i = 0; i < 5; i++) {
            struct ag_buf f;
            ag_buf_init(&f, 64);
            ag_ipc_encode_raw(&f, bad[i], i == 4 ? 5 : strlen(bad[i]));
            ag_ipc_reader_init(&r, 64);
            ag_ipc_reader_feed(&r, f.data, f.len);
            if (ag_ipc_reader_next(&r, &got) != AG_EPARSE)
                all = 0;
            ag_ipc_reader_free(&r);
            ag_buf_free(&f);
        }
        ok(all, "non-object, missing or non-string type, broken JSON refused");
    }

    /* blocking helpers over a socketpair */
    socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
    is_int(ag_ipc_send(sv[0], m), 0, "send");
    is_int(ag_ipc_recv(sv[1], 1024, &got), 1, "recv");
    is_str(ag_ipc_type(got), "call", "recv gets the message");
    cJSON_Delete(got);
    write(sv[0], "\0\0\0\x10{\"ty", 8);
    close(sv[0]);
    is_int(ag_ipc_recv(sv[1], 1024, &got), AG_ETRUNC,
           "end of file inside a frame is truncation");
    is_int(ag_ipc_recv(sv[1], 1024, &got), 0, "then end of file");
    close(sv[1]);

    cJSON_Delete(m);
    ag_buf_free(&b);
    return tap_done();
}
