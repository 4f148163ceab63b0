/*
 * json.h: JSON helpers on top of cJSON: moving values between Lua and JSON,
 * a "json" module for Lua code (tools, scripted models), and canonical JSON
 * text (keys sorted, no white space) for hashing.
 *
 * Lua has one table type for arrays and objects. Rules used both ways:
 *  - a JSON array becomes a table marked with the array metatable, so that it
 *    comes back out as an array even when empty; json.array(t) marks one;
 *  - a table with the mark, or whose keys are exactly 1..n with n > 0, is an
 *    array; any other table is an object whose keys must be strings;
 *  - JSON null is json.null (a light userdata); nil inside a table cannot be
 *    represented in Lua and so is simply absent.
 */
#ifndef AG_JSON_H
#define AG_JSON_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <lua.h>

#include "ag.h"

/* Pushes v onto the Lua stack (nil when v is NULL). Borrows v. Needs the
 * json module's metatable, which it creates in the registry on first use. */
void ag_json_push(lua_State *L, const cJSON *v);

/* Converts the Lua value at idx into a new cJSON (caller frees with
 * cJSON_Delete). Returns 0, or AG_EPARSE with a message naming the path and
 * the problem ("args.when: cannot encode a function", "x: nesting deeper
 * than 64", "n: cannot encode NaN", "t: mixed array and object keys"). */
int ag_json_from_lua(lua_State *L, int idx, cJSON **out, char *err,
                     size_t errlen);

/* Pushes a table with json.encode(v [, pretty]) -> string | nil, err,
 * json.decode(s) -> value | nil, err, json.null and json.array(t) -> t. */
void ag_json_open(lua_State *L);

/* Appends v as canonical JSON: object keys sorted bytewise, no white space,
 * integers without a fraction, other numbers in the shortest form that
 * reads back as the same double (%.15g, %.16g or %.17g),
 * strings escaped minimally (", \, control characters). Returns 0 or
 * AG_ETOOBIG / -ENOMEM from the buffer. */
int ag_json_canonical(const cJSON *v, struct ag_buf *out);

/* Merges the members of from into the object into, recursively where both
 * hold an object; other members of from replace or join those of into. */
void ag_json_merge(cJSON *into, const cJSON *from);

/* Sets "a.b.c=VALUE" in obj, making the objects on the path: VALUE as JSON
 * when it reads as JSON (true, 0.5, "x", [1]), else as a string. Returns 0,
 * or -EINVAL when the text has no "=" or an empty key part. */
int ag_json_set_path(cJSON *obj, const char *assignment);

/* Small accessors: return the member's value or NULL / def when missing or
 * of another type. */
const char *ag_json_str(const cJSON *obj, const char *key);
double ag_json_num(const cJSON *obj, const char *key, double def);

#endif
