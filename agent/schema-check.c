/*
 * schema-check.c: the checker that tells tool authors at load time when
 * their schema is malformed or leans on a keyword we do not implement
 * (contract in schema.h; the validator is in schema.c).
 *
 * Every keyword of the subset is listed once in keywords[] with the kind of
 * value it takes, and any other keyword is reported as unsupported. The walk
 * goes through the schema recursively, at most AG__SCHEMA_MAX_DEPTH levels
 * deep, with the path kept as stack-allocated links and printed only when
 * something fails (see schema-private.h). Besides the shape of each value it
 * refuses what is almost certainly a mistake: a keyword, property, type or
 * required name given twice, an empty enum, min* greater than max*, and a
 * required property that additionalProperties: false forbids.
 */
#include "schema.h"
#include "schema-private.h"

#include "ag.h"

#include <string.h>

/* The names the type keyword accepts. */
static const char *const type_names[] = {
    "object", "array", "string", "number", "integer", "boolean", "null",
};

enum kind {
    K_TYPE,     /* a type name or a non-empty list of distinct names */
    K_PROPS,    /* an object of schemas */
    K_REQUIRED, /* a list of distinct strings */
    K_SCHEMA,   /* one schema */
    K_ANY,      /* any JSON value */
    K_ENUM,     /* a non-empty array */
    K_NUMBER,   /* a number */
    K_COUNT,    /* a non-negative integer */
    K_BOOL,     /* true or false */
    K_STRING,   /* a string (annotations) */
    K_ARRAY,    /* an array (annotations) */
};

static const struct {
    const char *name;
    enum kind kind;
} keywords[] = {
    {"type", K_TYPE},
    {"properties", K_PROPS},
    {"required", K_REQUIRED},
    {"additionalProperties", K_SCHEMA},
    {"items", K_SCHEMA},
    {"enum", K_ENUM},
    {"const", K_ANY},
    {"minimum", K_NUMBER},
    {"maximum", K_NUMBER},
    {"exclusiveMinimum", K_NUMBER},
    {"exclusiveMaximum", K_NUMBER},
    {"minLength", K_COUNT},
    {"maxLength", K_COUNT},
    {"minItems", K_COUNT},
    {"maxItems", K_COUNT},
    {"minProperties", K_COUNT},
    {"maxProperties", K_COUNT},
    {"uniqueItems", K_BOOL},
    {"title", K_STRING},
    {"description", K_STRING},
    {"$schema", K_STRING},
    {"$id", K_STRING},
    {"$comment", K_STRING},
    {"format", K_STRING},
    {"default", K_ANY},
    {"examples", K_ARRAY},
};

static int check(const struct ag__schema_ctx *c, const cJSON *s,
                 const struct ag__schema_path *at, int depth);

/* Returns the first member of obj before m with m's name, or NULL. */
static const cJSON *earlier_twin(const cJSON *obj, const cJSON *m)
{
    const cJSON *e;

    for (e = obj->child; e && e != m; e = e->next)
        if (e->string && m->string && strcmp(e->string, m->string) == 0)
            return e;
    return NULL;
}

static int check_type_kw(const struct ag__schema_ctx *c, const cJSON *v,
                         const struct ag__schema_path *at)
{
    const cJSON *e, *f;
    char q[AG__SCHEMA_SNIP + 8];
    size_t i;

    if (cJSON_IsString(v))
        e = v;
    else if (cJSON_IsArray(v) && v->child)
        e = v->child;
    else
        return ag__schema_fail(
            c, at, "must be a type name or a non-empty array of them");
    for (; e; e = e == v ? NULL : e->next) {
        if (!cJSON_IsString(e))
            return ag__schema_fail(
                c, at,
                "must be a type name or a non-empty array of "
                "them");
        for (i = 0; i < AG_ARRAY_SIZE(type_names); i++)
            if (strcmp(e->valuestring, type_names[i]) == 0)
                break;
        if (i == AG_ARRAY_SIZE(type_names))
            return ag__schema_fail(
                c, at, "unknown type %s",
                ag__schema_quoted(q, sizeof q, e->valuestring));
        for (f = v->child; e != v && f != e; f = f->next)
            if (strcmp(f->valuestring, e->valuestring) == 0)
                return ag__schema_fail(
                    c, at, "type %s listed twice",
                    ag__schema_quoted(q, sizeof q, e->valuestring));
    }
    return 0;
}

