/*
 * redact.h: keeping secrets out of everything shown or recorded. The API
 * key and the values a task marks secret are replaced by "[redacted]" in
 * every string the display prints and every audit record (before it is
 * hashed), even when an endpoint echoes them back in an error message.
 */
#ifndef AG_REDACT_H
#define AG_REDACT_H

#include <stddef.h>

struct ag_redactor {
    const char **secrets; /* borrowed; entries shorter than 4 are ignored */
    int n;
};

/* Returns 1 when s (n bytes) holds a secret. r may be NULL. */
int ag_redact_needed(const struct ag_redactor *r, const char *s, size_t n);
/* Returns a copy of s (n bytes, NUL-terminated) with every secret replaced
 * by "[redacted]"; the caller frees it. r may be NULL. */
char *ag_redact(const struct ag_redactor *r, const char *s, size_t n);

#endif
