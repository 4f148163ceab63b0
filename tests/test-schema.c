/*
 * test-schema.c: unit tests for the JSON Schema subset (schema.c).
 *
 * Most cases are rows of a table: a schema, a value and the exact message
 * expected (NULL when the value is valid); or a schema and the message
 * ag_schema_check must give. To keep the rows readable, JSON and messages
 * are written with ' for " (and \\' for \"); q() turns them back. A few
 * cases build their values with cJSON calls: large arrays, deep nesting,
 * truncated messages.
 */
#include "schema.h"

#include "ag.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Returns a static copy of s with every ' turned into ". */
static const char *q(const char *s)
{
    static char bufs[4][4096];
    static int k;
    char *b = bufs[k++ % 4];
    size_t i;

    for (i = 0; s[i] && i < sizeof bufs[0] - 1; i++)
        b[i] = s[i] == '\'' ? '"' : s[i];
    b[i] = '\0';
    return b;
}

static cJSON *parse(const char *s)
{
    cJSON *j = cJSON_Parse(q(s));

    if (!j) {
        printf("# test JSON does not parse: %s\n", q(s));
        exit(99);
    }
    return j;
}

/* The outcome of a call as one string: "(valid)" or the message. */
static const char *outcome(int rc, const char *err, char *buf, size_t len)
{
    if (rc == 0)
        snprintf(buf, len, "(valid)%s", err[0] ? " with a message!" : "");
    else if (rc != AG_ESCHEMA)
        snprintf(buf, len, "(rc %d) %s", rc, err);
    else
        snprintf(buf, len, "%s", err);
    return buf;
}

struct vcase {
    const char *schema, *value, *err;
};

