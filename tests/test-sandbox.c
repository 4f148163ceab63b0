/*
 * test-sandbox.c: the worker's set-up (sandbox/setup.h) and its seccomp
 * policy, for real and in C (Lua cannot make a raw system call: the escape
 * battery, tests/escape/, covers the Lua layer, the limits and the broker).
 * The policy parser against tests/data/sandbox/bad-*.policy ("# expect:"
 * first lines) and the golden PFC export (AG_REGEN_GOLDEN=1 rewrites it);
 * a test zygote that runs init, enter and probe as the real one does, then
 * one worker per case: every forbidden call dies by SIGSYS and is named,
 * the calls a worker needs work, the layers below seccomp refuse on their
 * own, /proc shows the worker from outside, a failing step ends it; a
 * degraded host (no Landlock, no user namespaces) is reported as such; and
 * a real pool whose zygote's policy lacks clock_gettime names that call.
 */
#include "ag.h"
#include "pool.h"
#include "sandbox.h"
#include "setup.h"
#include "tap.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <seccomp.h>

static const char *srcdir = ".";
static char policy[1024];

/* ---- the policy file --------------------------------------------------- */

static void test_policy(void)
{
    struct ag_seccomp f;
    char err[512], name[64];

    ok(ag_seccomp_compile(policy, 0, &f, err, sizeof err) == 0,
       "the shipped policy compiles");
    ok(f.len > 10 && f.trap && f.nrules > 10, "... to a trapping filter");
    ag_seccomp_free(&f);
    ok(ag_seccomp_compile(policy, AG_POLICY_SANITIZERS, &f, err, sizeof err) ==
           0,
       "... and with its [sanitizers] section");
    ag_seccomp_free(&f);
    ag_seccomp_free(NULL);
    is_str(ag_seccomp_name(SYS_openat, name, sizeof name), "openat",
           "system calls are named");
    is_str(ag_seccomp_name(AG_SECCOMP_TRIPWIRE, name, sizeof name),
           "number 1023", "the tripwire is no system call");
}

/* Every bad-*.policy fails with the message on its first line. */
static void test_bad_policies(void)
{
    char dir[1100], path[1400], err[512], want[1700], *text;
    struct dirent *d;
    int n = 0;
    DIR *dp;

    snprintf(dir, sizeof dir, "%s/tests/data/sandbox", srcdir);
    if (!(dp = opendir(dir))) {
        ok(0, "tests/data/sandbox can be read");
        return;
    }
    while ((d = readdir(dp))) {
        struct ag_seccomp f;
        size_t len = strlen(d->d_name);
        if (strncmp(d->d_name, "bad-", 4) != 0 || len < 11 ||
            strcmp(d->d_name + len - 7, ".policy") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, d->d_name);
        if (ag_read_file(path, 1u << 16, &text, NULL) < 0)
            text = NULL;
        /* the message names the file as given, then line and problem */
        snprintf(want, sizeof want, "%s/%.*s", dir,
                 text ? (int)strcspn(text, "\n") - 10 : 1,
                 text && !strncmp(text, "# expect: ", 10) ? text + 10 : "?");
        free(text);
        err[0] = '\0';
        ok(ag_seccomp_compile(path, 0, &f, err, sizeof err) < 0 && !f.insns,
           d->d_name);
        is_str(err, want, "... with the message on its first line");
        n++;
    }
    closedir(dp);
    ok(n >= 10, "ten broken policies or more are kept as fixtures");
}

static void test_golden(void)
{
    char path[1100], err[512], *pfc = NULL, *want = NULL;

    snprintf(path, sizeof path, "%s/tests/data/sandbox/worker.pfc", srcdir);
#if !defined(__x86_64__)
    printf("ok %d # SKIP the golden export is for x86_64\n", ++tap_n);
    return;
#endif
    ok(ag_seccomp_export_pfc(policy, 0, &pfc, err, sizeof err) == 0 &&
           strstr(pfc, "# filter for syscall \"read\""),
       "the policy exports as PFC");
    if (pfc && getenv("AG_REGEN_GOLDEN")) {
        FILE *f = fopen(path, "w");
        ok(f && fputs(pfc, f) >= 0 && fclose(f) == 0, "golden file rewritten");
    }
    if (ag_read_file(path, 1u << 20, &want, NULL) < 0)
        want = NULL;
    if (!ok(want && pfc && strcmp(pfc, want) == 0,
            "the export equals tests/data/sandbox/worker.pfc"))
        tap_diag("libseccomp's output changed, or the policy did: compare, "
                 "then rerun with AG_REGEN_GOLDEN=1");
    free(pfc);
    free(want);
}

