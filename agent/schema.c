/*
 * schema.c: a validator for the subset of JSON Schema that tool parameters
 * use (see schema.h), and the plumbing it shares with the checker in
 * schema-check.c, which tells tool authors at load time when their schema is
 * malformed or leans on a keyword we do not implement.
 *
 * Both walk the schema recursively, at most AG__SCHEMA_MAX_DEPTH levels
 * deep. Paths are kept as a chain of stack-allocated links (struct
 * ag__schema_path), one per level, and turned into text only when something
 * fails, so a value that validates costs no string work. Messages are
 * written into the caller's buffer, truncated on a UTF-8 boundary.
 *
 * ag_schema_validate follows JSON Schema where this subset is concerned:
 * keywords that apply to one type (minimum, minLength, items...) ignore
 * values of other types; unknown keywords are ignored (ag_schema_check is
 * the place that reports them). A supported keyword with a malformed value
 * fails closed: the value is rejected with an "invalid schema" message.
 */
#include "schema.h"
#include "schema-private.h"

#include "ag.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- bounded message writer ------------------------------------------- */

struct out {
    char *s;
    size_t len, cap; /* cap counts the NUL; cap 0 writes nothing */
    int cut;
};

static void out_add(struct out *o, const char *p, size_t n)
{
    if (o->cap == 0)
        return;
    if (n > o->cap - 1 - o->len) {
        n = o->cap - 1 - o->len;
        o->cut = 1;
    }
    memcpy(o->s + o->len, p, n);
    o->len += n;
    o->s[o->len] = '\0';
}

static void out_adds(struct out *o, const char *p)
{
    out_add(o, p, strlen(p));
}

/* Length of s[0..n) without a UTF-8 sequence cut short at its end. */
static size_t utf8_whole(const char *s, size_t n)
{
    size_t i = n, want;
    unsigned char c;

    while (i > 0 && n - i < 4 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
        i--;
    if (i == 0)
        return n;
    c = (unsigned char)s[i - 1];
    if (c < 0x80)
        return n;
    want = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
    return n - (i - 1) < want ? i - 1 : n;
}

static void out_end(struct out *o)
{
    if (o->cut) {
        o->len = utf8_whole(o->s, o->len);
        o->s[o->len] = '\0';
    }
}

/* Appends s as a JSON string, at most AG__SCHEMA_SNIP bytes of it. */
static void out_quote(struct out *o, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = strlen(s), i,
           lim = n > AG__SCHEMA_SNIP ? utf8_whole(s, AG__SCHEMA_SNIP) : n;

    out_adds(o, "\"");
    for (i = 0; i < lim; i++) {
        unsigned char c = (unsigned char)s[i];
        char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};

        if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t') {
            esc[1] = c == '\n'   ? 'n'
                     : c == '\r' ? 'r'
                     : c == '\t' ? 't'
                                 : (char)c;
            out_add(o, esc, 2);
        } else if (c < 0x20) {
            out_add(o, esc, 6);
        } else {
            out_add(o, (const char *)&s[i], 1);
        }
    }
    out_adds(o, lim < n ? "...\"" : "\"");
}

/* Writes a quoted string into a small array, for use in a message. */
const char *ag__schema_quoted(char *dst, size_t cap, const char *s)
{
    struct out o = {dst, 0, cap, 0};

    out_quote(&o, s ? s : "");
    out_end(&o);
    return dst;
}

/* Shortest %g form that reads back as the same double, as cJSON prints. */
static const char *num_str(char *dst, size_t cap, double d)
{
    double back;

    snprintf(dst, cap, "%.15g", d);
    if (sscanf(dst, "%lg", &back) != 1 || back != d)
        snprintf(dst, cap, "%.17g", d);
    return dst;
}

