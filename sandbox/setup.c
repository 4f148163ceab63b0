/*
 * setup.c: the steps that make a forked process a tool worker with nothing
 * of its own (see setup.h for the list, its order and what is shared).
 *
 * Each step is a small function that makes one or two system calls and
 * returns 0 or -errno. The zygote runs its own steps once (enter), then one
 * probe worker that runs every per-worker step and reports each outcome on
 * a pipe; from then on a step that failed in the probe is left out and
 * reported unavailable, and a step that fails in a real worker ends it
 * before any tool code runs (fail closed).
 *
 * Why clone flags and not unshare in the worker: a new pid namespace takes
 * effect only for children, so a worker that unshared would have to fork
 * once more and stay behind as a go-between for the pid, kills and exit
 * status. The zygote instead makes each worker with clone3(CLONE_NEWUSER |
 * CLONE_NEWPID): the pid it gets is the worker's, kill and waitpid work on
 * it directly, and its exit status (SIGSYS included) is the worker's own.
 * The network, ipc, uts and mount namespaces are made once by the zygote
 * and shared by its workers: a network namespace costs ~0.4 ms to make and
 * more to tear down, a mount namespace ~0.1 ms, and there is nothing in them
 * a worker could share with another (no interface, no file, and seccomp
 * allows neither sockets nor IPC calls).
 */
#include "setup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ag.h"
#include "ipc.h"

#if defined(__SANITIZE_ADDRESS__)
#define SANITIZERS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SANITIZERS 1
#endif
#endif
#ifndef SANITIZERS
#define SANITIZERS 0
#endif

#define NOBODY   65534u
#define CPU_SOFT 300 /* seconds of CPU a worker may use in its life */
#define CPU_HARD 310
#define AS_EXTRA (1ul << 30) /* address space beyond the zygote's own */
#define MIB      (1ul << 20)

extern char **environ;

const char *ag_setup_policy_path;

static const struct {
    const char *name;
    int required;
    const char *call;   /* what failed, when the step fails */
    const char *detail; /* what it does, when that needs no figures */
} info[AG_L_COUNT] = {
    [AG_L_DESCRIPTORS] = {"descriptors", 1, "close_range",
                          "all closed but the worker's IPC socket and its "
                          "report pipe"},
    [AG_L_ENVIRONMENT] = {"environment", 1, "exec with no environment",
                          "empty: the zygote is started with none"},
    [AG_L_USERNS] = {"user-namespace", 0, "setresuid in the new namespace",
                     NULL},
    [AG_L_MOUNTNS] = {"mount-namespace", 0, "unshare(CLONE_NEWNS)",
                      "the root is an empty read-only tmpfs: no file, no "
                      "/proc, no /dev (shared with the zygote)"},
    [AG_L_PIDNS] = {"pid-namespace", 0, "getpid in the new namespace",
                    "each worker its own, as pid 1: it sees no other "
                    "process"},
    [AG_L_NETNS] = {"net-namespace", 0, "unshare(CLONE_NEWNET)",
                    "no interfaces but a loopback that is down (shared with "
                    "the zygote)"},
    [AG_L_IPCNS] = {"ipc-namespace", 0, "unshare(CLONE_NEWIPC)",
                    "no System V IPC or message queue of the host (shared "
                    "with the zygote)"},
    [AG_L_UTSNS] = {"uts-namespace", 0, "unshare(CLONE_NEWUTS)",
                    "its own host name (shared with the zygote)"},
    [AG_L_CAPS] = {"capabilities", 0, "capset",
                   "all dropped: effective, permitted, inheritable, ambient"},
    [AG_L_RLIMITS] = {"rlimits", 0, "setrlimit", NULL},
    [AG_L_NNP] = {"no-new-privs", 1, "prctl(PR_SET_NO_NEW_PRIVS)",
                  "set: nothing can gain privileges"},
    [AG_L_LANDLOCK] = {"landlock", 0, "landlock_restrict_self", NULL},
    [AG_L_SECCOMP] = {"seccomp", 1, "seccomp(SECCOMP_SET_MODE_FILTER)", NULL},
};