static const struct vcase validate_cases[] = {
    /* boolean and empty schemas */
    {"true", "{'a':[1,2]}", NULL},
    {"{}", "null", NULL},
    {"false", "1", "$: no value is allowed here"},
    {"{'properties':{'a':false}}", "{'a':1}", "$.a: no value is allowed here"},
    {"{'properties':{'a':false}}", "{'b':1}", NULL},

    /* type */
    {"{'type':'string'}", "'x'", NULL},
    {"{'type':'string'}", "5", "$: expected string, got integer"},
    {"{'type':'string'}", "5.5", "$: expected string, got number"},
    {"{'type':'integer'}", "5", NULL},
    {"{'type':'integer'}", "-5.0", NULL},
    {"{'type':'integer'}", "1e3", NULL},
    {"{'type':'integer'}", "1e300", NULL},
    {"{'type':'integer'}", "5.5", "$: expected integer, got number"},
    {"{'type':'integer'}", "'5'", "$: expected integer, got string"},
    {"{'type':'number'}", "5", NULL},
    {"{'type':'number'}", "-0.25", NULL},
    {"{'type':'number'}", "true", "$: expected number, got boolean"},
    {"{'type':'boolean'}", "false", NULL},
    {"{'type':'boolean'}", "0", "$: expected boolean, got integer"},
    {"{'type':'null'}", "null", NULL},
    {"{'type':'null'}", "{}", "$: expected null, got object"},
    {"{'type':'object'}", "[]", "$: expected object, got array"},
    {"{'type':'array'}", "[]", NULL},
    {"{'type':'array'}", "{}", "$: expected array, got object"},
    {"{'type':['string','null']}", "null", NULL},
    {"{'type':['string','null']}", "'a'", NULL},
    {"{'type':['string','null']}", "1",
     "$: expected string or null, got integer"},
    {"{'type':['string','number','null']}", "true",
     "$: expected string, number or null, got boolean"},
    {"{'type':['integer']}", "1.5", "$: expected integer, got number"},
    {"{'type':['number','integer']}", "1.5", NULL},

    /* properties, required, additionalProperties */
    {"{'type':'object','properties':{'city':{'type':'string'},'days':{'type':"
     "'integer','minimum':1}},'required':['city'],'additionalProperties':"
     "false}",
     "{'city':'Paris','days':2}", NULL},
    {"{'type':'object','properties':{'city':{'type':'string'}},'required':["
     "'city']}",
     "{}", "$: missing required property 'city'"},
    {"{'required':['a','b','c']}", "{'a':1,'c':2}",
     "$: missing required property 'b'"},
    {"{'required':['City']}", "{'city':1}",
     "$: missing required property 'City'"},
    {"{'properties':{'city':{'type':'string'}}}", "{'city':3}",
     "$.city: expected string, got integer"},
    {"{'properties':{'days':{'minimum':1}}}", "{'days':0}",
     "$.days: must be >= 1, got 0"},
    {"{'properties':{'a':{}},'additionalProperties':false}", "{'a':1,'x':2}",
     "$: unexpected property 'x'"},
    {"{'additionalProperties':false}", "{}", NULL},
    {"{'additionalProperties':true}", "{'x':1}", NULL},
    {"{'additionalProperties':{'type':'integer'}}", "{'a':1,'b':'x'}",
     "$.b: expected integer, got string"},
    {"{'properties':{'a':{'type':'string'}},'additionalProperties':{'type':"
     "'integer'}}",
     "{'a':'s','b':2}", NULL},
    {"{'properties':{'a':{'type':'string'}}}", "5", NULL},
    {"{'required':['a']}", "[]", NULL},
    {"{'additionalProperties':false}", "'str'", NULL},

    /* paths */
    {"{'type':'object','properties':{'passengers':{'type':'array','items':{"
     "'type':'object','properties':{'name':{'type':'string'},'age':{'type':"
     "'integer'}},'required':['name','age']}}}}",
     "{'passengers':[{'name':'A','age':3},{'name':'B','age':'x'}]}",
     "$.passengers[1].age: expected integer, got string"},
    {"{'properties':{'passengers':{'items':{'required':['age']}}}}",
     "{'passengers':[{'age':1},{'name':'A'}]}",
     "$.passengers[1]: missing required property 'age'"},
    {"{'items':{'items':{'type':'integer'}}}", "[[1],[2,'x']]",
     "$[1][1]: expected integer, got string"},
    {"{'properties':{'first name':{'type':'string'}}}", "{'first name':1}",
     "$['first name']: expected string, got integer"},
    {"{'properties':{'a\\'b':{'type':'string'}}}", "{'a\\'b':1}",
     "$['a\\'b']: expected string, got integer"},
    {"{'properties':{'first-name_2':{'type':'string'}}}", "{'first-name_2':1}",
     "$.first-name_2: expected string, got integer"},
    {"{'properties':{'':{'type':'string'}}}", "{'':1}",
     "$['']: expected string, got integer"},
    {"{'additionalProperties':{'properties':{'x':{'items':false}}}}",
     "{'a.b':{'x':[]},'c':{'x':[1]}}", "$.c.x[0]: no value is allowed here"},

    /* enum and const */
    {"{'enum':['economy','business']}", "'economy'", NULL},
    {"{'enum':['economy','business']}", "'first'",
     "$: must be one of ['economy','business'], got 'first'"},
    {"{'enum':[1,'a',null]}", "1.0", NULL},
    {"{'enum':[1,'a',null]}", "null", NULL},
    {"{'enum':[1,'a',null]}", "'1'", "$: must be one of [1,'a',null], got '1'"},
    {"{'enum':[{'a':[1,2]}]}", "{'a':[1,2]}", NULL},
    {"{'enum':[{'a':[1,2]}]}", "{'a':[2,1]}",
     "$: must be one of [{'a':[1,2]}], got an object"},
    {"{'enum':[[1,2]]}", "[1,2,3]", "$: must be one of [[1,2]], got an array"},
    {"{'enum':[false]}", "0", "$: must be one of [false], got 0"},
    {"{'const':{'a':1,'b':2}}", "{'b':2,'a':1.0}", NULL},
    {"{'const':{'a':1,'b':2}}", "{'a':1}",
     "$: must be {'a':1,'b':2}, got an object"},
    {"{'const':{'a':1}}", "{'a':1,'b':2}", "$: must be {'a':1}, got an object"},
    {"{'const':{'a':1,'b':2}}", "{'a':1,'a':1}",
     "$: must be {'a':1,'b':2}, got an object"},
    {"{'const':'x'}", "'y'", "$: must be 'x', got 'y'"},
    {"{'const':'x'}", "'X'", "$: must be 'x', got 'X'"},
    {"{'const':1}", "1.0", NULL},
    {"{'const':1}", "true", "$: must be 1, got true"},
    {"{'const':null}", "null", NULL},
    {"{'const':null}", "0", "$: must be null, got 0"},
    {"{'const':true}", "false", "$: must be true, got false"},
    {"{'const':'a\\'b\\n'}", "'a'", "$: must be 'a\\'b\\n', got 'a'"},
    {"{'properties':{'k':{'const':[]}}}", "{'k':{}}",
     "$.k: must be [], got an object"},

    /* numbers */
    {"{'minimum':0}", "0", NULL},
    {"{'minimum':0}", "-1", "$: must be >= 0, got -1"},
    {"{'minimum':0.1}", "0.05", "$: must be >= 0.1, got 0.05"},
    {"{'maximum':10}", "10", NULL},
    {"{'maximum':10}", "10.5", "$: must be <= 10, got 10.5"},
    {"{'exclusiveMinimum':0}", "0.1", NULL},
    {"{'exclusiveMinimum':0}", "0", "$: must be > 0, got 0"},
    {"{'exclusiveMaximum':1.5}", "1.4", NULL},
    {"{'exclusiveMaximum':1.5}", "1.5", "$: must be < 1.5, got 1.5"},
    {"{'minimum':1,'maximum':3}", "2", NULL},
    {"{'minimum':1e20}", "1e19", "$: must be >= 1e+20, got 1e+19"},
    {"{'minimum':5}", "'a'", NULL},
    {"{'maximum':5}", "[1,2,3,4,5,6]", NULL},

    /* strings: lengths in code points */
    {"{'minLength':2}", "'ab'", NULL},
    {"{'minLength':2}", "'a'", "$: must be at least 2 characters long, got 1"},
    {"{'minLength':1}", "''", "$: must be at least 1 character long, got 0"},
    {"{'maxLength':3}", "'h\xc3\xa9\xc3\xa9'", NULL},
    {"{'maxLength':3}", "'abcd'",
     "$: must be at most 3 characters long, got 4"},
    {"{'maxLength':2}", "'\xf0\x9f\x98\x80\xe4\xb8\x96'", NULL},
    {"{'maxLength':2}", "'\xf0\x9f\x98\x80\xe4\xb8\x96x'",
     "$: must be at most 2 characters long, got 3"},
    {"{'maxLength':1}", "'\\u00e9'", NULL},
    {"{'maxLength':1}", "'\\ud83d\\ude00'", NULL},
    {"{'minLength':3}", "12", NULL},

    /* arrays */
    {"{'minItems':1}", "[1]", NULL},
    {"{'minItems':1}", "[]", "$: must have at least 1 item, got 0"},
    {"{'minItems':2}", "[1]", "$: must have at least 2 items, got 1"},
    {"{'maxItems':2}", "[1,2,3]", "$: must have at most 2 items, got 3"},
    {"{'items':{'type':'string'}}", "['a','b']", NULL},
    {"{'items':{'type':'string'}}", "['a',2]",
     "$[1]: expected string, got integer"},
    {"{'items':false}", "[]", NULL},
    {"{'uniqueItems':true}", "[1,2,3]", NULL},
    {"{'uniqueItems':true}", "[1,2,1]",
     "$: items must be unique, but [0] and [2] are equal"},
    {"{'uniqueItems':true}", "[1,2,2,1]",
     "$: items must be unique, but [1] and [2] are equal"},
    {"{'uniqueItems':true}", "[1,1.0]",
     "$: items must be unique, but [0] and [1] are equal"},
    {"{'uniqueItems':true}", "[{'a':1,'b':2},{'b':2,'a':1}]",
     "$: items must be unique, but [0] and [1] are equal"},
    {"{'uniqueItems':true}",
     "['1',1,true,false,0,null,{},[],[1],[1,2],{'a':1},{'a':2},'']", NULL},
    {"{'uniqueItems':false}", "[1,1]", NULL},
    {"{'uniqueItems':true}", "[{'x':1,'x':2},{'x':1}]",
     "$: items must be unique, but [0] and [1] are equal"},
    {"{'uniqueItems':true}",
     "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,{'x':1,'x':2},{'x':"
     "1}]",
     "$: items must be unique, but [20] and [21] are equal"},
    {"{'uniqueItems':true}",
     "[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,{'x':1,'y':2},{'x':"
     "1,'x':1}]",
     NULL},
    {"{'uniqueItems':true}", "'not an array'", NULL},

    /* objects */
    {"{'minProperties':1}", "{}", "$: must have at least 1 property, got 0"},
    {"{'minProperties':2}", "{'a':1}",
     "$: must have at least 2 properties, got 1"},
    {"{'maxProperties':1}", "{'a':1,'b':2}",
     "$: must have at most 1 property, got 2"},
    {"{'maxProperties':1}", "{'a':1}", NULL},

    /* keyword order: the first failure is reported */
    {"{'type':'integer','minimum':10}", "'x'",
     "$: expected integer, got string"},
    {"{'type':'object','required':['a'],'properties':{'b':{'type':'string'}}}",
     "{'b':1}", "$: missing required property 'a'"},
    {"{'properties':{'a':{'type':'string'},'b':{'type':'string'}}}",
     "{'b':1,'a':2}", "$.b: expected string, got integer"},
    {"{'items':{'type':'integer'},'uniqueItems':true}", "[1,1,'x']",
     "$[2]: expected integer, got string"},

    /* annotations and unknown keywords are ignored */
    {"{'title':'t','description':'d','default':1,'examples':[1],'format':"
     "'date','$comment':'c','pattern':'^a$','anyOf':[false]}",
     "'b'", NULL},

    /* malformed schemas fail closed */
    {"{'type':'strin'}", "1", "$: invalid schema (keyword 'type')"},
    {"{'type':[]}", "1", "$: invalid schema (keyword 'type')"},
    {"{'type':['string',1]}", "1", "$: invalid schema (keyword 'type')"},
    {"{'minimum':'0'}", "1", "$: invalid schema (keyword 'minimum')"},
    {"{'minLength':-1}", "'a'", "$: invalid schema (keyword 'minLength')"},
    {"{'maxItems':1.5}", "[]", "$: invalid schema (keyword 'maxItems')"},
    {"{'enum':'a'}", "'a'", "$: invalid schema (keyword 'enum')"},
    {"{'required':'a'}", "{}", "$: invalid schema (keyword 'required')"},
    {"{'required':[1]}", "{}", "$: invalid schema (keyword 'required')"},
    {"{'properties':[]}", "{}", "$: invalid schema (keyword 'properties')"},
    {"{'additionalProperties':1}", "{}",
     "$: invalid schema (keyword 'additionalProperties')"},
    {"{'uniqueItems':1}", "[]", "$: invalid schema (keyword 'uniqueItems')"},
    {"{'properties':{'a':5}}", "{'a':1}",
     "$.a: invalid schema (not an object or a boolean)"},
    {"{'items':[{'type':'string'}]}", "[1]",
     "$[0]: invalid schema (not an object or a boolean)"},
};

