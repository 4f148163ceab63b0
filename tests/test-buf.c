/* test-buf.c: the bounded buffer and error messages. */
#include "ag.h"
#include "tap.h"

#include <stdint.h>
#include <stdlib.h>

int main(void)
{
    struct ag_buf b;
    char *s;

    ag_buf_init(&b, 10);
    is_int(ag_buf_adds(&b, "hello"), 0, "append within max");
    is_int(ag_buf_printf(&b, "%d", 12345), 0, "printf fills to max");
    is_int(ag_buf_addc(&b, 'x'), AG_ETOOBIG, "append past max refused");
    is_str(ag_buf_cstr(&b), "hello12345", "contents kept after refusal");
    ag_buf_consume(&b, 5);
    is_str(ag_buf_cstr(&b), "12345", "consume drops the front");
    s = ag_buf_steal(&b);
    is_str(s, "12345", "steal hands over the bytes");
    is_int((long long)b.len, 0, "stolen buffer is empty");
    free(s);

    ag_buf_init(&b, SIZE_MAX);
    is_int(ag_buf_adds(&b, "no overflow at SIZE_MAX"), 0, "max of SIZE_MAX");
    for (int i = 0; i < 1000; i++)
        ag_buf_adds(&b, "0123456789");
    is_int((long long)b.len, 23 + 10000, "grows geometrically");
    ag_buf_free(&b);

    ag_buf_init(&b, 1024);
    ag_buf_add_json_str(&b, "a\"b\\c\nd\x01", 8);
    is_str(ag_buf_cstr(&b), "a\\\"b\\\\c\\nd\\u0001", "JSON string escaping");
    ag_buf_free(&b);

    is_str(ag_strerror(AG_ETOOBIG), "size limit exceeded", "project error");
    is_str(ag_strerror(-2), "No such file or directory", "errno message");
    return tap_done();
}
