/*
 * schema.h: validation of JSON values against a subset of JSON Schema
 * (draft 2020-12 wording), enough for tool parameters.
 *
 * Supported keywords: type (a name or a list of names: object, array,
 * string, number, integer, boolean, null), properties, required,
 * additionalProperties (boolean or schema), items (one schema), enum, const,
 * minimum, maximum, exclusiveMinimum, exclusiveMaximum (numbers), minLength,
 * maxLength (counted in Unicode code points), minItems, maxItems,
 * uniqueItems, minProperties, maxProperties. Annotations are accepted and
 * ignored: title, description, default, examples, $schema, $id, $comment,
 * format. Any other keyword is "unsupported": ag_schema_check reports it so
 * that a tool author learns at load time, never at call time.
 */
#ifndef AG_SCHEMA_H
#define AG_SCHEMA_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* Validates instance against schema. Returns 0 when valid, AG_ESCHEMA when
 * not; then err (if errlen > 0) holds one message naming the JSON path of the
 * first failure, e.g. "$.passengers[1].age: expected integer, got string" or
 * "$: missing required property \"city\"". Borrows both arguments. A schema
 * of true or {} accepts everything; false accepts nothing. */
int ag_schema_validate(const cJSON *schema, const cJSON *instance, char *err,
                       size_t errlen);

/* Checks that a schema is well formed and uses only supported keywords.
 * Returns 0, or AG_ESCHEMA with a message naming the path inside the schema
 * and the problem ("properties.age.minimum: must be a number",
 * "properties.x: unsupported keyword \"pattern\""). */
int ag_schema_check(const cJSON *schema, char *err, size_t errlen);

#endif