const char *ag_setup_layer_name(int id)
{
    return id >= 0 && id < AG_L_COUNT ? info[id].name : "?";
}

static void set_note(struct ag_setup *s, int id, int active, const char *fmt,
                     va_list ap)
{
    s->layer[id].active = active;
    vsnprintf(s->layer[id].note, sizeof s->layer[id].note, fmt, ap);
    if (active)
        s->skip &= ~(1u << id);
    else
        s->skip |= 1u << id;
}

__attribute__((format(printf, 3, 4))) static void on(struct ag_setup *s, int id,
                                                     const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    set_note(s, id, 1, fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 3, 4))) static void
off(struct ag_setup *s, int id, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    set_note(s, id, 0, fmt, ap);
    va_end(ap);
}

/* ---- Landlock (the kernel's ABI, not the headers', decides) ------------ */

#define LL_CREATE_VERSION 1u
#define LL_FS_ABI1        ((1ull << 13) - 1) /* execute .. make_sym */
#define LL_FS_REFER       (1ull << 13)       /* ABI 2 */
#define LL_FS_TRUNCATE    (1ull << 14)       /* ABI 3 */
#define LL_FS_IOCTL_DEV   (1ull << 15)       /* ABI 5 */
#define LL_NET_TCP        3ull               /* ABI 4: bind, connect */
#define LL_SCOPE_ALL      3ull /* ABI 6: abstract unix sockets, signals */

struct ll_ruleset_attr {
    uint64_t handled_access_fs, handled_access_net, scoped;
};

static int step_landlock(const struct ag_setup *s)
{
    struct ll_ruleset_attr a = {LL_FS_ABI1, 0, 0};
    size_t size = sizeof a.handled_access_fs;
    int abi = s->landlock_abi, fd, rc = 0;

    if (abi >= 2)
        a.handled_access_fs |= LL_FS_REFER;
    if (abi >= 3)
        a.handled_access_fs |= LL_FS_TRUNCATE;
    if (abi >= 4) {
        a.handled_access_net = LL_NET_TCP;
        size = 2 * sizeof(uint64_t);
    }
    if (abi >= 5)
        a.handled_access_fs |= LL_FS_IOCTL_DEV;
    if (abi >= 6) {
        a.scoped = LL_SCOPE_ALL;
        size = sizeof a;
    }
    /* a ruleset that handles every right and holds no rule: allows none */
    if ((fd = (int)syscall(SYS_landlock_create_ruleset, &a, size, 0)) < 0)
        return -errno;
    if (syscall(SYS_landlock_restrict_self, fd, 0) < 0)
        rc = -errno;
    close(fd);
    return rc;
}

static void landlock_note(struct ag_setup *s)
{
    int abi = s->landlock_abi;

    on(s, AG_L_LANDLOCK, "ABI %d, no rights: all file system access%s%s", abi,
       abi >= 4 ? ", TCP bind and connect" : "",
       abi >= 6 ? ", abstract sockets and signals beyond the worker" : "");
}

/* ---- the per-worker steps ---------------------------------------------- */

/* Child-side state: the start byte the parent sent. */
static char start_byte;

static int close_all_but(int fd, int report)
{
    int keep[2] = {fd < report ? fd : report, fd < report ? report : fd};
    unsigned lo = 0;

    for (int i = 0; i < 2; i++) {
        if (keep[i] < 0)
            continue;
        if ((unsigned)keep[i] > lo &&
            syscall(SYS_close_range, lo, (unsigned)keep[i] - 1, 0) < 0)
            return -errno;
        lo = (unsigned)keep[i] + 1;
    }
    if (syscall(SYS_close_range, lo, ~0u, 0) < 0)
        return -errno;
    return 0;
}

/* All descriptors but two closed: close_range (Linux 5.9), or one by one. */
static int step_descriptors(int fd, int report)
{
    struct rlimit r;
    int rc = close_all_but(fd, report);

    if (rc != -ENOSYS)
        return rc;
    if (getrlimit(RLIMIT_NOFILE, &r) < 0)
        return -errno;
    for (rlim_t i = 0; i < r.rlim_cur && i < 65536; i++)
        if ((int)i != fd && (int)i != report)
            close((int)i);
    return 0;
}