static void path_print(struct out *o, const struct ag__schema_path *p,
                       int dollar)
{
    const char *k;

    if (!p) {
        if (dollar)
            out_adds(o, "$");
        return;
    }
    path_print(o, p->up, dollar);
    if (!p->key) {
        char idx[32];

        snprintf(idx, sizeof idx, "[%zu]", p->index);
        out_adds(o, idx);
        return;
    }
    for (k = p->key; *k; k++)
        if (!(*k == '_' || *k == '-' || *k == '$' || (*k >= '0' && *k <= '9') ||
              (*k >= 'a' && *k <= 'z') || (*k >= 'A' && *k <= 'Z')))
            break;
    if (*k || k == p->key) {
        out_adds(o, "[");
        out_quote(o, p->key);
        out_adds(o, "]");
        return;
    }
    if (p->up || dollar)
        out_adds(o, ".");
    out_adds(o, p->key);
}

int ag__schema_fail(const struct ag__schema_ctx *c,
                    const struct ag__schema_path *at, const char *fmt, ...)
{
    struct out o = {c->err, 0, c->err ? c->errlen : 0, 0};
    char msg[1024];
    va_list ap;
    int n;

    if (o.cap == 0)
        return AG_ESCHEMA;
    o.s[0] = '\0';
    path_print(&o, at, c->dollar);
    if (o.len)
        out_adds(&o, ": ");
    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (n >= (int)sizeof msg)
        msg[utf8_whole(msg, sizeof msg - 1)] = '\0';
    out_adds(&o, msg);
    out_end(&o);
    return AG_ESCHEMA;
}

/* ---- JSON values ------------------------------------------------------- */

int ag__schema_is_integer(const cJSON *j)
{
    return cJSON_IsNumber(j) && isfinite(j->valuedouble) &&
           floor(j->valuedouble) == j->valuedouble;
}

/* The JSON type of a value, naming integral numbers "integer". */
static const char *type_of(const cJSON *j)
{
    if (cJSON_IsObject(j))
        return "object";
    if (cJSON_IsArray(j))
        return "array";
    if (cJSON_IsString(j))
        return "string";
    if (cJSON_IsNumber(j))
        return ag__schema_is_integer(j) ? "integer" : "number";
    if (cJSON_IsBool(j))
        return "boolean";
    if (cJSON_IsNull(j))
        return "null";
    return "invalid value";
}

/* Returns 1 if the value has the named type, 0 if not, -1 for an unknown
 * name. */
static int has_type(const char *name, const cJSON *j)
{
    if (strcmp(name, "integer") == 0)
        return ag__schema_is_integer(j);
    if (strcmp(name, "number") == 0)
        return cJSON_IsNumber(j);
    if (strcmp(name, "boolean") == 0)
        return cJSON_IsBool(j);
    if (strcmp(name, "object") == 0 || strcmp(name, "array") == 0 ||
        strcmp(name, "string") == 0 || strcmp(name, "null") == 0)
        return strcmp(name, type_of(j)) == 0;
    return -1;
}

/* A short text for a value in a message: scalars as JSON, containers by
 * their type. */
static const char *value_str(char *dst, size_t cap, const cJSON *j)
{
    if (cJSON_IsString(j))
        return ag__schema_quoted(dst, cap, j->valuestring);
    if (cJSON_IsNumber(j))
        return num_str(dst, cap, j->valuedouble);
    if (cJSON_IsObject(j) || cJSON_IsArray(j)) {
        snprintf(dst, cap, "an %s", type_of(j));
        return dst;
    }
    snprintf(dst, cap, "%s",
             cJSON_IsTrue(j)    ? "true"
             : cJSON_IsFalse(j) ? "false"
             : cJSON_IsNull(j)  ? "null"
                                : "an invalid value");
    return dst;
}

/* A schema's value printed as JSON, cut to AG__SCHEMA_SNIP bytes. */
static const char *json_str(char *dst, size_t cap, const cJSON *j)
{
    struct out o = {dst, 0, cap, 0};
    char *s = cJSON_PrintUnformatted((cJSON *)j);
    size_t n;

    dst[0] = '\0';
    if (!s)
        return "(unprintable)";
    n = strlen(s);
    if (n > AG__SCHEMA_SNIP) {
        out_add(&o, s, utf8_whole(s, AG__SCHEMA_SNIP));
        out_adds(&o, "...");
    } else {
        out_add(&o, s, n);
    }
    out_end(&o);
    free(s);
    return dst;
}

