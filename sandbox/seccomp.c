/*
 * seccomp.c: the worker's system call allow-list. The list is data, a
 * policy file (sandbox/worker.policy) that this file reads, checks and
 * compiles with libseccomp into a BPF program, once, in the zygote; a worker
 * only loads the finished program (after minijail: the policy is compiled in
 * the parent and applied in the child).
 *
 * Policy syntax, one rule per line, '#' starts a comment:
 *
 *   default trap                 any call not allowed below traps (or: kill)
 *   read                         allowed whatever its arguments
 *   mmap  arg2 & PROT_EXEC == 0  allowed when every condition holds
 *   rt_sigaction arg0 == SIGABRT, arg1 != 0
 *   [sanitizers]                 what follows is compiled in only for builds
 *                                with AddressSanitizer ([always]: back)
 *
 * A condition is "argN OP VALUE" (OP: == != < <= > >=) or "argN & MASK ==
 * VALUE", with N from 0 to 5; values are numbers (decimal or 0x hex) or
 * constants from the table below, joined with '|'. Several lines for one
 * call: any of them allows it. Earlier lines are tested first, so the
 * file lists the frequent calls first. Mistakes are reported as
 * "FILE:LINE: problem" and nothing is compiled.
 *
 * The trap: see setup.h. The handler runs in the worker and may only make
 * async-signal-safe calls: it writes one fixed-size record and trips.
 */
#include "setup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <seccomp.h>

#include "ag.h"

#define MAX_RULES 256
#define MAX_LINE  512

/* Named values a condition may use. */
static const struct {
    const char *name;
    unsigned long long value;
} constants[] = {
    {"PROT_NONE", PROT_NONE},
    {"PROT_READ", PROT_READ},
    {"PROT_WRITE", PROT_WRITE},
    {"PROT_EXEC", PROT_EXEC},
    {"MAP_SHARED", MAP_SHARED},
    {"MAP_PRIVATE", MAP_PRIVATE},
    {"MAP_ANONYMOUS", MAP_ANONYMOUS},
    {"MAP_FIXED", MAP_FIXED},
    {"MAP_NORESERVE", MAP_NORESERVE},
    {"MREMAP_MAYMOVE", MREMAP_MAYMOVE},
    {"MADV_DONTNEED", MADV_DONTNEED},
    {"MADV_FREE", MADV_FREE},
    {"MADV_NOHUGEPAGE", MADV_NOHUGEPAGE},
    {"MADV_DONTDUMP", MADV_DONTDUMP},
    {"SIGABRT", SIGABRT},
    {"SIGSYS", SIGSYS},
    {"SIGSEGV", SIGSEGV},
    {"SIGBUS", SIGBUS},
    {"SIG_BLOCK", SIG_BLOCK},
    {"SIG_UNBLOCK", SIG_UNBLOCK},
    {"SIG_SETMASK", SIG_SETMASK},
    {"CLOCK_REALTIME", CLOCK_REALTIME},
    {"CLOCK_MONOTONIC", CLOCK_MONOTONIC},
    {"CLOCK_PROCESS_CPUTIME_ID", CLOCK_PROCESS_CPUTIME_ID},
    {"CLOCK_THREAD_CPUTIME_ID", CLOCK_THREAD_CPUTIME_ID},
};

struct rule {
    int nr, line, ncmp;
    int section; /* 0 always, 1 sanitizers */
    struct scmp_arg_cmp cmp[6];
};

struct parser {
    const char *path;
    int line;
    char *err;
    size_t errlen;
    int section;
    int def; /* 0 unset, 1 trap, 2 kill */
    struct rule rules[MAX_RULES];
    int nrules;
};

static int fail(struct parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct parser *p, const char *fmt, ...)
{
    char msg[300];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (p->line > 0)
        snprintf(p->err, p->errlen, "%s:%d: %s", p->path, p->line, msg);
    else
        snprintf(p->err, p->errlen, "%s: %s", p->path, msg);
    return AG_EPARSE;
}

