/*
 * sandbox.h: the process side of tool execution (DESIGN §5). The agent
 * process starts a zygote, the agent binary exec'd afresh as `agent __zygote`
 * with an empty environment, so that it holds no secrets, no curl handles and
 * no big heap. The zygote forks tool workers on request; each worker serves
 * calls one at a time over its own socket, running each call in a fresh,
 * restricted Lua state.
 *
 * Control messages (agent <-> zygote, framed as in ipc.h, on fd 3):
 *   agent -> zygote  {"type":"tools","tools":{"calc":"<lua source>",...}}
 *                    {"type":"spawn","worker":N}  + the worker's socket end,
 *                                                   passed with SCM_RIGHTS
 *                    {"type":"kill","worker":N}
 *   zygote -> agent  {"type":"ready","layers":[...]}
 *                    {"type":"spawned","worker":N,"pid":P}
 *                    {"type":"exit","worker":N,"pid":P,"code":C,"signal":S}
 *                    {"type":"fatal","message":"..."}
 * Worker messages (agent <-> worker):
 *   agent -> worker  {"type":"call","id":N,"tool":"calc","fn":null,
 *                     "args":{...},"limits":{...},"source":"..."(optional)}
 *                    {"type":"rpc.reply","id":R,"value":...|"error":"..."}
 *   worker -> agent  {"type":"rpc","id":R,"op":"log","params":{...}}
 *                    {"type":"result","id":N,"value":...}
 *                    {"type":"error","id":N,"message":"..."}
 */
#ifndef AG_SANDBOX_H
#define AG_SANDBOX_H

#include <stddef.h>

#include <lua.h>

/* The argv[1] that selects zygote mode. */
#define AG_ZYGOTE_ARG "__zygote"
/* The descriptor the zygote finds its control socket on. */
#define AG_ZYGOTE_FD 3

/* Runs the zygote on fd AG_ZYGOTE_FD; returns the process exit status. */
int ag_zygote_main(void);

/* A tool's code, as the worker holds it. */
struct ag_tool_code {
    char *name;
    char *chunk; /* Lua source or precompiled bytecode */
    size_t len;
    int binary; /* chunk is bytecode we dumped ourselves */
};

/* Serves calls on fd until the agent closes it; never returns. The code
 * table is borrowed from the zygote's memory. */
void ag_worker_main(int fd, const struct ag_tool_code *code, int ncode)
    __attribute__((noreturn));

/* Limits of one Lua state. */
struct ag_lua_limits {
    size_t memory;     /* bytes the allocator will hand out; 0: no cap */
    long instructions; /* VM instructions before the call is stopped; 0: no
                          cap */
};

/* Accounting for a capped state, kept by the caller for the state's life. */
struct ag_lua_alloc {
    size_t used, limit;
    int refused; /* an allocation was refused: the verdict is "memory" */
    /* Optional bump arena for a state that lives one call: blocks are cut
     * from it and never given back (freeing one is free), which spares the
     * many small mallocs of building a state; past its end, malloc. The
     * caller sets arena and arena_cap and resets arena_top for each state;
     * the arena must outlive the state. NULL: malloc only. */
    char *arena;
    size_t arena_cap, arena_top;
};

/* Creates a Lua state for tool code (alloc->arena and arena_cap are kept,
 * the rest is reset): base library without dofile,
 * loadfile, require and binary chunks; string, table, math, utf8,
 * coroutine; os.time, os.clock, os.date only; a json module; no io, no
 * debug, no package. The allocator refuses past limits->memory and an
 * instruction hook that pcall cannot swallow stops the code past
 * limits->instructions. Returns NULL when out of memory. */
lua_State *ag_lua_sandbox_new(const struct ag_lua_limits *limits,
                              struct ag_lua_alloc *alloc);

/* Marks the state so that every further hook tick raises again: used when a
 * limit was passed. Exposed for tests. */
int ag_lua_limit_hit(lua_State *L);

#endif