struct ccase {
    const char *schema, *err;
};

static const struct ccase check_cases[] = {
    {"true", NULL},
    {"false", NULL},
    {"{}", NULL},
    {"{'type':'object','properties':{'city':{'type':'string','minLength':1,"
     "'maxLength':80,'description':'City name'},'days':{'type':'integer',"
     "'minimum':1,'maximum':30},'cabin':{'enum':['economy','business']},"
     "'tags':{'type':'array','items':{'type':'string'},'uniqueItems':true,"
     "'minItems':0,'maxItems':5},'meta':{'type':'object',"
     "'additionalProperties':{'type':['string','null']},'minProperties':0,"
     "'maxProperties':3},'mode':{'const':'fast'},'ratio':{"
     "'exclusiveMinimum':0,'exclusiveMaximum':1}},'required':['city'],"
     "'additionalProperties':false}",
     NULL},
    {"{'title':'t','description':'d','default':{'a':1},'examples':[1,'a'],"
     "'$schema':'https://json-schema.org/draft/2020-12/schema','$id':'x',"
     "'$comment':'c','format':'date'}",
     NULL},
    {"{'type':['string','null']}", NULL},
    {"{'required':['a'],'additionalProperties':false,'properties':{'a':{}}}",
     NULL},
    {"{'minimum':1,'maximum':1}", NULL},

    {"5", "a schema must be an object or a boolean"},
    {"'string'", "a schema must be an object or a boolean"},
    {"{'pattern':'^a'}", "unsupported keyword 'pattern'"},
    {"{'$ref':'common.json'}", "unsupported keyword '$ref'"},
    {"{'anyOf':[{},{}]}", "unsupported keyword 'anyOf'"},
    {"{'Type':'string'}", "unsupported keyword 'Type'"},
    {"{'properties':{'x':{'type':'string','pattern':'a'}}}",
     "properties.x: unsupported keyword 'pattern'"},
    {"{'properties':{'age':{'minimum':'0'}}}",
     "properties.age.minimum: must be a number"},
    {"{'properties':{'first name':{'type':'x'}}}",
     "properties['first name'].type: unknown type 'x'"},
    {"{'properties':{'a':{'additionalProperties':{'items':{'maxItems':-2}}}}}",
     "properties.a.additionalProperties.items.maxItems: must be a "
     "non-negative integer"},
    {"{'type':'strin'}", "type: unknown type 'strin'"},
    {"{'type':[]}", "type: must be a type name or a non-empty array of them"},
    {"{'type':5}", "type: must be a type name or a non-empty array of them"},
    {"{'type':['string',null]}",
     "type: must be a type name or a non-empty array of them"},
    {"{'type':['string','null','string']}", "type: type 'string' listed twice"},
    {"{'properties':[]}", "properties: must be an object"},
    {"{'properties':{'a':5}}",
     "properties.a: a schema must be an object or a boolean"},
    {"{'properties':{'a':{},'a':{}}}",
     "properties: property 'a' defined twice"},
    {"{'required':'a'}", "required: must be an array of strings"},
    {"{'required':['a',1]}", "required: must be an array of strings"},
    {"{'required':['a','b','a']}", "required: 'a' listed twice"},
    {"{'additionalProperties':1}",
     "additionalProperties: a schema must be an object or a boolean"},
    {"{'items':[{'type':'string'}]}",
     "items: a schema must be an object or a boolean"},
    {"{'items':{'type':'strng'}}", "items.type: unknown type 'strng'"},
    {"{'enum':[]}", "enum: must be a non-empty array"},
    {"{'enum':'a'}", "enum: must be a non-empty array"},
    {"{'minimum':'1'}", "minimum: must be a number"},
    {"{'exclusiveMinimum':true}", "exclusiveMinimum: must be a number"},
    {"{'minLength':-1}", "minLength: must be a non-negative integer"},
    {"{'maxLength':1.5}", "maxLength: must be a non-negative integer"},
    {"{'minItems':'1'}", "minItems: must be a non-negative integer"},
    {"{'maxProperties':null}", "maxProperties: must be a non-negative integer"},
    {"{'uniqueItems':1}", "uniqueItems: must be true or false"},
    {"{'description':5}", "description: must be a string"},
    {"{'$schema':{}}", "$schema: must be a string"},
    {"{'examples':'a'}", "examples: must be an array"},
    {"{'type':'string','type':'number'}", "keyword 'type' appears twice"},
    {"{'minimum':5,'maximum':1}", "minimum: greater than maximum"},
    {"{'minLength':5,'maxLength':1}", "minLength: greater than maxLength"},
    {"{'minItems':2,'maxItems':1}", "minItems: greater than maxItems"},
    {"{'properties':{'p':{'minProperties':2,'maxProperties':1}}}",
     "properties.p.minProperties: greater than maxProperties"},
    {"{'required':['b'],'properties':{'a':{}},'additionalProperties':false}",
     "required: 'b' is not in properties, and additionalProperties is false"},
    {"{'required':['b'],'additionalProperties':false}",
     "required: 'b' is not in properties, and additionalProperties is false"},
};