/* ---- the test zygote and its workers ----------------------------------- */

enum { SIGSYS_NAMED, EXIT_OK, TEXT, STEP_FAILS };

struct scase {
    const char *name;
    int expect; /* SIGSYS_NAMED: killed, the call reported; EXIT_OK: exit
                   0, text "ok"; TEXT: exit 0, every line of want in the
                   text; STEP_FAILS: the seccomp step fails */
    void (*fn)(int fd);
    unsigned skip; /* layers left out for this case */
    const char *want;
    int needs; /* a layer that must be active for the case to mean much */
};

/* What the zygote tells this process about one case. */
struct outcome {
    int status, got;
    struct ag_report r;
    char text[8192];
};

static pid_t zygote_pid;

/* A worker says how a call went: "name=errno-name" lines. */
static void say(int fd, const char *what, long rc)
{
    char line[128];
    int n = snprintf(line, sizeof line, "%s=%s\n", what,
                     rc >= 0 ? "ok" : strerrorname_np(errno));
    if (write(fd, line, (size_t)n) < 0)
        _exit(3);
}

static char *const sh_argv[] = {"/bin/sh", "-c", "id", NULL};
static char page[8192] __attribute__((aligned(4096)));
static struct sockaddr_in lo80 = {AF_INET, 0x5000, {0x0100007f}, {0}};

/* Arguments that stand for addresses and numbers known at run time. */
enum { A_PAGE = -7001, A_PATH, A_SH, A_ARGV, A_FD, A_LO80, A_ZYGOTE };

/* A call no worker may make, with plausible arguments. */
static const struct forbid {
    const char *name;
    long nr, a[6];
} forbid[] = {
    {"openat", SYS_openat, {AT_FDCWD, A_PATH, O_RDONLY}},
#ifdef SYS_open
    {"open", SYS_open, {A_PATH, O_RDONLY}},
#endif
    {"socket AF_INET", SYS_socket, {AF_INET, SOCK_STREAM}},
    {"socket AF_UNIX", SYS_socket, {AF_UNIX, SOCK_STREAM}},
    {"socketpair", SYS_socketpair, {AF_UNIX, SOCK_STREAM, 0, A_PAGE}},
    {"connect", SYS_connect, {A_FD, A_LO80, sizeof lo80}},
    {"sendmsg (to pass descriptors)", SYS_sendmsg, {A_FD, A_PAGE}},
    {"recvmsg (to receive descriptors)", SYS_recvmsg, {A_FD, A_PAGE}},
#ifdef SYS_fork
    {"fork", SYS_fork, {0}},
#endif
#ifdef SYS_vfork
    {"vfork", SYS_vfork, {0}},
#endif
    {"clone", SYS_clone, {SIGCHLD}},
    {"clone3", SYS_clone3, {A_PAGE, 64}},
    {"execve", SYS_execve, {A_SH, A_ARGV, 0}},
    {"ptrace", SYS_ptrace, {0 /* PTRACE_TRACEME */}},
    {"kill -1", SYS_kill, {-1, SIGKILL}},
    {"kill the zygote", SYS_kill, {A_ZYGOTE, SIGKILL}},
    {"tgkill SIGKILL", SYS_tgkill, {1, 1, SIGKILL}},
    {"io_uring_setup", SYS_io_uring_setup, {8, A_PAGE}},
    {"bpf", SYS_bpf, {BPF_PROG_LOAD, A_PAGE, 64}},
    {"keyctl", SYS_keyctl, {0}},
    {"add_key", SYS_add_key, {A_PATH, A_PATH, A_PATH, 1, -2}},
    {"userfaultfd", SYS_userfaultfd, {0}},
    {"unshare", SYS_unshare, {0x10000000 /* CLONE_NEWUSER */}},
    {"setns", SYS_setns, {0, 0}},
    {"mount", SYS_mount, {A_PATH, A_PATH, A_PATH}},
    {"umount2", SYS_umount2, {A_PATH, 2}},
    {"pivot_root", SYS_pivot_root, {A_PATH, A_PATH}},
    {"chroot", SYS_chroot, {A_PATH}},
    {"perf_event_open", SYS_perf_event_open, {A_PAGE, 0, -1, -1}},
    {"process_vm_readv", SYS_process_vm_readv, {1, A_PAGE, 1, A_PAGE, 1}},
    {"mprotect PROT_EXEC", SYS_mprotect, {A_PAGE, 4096, PROT_READ | PROT_EXEC}},
    {"mmap PROT_EXEC",
     SYS_mmap,
     {0, 4096, PROT_READ | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1}},
    {"rt_sigaction SIGSYS", SYS_rt_sigaction, {SIGSYS, A_PAGE, 0, 8}},
    {"rt_sigreturn", SYS_rt_sigreturn, {0}},
    {"prctl", SYS_prctl, {22 /* PR_SET_SECCOMP */}},
    {"seccomp", SYS_seccomp, {0}},
    {"memfd_create", SYS_memfd_create, {A_PATH, 0}},
    {"ioctl TIOCSTI", SYS_ioctl, {A_FD, 0x5412, A_PATH}},
    {"open_by_handle_at", SYS_open_by_handle_at, {AT_FDCWD, A_PAGE, 0}},
    {"init_module", SYS_init_module, {A_PAGE, 16, A_PATH}},
    {"kexec_load", SYS_kexec_load, {0}},
    {"personality", SYS_personality, {0x0040000 /* ADDR_NO_RANDOMIZE */}},
    {"setuid", SYS_setuid, {0}},
    {"getppid", SYS_getppid, {0}},
    {"writev to the socket", SYS_writev, {A_FD, A_PAGE, 0}},
    {"pidfd_open", SYS_pidfd_open, {1, 0}},
    {"madvise", SYS_madvise, {A_PAGE, 4096, 100}},
#if defined(__x86_64__)
    /* another ABI's call ends the process unreported (ACT_BADARCH) */
    {"x32 openat", 0x40000000 | 257, {AT_FDCWD, A_PATH, O_RDONLY}},
#endif
};

