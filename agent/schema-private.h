/*
 * schema-private.h: what the validator (schema.c) and the schema checker
 * (schema-check.c) share, and nothing else includes: the path of the value
 * being walked, where a failure is reported, and a few small helpers. The
 * contract for callers is in schema.h.
 */
#ifndef AG_SCHEMA_PRIVATE_H
#define AG_SCHEMA_PRIVATE_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define AG__SCHEMA_MAX_DEPTH 64  /* schema levels, and levels in values */
#define AG__SCHEMA_SNIP      160 /* longest quoted name or value in a message */

/* One step of the path from the root: a property name, or an array index
 * when key is NULL. The root itself is a NULL link. Links live on the
 * stack of the walk and borrow key. */
struct ag__schema_path {
    const struct ag__schema_path *up;
    const char *key;
    size_t index;
};

/* What a walk needs to report a failure. dollar: validation paths start
 * with "$" ("$.a[0]"), schema paths have no root mark ("properties.a"). */
struct ag__schema_ctx {
    char *err;
    size_t errlen;
    int dollar;
};

/* Writes "<path>: <message>" (or the message alone at the root) into
 * c->err, cut on a UTF-8 boundary, and returns AG_ESCHEMA. at may be NULL. */
int ag__schema_fail(const struct ag__schema_ctx *c,
                    const struct ag__schema_path *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "nested deeper than 64 levels" at at; returns AG_ESCHEMA. */
int ag__schema_too_deep(const struct ag__schema_ctx *c,
                        const struct ag__schema_path *at);

/* Writes s (NULL reads as "") into dst as a JSON string of at most
 * AG__SCHEMA_SNIP bytes of s, cut to cap; returns dst. */
const char *ag__schema_quoted(char *dst, size_t cap, const char *s);

/* 1 when j is a finite number with no fractional part, else 0. */
int ag__schema_is_integer(const cJSON *j);

/* The member of schema named name, borrowed from schema, or NULL. */
const cJSON *ag__schema_kw(const cJSON *schema, const char *name);

#endif