static void test_table_validate(void)
{
    char err[512], got[600], want[600], label[700];
    size_t i;

    for (i = 0; i < AG_ARRAY_SIZE(validate_cases); i++) {
        const struct vcase *c = &validate_cases[i];
        cJSON *s = parse(c->schema), *v = parse(c->value);
        int rc;

        memset(err, 'Z', sizeof err);
        rc = ag_schema_validate(s, v, err, sizeof err);
        snprintf(want, sizeof want, "%s", c->err ? q(c->err) : "(valid)");
        snprintf(label, sizeof label, "validate %s against %s", q(c->value),
                 q(c->schema));
        is_str(outcome(rc, err, got, sizeof got), want, label);
        cJSON_Delete(s);
        cJSON_Delete(v);
    }
}

static void test_table_check(void)
{
    char err[512], got[600], want[600], label[700];
    size_t i;

    for (i = 0; i < AG_ARRAY_SIZE(check_cases); i++) {
        const struct ccase *c = &check_cases[i];
        cJSON *s = parse(c->schema);
        int rc;

        memset(err, 'Z', sizeof err);
        rc = ag_schema_check(s, err, sizeof err);
        snprintf(want, sizeof want, "%s", c->err ? q(c->err) : "(valid)");
        snprintf(label, sizeof label, "check %s", q(c->schema));
        is_str(outcome(rc, err, got, sizeof got), want, label);
        cJSON_Delete(s);
    }
}