static char *trim(char *s)
{
    char *e;

    while (*s == ' ' || *s == '\t')
        s++;
    e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

/* One term of a value: a number or a named constant. */
static int parse_term(struct parser *p, char *s, scmp_datum_t *v)
{
    char *end;

    s = trim(s);
    if (*s >= '0' && *s <= '9') {
        errno = 0;
        *v = strtoull(s, &end, 0);
        if (errno || *end)
            return fail(p, "bad number \"%s\"", s);
        return 0;
    }
    for (size_t i = 0; i < AG_ARRAY_SIZE(constants); i++)
        if (strcmp(s, constants[i].name) == 0) {
            *v = constants[i].value;
            return 0;
        }
    return fail(p, "unknown constant \"%s\"", s);
}

static int parse_value(struct parser *p, char *s, scmp_datum_t *v)
{
    char *save = NULL, *t;
    scmp_datum_t x = 0;

    *v = 0;
    if (!*trim(s))
        return fail(p, "a condition lacks its value");
    for (t = strtok_r(s, "|", &save); t; t = strtok_r(NULL, "|", &save)) {
        if (parse_term(p, t, &x) < 0)
            return AG_EPARSE;
        *v |= x;
    }
    return 0;
}

/* "argN OP VALUE" or "argN & MASK == VALUE" into c. */
static int parse_cond(struct parser *p, char *s, struct scmp_arg_cmp *c)
{
    static const struct {
        const char *op;
        enum scmp_compare cmp;
    } ops[] = {{"==", SCMP_CMP_EQ}, {"!=", SCMP_CMP_NE}, {"<=", SCMP_CMP_LE},
               {">=", SCMP_CMP_GE}, {"<", SCMP_CMP_LT},  {">", SCMP_CMP_GT}};
    char text[MAX_LINE], *rest, *amp;
    size_t i;

    s = trim(s);
    snprintf(text, sizeof text, "%s", s);
    if (strncmp(s, "arg", 3) != 0 || s[3] < '0' || s[3] > '9')
        return fail(p, "bad condition \"%s\": expected argN OP VALUE", text);
    c->arg = (unsigned)strtoul(s + 3, &rest, 10);
    if (c->arg > 5)
        return fail(p, "bad condition \"%s\": arguments are arg0 to arg5",
                    text);
    rest = trim(rest);
    if ((amp = (*rest == '&') ? rest : NULL)) {
        char *eq = strstr(amp, "==");
        if (!eq)
            return fail(
                p, "bad condition \"%s\": a mask is compared with ==", text);
        *eq = '\0';
        if (parse_value(p, amp + 1, &c->datum_a) < 0 ||
            parse_value(p, eq + 2, &c->datum_b) < 0)
            return AG_EPARSE;
        c->op = SCMP_CMP_MASKED_EQ;
        return 0;
    }
    for (i = 0; i < AG_ARRAY_SIZE(ops); i++)
        if (strncmp(rest, ops[i].op, strlen(ops[i].op)) == 0)
            break;
    if (i == AG_ARRAY_SIZE(ops))
        return fail(p, "bad condition \"%s\": expected argN OP VALUE", text);
    c->op = ops[i].cmp;
    c->datum_b = 0;
    return parse_value(p, rest + strlen(ops[i].op), &c->datum_a);
}

/* Checks a new rule against the ones before it. */
static int check_dup(struct parser *p, const struct rule *r, const char *name)
{
    for (int i = 0; i < p->nrules; i++) {
        const struct rule *o = &p->rules[i];
        if (o->nr != r->nr)
            continue;
        if (o->ncmp == 0)
            return fail(p, "%s is already allowed on line %d", name, o->line);
        if (r->ncmp == 0)
            return fail(p,
                        "%s has conditions on line %d; allowing it "
                        "outright would void them",
                        name, o->line);
    }
    return 0;
}

static int parse_rule(struct parser *p, char *s)
{
    struct rule *r;
    char name[64], *conds, *save = NULL, *c;
    size_t n = strcspn(s, " \t");
    unsigned seen = 0;

    if (n >= sizeof name)
        return fail(p, "unknown system call \"%.*s\"", (int)n, s);
    memcpy(name, s, n);
    name[n] = '\0';
    conds = s + n;
    if (p->nrules == MAX_RULES)
        return fail(p, "too many rules (at most %d)", MAX_RULES);
    r = &p->rules[p->nrules];
    memset(r, 0, sizeof *r);
    r->line = p->line;
    r->section = p->section;
    r->nr = seccomp_syscall_resolve_name(name);
    if (r->nr == __NR_SCMP_ERROR)
        return fail(p, "unknown system call \"%s\"", name);
    if (r->nr < 0)
        return fail(p, "\"%s\" is not a system call on this architecture",
                    name);
    for (c = strtok_r(conds, ",", &save); c; c = strtok_r(NULL, ",", &save)) {
        if (r->ncmp == 6)
            return fail(p, "too many conditions (at most 6)");
        if (parse_cond(p, c, &r->cmp[r->ncmp]) < 0)
            return AG_EPARSE;
        if (seen & (1u << r->cmp[r->ncmp].arg))
            return fail(p, "arg%u is compared twice in one rule",
                        r->cmp[r->ncmp].arg);
        seen |= 1u << r->cmp[r->ncmp].arg;
        r->ncmp++;
    }
    if (check_dup(p, r, name) < 0)
        return AG_EPARSE;
    p->nrules++;
    return 0;
}

static int parse_line(struct parser *p, char *s)
{
    char *hash = strchr(s, '#');

    if (hash)
        *hash = '\0';
    s = trim(s);
    if (!*s)
        return 0;
    if (*s == '[') {
        if (strcmp(s, "[always]") == 0)
            p->section = 0;
        else if (strcmp(s, "[sanitizers]") == 0)
            p->section = 1;
        else
            return fail(p,
                        "unknown section \"%s\" (known: [always], "
                        "[sanitizers])",
                        s);
        return 0;
    }
    if (strncmp(s, "default", 7) == 0 && (s[7] == ' ' || s[7] == '\t')) {
        char *a = trim(s + 7);
        if (p->def)
            return fail(p, "a second default action");
        if (strcmp(a, "trap") == 0)
            p->def = 1;
        else if (strcmp(a, "kill") == 0)
            p->def = 2;
        else
            return fail(p, "the default action is trap or kill, not \"%s\"", a);
        return 0;
    }
    return parse_rule(p, s);
}

static int parse_file(struct parser *p, const char *path)
{
    char *text, *line, *next;
    int rc;

    p->path = path;
    p->line = 0;
    if ((rc = ag_read_file(path, 1u << 20, &text, NULL)) < 0) {
        snprintf(p->err, p->errlen, "%s: cannot read: %s", path,
                 ag_strerror(rc));
        return rc;
    }
    for (line = text; line && rc == 0; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        p->line++;
        if (strlen(line) >= MAX_LINE)
            rc = fail(p, "line too long (at most %d characters)", MAX_LINE - 1);
        else
            rc = parse_line(p, line);
    }
    free(text);
    if (rc < 0)
        return rc;
    p->line = 0;
    if (!p->def)
        return fail(p, "no default action (add \"default trap\")");
    if (p->nrules == 0)
        return fail(p, "no rules");
    return 0;
}

/* Parses path and builds the libseccomp context. */
static int build(const char *path, unsigned flags, scmp_filter_ctx *out,
                 int *trap, int *nrules, char *err, size_t errlen)
{
    struct parser *p = ag_xcalloc(1, sizeof *p);
    scmp_filter_ctx ctx = NULL;
    int rc, prio = 255, used = 0;

    p->err = err;
    p->errlen = errlen;
    if ((rc = parse_file(p, path)) < 0)
        goto out;
    ctx = seccomp_init(p->def == 1 ? SCMP_ACT_TRAP : SCMP_ACT_KILL_PROCESS);
    if (!ctx) {
        rc = fail(p, "libseccomp cannot make a filter");
        goto out;
    }
    /* another architecture's calls (i386 on x86_64) end the process */
    if ((rc = seccomp_attr_set(ctx, SCMP_FLTATR_ACT_BADARCH,
                               SCMP_ACT_KILL_PROCESS)) < 0 ||
        (rc = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, 0)) < 0)
        goto lib;
    for (int i = 0; i < p->nrules; i++) {
        const struct rule *r = &p->rules[i];
        int first = 1;
        if (r->section == 1 && !(flags & AG_POLICY_SANITIZERS))
            continue;
        for (int j = 0; j < i; j++)
            first &= p->rules[j].nr != r->nr;
        p->line = r->line;
        if (first && (rc = seccomp_syscall_priority(
                          ctx, r->nr, (uint8_t)(prio > 1 ? prio-- : 1))) < 0)
            goto lib;
        if ((rc = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, r->nr,
                                         (unsigned)r->ncmp, r->cmp)) < 0)
            goto lib;
        used++;
    }
    *out = ctx;
    *trap = p->def == 1;
    *nrules = used;
    free(p);
    return 0;