static int step_userns(void)
{
    if (start_byte != 'g')
        return -EPERM; /* the parent could not write the maps */
    if (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
        return -errno;
    return 0;
}

static int step_pidns(void)
{
    return getpid() == 1 ? 0 : -ESRCH;
}

static int step_caps(void)
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct d[2];

    memset(d, 0, sizeof d);
    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
    if (syscall(SYS_capset, &h, d) < 0)
        return -errno;
    return 0;
}

/* Lowers one limit (never above what it is: only lowering is allowed). */
static int lower(int res, rlim_t want)
{
    struct rlimit r;

    if (getrlimit(res, &r) < 0)
        return -errno;
    if (r.rlim_max == RLIM_INFINITY || want < r.rlim_max)
        r.rlim_max = want;
    if (r.rlim_cur == RLIM_INFINITY || r.rlim_cur > r.rlim_max)
        r.rlim_cur = r.rlim_max;
    if (setrlimit(res, &r) < 0)
        return -errno;
    return 0;
}

static int step_rlimits(const struct ag_setup *s, int fd, int report)
{
    const struct {
        int res;
        rlim_t max;
    } lim[] = {
        {RLIMIT_CPU, CPU_HARD},
        {RLIMIT_NPROC, 0},
        {RLIMIT_FSIZE, 0},
        {RLIMIT_CORE, 0},
        {RLIMIT_MEMLOCK, 0},
        {RLIMIT_MSGQUEUE, 0},
        {RLIMIT_NOFILE, (rlim_t)(fd > report ? fd : report) + 1},
        {RLIMIT_AS, s->as_limit ? s->as_limit : RLIM_INFINITY},
    };
    struct rlimit cpu;
    int rc;

    for (size_t i = 0; i < AG_ARRAY_SIZE(lim); i++)
        if ((rc = lower(lim[i].res, lim[i].max)) < 0)
            return rc;
    /* SIGXCPU at the soft limit, SIGKILL at the hard one */
    if (getrlimit(RLIMIT_CPU, &cpu) == 0 && cpu.rlim_cur > CPU_SOFT) {
        cpu.rlim_cur = CPU_SOFT;
        if (setrlimit(RLIMIT_CPU, &cpu) < 0)
            return -errno;
    }
    return 0;
}

static int step_nnp(void)
{
    return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ? -errno : 0;
}

static int run_step(const struct ag_setup *s, int id, int fd, int report)
{
    switch (id) {
    case AG_L_DESCRIPTORS:
        return step_descriptors(fd, report);
    case AG_L_USERNS:
        return step_userns();
    case AG_L_PIDNS:
        return step_pidns();
    case AG_L_CAPS:
        return step_caps();
    case AG_L_RLIMITS:
        return step_rlimits(s, fd, report);
    case AG_L_NNP:
        return step_nnp();
    case AG_L_LANDLOCK:
        return step_landlock(s);
    case AG_L_SECCOMP:
        return ag_seccomp_apply(&s->filter, report);
    }
    return 0; /* the zygote's own layers: nothing to do per worker */
}

static void report(int fd, int kind, int a, int b)
{
    struct ag_report r = {AG_REPORT_MAGIC, kind, a, b};
    ssize_t n = write(fd, &r, sizeof r);

    AG_UNUSED(n);
}

/* Every per-worker step, in order; probe: go on past failures, reporting
 * each outcome. Allocates nothing. */
static int run_steps(const struct ag_setup *s, int fd,
                     const struct ag_spawn *sp, int probe)
{
    sigset_t none;
    ssize_t n;

    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL);
    signal(SIGCHLD, SIG_DFL);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    /* wait until the parent has written the maps; EOF: it is gone */
    do
        n = read(sp->sync, &start_byte, 1);
    while (n < 0 && errno == EINTR);
    if (n != 1)
        _exit(AG_SETUP_EXIT);
    close(sp->sync);
    for (int id = 0; id < AG_L_COUNT; id++) {
        int rc;
        if (s->skip & (1u << id))
            continue;
        rc = run_step(s, id, fd, sp->report);
        if (probe)
            report(sp->report, AG_REPORT_STEP, id, -rc);
        else if (rc < 0) {
            report(sp->report, AG_REPORT_STEP, id, -rc);
            return -(id + 1);
        }
    }
    return 0;
}

