/*
 * mime-decode.h: a small MIME decoder for tests/test-mime.c and
 * tests/test-smtp.c, written apart from agent/mime.c's encoder.
 */
#ifndef TESTS_MIME_DECODE_H
#define TESTS_MIME_DECODE_H

#include <stddef.h>

/* The unfolded value of header name (leading space dropped), or NULL;
 * malloc'd. */
char *mime_header(const char *msg, const char *name);
/* Decodes the encoded-words of a header value; white space between two
 * encoded-words is dropped (RFC 2047 6.2). Returns a malloc'd string. */
char *mime_words_decode(const char *s);
/* The decoded body (by Content-Transfer-Encoding), malloc'd. */
char *mime_body_decode(const char *msg);
/* 1 when every line ends with CRLF, no CR or LF stands alone, and no line
 * is longer than max characters. */
int mime_lines_ok(const char *s, size_t max);
/* Text with line ends made CRLF and one at the end (what the body becomes). */
char *mime_crlf(const char *s);

#endif