/* Deep equality as JSON Schema defines it: numbers by value (1 == 1.0),
 * objects regardless of member order. Returns 1, 0, or -1 when the values
 * nest deeper than AG__SCHEMA_MAX_DEPTH. */
static int equal(const cJSON *a, const cJSON *b, int depth)
{
    const cJSON *x, *y;
    int rc;

    if (depth > AG__SCHEMA_MAX_DEPTH)
        return -1;
    if (cJSON_IsNumber(a) && cJSON_IsNumber(b))
        return a->valuedouble == b->valuedouble;
    if ((a->type & 0xFF) != (b->type & 0xFF))
        return 0;
    switch (a->type & 0xFF) {
    case cJSON_False:
    case cJSON_True:
    case cJSON_NULL:
        return 1;
    case cJSON_String:
        return a->valuestring && b->valuestring &&
               strcmp(a->valuestring, b->valuestring) == 0;
    case cJSON_Array:
        for (x = a->child, y = b->child; x && y; x = x->next, y = y->next)
            if ((rc = equal(x, y, depth + 1)) != 1)
                return rc;
        return !x && !y;
    case cJSON_Object:
        /* The names must match as sets, and under each name the first
         * value counts, as in cJSON's lookups (duplicates beyond it are
         * skipped); hash() follows the same rule. */
        for (x = a->child; x; x = x->next) {
            if (!x->string)
                return 0;
            if (cJSON_GetObjectItemCaseSensitive(a, x->string) != x)
                continue;
            y = cJSON_GetObjectItemCaseSensitive(b, x->string);
            if (!y)
                return 0;
            if ((rc = equal(x, y, depth + 1)) != 1)
                return rc;
        }
        for (y = b->child; y; y = y->next)
            if (!y->string || !cJSON_GetObjectItemCaseSensitive(a, y->string))
                return 0;
        return 1;
    default:
        return 0;
    }
}

static uint64_t mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    return h;
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;

    for (; s && *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
    return h;
}

/* A hash that agrees with equal(): equal values hash alike. */
static uint64_t hash(const cJSON *j, int depth)
{
    uint64_t h = (uint64_t)(j->type & 0xFF);
    const cJSON *c;

    if (depth > AG__SCHEMA_MAX_DEPTH)
        return 0;
    if (cJSON_IsNumber(j)) {
        double d = j->valuedouble == 0 ? 0 : j->valuedouble;

        memcpy(&h, &d, sizeof h);
        return mix(h ^ 0x9e3779b97f4a7c15ULL);
    }
    if (cJSON_IsString(j))
        return mix(hash_str(j->valuestring));
    if (cJSON_IsArray(j)) {
        for (c = j->child; c; c = c->next)
            h = mix(h * 31 + hash(c, depth + 1));
        return h;
    }
    if (cJSON_IsObject(j)) {
        for (c = j->child; c; c = c->next)
            if (c->string &&
                cJSON_GetObjectItemCaseSensitive(j, c->string) == c)
                h += mix(hash_str(c->string) ^ hash(c, depth + 1));
        return h;
    }
    return mix(h);
}

struct item {
    uint64_t h;
    size_t i;
    const cJSON *v;
};

