/*
 * task.h: the task file (DESIGN §3). A task file is trusted Lua written by
 * the user that returns a table; ag_task_load runs it and checks every field,
 * so that a mistake is reported with the file, the line when Lua gives one,
 * and the field: `task.lua: limits.steps must be a positive integer (got
 * "ten")`.
 *
 *   return {
 *     name   = "trip",                       -- default: file name sans .lua
 *     model  = { provider = "openai", name = "gpt-4o-mini",
 *                base_url = "http://127.0.0.1:8080/v1", api_key = "...",
 *                stream = true, context = 128000, max_tokens = 1024,
 *                temperature = 0.2, price = { input = 0.15, output = 0.6 },
 *                timeouts = { connect = 10, first_byte = 120, idle = 60 },
 *                retries = { attempts = 5, backoff = 0.5, max_backoff = 20,
 *                            total = 120 } },
 *            -- or { provider = "script", file = "model.lua" }
 *     system = "You are ...",                -- optional
 *     goal   = "Book the cheapest ...",      -- required
 *     tools  = { "clock", calc = { timeout = 2 } },
 *     limits = { steps = 20, tokens = 50000, seconds = 120, cost = 0.5,
 *                repeat_calls = 3 },
 *     approve = { "booking.book_reservation" },
 *     approve_tainted = { "email" },          -- after reading the web
 *     secrets = { "..." },                   -- values to redact everywhere
 *   }
 */
#ifndef AG_TASK_H
#define AG_TASK_H

#include <stddef.h>

#include <cjson/cJSON.h>

struct ag_task_tool {
    char *name;  /* tool (or tool family) name */
    cJSON *opts; /* options as JSON (e.g. {"allow_hosts":[...]}), or NULL */
};

struct ag_task_limits {
    long steps;        /* model calls; default 20 */
    long tokens;       /* input + output tokens over the run; 0: no limit */
    double seconds;    /* wall clock; default 600 */
    double cost;       /* USD; 0: no limit */
    long repeat_calls; /* same tool + same arguments N times in a row stops
                          the run; default 3; 0: no guard */
};

/* Network settings of the model endpoint; 0 means the client's default
 * (connect 10 s, first byte 120 s, idle 60 s; 5 attempts, backoff from
 * 0.5 s doubling up to 20 s, no retry started after 120 s). */
struct ag_task_net {
    double connect, first_byte, idle; /* seconds */
    long attempts;                    /* tries in all, retries included */
    double backoff, max_backoff;      /* seconds */
    double total;                     /* seconds */
};

struct ag_task {
    char *path;   /* as given */
    char *dir;    /* directory holding the file, for relative paths */
    char *source; /* the file's text as it was read (for run.start) */
    size_t source_len;
    int replaying; /* a replay answers: a script model file is not read */

    /* audit = { file = ..., content = ..., fsync = ... }; NULL: not set
     * (the command line wins over each) */
    char *audit_file; /* relative to the task's directory */
    char *audit_content;
    char *audit_fsync;
    char *name;
    char *system; /* NULL when absent */
    char *goal;

    /* model */
    char *provider;         /* "openai", "anthropic" or "script" */
    char *model;            /* model name; NULL for script (then "script") */
    char *script;           /* script provider: path, resolved against dir */
    char *base_url;         /* NULL: provider default / environment */
    char *api_key;          /* NULL: from the environment */
    int stream;             /* 1 stream (default), 0 not */
    long context;           /* token budget for a request; 0: model's default */
    int max_tokens;         /* per reply; 0: provider default */
    double temperature;     /* < 0: not sent (default) */
    double price_in;        /* USD per million input tokens; < 0: table */
    double price_out;       /* USD per million output tokens; < 0: table */
    struct ag_task_net net; /* model.timeouts and model.retries */

    struct ag_task_tool *tools;
    int ntools;
    char **approve; /* "tool" or "tool.function" */
    int napprove;
    char **approve_tainted; /* the same, once content from the network was
                               read in the run */
    int napprove_tainted;
    char **secrets;
    int nsecrets;

    struct ag_task_limits limits;
};

/* Loads and validates a task file. On success returns 0 and a task in *out
 * (free with ag_task_free). On failure returns AG_ETASK (or -errno when the
 * file cannot be read) and a one-line message in err that starts with the
 * file name as given: "examples/t.lua:4: unexpected symbol near '}'",
 * "t.lua: goal is required", "t.lua: limits.steps must be a positive integer
 * (got \"ten\")", "t.lua: unknown field \"limts\" (did you mean \"limits\"?)".
 */
int ag_task_load(const char *path, struct ag_task **out, char *err,
                 size_t errlen);
/* The same from the file's text (as an audit log recorded it): path names
 * it in messages and gives the directory relative paths start from. */
int ag_task_load_text(const char *path, const char *text, size_t len,
                      struct ag_task **out, char *err, size_t errlen);

/* Applies "PROVIDER:NAME" from the command line ("openai:gpt-4o",
 * "anthropic:claude-sonnet-4-5", "script:path/model.lua"; a script path is
 * taken relative to the current directory; NAME may hold further colons, as
 * in "openai:llama3:8b"). A change of provider drops the task's base_url and
 * api_key (they belong to the provider they were written for); a change of
 * model drops its price. Returns 0 or AG_ETASK with a message (not starting
 * with the path: the spec came from the command line), and then changes
 * nothing. */
int ag_task_set_model(struct ag_task *t, const char *spec, char *err,
                      size_t errlen);

/* Checks what must hold after command-line overrides (a known provider, a
 * readable script file for the script provider, a model name for the
 * others). Returns 0 or AG_ETASK with a message naming the file or field. */
int ag_task_check(const struct ag_task *t, char *err, size_t errlen);

/* ag_task_free(NULL) is a no-op. */
void ag_task_free(struct ag_task *t);

#endif