int ag_setup_worker(const struct ag_setup *s, int fd, const struct ag_spawn *sp)
{
    return run_steps(s, fd, sp, 0);
}

/* ---- making a worker --------------------------------------------------- */

struct clone3_args {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack,
        stack_size, tls;
};

/* Like fork, with namespace flags. The zygote is single-threaded, so the
 * child's copy of the C library's state (locks, malloc) is consistent. */
static pid_t do_clone(unsigned long flags)
{
    struct clone3_args a;
    long pid;

    memset(&a, 0, sizeof a);
    a.flags = flags;
    a.exit_signal = SIGCHLD;
    pid = syscall(SYS_clone3, &a, sizeof a);
    if (pid < 0 && errno == ENOSYS)
        pid = syscall(SYS_clone, flags | SIGCHLD, 0, 0, 0, 0);
    return (pid_t)pid;
}

/* Writes text to /proc/PID/FILE (pid 0: the zygote's own). */
static int write_proc(const struct ag_setup *s, pid_t pid, const char *file,
                      const char *text)
{
    char path[64];
    int fd, rc = 0;

    if (pid)
        snprintf(path, sizeof path, "%d/%s", (int)pid, file);
    else
        snprintf(path, sizeof path, "self/%s", file);
    if ((fd = openat(s->procfd, path, O_WRONLY | O_CLOEXEC)) < 0)
        return -errno;
    if (write(fd, text, strlen(text)) < 0)
        rc = -errno;
    close(fd);
    return rc;
}

static int write_maps(const struct ag_setup *s, pid_t pid)
{
    char uid[32], gid[32];
    int rc;

    snprintf(uid, sizeof uid, "0 %u 1\n", s->outer_uid);
    snprintf(gid, sizeof gid, "0 %u 1\n", s->outer_gid);
    rc = write_proc(s, pid, "setgroups", "deny");
    if (rc == -ENOENT)
        rc = 0; /* kernels before 3.19 */
    if (!rc)
        rc = write_proc(s, pid, "uid_map", uid);
    if (!rc)
        rc = write_proc(s, pid, "gid_map", gid);
    return rc;
}

pid_t ag_setup_clone(const struct ag_setup *s, struct ag_spawn *sp)
{
    int p[4] = {-1, -1, -1, -1}, rc; /* start signal, report */
    int *syn = p, *rep = p + 2;
    char go = 'g';
    pid_t pid = -1;

    if (pipe2(syn, O_CLOEXEC) < 0 || pipe2(rep, O_CLOEXEC) < 0 ||
        (pid = do_clone(s->clone_flags)) < 0) {
        rc = -errno;
        for (int i = 0; i < 4; i++)
            if (p[i] >= 0)
                close(p[i]);
        return rc;
    }
    if (pid == 0) {
        close(syn[1]);
        close(rep[0]);
        sp->pid = 0;
        sp->report = rep[1];
        sp->sync = syn[0];
        return 0;
    }
    close(syn[0]);
    close(rep[1]);
    fcntl(rep[0], F_SETFL, O_NONBLOCK);
    if ((s->clone_flags & CLONE_NEWUSER) && !(s->skip & (1u << AG_L_USERNS)) &&
        write_maps(s, pid) < 0)
        go = 'n';
    if (write(syn[1], &go, 1) != 1)
        kill(pid, SIGKILL);
    close(syn[1]);
    sp->pid = pid;
    sp->report = rep[0];
    sp->sync = -1;
    return pid;
}

int ag_setup_read_report(int fd, struct ag_report *r)
{
    ssize_t n;

    do
        n = read(fd, r, sizeof *r);
    while (n < 0 && errno == EINTR);
    return n == (ssize_t)sizeof *r && r->magic == AG_REPORT_MAGIC;
}

/* ---- the zygote's side ------------------------------------------------- */

static const char *default_policy(void)
{
    if (ag_setup_policy_path)
        return ag_setup_policy_path;
    if (access(AG_POLICY_DIR "/worker.policy", R_OK) == 0)
        return AG_POLICY_DIR "/worker.policy";
    return AG_SRC_POLICY_DIR "/worker.policy";
}