static const struct forbid *trying; /* set before each worker is made */

static void try_forbidden(int fd)
{
    long a[6];

    for (int i = 0; i < 6; i++) {
        long v = trying->a[i];
        a[i] = v == A_PAGE     ? (long)page
               : v == A_PATH   ? (long)"/etc/passwd"
               : v == A_SH     ? (long)"/bin/sh"
               : v == A_ARGV   ? (long)sh_argv
               : v == A_FD     ? fd
               : v == A_LO80   ? (long)&lo80
               : v == A_ZYGOTE ? zygote_pid
                               : v;
    }
    syscall(trying->nr, a[0], a[1], a[2], a[3], a[4], a[5]);
}

/* The calls a worker does need. */
static void allowed(int fd)
{
    struct timespec ts;
    char *m, buf[8];
    lua_State *L;
    struct ag_lua_limits lim = {8u << 20, 1000000};
    struct ag_lua_alloc al = {0};

    if (read(fd, buf, 1) != 1)
        _exit(10);
    m = mmap(NULL, 1u << 20, PROT_READ | PROT_WRITE,
             MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED)
        _exit(11);
    memset(m, 1, 1u << 20);
    m = mremap(m, 1u << 20, 2u << 20, MREMAP_MAYMOVE);
    if (m == MAP_FAILED || munmap(m, 2u << 20) < 0)
        _exit(12);
    free(malloc(10u << 20)); /* mmap'd by malloc */
    for (int i = 0; i < 1000; i++)
        free(malloc(100)); /* brk */
    if (syscall(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, &ts) < 0 ||
        syscall(SYS_clock_gettime, CLOCK_REALTIME, &ts) < 0)
        _exit(13);
    /* a Lua state, as a tool call makes one */
    if (!(L = ag_lua_sandbox_new(&lim, &al)) ||
        luaL_dostring(L, "local t = {} for i = 1, 1e4 do t[i] = ('x'):rep(i % "
                         "50) end return #table.concat(t) + os.clock() * 0 + "
                         "#os.date('%Y')") != LUA_OK ||
        lua_tointeger(L, -1) != 245004)
        _exit(15);
    lua_close(L);
    if (write(fd, "ok", 2) != 2)
        _exit(16);
    _exit(0);
}

