/*
 * task-private.h: what the two halves of the task module share, and nothing
 * else includes. task.c runs the file and applies the command line;
 * task-check.c walks the table the file returned. The contract for callers
 * is in task.h.
 */
#ifndef AG_TASK_PRIVATE_H
#define AG_TASK_PRIVATE_H

#include <stddef.h>

#include <lua.h>

#include "task.h"

#define AG__TASK_SHOW_BUF      256 /* bytes for a value shown in a message */
#define AG__TASK_PROVIDER_LIST "openai, anthropic, script"

/* State of one load. err/errlen may be NULL/0; rc is the result of
 * ag__task_check_table. Borrows path, err and L; t is owned by the load
 * (freed whole on failure, else handed to the caller). */
struct ag__task_loader {
    lua_State *L;
    const char *path;
    struct ag_task *t;
    char *err;
    size_t errlen;
    int rc;
};

/* task.c: writes "<path>: <message>" into ld->err and returns AG_ETASK. */
int ag__task_fail(struct ag__task_loader *ld, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* task.c: quotes n bytes of s (borrowed) into buf, which holds
 * AG__TASK_SHOW_BUF bytes, cut at 40 bytes; returns buf. */
const char *ag__task_show_str(const char *s, size_t n, char *buf);

/* task.c: 1 when s (may be NULL) is one of AG__TASK_PROVIDER_LIST. */
int ag__task_is_provider(const char *s);

/* task.c: file relative to dir (may be NULL); the caller frees it. */
char *ag__task_join_path(const char *dir, const char *file);

/* task.c: parses "PROVIDER:NAME"; on success returns 0 and *provider,
 * *model, *script (each NULL or for the caller to free), else AG_ETASK with
 * a message in msg that reads after the word "model". */
int ag__task_parse_spec(const char *spec, const char *dir, char **provider,
                        char **model, char **script, char *msg, size_t len);

/* task-check.c: a lua_CFunction, called under lua_pcall with the loader as
 * light userdata (argument 1) and the value the file returned (argument 2).
 * Fills ld->t and sets ld->rc to 0 or AG_ETASK; returns no values. */
int ag__task_check_table(lua_State *L);

#endif