lib:
    rc = fail(p, "libseccomp refuses the rule: %s", strerror(-rc));
out:
    if (ctx)
        seccomp_release(ctx);
    free(p);
    return rc;
}

/* Runs export(ctx, fd) into a memory file and returns its bytes. */
static int export_mem(scmp_filter_ctx ctx, int (*export)(scmp_filter_ctx, int),
                      char **out, size_t *len)
{
    int fd = memfd_create("agent-seccomp", MFD_CLOEXEC), rc;
    struct ag_buf b;
    char chunk[4096];
    ssize_t n;

    if (fd < 0)
        return -errno;
    if ((rc = export(ctx, fd)) < 0 || lseek(fd, 0, SEEK_SET) < 0) {
        rc = rc < 0 ? rc : -errno;
        close(fd);
        return rc;
    }
    ag_buf_init(&b, 1u << 20);
    while ((n = read(fd, chunk, sizeof chunk)) > 0)
        if ((rc = ag_buf_add(&b, chunk, (size_t)n)) < 0)
            break;
    close(fd);
    if (n < 0 || rc < 0) {
        ag_buf_free(&b);
        return rc < 0 ? rc : -EIO;
    }
    *len = b.len;
    *out = ag_buf_steal(&b);
    return 0;
}

static int export_bpf(scmp_filter_ctx ctx, int fd)
{
    return seccomp_export_bpf(ctx, fd);
}