/* The process's address space in bytes, from /proc/self/statm. */
static unsigned long vm_size(void)
{
    unsigned long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");

    if (f) {
        if (fscanf(f, "%lu", &pages) != 1)
            pages = 0;
        fclose(f);
    }
    return pages * (unsigned long)sysconf(_SC_PAGESIZE);
}

void ag_setup_init(struct ag_setup *s, const char *policy)
{
    char err[400];
    int n = 0, abi;

    memset(s, 0, sizeof *s);
    s->procfd = open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
    for (int id = 0; id < AG_L_COUNT; id++) {
        s->layer[id].required = info[id].required;
        off(s, id, "not set up");
    }
    /* the per-worker steps are tried by the probe */
    s->skip = 0;
    snprintf(s->policy, sizeof s->policy, "%s",
             policy ? policy : default_policy());
    if (ag_seccomp_compile(s->policy, SANITIZERS ? AG_POLICY_SANITIZERS : 0,
                           &s->filter, err, sizeof err) < 0)
        off(s, AG_L_SECCOMP, "%s", err);
    while (environ && environ[n])
        n++;
    if (n == 0)
        on(s, AG_L_ENVIRONMENT, "%s", info[AG_L_ENVIRONMENT].detail);
    else
        off(s, AG_L_ENVIRONMENT, "the zygote has %d environment variables", n);
    abi = (int)syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_VERSION);
    s->landlock_abi = abi > 0 ? abi : 0;
    if (abi <= 0)
        off(s, AG_L_LANDLOCK, "%s",
            errno == ENOSYS       ? "the kernel has no Landlock (ENOSYS)"
            : errno == EOPNOTSUPP ? "Landlock is disabled on this kernel "
                                    "(EOPNOTSUPP; see the lsm= boot option)"
                                  : strerror(errno));
    s->real_uid = (unsigned)getuid();
    s->outer_uid = s->outer_gid = geteuid() == 0 ? NOBODY : geteuid();
    if (geteuid() != 0)
        s->outer_gid = getegid();
    s->as_limit = SANITIZERS ? 0 : vm_size() + AS_EXTRA;
}

/* Not root: a user namespace of the zygote's own, where it is root and may
 * make the others; its workers' root maps onto it (this user). */
static void own_userns(struct ag_setup *s, char *why, size_t len)
{
    char uid[32], gid[32];
    unsigned u = (unsigned)geteuid(), g = (unsigned)getegid();
    int rc;

    *why = '\0';
    if (u == 0)
        return;
    if (unshare(CLONE_NEWUSER) < 0) {
        snprintf(why, len,
                 " (unshare(CLONE_NEWUSER): %s: user namespaces "
                 "are not available to this user)",
                 strerror(errno));
        return;
    }
    snprintf(uid, sizeof uid, "0 %u 1\n", u);
    snprintf(gid, sizeof gid, "0 %u 1\n", g);
    if ((rc = write_proc(s, 0, "setgroups", "deny")) < 0 && rc != -ENOENT)
        snprintf(why, len, " (setgroups: %s)", strerror(-rc));
    else if ((rc = write_proc(s, 0, "uid_map", uid)) < 0 ||
             (rc = write_proc(s, 0, "gid_map", gid)) < 0)
        snprintf(why, len, " (uid_map: %s)", strerror(-rc));
    else
        s->outer_uid = s->outer_gid = 0; /* the zygote's root: this user */
}

/* An empty read-only tmpfs as /: mounted over any directory (only in this
 * namespace), made the root with pivot_root, the old root detached. */
