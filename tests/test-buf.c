/* test-buf.c: the bounded buffer, error messages, the string map and
 * ag_write_file. */
#include "ag.h"
#include "map.h"
#include "tap.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static void test_map(void)
{
    struct ag_map *m = ag_map_new();
    char k[32], v[32];
    int all = 1;

    ok(ag_map_get(m, "x") == NULL, "map: empty");
    is_int(ag_map_put(m, "x", "1"), 1, "map: put adds");
    is_int(ag_map_put(m, "x", "2"), 0, "map: a second put of a key ...");
    is_str(ag_map_get(m, "x"), "1", "... keeps the first value");
    is_str(ag_map_get(m, ""), NULL, "map: the empty key is absent ...");
    ag_map_put(m, "", "empty");
    is_str(ag_map_get(m, ""), "empty", "... until put");
    for (int i = 0; i < 100000; i++) {
        snprintf(k, sizeof k, "key-%d", i);
        snprintf(v, sizeof v, "value-%d", i);
        ag_map_put(m, k, v);
    }
    for (int i = 0; i < 100000 && all; i++) {
        const char *got;
        snprintf(k, sizeof k, "key-%d", i);
        snprintf(v, sizeof v, "value-%d", i);
        got = ag_map_get(m, k);
        all = got && strcmp(got, v) == 0;
    }
    ok(all, "map: 100,000 keys through many growths, each found");
    is_int((long long)ag_map_count(m), 100002, "map: the count");
    ok(ag_map_get(m, "key-100000") == NULL, "map: a key never put is absent");
    ag_map_free(m);
}

static void test_write_file(void)
{
    char dir[] = "/tmp/test-buf.XXXXXX", *path, *tmp, *got = NULL;

    if (!mkdtemp(dir)) {
        ok(0, "mkdtemp");
        return;
    }
    path = ag_xasprintf("%s/f.json", dir);
    tmp = ag_xasprintf("%s.tmp", path);
    is_int(ag_write_file(path, "{\"a\":1}\n", 8), 0, "write_file: written");
    ag_read_file(path, 100, &got, NULL);
    is_str(got, "{\"a\":1}\n", "write_file: the whole text");
    ok(access(tmp, F_OK) != 0, "write_file: no temporary file left");
    free(got);
    is_int(ag_write_file("/dev/full/x", "x", 1) < 0, 1,
           "write_file: a path that cannot be written is an error");
    unlink(path);
    rmdir(dir);
    free(path);
    free(tmp);
}

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
    is_int(ag_utf8_seq((const unsigned char *)"\xC3\xA9", 2), 2, "utf8: é");
    is_int(ag_utf8_seq((const unsigned char *)"\xC0\xAF", 2), -1,
           "utf8: an overlong form is one bad byte");
    is_int(ag_utf8_seq((const unsigned char *)"\xED\xA0\x80", 3), -1,
           "utf8: a surrogate is invalid");
    is_int(ag_utf8_seq((const unsigned char *)"\xE2\x82", 2), -2,
           "utf8: a cut sequence is its maximal prefix");
    ok(ag_utf8_valid("a\xF0\x9F\x9A\x80"
                     "b",
                     6) &&
           !ag_utf8_valid("\xFF", 1),
       "utf8_valid");
    test_map();
    test_write_file();
    return tap_done();
}