/* What the layers below seccomp refuse on their own (run without it, and
 * without Landlock for some cases): one "name=result" line each. */
static void layers_alone(int fd)
{
    struct rlimit r = {RLIM_INFINITY, RLIM_INFINITY};
    int d = open("/", O_RDONLY | O_DIRECTORY), e = errno;
    int s = socket(AF_INET, SOCK_STREAM, 0);
    struct stat st;
    char buf[512];
    pid_t p;

    say(fd, "stat_passwd", stat("/etc/passwd", &st));
    say(fd, "stat_proc", stat("/proc", &st));
    errno = e;
    say(fd, "open_root", d);
    errno = ENOTEMPTY; /* "." and ".." only: 2 entries of 24 bytes */
    say(fd, "root_empty",
        d >= 0 && syscall(SYS_getdents64, d, buf, sizeof buf) == 48 ? 0 : -1);
    say(fd, "mkdir", mkdir("/x", 0700));
    say(fd, "connect",
        s < 0 ? -1 : connect(s, (struct sockaddr *)&lo80, sizeof lo80));
    if ((p = fork()) == 0)
        _exit(0);
    say(fd, "fork", p);
    say(fd, "kill_zygote", kill(zygote_pid, 0));
    say(fd, "raise_limit", setrlimit(RLIMIT_NOFILE, &r));
    _exit(0);
}

/* Waits until looked at from outside. */
static void inspected(int fd)
{
    char c[2];

    if (read(fd, c, 1) != 1 || write(fd, "look", 4) != 4 || read(fd, c, 1) != 1)
        _exit(10);
    _exit(0);
}

#define SECCOMP  (1u << AG_L_SECCOMP)
#define LANDLOCK (1u << AG_L_LANDLOCK)

static struct scase cases[] = {
    {"allowed calls: socket, mmap, mremap, malloc, clock, a Lua state", EXIT_OK,
     allowed, 0, NULL, -1},
    {"no seccomp, no landlock: the root is empty and read-only", TEXT,
     layers_alone, SECCOMP | LANDLOCK,
     "stat_passwd=ENOENT\nstat_proc=ENOENT\nroot_empty=ok\nmkdir=EROFS\n",
     AG_L_MOUNTNS},
    {"no seccomp: Landlock refuses the root directory and a TCP connect", TEXT,
     layers_alone, SECCOMP, "open_root=EACCES\nconnect=EACCES\n",
     AG_L_LANDLOCK},
    {"no seccomp, no landlock: the network namespace has no route", TEXT,
     layers_alone, SECCOMP | LANDLOCK, "connect=ENETUNREACH\n", AG_L_NETNS},
    {"no seccomp: RLIMIT_NPROC refuses a fork", TEXT, layers_alone, SECCOMP,
     "fork=EAGAIN\n", AG_L_USERNS},
    {"no seccomp, no landlock: the zygote is out of sight, limits stay", TEXT,
     layers_alone, SECCOMP | LANDLOCK, "kill_zygote=ESRCH\nraise_limit=EPERM\n",
     AG_L_PIDNS},
    {"a step that fails ends the worker before any code runs", STEP_FAILS,
     layers_alone, 0, NULL, AG_L_SECCOMP},
    {"the worker seen from outside", TEXT, inspected, 0, NULL, -1},
};

#define INSPECTED (AG_ARRAY_SIZE(cases) - 1)

/* Appends /proc/PID/FILE, runs of blanks squeezed to one. */
static void grab(const struct ag_setup *s, pid_t pid, const char *file,
                 char *out, size_t len)
{
    char path[64], *p = out + strlen(out);
    ssize_t n;
    int fd;

    snprintf(path, sizeof path, "%d/%s", (int)pid, file);
    if ((fd = openat(s->procfd, path, O_RDONLY | O_CLOEXEC)) < 0)
        return;
    n = read(fd, p, len - (size_t)(p - out) - 1);
    close(fd);
    p[n > 0 ? n : 0] = '\0';
    while ((p = strstr(p, "  ")))
        memmove(p, p + 1, strlen(p));
}