static int check_keyword(const struct ag__schema_ctx *c, enum kind kind,
                         const cJSON *v, const struct ag__schema_path *at,
                         int depth)
{
    const cJSON *e, *f;
    char q[AG__SCHEMA_SNIP + 8];

    switch (kind) {
    case K_TYPE:
        return check_type_kw(c, v, at);
    case K_PROPS:
        if (!cJSON_IsObject(v))
            return ag__schema_fail(c, at, "must be an object");
        for (e = v->child; e; e = e->next) {
            struct ag__schema_path p = {at, e->string ? e->string : "", 0};
            int rc;

            if (earlier_twin(v, e))
                return ag__schema_fail(c, at, "property %s defined twice",
                                       ag__schema_quoted(q, sizeof q, p.key));
            if ((rc = check(c, e, &p, depth + 1)) < 0)
                return rc;
        }
        return 0;
    case K_REQUIRED:
        if (!cJSON_IsArray(v))
            return ag__schema_fail(c, at, "must be an array of strings");
        for (e = v->child; e; e = e->next) {
            if (!cJSON_IsString(e))
                return ag__schema_fail(c, at, "must be an array of strings");
            for (f = v->child; f != e; f = f->next)
                if (strcmp(f->valuestring, e->valuestring) == 0)
                    return ag__schema_fail(
                        c, at, "%s listed twice",
                        ag__schema_quoted(q, sizeof q, e->valuestring));
        }
        return 0;
    case K_SCHEMA:
        return check(c, v, at, depth + 1);
    case K_ANY:
        return 0;
    case K_ENUM:
        return cJSON_IsArray(v) && v->child
                   ? 0
                   : ag__schema_fail(c, at, "must be a non-empty array");
    case K_NUMBER:
        return cJSON_IsNumber(v) ? 0
                                 : ag__schema_fail(c, at, "must be a number");
    case K_COUNT:
        return ag__schema_is_integer(v) && v->valuedouble >= 0
                   ? 0
                   : ag__schema_fail(c, at, "must be a non-negative integer");
    case K_BOOL:
        return cJSON_IsBool(v)
                   ? 0
                   : ag__schema_fail(c, at, "must be true or false");
    case K_STRING:
        return cJSON_IsString(v) ? 0
                                 : ag__schema_fail(c, at, "must be a string");
    case K_ARRAY:
        return cJSON_IsArray(v) ? 0
                                : ag__schema_fail(c, at, "must be an array");
    }
    return 0;
}

/* Schemas that no value can satisfy are almost certainly mistakes. */
static int check_bounds(const struct ag__schema_ctx *c, const cJSON *s,
                        const struct ag__schema_path *at)
{
    static const char *const pairs[][2] = {
        {"minimum", "maximum"},
        {"minLength", "maxLength"},
        {"minItems", "maxItems"},
        {"minProperties", "maxProperties"},
    };
    const cJSON *lo, *hi, *req, *props, *more, *e;
    char q[AG__SCHEMA_SNIP + 8];
    size_t i;

    for (i = 0; i < AG_ARRAY_SIZE(pairs); i++) {
        lo = ag__schema_kw(s, pairs[i][0]);
        hi = ag__schema_kw(s, pairs[i][1]);
        if (lo && hi && lo->valuedouble > hi->valuedouble) {
            struct ag__schema_path p = {at, pairs[i][0], 0};

            return ag__schema_fail(c, &p, "greater than %s", pairs[i][1]);
        }
    }
    req = ag__schema_kw(s, "required");
    props = ag__schema_kw(s, "properties");
    more = ag__schema_kw(s, "additionalProperties");
    if (!cJSON_IsFalse(more))
        return 0;
    for (e = req ? req->child : NULL; e; e = e->next)
        if (!props ||
            !cJSON_GetObjectItemCaseSensitive(props, e->valuestring)) {
            struct ag__schema_path p = {at, "required", 0};

            return ag__schema_fail(
                c, &p,
                "%s is not in properties, and "
                "additionalProperties is false",
                ag__schema_quoted(q, sizeof q, e->valuestring));
        }
    return 0;
}

static int check(const struct ag__schema_ctx *c, const cJSON *s,
                 const struct ag__schema_path *at, int depth)
{
    const cJSON *m;
    char q[AG__SCHEMA_SNIP + 8];
    size_t i;
    int rc;

    if (depth > AG__SCHEMA_MAX_DEPTH)
        return ag__schema_too_deep(c, at);
    if (cJSON_IsBool(s))
        return 0;
    if (!cJSON_IsObject(s))
        return ag__schema_fail(c, at,
                               "a schema must be an object or a boolean");
    for (m = s->child; m; m = m->next) {
        struct ag__schema_path p = {at, m->string ? m->string : "", 0};

        for (i = 0; i < AG_ARRAY_SIZE(keywords); i++)
            if (strcmp(p.key, keywords[i].name) == 0)
                break;
        if (i == AG_ARRAY_SIZE(keywords))
            return ag__schema_fail(c, at, "unsupported keyword %s",
                                   ag__schema_quoted(q, sizeof q, p.key));
        if (earlier_twin(s, m))
            return ag__schema_fail(c, at, "keyword %s appears twice",
                                   ag__schema_quoted(q, sizeof q, p.key));
        if ((rc = check_keyword(c, keywords[i].kind, m, &p, depth)) < 0)
            return rc;
    }
    return check_bounds(c, s, at);
}

int ag_schema_check(const cJSON *schema, char *err, size_t errlen)
{
    struct ag__schema_ctx c = {err, errlen, 0};

    if (err && errlen)
        err[0] = '\0';
    if (!schema)
        return ag__schema_fail(&c, NULL, "no schema");
    return check(&c, schema, NULL, 0);
}
