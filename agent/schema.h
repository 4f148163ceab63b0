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
 * of true or {} accepts everything; false accepts nothing; a NULL schema
 * accepts everything and a NULL instance is refused.
 *
 * Details: "integer" is a number with no fractional part (1.0 is one);
 * enum, const and uniqueItems compare JSON values deeply (1 equals 1.0,
 * object members in any order); keywords for one type ignore values of
 * other types, as in JSON Schema. Property names that are not plain
 * identifiers appear in paths as $["first name"]. Unknown keywords are
 * ignored here (ag_schema_check reports them); a supported keyword with a
 * malformed value rejects the values it applies to, with "invalid schema"
 * in the message.
 * Schemas, and values compared deeply, nested more than 64 levels are
 * refused. The message is cut to errlen on a UTF-8 boundary; on success err
 * is set to "". */
int ag_schema_validate(const cJSON *schema, const cJSON *instance, char *err,
                       size_t errlen);

/* Checks that a schema is well formed and uses only supported keywords.
 * Returns 0, or AG_ESCHEMA with a message naming the path inside the schema
 * and the problem ("properties.age.minimum: must be a number",
 * "properties.x: unsupported keyword \"pattern\""); a problem with the root
 * schema has no path ("unsupported keyword \"$ref\""). Also refused: a
 * keyword or property given twice, a type or required name listed twice, an
 * empty enum, min* greater than max*, a required property that
 * additionalProperties: false forbids, nesting deeper than 64 levels.
 * Borrows schema. */
int ag_schema_check(const cJSON *schema, char *err, size_t errlen);

#endif