static int item_cmp(const void *a, const void *b)
{
    const struct item *x = a, *y = b;

    if (x->h != y->h)
        return x->h < y->h ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

/* Finds the first duplicate in an array: the smallest j such that some
 * earlier item equals item j, and the smallest such i. Returns 1 with *pi,
 * *pj set, 0 when all items differ, -1 when too deep to tell. */
static int find_duplicate(const cJSON *arr, size_t n, size_t *pi, size_t *pj)
{
    struct item *v = n > 16 ? malloc(n * sizeof *v) : NULL;
    const cJSON *x, *y;
    size_t i, j, a, b;
    int rc = 0, eq = 0;

    if (!v) { /* short array, or no memory: compare every pair */
        for (y = arr->child, j = 0; y; y = y->next, j++)
            for (x = arr->child, i = 0; x != y; x = x->next, i++)
                if ((eq = equal(x, y, 0)) != 0) {
                    *pi = i;
                    *pj = j;
                    return eq;
                }
        return 0;
    }
    for (x = arr->child, i = 0; x && i < n; x = x->next, i++) {
        v[i].h = hash(x, 0);
        v[i].i = i;
        v[i].v = x;
    }
    qsort(v, n, sizeof *v, item_cmp);
    for (a = 0; a < n; a = b) {
        /* Items a..b-1 share a hash and are sorted by index. */
        for (b = a + 1; b < n && v[b].h == v[a].h; b++)
            ;
        for (j = a + 1; j < b && !(rc && v[j].i >= *pj); j++) {
            for (i = a; i < j; i++)
                if ((eq = equal(v[i].v, v[j].v, 0)) != 0)
                    break;
            if (i < j && eq < 0) {
                rc = -1;
                goto done;
            }
            if (i < j) {
                *pi = v[i].i;
                *pj = v[j].i;
                rc = 1;
                break;
            }
        }
    }
done:
    free(v);
    return rc;
}

/* ---- validation -------------------------------------------------------- */

const cJSON *ag__schema_kw(const cJSON *schema, const char *name)
{
    return cJSON_GetObjectItemCaseSensitive(schema, name);
}

static int bad_schema(const struct ag__schema_ctx *c,
                      const struct ag__schema_path *at, const char *keyword)
{
    return ag__schema_fail(c, at, "invalid schema (keyword \"%s\")", keyword);
}

int ag__schema_too_deep(const struct ag__schema_ctx *c,
                        const struct ag__schema_path *at)
{
    return ag__schema_fail(c, at, "nested deeper than %d levels",
                           AG__SCHEMA_MAX_DEPTH);
}

/* A count keyword (minLength...): a non-negative integer. Returns 1 when
 * present and valid, 0 when absent, -1 when malformed. */
static int count_kw(const cJSON *schema, const char *name, double *out)
{
    const cJSON *k = ag__schema_kw(schema, name);

    if (!k)
        return 0;
    if (!ag__schema_is_integer(k) || k->valuedouble < 0)
        return -1;
    *out = k->valuedouble;
    return 1;
}

static int check_type(const struct ag__schema_ctx *c, const cJSON *schema,
                      const cJSON *inst, const struct ag__schema_path *at)
{
    const cJSON *t = ag__schema_kw(schema, "type"), *e;
    char want[256];
    struct out o = {want, 0, sizeof want, 0};
    int rc;

    if (!t)
        return 0;
    if (cJSON_IsString(t)) {
        if ((rc = has_type(t->valuestring, inst)) < 0)
            return bad_schema(c, at, "type");
        if (rc)
            return 0;
        return ag__schema_fail(c, at, "expected %s, got %s", t->valuestring,
                               type_of(inst));
    }
    if (!cJSON_IsArray(t) || !t->child)
        return bad_schema(c, at, "type");
    for (e = t->child; e; e = e->next) {
        if (!cJSON_IsString(e) || (rc = has_type(e->valuestring, inst)) < 0)
            return bad_schema(c, at, "type");
        if (rc)
            return 0;
        if (e != t->child)
            out_adds(&o, e->next ? ", " : " or ");
        out_adds(&o, e->valuestring);
    }
    out_end(&o);
    return ag__schema_fail(c, at, "expected %s, got %s", want, type_of(inst));
}

static int check_values(const struct ag__schema_ctx *c, const cJSON *schema,
                        const cJSON *inst, const struct ag__schema_path *at)
{
    const cJSON *k, *e;
    char a[AG__SCHEMA_SNIP + 8], b[AG__SCHEMA_SNIP + 8];
    int eq;

    if ((k = ag__schema_kw(schema, "const"))) {
        if ((eq = equal(k, inst, 0)) < 0)
            return ag__schema_too_deep(c, at);
        if (!eq)
            return ag__schema_fail(c, at, "must be %s, got %s",
                                   json_str(a, sizeof a, k),
                                   value_str(b, sizeof b, inst));
    }
    if ((k = ag__schema_kw(schema, "enum"))) {
        if (!cJSON_IsArray(k))
            return bad_schema(c, at, "enum");
        for (e = k->child; e; e = e->next) {
            if ((eq = equal(e, inst, 0)) < 0)
                return ag__schema_too_deep(c, at);
            if (eq)
                return 0;
        }
        return ag__schema_fail(c, at, "must be one of %s, got %s",
                               json_str(a, sizeof a, k),
                               value_str(b, sizeof b, inst));
    }
    return 0;
}

static int check_number(const struct ag__schema_ctx *c, const cJSON *schema,
                        const cJSON *inst, const struct ag__schema_path *at)
{
    static const struct {
        const char *name, *op;
        int sign; /* the value must compare to the limit like this */
        int strict;
    } rules[] = {
        {"minimum", ">=", 1, 0},
        {"maximum", "<=", -1, 0},
        {"exclusiveMinimum", ">", 1, 1},
        {"exclusiveMaximum", "<", -1, 1},
    };
    double d = inst->valuedouble;
    char a[64], b[64];
    size_t i;

    for (i = 0; i < AG_ARRAY_SIZE(rules); i++) {
        const cJSON *k = ag__schema_kw(schema, rules[i].name);
        double lim;
        int okay;

        if (!k)
            continue;
        if (!cJSON_IsNumber(k))
            return bad_schema(c, at, rules[i].name);
        lim = k->valuedouble;
        if (rules[i].sign > 0)
            okay = rules[i].strict ? d > lim : d >= lim;
        else
            okay = rules[i].strict ? d < lim : d <= lim;
        if (!okay)
            return ag__schema_fail(c, at, "must be %s %s, got %s", rules[i].op,
                                   num_str(a, sizeof a, lim),
                                   num_str(b, sizeof b, d));
    }
    return 0;
}

static size_t utf8_count(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* minLength, minItems, minProperties and their max twins. */
static int check_counts(const struct ag__schema_ctx *c, const cJSON *schema,
                        const struct ag__schema_path *at, size_t have,
                        const char *min, const char *max, const char *what,
                        const char *one, const char *many)
{
    char a[64];
    double lim;
    int rc;

    if ((rc = count_kw(schema, min, &lim)) < 0)
        return bad_schema(c, at, min);
    if (rc && (double)have < lim)
        return ag__schema_fail(c, at, "must %s at least %s %s, got %zu", what,
                               num_str(a, sizeof a, lim), lim == 1 ? one : many,
                               have);
    if ((rc = count_kw(schema, max, &lim)) < 0)
        return bad_schema(c, at, max);
    if (rc && (double)have > lim)
        return ag__schema_fail(c, at, "must %s at most %s %s, got %zu", what,
                               num_str(a, sizeof a, lim), lim == 1 ? one : many,
                               have);
    return 0;
}

static int validate(const struct ag__schema_ctx *c, const cJSON *schema,
                    const cJSON *inst, const struct ag__schema_path *at,
                    int depth);

static int check_array(const struct ag__schema_ctx *c, const cJSON *schema,
                       const cJSON *inst, const struct ag__schema_path *at,
                       int depth)
{
    const cJSON *items = ag__schema_kw(schema, "items"),
                *u = ag__schema_kw(schema, "uniqueItems");
    const cJSON *e;
    size_t n = 0, i, j;
    int rc;

    for (e = inst->child; e; e = e->next)
        n++;
    if ((rc = check_counts(c, schema, at, n, "minItems", "maxItems", "have",
                           "item", "items")) < 0)
        return rc;
    if (items) {
        struct ag__schema_path p = {at, NULL, 0};

        for (e = inst->child; e; e = e->next, p.index++)
            if ((rc = validate(c, items, e, &p, depth + 1)) < 0)
                return rc;
    }
    if (u && !cJSON_IsBool(u))
        return bad_schema(c, at, "uniqueItems");
    if (cJSON_IsTrue(u) && (rc = find_duplicate(inst, n, &i, &j)) != 0) {
        if (rc < 0)
            return ag__schema_too_deep(c, at);
        return ag__schema_fail(
            c, at, "items must be unique, but [%zu] and [%zu] are equal", i, j);
    }
    return 0;
}

static int check_object(const struct ag__schema_ctx *c, const cJSON *schema,
                        const cJSON *inst, const struct ag__schema_path *at,
                        int depth)
{
    const cJSON *props = ag__schema_kw(schema, "properties");
    const cJSON *more = ag__schema_kw(schema, "additionalProperties");
    const cJSON *req = ag__schema_kw(schema, "required"), *e, *sub;
    char q[AG__SCHEMA_SNIP + 8];
    size_t n = 0;
    int rc;

    if (props && !cJSON_IsObject(props))
        return bad_schema(c, at, "properties");
    if (more && !cJSON_IsBool(more) && !cJSON_IsObject(more))
        return bad_schema(c, at, "additionalProperties");
    if (req && !cJSON_IsArray(req))
        return bad_schema(c, at, "required");
    for (e = req ? req->child : NULL; e; e = e->next) {
        if (!cJSON_IsString(e))
            return bad_schema(c, at, "required");
        if (!cJSON_GetObjectItemCaseSensitive(inst, e->valuestring))
            return ag__schema_fail(
                c, at, "missing required property %s",
                ag__schema_quoted(q, sizeof q, e->valuestring));
    }
    for (e = inst->child; e; e = e->next)
        n++;
    if ((rc = check_counts(c, schema, at, n, "minProperties", "maxProperties",
                           "have", "property", "properties")) < 0)
        return rc;
    for (e = inst->child; e; e = e->next) {
        struct ag__schema_path p = {at, e->string ? e->string : "", 0};

        sub = props && e->string
                  ? cJSON_GetObjectItemCaseSensitive(props, e->string)
                  : NULL;
        if (!sub && cJSON_IsFalse(more))
            return ag__schema_fail(c, at, "unexpected property %s",
                                   ag__schema_quoted(q, sizeof q, p.key));
        if (!sub)
            sub = more;
        if (sub && (rc = validate(c, sub, e, &p, depth + 1)) < 0)
            return rc;
    }
    return 0;
}

static int validate(const struct ag__schema_ctx *c, const cJSON *schema,
                    const cJSON *inst, const struct ag__schema_path *at,
                    int depth)
{
    int rc;

    if (depth > AG__SCHEMA_MAX_DEPTH)
        return ag__schema_too_deep(c, at);
    if (cJSON_IsTrue(schema))
        return 0;
    if (cJSON_IsFalse(schema))
        return ag__schema_fail(c, at, "no value is allowed here");
    if (!cJSON_IsObject(schema))
        return ag__schema_fail(c, at,
                               "invalid schema (not an object or a boolean)");
    if ((rc = check_type(c, schema, inst, at)) < 0 ||
        (rc = check_values(c, schema, inst, at)) < 0)
        return rc;
    if (cJSON_IsNumber(inst))
        return check_number(c, schema, inst, at);
    if (cJSON_IsString(inst))
        return check_counts(c, schema, at, utf8_count(inst->valuestring),
                            "minLength", "maxLength", "be", "character long",
                            "characters long");
    if (cJSON_IsArray(inst))
        return check_array(c, schema, inst, at, depth);
    if (cJSON_IsObject(inst))
        return check_object(c, schema, inst, at, depth);
    return 0;
}

int ag_schema_validate(const cJSON *schema, const cJSON *instance, char *err,
                       size_t errlen)
{
    struct ag__schema_ctx c = {err, errlen, 1};

    if (err && errlen)
        err[0] = '\0';
    if (!instance)
        return ag__schema_fail(&c, NULL, "no value");
    if (!schema)
        return 0;
    return validate(&c, schema, instance, NULL, 0);
}