/* Facts about a live worker, from the zygote's handle on /proc. */
static void look(const struct ag_setup *s, pid_t pid, char *out, size_t len)
{
    static const char *const ns[] = {"net", "pid", "user", "mnt"};
    char a[64], b[64], path[64];
    ssize_t n;

    grab(s, pid, "status", out, len);
    grab(s, pid, "limits", out, len);
    grab(s, pid, "uid_map", out, len);
    for (size_t i = 0; i < AG_ARRAY_SIZE(ns); i++) {
        snprintf(path, sizeof path, "%d/ns/%s", (int)pid, ns[i]);
        n = readlinkat(s->procfd, path, a, sizeof a - 1);
        a[n > 0 ? n : 0] = '\0';
        snprintf(path, sizeof path, "%d/ns/%s", (int)getppid(), ns[i]);
        n = readlinkat(s->procfd, path, b, sizeof b - 1);
        b[n > 0 ? n : 0] = '\0';
        snprintf(out + strlen(out), len - strlen(out), "%s:%s\n", ns[i],
                 *a && strcmp(a, b) != 0 ? "own" : "host");
    }
}

static void run_case(struct ag_setup *s, struct scase *c, struct outcome *o)
{
    unsigned skip = s->skip, len0 = s->filter.len;
    struct ag_spawn sp;
    int sv[2];
    ssize_t n;
    size_t len = 0;
    pid_t pid;

    memset(o, 0, sizeof *o);
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return;
    s->skip |= c->skip;
    if (c->expect == STEP_FAILS)
        s->filter.len = 0; /* seccomp() says EINVAL */
    pid = ag_setup_clone(s, &sp);
    if (pid == 0) {
        if (ag_setup_worker(s, sv[1], &sp) < 0)
            _exit(AG_SETUP_EXIT);
        c->fn(sv[1]);
        _exit(0);
    }
    s->skip = skip;
    s->filter.len = len0;
    close(sv[1]);
    if (pid < 0) {
        close(sv[0]);
        return; /* status 0, no text: every check fails */
    }
    /* a byte for the worker to read; another once it has been looked at */
    n = write(sv[0], "g", 1);
    while (n > 0 &&
           (n = read(sv[0], o->text + len, sizeof o->text - 1 - len)) > 0) {
        len += (size_t)n;
        o->text[len] = '\0';
        if (strcmp(o->text, "look") == 0) {
            o->text[0] = '\0';
            look(s, pid, o->text, sizeof o->text);
            len = strlen(o->text);
            n = write(sv[0], "g", 1);
        }
    }
    close(sv[0]);
    while (waitpid(pid, &o->status, 0) < 0 && errno == EINTR)
        ;
    o->got = ag_setup_read_report(sp.report, &o->r);
    close(sp.report);
}

/* A host that offers less, as container runtimes do with a seccomp filter of
 * their own: no Landlock (ENOSYS), no clone3, no new user namespace. */
static void degrade_host(void)
{
    scmp_filter_ctx c = seccomp_init(SCMP_ACT_ALLOW);
    struct scmp_arg_cmp user =
        SCMP_A0(SCMP_CMP_MASKED_EQ, 0x10000000, 0x10000000); /* CLONE_NEWUSER */

    if (!c ||
        seccomp_rule_add(c, SCMP_ACT_ERRNO(ENOSYS),
                         SCMP_SYS(landlock_create_ruleset), 0) < 0 ||
        seccomp_rule_add(c, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0) < 0 ||
        seccomp_rule_add(c, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1, user) <
            0 ||
        seccomp_rule_add(c, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(unshare), 1, user) <
            0 ||
        seccomp_load(c) < 0)
        _exit(2);
    seccomp_release(c);
}

/* The test zygote: writes the layers' states, then one outcome per
 * forbidden call and per case (degraded: the first forbidden call only). */