static int empty_root(const char **what)
{
    static const char *const dirs[] = {"/tmp",     "/mnt", "/run",
                                       "/var/tmp", "/dev", "/proc"};
    const char *dir = NULL;
    struct stat st;

    *what = "mount(/, MS_PRIVATE)";
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return -errno;
    for (size_t i = 0; i < AG_ARRAY_SIZE(dirs) && !dir; i++)
        if (stat(dirs[i], &st) == 0 && S_ISDIR(st.st_mode))
            dir = dirs[i];
    *what = "a directory to mount on";
    if (!dir)
        return -ENOENT;
    *what = "mount(tmpfs)";
    if (mount("agent-sandbox", dir, "tmpfs",
              MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY,
              "size=4k,nr_inodes=2,mode=0555") < 0)
        return -errno;
    *what = "pivot_root";
    if (chdir(dir) < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
        return -errno;
    *what = "umount2(old root)";
    if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
        return -errno;
    return 0;
}

void ag_setup_enter(struct ag_setup *s)
{
    static const int shared[][2] = {{AG_L_NETNS, CLONE_NEWNET},
                                    {AG_L_IPCNS, CLONE_NEWIPC},
                                    {AG_L_UTSNS, CLONE_NEWUTS}};
    char why[200];
    const char *what;
    int rc;

    own_userns(s, why, sizeof why);
    if (unshare(CLONE_NEWNS) < 0)
        off(s, AG_L_MOUNTNS, "unshare(CLONE_NEWNS): %s%s", strerror(errno),
            why);
    else if ((rc = empty_root(&what)) < 0)
        off(s, AG_L_MOUNTNS, "%s: %s", what, strerror(-rc));
    else
        on(s, AG_L_MOUNTNS, "%s", info[AG_L_MOUNTNS].detail);
    for (size_t i = 0; i < AG_ARRAY_SIZE(shared); i++) {
        int id = shared[i][0];
        if (unshare(shared[i][1]) < 0)
            off(s, id, "%s: %s%s", info[id].call, strerror(errno), why);
        else
            on(s, id, "%s", info[id].detail);
    }
}

/* The probe worker: every step, each outcome reported, then the tripwire,
 * which the filter must stop. */
static void probe_child(const struct ag_setup *s, const struct ag_spawn *sp)
{
    run_steps(s, sp->report, sp, 1);
    syscall(AG_SECCOMP_TRIPWIRE);
    _exit(0);
}

/* The per-worker layers that the probe found working. */
static void notes(struct ag_setup *s)
{
    static const int fixed[] = {AG_L_DESCRIPTORS, AG_L_PIDNS, AG_L_CAPS,
                                AG_L_NNP};
    int kroot = s->real_uid == 0 && (s->skip & (1u << AG_L_USERNS));
    char as[64];

#define TRIED(id) (!(s->skip & (1u << (id))))
    for (size_t i = 0; i < AG_ARRAY_SIZE(fixed); i++)
        if (TRIED(fixed[i]))
            on(s, fixed[i], "%s", info[fixed[i]].detail);
    if (TRIED(AG_L_USERNS))
        on(s, AG_L_USERNS,
           "each worker its own: root inside, uid %u (%s) outside",
           s->outer_uid == NOBODY ? NOBODY : s->real_uid,
           s->outer_uid == NOBODY ? "nobody" : "this user");
    if (s->as_limit)
        snprintf(as, sizeof as, "address space %lu MiB", s->as_limit / MIB);
    else
        snprintf(as, sizeof as, "address space not capped (AddressSanitizer)");
    if (TRIED(AG_L_RLIMITS))
        on(s, AG_L_RLIMITS,
           "CPU %d s, %s, no new process%s, no file size, no core, no new "
           "descriptor",
           CPU_SOFT, as, kroot ? " (not enforced: the worker is root)" : "");
    if (TRIED(AG_L_LANDLOCK))
        landlock_note(s);
    if (TRIED(AG_L_SECCOMP))
        on(s, AG_L_SECCOMP,
           "%d rules from %s; any other call %s the worker (checked: a probe "
           "worker was stopped)",
           s->filter.nrules, s->policy,
           s->filter.trap ? "is named and ends" : "ends");
#undef TRIED
}

int ag_setup_probe(struct ag_setup *s)
{
    static const unsigned long tries[] = {CLONE_NEWUSER | CLONE_NEWPID,
                                          CLONE_NEWPID, CLONE_NEWUSER, 0};
    const unsigned ns = (1u << AG_L_USERNS) | (1u << AG_L_PIDNS);
    int err_user = 0, err_pid = 0, status, trap = 0;
    struct ag_spawn sp;
    struct ag_report r;
    pid_t pid = -1;

    for (size_t i = 0; i < AG_ARRAY_SIZE(tries) && pid < 0; i++) {
        s->clone_flags = tries[i];
        s->skip &= ~ns;
        s->skip |= (tries[i] & CLONE_NEWUSER ? 0 : 1u << AG_L_USERNS) |
                   (tries[i] & CLONE_NEWPID ? 0 : 1u << AG_L_PIDNS);
        if ((pid = ag_setup_clone(s, &sp)) == 0)
            probe_child(s, &sp);
        if (pid < 0 && (tries[i] & CLONE_NEWUSER) && !err_user)
            err_user = -pid;
        if (pid < 0 && (tries[i] & CLONE_NEWPID) && !err_pid)
            err_pid = -pid;
    }
    if (pid < 0)
        return pid;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    if (!(s->clone_flags & CLONE_NEWUSER))
        off(s, AG_L_USERNS, "clone(CLONE_NEWUSER): %s", strerror(err_user));
    if (!(s->clone_flags & CLONE_NEWPID))
        off(s, AG_L_PIDNS, "clone(CLONE_NEWPID): %s", strerror(err_pid));
    while (ag_setup_read_report(sp.report, &r)) {
        if (r.kind == AG_REPORT_VIOLATION)
            trap = r.a == AG_SECCOMP_TRIPWIRE;
        else if (r.kind == AG_REPORT_STEP && r.a >= 0 && r.a < AG_L_COUNT &&
                 r.b)
            off(s, r.a, "%s: %s", info[r.a].call, strerror(r.b));
    }
    close(sp.report);
    notes(s);
    if (!(s->skip & (1u << AG_L_SECCOMP)) &&
        !(WIFSIGNALED(status) && WTERMSIG(status) == SIGSYS &&
          (trap || !s->filter.trap)))
        off(s, AG_L_SECCOMP,
            "a probe worker was not stopped by the filter (status 0x%x)",
            (unsigned)status);
    return 0;
}

int ag_setup_ready(const struct ag_setup *s, char *why, size_t len)
{
    for (int id = 0; id < AG_L_COUNT; id++)
        if (s->layer[id].required && !s->layer[id].active) {
            snprintf(why, len, "%s: %s", info[id].name, s->layer[id].note);
            return 0;
        }
    return 1;
}

cJSON *ag_setup_layers(const struct ag_setup *s)
{
    cJSON *a = cJSON_CreateArray();

    for (int id = 0; id < AG_L_COUNT; id++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "layer", info[id].name);
        cJSON_AddBoolToObject(o, "active", s->layer[id].active);
        cJSON_AddBoolToObject(o, "required", s->layer[id].required);
        cJSON_AddStringToObject(o, s->layer[id].active ? "detail" : "reason",
                                s->layer[id].note);
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

void ag_setup_free(struct ag_setup *s)
{
    ag_seccomp_free(&s->filter);
    if (s->procfd >= 0)
        close(s->procfd);
    s->procfd = -1;
}

cJSON *ag_setup_probe_layers(void)
{
    cJSON *msg = NULL, *layers = NULL;
    int sv[2], status;
    pid_t pid;

    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return NULL;
    if ((pid = fork()) == 0) {
        struct ag_setup s;
        close(sv[0]);
        clearenv(); /* as the zygote is: exec'd with no environment */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        ag_setup_init(&s, NULL);
        ag_setup_enter(&s);
        ag_setup_probe(&s);
        msg = cJSON_CreateObject();
        cJSON_AddStringToObject(msg, "type", "ready");
        cJSON_AddItemToObject(msg, "layers", ag_setup_layers(&s));
        _exit(ag_ipc_send(sv[1], msg) < 0);
    }
    close(sv[1]);
    if (pid > 0 && ag_ipc_recv(sv[0], 1u << 20, &msg) == 1)
        layers = cJSON_DetachItemFromObjectCaseSensitive(msg, "layers");
    close(sv[0]);
    while (pid > 0 && waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    cJSON_Delete(msg);
    if (!cJSON_IsArray(layers)) {
        cJSON_Delete(layers);
        layers = NULL;
    }
    return layers;
}
