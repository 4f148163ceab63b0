/*
 * setup.h: how a tool worker is locked down (DESIGN §5), as a flat list of
 * small fallible steps in a fixed order, after nsjail's contain.cc. Every
 * step is a layer that is either active or unavailable with a reason; the
 * zygote reports the list to the agent in its "ready" message and
 * `agent sandbox check` prints it.
 *
 * Once, in the zygote, before any worker (ag_setup_init, ag_setup_enter,
 * ag_setup_probe):
 *   - the seccomp policy file is read and compiled to a BPF program;
 *   - the zygote itself enters what its workers share: a user namespace
 *     (only when not root, to gain the right to make the others), a mount
 *     namespace whose root is an empty read-only tmpfs (no /proc, no /dev),
 *     an empty network namespace, and ipc and uts namespaces;
 *   - one probe worker runs the per-worker steps and reports each outcome;
 *     a step that failed there is left out of real workers and reported
 *     unavailable, never skipped silently.
 * Per worker (ag_setup_clone in the zygote, ag_setup_worker in the child),
 * in this order:
 *   descriptors   all closed but the IPC socket (and the write end of the
 *                 report pipe the SIGSYS handler uses)
 *   user ns       its own, with root mapped to nobody (65534) outside when
 *                 the zygote is root, or to the zygote's own uid otherwise
 *   pid ns        its own: the worker is pid 1 and sees no other process
 *   capabilities  all dropped
 *   rlimits       address space, CPU seconds, no new processes, no file
 *                 size, no core, few descriptors
 *   no_new_privs
 *   landlock      a ruleset that handles every access right and allows none
 *   seccomp       the compiled allow-list; any other call traps
 * The environment layer is the zygote's own: it is exec'd with none.
 *
 * Required layers (ag_setup_ready): descriptors, environment, no_new_privs
 * and seccomp. Without them the zygote refuses to run tools.
 *
 * A blocked system call: the filter's default action traps; the SIGSYS
 * handler (installed with SA_RESETHAND) writes the call's number to the
 * report pipe and makes a call that no policy can allow, which kills the
 * worker with SIGSYS, as SECCOMP_RET_KILL_PROCESS would. The zygote reads the
 * number when it reaps the worker and names the call in its "exit" message.
 */
#ifndef AG_SETUP_H
#define AG_SETUP_H

#include <stddef.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

/* The layers, in the order they are set up. */
enum ag_layer_id {
    AG_L_DESCRIPTORS,
    AG_L_ENVIRONMENT,
    AG_L_USERNS,
    AG_L_MOUNTNS,
    AG_L_PIDNS,
    AG_L_NETNS,
    AG_L_IPCNS,
    AG_L_UTSNS,
    AG_L_CAPS,
    AG_L_RLIMITS,
    AG_L_NNP,
    AG_L_LANDLOCK,
    AG_L_SECCOMP,
    AG_L_COUNT
};

struct ag_layer {
    int active;     /* 1: in force; 0: unavailable (see note) */
    int required;   /* no tool runs without it */
    char note[200]; /* what it does here, or why it is unavailable */
};

/* ---- the seccomp policy (seccomp.c) ------------------------------------ */

/* Policy files name a [sanitizers] section for builds with AddressSanitizer:
 * its rules are compiled in only with this flag. */
#define AG_POLICY_SANITIZERS 1u

/* A compiled filter, ready to load: a BPF program for this architecture. */
struct ag_seccomp {
    void *insns; /* struct sock_filter[len], malloc'd */
    unsigned short len;
    int trap;   /* default action: 1 trap (SIGSYS handler), 0 kill */
    int nrules; /* lines of the policy that were compiled in */
};

/* Reads the policy file at path and compiles it for the native
 * architecture. Returns 0, or a negative code with "PATH:LINE: problem" in
 * err. out is left zeroed on failure; free it with ag_seccomp_free. */
int ag_seccomp_compile(const char *path, unsigned flags, struct ag_seccomp *out,
                       char *err, size_t errlen);
/* The same policy in libseccomp's readable PFC form, for the golden test.
 * Returns 0 and a malloc'd string in *out, or a negative code and err. */
int ag_seccomp_export_pfc(const char *path, unsigned flags, char **out,
                          char *err, size_t errlen);
/* ag_seccomp_free(NULL) and on a zeroed filter are no-ops. */
void ag_seccomp_free(struct ag_seccomp *f);

/* In the worker: installs the SIGSYS handler, which reports to report_fd,
 * and loads f. Allocates nothing. The caller has set no_new_privs. Returns
 * 0 or -errno. */
