/*
 * fuzz-ipc.c: fuzz target for the IPC frame reader (sandbox/ipc.c), the code
 * that reads whatever a tool worker or the zygote sends. The input is fed
 * in pieces whose sizes come from the input itself; every message taken
 * out must be an object with a string "type"; an error must end the reader
 * (the caller ends the peer) and never crash or over-read.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ipc.h"

const char *fuzz_corpus_name = "ipc";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ag_ipc_reader r;
    size_t pos = 0, step = size ? (size_t)data[0] % 17 + 1 : 1;
    cJSON *msg;
    int rc = 0;

    ag_ipc_reader_init(&r, 4096);
    while (pos < size && rc >= 0) {
        size_t n = size - pos < step ? size - pos : step;
        if (ag_ipc_reader_feed(&r, data + pos, n) < 0)
            break;
        pos += n;
        while ((rc = ag_ipc_reader_next(&r, &msg)) == 1) {
            if (!cJSON_IsObject(msg) || !ag_ipc_type(msg)[0])
                abort();
            cJSON_Delete(msg);
        }
        step = step * 3 % 29 + 1;
    }
    ag_ipc_reader_free(&r);
    return 0;
}