static void zygote(int out, int degraded)
{
    static struct outcome o;
    size_t nf = degraded ? 1 : AG_ARRAY_SIZE(forbid);
    size_t nc = degraded ? 0 : AG_ARRAY_SIZE(cases);
    struct ag_setup s;

    if (degraded)
        degrade_host();
    clearenv();
    tzset(); /* as the zygote does: os.date must not need a file */
    zygote_pid = getpid();
    ag_setup_init(&s, policy);
    ag_setup_enter(&s);
    ag_setup_probe(&s);
    if (write(out, s.layer, sizeof s.layer) != sizeof s.layer)
        _exit(1);
    for (size_t i = 0; i < nf + nc; i++) {
        struct scase f = {
            forbid[i % nf].name, SIGSYS_NAMED, try_forbidden, 0, NULL,
            AG_L_SECCOMP};
        struct scase *c = i < nf ? &f : &cases[i - nf];
        trying = &forbid[i % nf];
        /* never make a forbidden call for real */
        if (c->needs >= 0 && !s.layer[c->needs].active)
            memset(&o, 0, sizeof o);
        else
            run_case(&s, c, &o);
        if (write(out, &o, sizeof o) != sizeof o)
            _exit(1);
    }
    ag_setup_free(&s);
    _exit(0);
}

static int read_all(int fd, void *p, size_t n)
{
    size_t got = 0;
    ssize_t r;

    while (got < n && (r = read(fd, (char *)p + got, n - got)) > 0)
        got += (size_t)r;
    return got == n ? 0 : -1;
}

/* Starts a test zygote; returns the read end of its pipe, or -1. */
static int start_zygote(int degraded, pid_t *z, struct ag_layer *layers)
{
    int p[2];

    if (pipe(p) < 0 || (*z = fork()) < 0)
        return -1;
    if (*z == 0) {
        close(p[0]);
        zygote(p[1], degraded);
    }
    close(p[1]);
    if (read_all(p[0], layers, sizeof(struct ag_layer) * AG_L_COUNT) == 0)
        return p[0];
    close(p[0]);
    return -1;
}

static void end_zygote(int fd, pid_t z)
{
    int status;

    close(fd);
    while (waitpid(z, &status, 0) < 0 && errno == EINTR)
        ;
    ok(WIFEXITED(status) && WEXITSTATUS(status) == 0,
       "the test zygote ended well");
}

static void check_forbidden(const struct forbid *f, const struct outcome *o)
{
    char name[200], got[64];

    snprintf(name, sizeof name, "%s: killed by SIGSYS, and named", f->name);
    ok(WIFSIGNALED(o->status) && WTERMSIG(o->status) == SIGSYS &&
           (f->nr >= 0x40000000 ? !o->got
                                : o->got && o->r.kind == AG_REPORT_VIOLATION &&
                                      o->r.a == f->nr),
       name);
    if (f->nr < 0x40000000 && !(o->got && o->r.a == f->nr))
        printf("#   status 0x%x, reported %s\n", o->status,
               o->got ? ag_seccomp_name(o->r.a, got, sizeof got) : "-");
}

static void check_inspected(const struct ag_layer *layers, const char *text)
{
    static const struct {
        int id;
        const char *own; /* as look() writes it */
    } ns[] = {{AG_L_NETNS, "net:own"},
              {AG_L_PIDNS, "pid:own"},
              {AG_L_USERNS, "user:own"},
              {AG_L_MOUNTNS, "mnt:own"}};

    has_str(text, "NoNewPrivs:\t1", "outside: no_new_privs is set");
    has_str(text, "Seccomp:\t2", "outside: a seccomp filter");
    has_str(text, "CapEff:\t0000000000000000", "outside: no capability");
    has_str(text, "CapPrm:\t0000000000000000", "outside: none permitted");
    has_str(text, "Max processes 0 0", "outside: no new process");
    has_str(text, "Max file size 0 0", "outside: no file size");
    has_str(text, "Max core file size 0 0", "outside: no core");
    if (layers[AG_L_USERNS].active && geteuid() == 0) {
        has_str(text, "Uid:\t65534\t65534", "outside: the worker is nobody");
        has_str(text, "0 65534 1", "... its root maps to nobody");
    }
    for (size_t i = 0; i < AG_ARRAY_SIZE(ns); i++)
        if (layers[ns[i].id].active)
            has_str(text, ns[i].own, "outside: a namespace of its own");
}