/* Every schema in the validate table that check accepts must also accept
 * the values it accepts; and check must accept the well-formed ones. */
static void test_check_agrees(void)
{
    char err[512];
    size_t i, accepted = 0, bad = 0;

    for (i = 0; i < AG_ARRAY_SIZE(validate_cases); i++) {
        const struct vcase *c = &validate_cases[i];
        cJSON *s = parse(c->schema);

        if (ag_schema_check(s, err, sizeof err) == 0)
            accepted++;
        else if (!strstr(err, "unsupported") &&
                 !strstr(c->err ? c->err : "", "invalid schema") &&
                 !strstr(c->schema, "'items':[")) {
            bad++;
            printf("# check refused %s: %s\n", q(c->schema), err);
        }
        cJSON_Delete(s);
    }
    ok(bad == 0 && accepted > 100,
       "check accepts the schemas that validate uses, refuses the broken");
}

/* A long array of distinct numbers with duplicates planted at a, b and c, d.
 */
static cJSON *array_with_dups(size_t n, size_t a, size_t b, size_t c, size_t d)
{
    cJSON *arr = cJSON_CreateArray();
    size_t i;

    for (i = 0; i < n; i++) {
        double v = (double)i;

        if (i == b)
            v = (double)a;
        else if (i == d)
            v = (double)c;
        cJSON_AddItemToArray(arr, cJSON_CreateNumber(v));
    }
    return arr;
}

