/*
 * map.c: strings to strings (map.h). The table is a power of two of slots,
 * each a key and a value (NULL key: empty); a lookup probes from the key's
 * hash until it meets the key or an empty slot. Nothing is ever removed,
 * so no tombstones are needed.
 */
#include "map.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ag.h"

struct slot {
    char *key, *value;
    uint64_t hash;
};

struct ag_map {
    struct slot *slots;
    size_t cap, n; /* cap: a power of two */
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = UINT64_C(14695981039346656037);

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(1099511628211);
    return h;
}

struct ag_map *ag_map_new(void)
{
    struct ag_map *m = ag_xcalloc(1, sizeof *m);

    m->cap = 64;
    m->slots = ag_xcalloc(m->cap, sizeof *m->slots);
    return m;
}

void ag_map_free(struct ag_map *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->cap; i++) {
        free(m->slots[i].key);
        free(m->slots[i].value);
    }
    free(m->slots);
    free(m);
}

/* The slot of key, or the empty slot where it would go. */
static struct slot *find(const struct ag_map *m, const char *key, uint64_t hash)
{
    size_t i = (size_t)hash & (m->cap - 1);

    while (m->slots[i].key &&
           (m->slots[i].hash != hash || strcmp(m->slots[i].key, key) != 0))
        i = (i + 1) & (m->cap - 1);
    return &m->slots[i];
}

static void grow(struct ag_map *m)
{
    struct slot *old = m->slots;
    size_t oldcap = m->cap;

    m->cap *= 2;
    m->slots = ag_xcalloc(m->cap, sizeof *m->slots);
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].key)
            *find(m, old[i].key, old[i].hash) = old[i];
    free(old);
}

const char *ag_map_get(const struct ag_map *m, const char *key)
{
    return find(m, key, fnv1a(key))->value;
}

int ag_map_put(struct ag_map *m, const char *key, const char *value)
{
    uint64_t hash = fnv1a(key);
    struct slot *s = find(m, key, hash);

    if (s->key)
        return 0;
    if (2 * (m->n + 1) > m->cap) {
        grow(m);
        s = find(m, key, hash);
    }
    s->key = ag_xstrdup(key);
    s->value = ag_xstrdup(value);
    s->hash = hash;
    m->n++;
    return 1;
}

size_t ag_map_count(const struct ag_map *m)
{
    return m->n;
}
