/*
 * map.h: a map from strings to strings, for lookups that a cJSON object
 * (a list searched with strcmp) makes quadratic: the simulation's response
 * cache holds tens of thousands of answers keyed by request hash.
 *
 *   struct ag_map *m = ag_map_new();
 *   ag_map_put(m, "key", "value");       // copies both; keeps the first
 *   const char *v = ag_map_get(m, "key"); // "value", or NULL
 *   ag_map_free(m);
 *
 * Open addressing with linear probing, FNV-1a hashes, grown to keep the
 * load under one half. Allocation failure aborts (ag_xmalloc).
 */
#ifndef AG_MAP_H
#define AG_MAP_H

#include <stddef.h>

struct ag_map;

struct ag_map *ag_map_new(void);
void ag_map_free(struct ag_map *m);
/* The value of key, or NULL. */
const char *ag_map_get(const struct ag_map *m, const char *key);
/* Adds key -> value (both copied) unless key is there already. Returns 1
 * when added, 0 when key was there (its value is kept). */
int ag_map_put(struct ag_map *m, const char *key, const char *value);
size_t ag_map_count(const struct ag_map *m);

#endif