static void check_case(const struct scase *c, const struct outcome *o,
                       const struct ag_layer *layers)
{
    int st = o->status;

    if (c->needs >= 0 && !layers[c->needs].active) {
        printf("ok %d # SKIP %s: %s is unavailable\n", ++tap_n, c->name,
               ag_setup_layer_name(c->needs));
    } else if (c->expect == STEP_FAILS) {
        ok(WIFEXITED(st) && WEXITSTATUS(st) == AG_SETUP_EXIT && o->got &&
               o->r.kind == AG_REPORT_STEP && o->r.a == AG_L_SECCOMP &&
               o->r.b == EINVAL && !*o->text,
           c->name);
    } else if (c->expect == EXIT_OK) {
        ok(WIFEXITED(st) && WEXITSTATUS(st) == 0 && !strcmp(o->text, "ok"),
           c->name);
        if (!WIFEXITED(st) || WEXITSTATUS(st))
            printf("#   status 0x%x, report %d/%d\n", st, o->r.kind, o->r.a);
    } else if (c == &cases[INSPECTED]) {
        check_inspected(layers, o->text);
    } else {
        /* every line of want is in the text */
        const char *w = c->want, *nl;
        int all = WIFEXITED(st);
        for (; all && (nl = strchr(w, '\n')); w = nl + 1) {
            char line[128];
            snprintf(line, sizeof line, "%.*s", (int)(nl - w + 1), w);
            all = strstr(o->text, line) != NULL;
        }
        if (!ok(all, c->name))
            printf("#   status 0x%x, got\n%s#   want\n%s", st, o->text,
                   c->want);
    }
}

static void test_workers(void)
{
    struct ag_layer layers[AG_L_COUNT];
    static struct outcome o;
    pid_t z;
    int fd = start_zygote(0, &z, layers);

    if (!ok(fd >= 0, "a test zygote probed"))
        return;
    for (int id = 0; id < AG_L_COUNT; id++)
        if (layers[id].required)
            ok(layers[id].active, ag_setup_layer_name(id)); /* required */
        else if (!layers[id].active)
            tap_diag(layers[id].note);
    for (size_t i = 0; i < AG_ARRAY_SIZE(forbid) + AG_ARRAY_SIZE(cases); i++) {
        if (read_all(fd, &o, sizeof o) < 0 && !ok(0, "the zygote answers"))
            break;
        if (i >= AG_ARRAY_SIZE(forbid))
            check_case(&cases[i - AG_ARRAY_SIZE(forbid)], &o, layers);
        else if (!layers[AG_L_SECCOMP].active)
            printf("ok %d # SKIP no seccomp\n", ++tap_n);
        else
            check_forbidden(&forbid[i], &o);
    }
    end_zygote(fd, z);
}

/* On a host that offers less the set-up says which layers are missing and
 * why, and what is left still holds. */
static void test_degraded(void)
{
    struct ag_layer l[AG_L_COUNT];
    static struct outcome o;
    pid_t z;
    int fd = start_zygote(1, &z, l);

    if (!ok(fd >= 0, "degraded host: the test zygote probed"))
        return;
    ok(!l[AG_L_LANDLOCK].active && strstr(l[AG_L_LANDLOCK].note, "ENOSYS"),
       "degraded host: landlock unavailable, and why");
    is_str(l[AG_L_USERNS].note, "clone(CLONE_NEWUSER): Operation not permitted",
           "degraded host: user-namespace unavailable, and why");
    ok(!l[AG_L_USERNS].active, "... reported unavailable");
    if (geteuid() == 0) {
        ok(l[AG_L_PIDNS].active, "degraded host: root still has a pid ns");
        has_str(l[AG_L_RLIMITS].note, "not enforced: the worker is root",
                "... and the rlimits say NPROC does not hold for root");
    }
    ok(l[AG_L_SECCOMP].active && l[AG_L_NNP].active &&
           l[AG_L_DESCRIPTORS].active && l[AG_L_ENVIRONMENT].active,
       "degraded host: the required layers are there");
    if (read_all(fd, &o, sizeof o) == 0)
        check_forbidden(&forbid[0], &o);
    else
        ok(0, "the zygote answers");
    end_zygote(fd, z);
}

/* ---- a real pool, its zygote with a policy that lacks clock_gettime ---- */

struct call {
    struct ag_job job;
    int done, ok;
    char *text, *verdict;
};

