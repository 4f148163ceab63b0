/*
 * registry.h: the tools a task may use. Each tool is a Lua file (DESIGN §4)
 * returning a descriptor: name, description, parameters (a JSON schema as a
 * Lua table), policy (limits, and later what it may reach) and run(args,
 * ctx); or a family with a functions table, each function with its own
 * description, parameters and run. The registry reads the descriptors (in a
 * restricted Lua state, never calling run), checks their schemas, and turns
 * them into the tool list the model sees. The code itself runs only in the
 * sandbox workers, which get the sources from the registry.
 */
#ifndef AG_REGISTRY_H
#define AG_REGISTRY_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "broker.h"
#include "llm.h"
#include "task.h"

struct ag_tool_policy {
    double timeout;    /* seconds of wall time per call; default 10 */
    size_t memory;     /* Lua heap cap; default 64 MiB */
    long instructions; /* VM instructions per call; default 200 million */
    size_t max_output; /* result size cap; default 1 MiB */
    int fresh;         /* isolation = "process": a new worker per call */
};

struct ag_tool {
    char *name;     /* as the model sees it: "calc", "book_reservation" */
    char *qualname; /* "calc", "booking.book_reservation" */
    char *family;   /* the file's tool name: "calc", "booking" */
    char *fn;       /* the function within a family, or NULL */
    char *description;
    cJSON *parameters; /* JSON schema, type object */
    char *schema_text; /* parameters as compact JSON, quoted in errors */
    char *path;        /* the file it came from */
    char sha256[65];   /* of the file's contents (the descriptor's hash) */
    struct ag_tool_policy policy;
    cJSON *opts; /* the task's options for it, or NULL; borrowed copy */
    struct ag_tool_net net; /* what it may reach (broker.h); its options */
};

struct ag_registry {
    struct ag_tool *tools;
    int ntools;
    struct ag_tooldef *defs; /* parallel to tools, for ag_llm_req */
    cJSON *sources;          /* {"family": "<lua source>"} for the pool */
};

/* Loads the tools a task names, looking for <name>.lua in dirs in order.
 * Returns 0 and a registry (free with ag_registry_free), or a negative code
 * and a message naming the file, the line or field, and the problem:
 * "tool \"clok\" not found (looked in tools, /usr/share/agent/tools)",
 * "tools/calc.lua:3: unexpected symbol near '='",
 * "tools/x.lua: parameters: properties.a: unsupported keyword \"pattern\"".
 * The task's options may narrow a tool's policy (timeout, memory,
 * max_output), never widen it. */
int ag_registry_load(const char *const *dirs, int ndirs,
                     const struct ag_task_tool *want, int nwant,
                     struct ag_registry **out, char *err, size_t errlen);

/* The tool the model calls by this name, or NULL. */
const struct ag_tool *ag_registry_find(const struct ag_registry *r,
                                       const char *name);

/* ag_registry_free(NULL) is a no-op. */
void ag_registry_free(struct ag_registry *r);

#endif