static int export_pfc(scmp_filter_ctx ctx, int fd)
{
    return seccomp_export_pfc(ctx, fd);
}

int ag_seccomp_compile(const char *path, unsigned flags, struct ag_seccomp *out,
                       char *err, size_t errlen)
{
    scmp_filter_ctx ctx;
    char *bpf = NULL;
    size_t len = 0;
    int rc;

    memset(out, 0, sizeof *out);
    if ((rc = build(path, flags, &ctx, &out->trap, &out->nrules, err, errlen)) <
        0)
        return rc;
    rc = export_mem(ctx, export_bpf, &bpf, &len);
    seccomp_release(ctx);
    if (rc == 0 && (len == 0 || len % sizeof(struct sock_filter) ||
                    len / sizeof(struct sock_filter) > BPF_MAXINSNS))
        rc = -E2BIG;
    if (rc < 0) {
        free(bpf);
        snprintf(err, errlen, "%s: cannot compile: %s", path, strerror(-rc));
        memset(out, 0, sizeof *out);
        return rc;
    }
    out->insns = bpf;
    out->len = (unsigned short)(len / sizeof(struct sock_filter));
    return 0;
}

int ag_seccomp_export_pfc(const char *path, unsigned flags, char **out,
                          char *err, size_t errlen)
{
    scmp_filter_ctx ctx;
    int trap, n, rc;
    size_t len;

    *out = NULL;
    if ((rc = build(path, flags, &ctx, &trap, &n, err, errlen)) < 0)
        return rc;
    rc = export_mem(ctx, export_pfc, out, &len);
    seccomp_release(ctx);
    if (rc < 0)
        snprintf(err, errlen, "%s: cannot export: %s", path, strerror(-rc));
    return rc;
}

void ag_seccomp_free(struct ag_seccomp *f)
{
    if (!f)
        return;
    free(f->insns);
    memset(f, 0, sizeof *f);
}

const char *ag_seccomp_name(int nr, char *buf, size_t len)
{
    char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

    if (name)
        snprintf(buf, len, "%s", name);
    else
        snprintf(buf, len, "number %d", nr);
    free(name);
    return buf;
}

/* ---- in the worker ----------------------------------------------------- */

static int report_fd = -1;

/* Runs with SIGSYS blocked and its action already reset to the default
 * (SA_RESETHAND): the tripwire's trap then kills the process. */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
    struct ag_report r = {AG_REPORT_MAGIC, AG_REPORT_VIOLATION, si->si_syscall,
                          (int)si->si_arch};
    ssize_t n = report_fd >= 0 ? write(report_fd, &r, sizeof r) : 0;

    AG_UNUSED(sig);
    AG_UNUSED(uc);
    AG_UNUSED(n);
    syscall(AG_SECCOMP_TRIPWIRE);
    _exit(AG_SETUP_EXIT); /* not reached unless a policy allowed the wire */
}

int ag_seccomp_apply(const struct ag_seccomp *f, int fd)
{
    struct sock_fprog prog;
    struct sigaction sa;
    sigset_t sys;

    if (!f->insns)
        return -EINVAL;
    prog.len = f->len;
    prog.filter = f->insns;
    report_fd = fd;
    if (f->trap) {
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_sigsys;
        sa.sa_flags = SA_SIGINFO | SA_RESETHAND;
        sigfillset(&sa.sa_mask);
        if (sigaction(SIGSYS, &sa, NULL) < 0)
            return -errno;
        sigemptyset(&sys);
        sigaddset(&sys, SIGSYS);
        sigprocmask(SIG_UNBLOCK, &sys, NULL);
    }
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) < 0)
        return -errno;
    return 0;
}