static void test_unique_large(void)
{
    cJSON *s = parse("{'uniqueItems':true}"), *v, *o;
    char err[256];
    size_t i;

    v = array_with_dups(1000, 0, 0, 0, 0); /* no duplicates */
    is_int(ag_schema_validate(s, v, err, sizeof err), 0,
           "uniqueItems: 1000 distinct numbers");
    cJSON_Delete(v);

    v = array_with_dups(100, 37, 88, 50, 90);
    ag_schema_validate(s, v, err, sizeof err);
    is_str(err, "$: items must be unique, but [37] and [88] are equal",
           "uniqueItems: first duplicate by second index (1)");
    cJSON_Delete(v);

    v = array_with_dups(100, 3, 95, 10, 60);
    ag_schema_validate(s, v, err, sizeof err);
    is_str(err, "$: items must be unique, but [10] and [60] are equal",
           "uniqueItems: first duplicate by second index (2)");
    cJSON_Delete(v);

    /* Objects differing only in member order are equal. */
    v = cJSON_CreateArray();
    for (i = 0; i < 50; i++) {
        o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "a", (double)i);
        cJSON_AddStringToObject(o, "b", "x");
        cJSON_AddItemToArray(v, o);
    }
    o = cJSON_CreateObject();
    cJSON_AddStringToObject(o, "b", "x");
    cJSON_AddNumberToObject(o, "a", 7.0);
    cJSON_AddItemToArray(v, o);
    ag_schema_validate(s, v, err, sizeof err);
    is_str(err, "$: items must be unique, but [7] and [50] are equal",
           "uniqueItems: reordered objects in a long array");
    cJSON_Delete(v);

    /* -0 and 0 are equal numbers. */
    v = array_with_dups(40, 0, 0, 0, 0);
    cJSON_AddItemToArray(v, cJSON_CreateNumber(-0.0));
    ag_schema_validate(s, v, err, sizeof err);
    is_str(err, "$: items must be unique, but [0] and [40] are equal",
           "uniqueItems: -0 equals 0");
    cJSON_Delete(v);
    cJSON_Delete(s);
}

/* n nested schemas {"items": ...} around {"type":"integer"}, and a value
 * of n nested arrays around 1. */
static void nest(size_t n, cJSON **schema, cJSON **value)
{
    cJSON *s = cJSON_CreateObject(), *v = cJSON_CreateNumber(1);
    size_t i;

    cJSON_AddStringToObject(s, "type", "integer");
    for (i = 0; i < n; i++) {
        cJSON *ws = cJSON_CreateObject(), *wv = cJSON_CreateArray();

        cJSON_AddItemToObject(ws, "items", s);
        cJSON_AddItemToArray(wv, v);
        s = ws;
        v = wv;
    }
    *schema = s;
    *value = v;
}