static void on_done(struct ag_job *job, const struct ag_job_result *r)
{
    struct call *c = (struct call *)job;

    c->done = 1;
    c->ok = r->ok;
    c->text = strdup(r->ok ? r->value : r->message);
    c->verdict = r->verdict ? strdup(r->verdict) : NULL;
}

/* Runs one call; frees what the previous one in c left. */
static void call1(uv_loop_t *loop, struct ag_pool *p, struct call *c,
                  const char *tool)
{
    free(c->text);
    free(c->verdict);
    memset(c, 0, sizeof *c);
    c->job.tool = tool;
    c->job.timeout = 10;
    c->job.done = on_done;
    ok(ag_pool_submit(p, &c->job) == 0, "submit");
    while (!c->done)
        uv_run(loop, UV_RUN_ONCE);
}

static void test_pool(const char *self)
{
    char dir[] = "/tmp/agent-test-sandbox.XXXXXX", link[128], pol[128];
    char *text = NULL, *cut, *end;
    uv_loop_t *loop = uv_default_loop();
    struct ag_pool *p = NULL;
    struct ag_pool_stats st;
    struct call c = {0};
    cJSON *tools, *layers;
    FILE *f;

    if (!mkdtemp(dir) || ag_read_file(policy, 1u << 20, &text, NULL) < 0) {
        ok(0, "a strict policy can be written");
        return;
    }
    snprintf(link, sizeof link, "%s/zygote-strict", dir);
    snprintf(pol, sizeof pol, "%s/strict.policy", dir);
    /* the shipped policy, less the clock */
    if ((cut = strstr(text, "\nclock_gettime")) &&
        (end = strchr(cut + 1, '\n')))
        memmove(cut, end, strlen(end) + 1);
    if ((f = fopen(pol, "w"))) {
        fputs(text, f);
        fclose(f);
    }
    free(text);
    ok(symlink(self, link) == 0, "a zygote under another name");
    tools = cJSON_Parse("{\"clock\": \"return { run = function() return "
                        "os.clock() end }\", \"echo\": \"return { run = "
                        "function(a) return a end }\"}");
    ok(ag_pool_new(loop, &(struct ag_pool_cfg){link, 1, 0}, tools, &p) == 0,
       "pool with the strict zygote");
    call1(loop, p, &c, "clock");
    ok(!c.ok, "a call that reads the CPU clock fails");
    is_str(c.text, "blocked syscall clock_gettime",
           "... named as the blocked call");
    is_str(c.verdict, "crash", "... with the crash verdict");
    call1(loop, p, &c, "echo");
    ok(c.ok, "the next call works, in a fresh worker");
    free(c.text);
    free(c.verdict);
    ag_pool_stats(p, &st);
    ok(st.spawned >= 2 && st.crashed == 1, "the killed worker was replaced");
    layers = ag_sandbox_layers();
    text = cJSON_PrintUnformatted(layers);
    has_str(text, "strict.policy", "the layers are the zygote's report");
    free(text);
    cJSON_Delete(layers);
    ag_pool_close(p);
    uv_run(loop, UV_RUN_DEFAULT);
    cJSON_Delete(tools);
    unlink(link);
    unlink(pol);
    rmdir(dir);
}

int main(int argc, char **argv)
{
    char self[1024];
    ssize_t n;

    if (argc > 1 && strcmp(argv[1], AG_ZYGOTE_ARG) == 0) {
        /* test_pool's zygote: its policy lies next to the name it was
         * started under */
        const char *fn = (const char *)getauxval(AT_EXECFN);
        static char pol[1024];
        if (fn && strstr(fn, "/zygote-strict")) {
            snprintf(pol, sizeof pol, "%.*s/strict.policy",
                     (int)(strrchr(fn, '/') - fn), fn);
            ag_setup_policy_path = pol;
        }
        return ag_zygote_main();
    }
    signal(SIGPIPE, SIG_IGN);
    if (getenv("SRCDIR"))
        srcdir = getenv("SRCDIR");
    snprintf(policy, sizeof policy, "%s/sandbox/worker.policy", srcdir);
    test_policy();
    test_bad_policies();
    test_golden();
    test_workers();
    test_degraded();
    n = readlink("/proc/self/exe", self, sizeof self - 1);
    self[n > 0 ? n : 0] = '\0';
    test_pool(self);
    return tap_done();
}