int ag_seccomp_apply(const struct ag_seccomp *f, int report_fd);

/* The name of system call nr on this architecture, into buf. */
const char *ag_seccomp_name(int nr, char *buf, size_t len);

/* A number that is no system call on any architecture the project builds
 * for, so that no policy can allow it: making it traps for sure. */
#define AG_SECCOMP_TRIPWIRE 1023

/* What a worker writes on its report pipe. */
struct ag_report {
    unsigned magic; /* AG_REPORT_MAGIC */
    int kind;       /* AG_REPORT_* */
    int a, b;       /* VIOLATION: syscall number, audit arch;
                       STEP: layer, errno (0: done) */
};
#define AG_REPORT_MAGIC     0x61677370u
#define AG_REPORT_VIOLATION 1
#define AG_REPORT_STEP      2

/* ---- the set-up (setup.c) ---------------------------------------------- */

struct ag_setup {
    struct ag_layer layer[AG_L_COUNT];
    struct ag_seccomp filter;
    char policy[512];          /* the policy file used */
    unsigned long clone_flags; /* CLONE_NEW* for each worker */
    unsigned skip;             /* 1 << AG_L_*: steps left out of workers (the
                                  ones the probe found unavailable; tests may
                                  add more) */
    int procfd;                /* the zygote's handle on /proc, or -1 */
    int landlock_abi;          /* 0: none */
    unsigned outer_uid, outer_gid; /* what a worker's root maps to, as the
                                      zygote sees ids */
    unsigned real_uid;             /* the zygote's uid in the first place */
    unsigned long as_limit;        /* RLIMIT_AS in bytes; 0: none */
};

/* Where the policy file is when none is named: $(pkgdatadir)/sandbox, or the
 * source tree in an uninstalled build. Tests set ag_setup_policy_path before
 * the zygote starts to use another one. */
extern const char *ag_setup_policy_path;

/* Zygote, step 1: fills s, compiles the policy (NULL: the default one) and
 * looks at what the kernel offers. Changes nothing in the process. */
void ag_setup_init(struct ag_setup *s, const char *policy);
/* Zygote, step 2: enters the namespaces the workers share and the empty
 * root. Irreversible: the process loses the file system (it keeps a handle
 * on /proc). Do everything that needs files before. */
void ag_setup_enter(struct ag_setup *s);
/* Zygote, step 3: runs the per-worker steps in a probe worker and records
 * which work. Returns 0, or -errno when no worker could be made at all. */
int ag_setup_probe(struct ag_setup *s);

/* 1 when every required layer is active; otherwise 0 and the first missing
 * one named in why. */
int ag_setup_ready(const struct ag_setup *s, char *why, size_t len);
/* The layers as [{"layer", "active", "required", "detail" | "reason"}],
 * in set-up order; the caller frees it with cJSON_Delete. */
cJSON *ag_setup_layers(const struct ag_setup *s);
/* A layer's name ("seccomp"), for messages. */
const char *ag_setup_layer_name(int id);
/* Frees what init allocated and closes the /proc handle. */
void ag_setup_free(struct ag_setup *s);

/* A worker being made. */
struct ag_spawn {
    pid_t pid;  /* in the parent: the worker; in the child: 0 */
    int report; /* in the parent: read end of the report pipe (non-blocking,
                   the caller closes it); in the child: the write end */
    int sync;   /* in the child: read end of the start signal */
};

/* Zygote: makes a worker in its own namespaces (like fork: returns twice).
 * In the parent, writes the worker's uid and gid maps and lets it go on;
 * returns the pid (> 0) or -errno. In the child returns 0; the child then
 * calls ag_setup_worker. */
pid_t ag_setup_clone(const struct ag_setup *s, struct ag_spawn *sp);
/* Child: runs the per-worker steps in order, keeping fd (and sp->report).
 * Returns 0, or -(id + 1) for the layer whose step failed, after writing an
 * AG_REPORT_STEP record; the caller must then _exit(AG_SETUP_EXIT). */
int ag_setup_worker(const struct ag_setup *s, int fd,
                    const struct ag_spawn *sp);
/* Parent: reads a worker's report pipe after it ended. Returns 1 and the
 * record when there is one, else 0. */
int ag_setup_read_report(int fd, struct ag_report *r);

/* For an agent process that has no zygote report yet: runs init, enter and
 * probe in a throwaway child and returns its ag_setup_layers, or NULL. */
cJSON *ag_setup_probe_layers(void);

/* Exit status of a worker whose set-up failed (the zygote also has the
 * step's record on the report pipe). */
#define AG_SETUP_EXIT 121

#endif