static void test_depth(void)
{
    cJSON *s, *v, *c;
    char err[2048];

    nest(60, &s, &v);
    is_int(ag_schema_validate(s, v, err, sizeof err), 0, "depth 60 validates");
    is_int(ag_schema_check(s, err, sizeof err), 0, "depth 60 checks");
    cJSON_Delete(s);
    cJSON_Delete(v);

    nest(1000, &s, &v);
    is_int(ag_schema_validate(s, v, err, sizeof err), AG_ESCHEMA,
           "depth 1000 refused by validate");
    has_str(err, ": nested deeper than 64 levels", "validate depth message");
    has_str(err, "$[0][0][0]", "validate depth message has the path");
    is_int(ag_schema_check(s, err, sizeof err), AG_ESCHEMA,
           "depth 1000 refused by check");
    has_str(err, "items.items.items", "check depth message has the path");
    has_str(err, ": nested deeper than 64 levels", "check depth message");

    /* const comparing two deep values */
    c = cJSON_CreateObject();
    cJSON_AddItemToObject(c, "const", cJSON_Duplicate(v, 1));
    is_int(ag_schema_validate(c, v, err, sizeof err), AG_ESCHEMA,
           "deep const comparison refused");
    is_str(err, "$: nested deeper than 64 levels", "deep const message");
    cJSON_Delete(c);
    cJSON_Delete(s);
    cJSON_Delete(v);
}

/* 1 when s is valid UTF-8. */
static int utf8_ok(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        int n = *p < 0x80    ? 0
                : *p >= 0xF0 ? 3
                : *p >= 0xE0 ? 2
                : *p >= 0xC0 ? 1
                             : -1;

        if (n < 0)
            return 0;
        for (p++; n > 0; n--, p++)
            if ((*p & 0xC0) != 0x80)
                return 0;
    }
    return 1;
}

static void test_messages(void)
{
    cJSON *s = parse("{'required':['city']}"), *v = parse("{}"), *long_s, *w;
    char err[64], big[1024], name[400], json[512];
    size_t i, bad = 0;

    is_int(ag_schema_validate(s, v, NULL, 0), AG_ESCHEMA, "no buffer");
    is_int(ag_schema_validate(s, v, err, 0), AG_ESCHEMA, "length 0");
    err[0] = 'x';
    ag_schema_validate(s, v, err, 1);
    is_str(err, "", "length 1 gives an empty message");
    ag_schema_validate(s, v, err, 10);
    is_str(err, "$: missin", "message truncated to the buffer");
    strcpy(err, "stale");
    w = parse("{'city':1}");
    is_int(ag_schema_validate(s, w, err, sizeof err), 0,
           "valid clears the message (return)");
    cJSON_Delete(w);
    is_str(err, "", "valid clears the message");
    is_int(ag_schema_validate(NULL, v, err, sizeof err), 0,
           "NULL schema accepts");
    is_int(ag_schema_validate(s, NULL, err, sizeof err), AG_ESCHEMA,
           "NULL value refused");
    is_str(err, "$: no value", "NULL value message");
    is_int(ag_schema_check(NULL, err, sizeof err), AG_ESCHEMA,
           "check NULL schema");
    is_str(err, "no schema", "check NULL schema message");
    cJSON_Delete(s);

    /* A long name: quoted and cut in the message, on a character boundary
     * whatever the buffer size. */
    for (i = 0; i < 150; i++)
        memcpy(name + 2 * i, "\xc3\xa9", 2);
    name[300] = '\0';
    snprintf(json, sizeof json, "{'required':['%s']}", name);
    long_s = parse(json);
    ag_schema_validate(long_s, v, big, sizeof big);
    has_str(big, "$: missing required property \"\xc3\xa9\xc3\xa9",
            "long name in message");
    has_str(big, "\xc3\xa9...\"", "long name cut with ...");
    for (i = 2; i < 300; i++) {
        ag_schema_validate(long_s, v, big, i);
        if (!utf8_ok(big) || strlen(big) >= i)
            bad++;
    }
    ok(bad == 0, "messages cut at every length stay valid UTF-8");
    cJSON_Delete(long_s);

    /* Control characters in names are escaped. */
    s = parse("{'required':['a\\nb\\u0001']}");
    ag_schema_validate(s, v, big, sizeof big);
    is_str(big, "$: missing required property \"a\\nb\\u0001\"",
           "control characters escaped");
    cJSON_Delete(s);
    cJSON_Delete(v);
}

int main(void)
{
    test_table_validate();
    test_table_check();
    test_check_agrees();
    test_unique_large();
    test_depth();
    test_messages();
    return tap_done();
}
