/*
 * zygote.c: the zygote, a small process that forks tool workers. It is the
 * agent binary exec'd afresh with an empty environment (see sandbox.h), so a
 * worker forked from it inherits no secret, no curl handle and no big heap.
 *
 * It waits on two things with poll(): its control socket (requests from the
 * agent process, with each worker's socket end passed as SCM_RIGHTS) and a
 * signalfd for SIGCHLD (to reap workers and report how they ended). It is
 * single-threaded and blocks only in poll(); everything it does per request
 * is short. When the agent process goes away it kills its workers and exits.
 */
#include "sandbox.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "ipc.h"
#include "json.h"
#include "setup.h"

#define MAX_FDS_QUEUED 64

struct child {
    pid_t pid;
    int worker;
    int report; /* read end of the worker's report pipe */
};

struct zygote {
    int ctl, sfd;
    struct ag_ipc_reader rd;
    int fds[MAX_FDS_QUEUED]; /* sockets received, not yet used */
    int nfds;
    struct child *kids;
    int nkids, capkids;
    struct ag_tool_code *code;
    int ncode;
    struct ag_setup setup; /* compiled policy, namespaces, layers */
};

static void die(const char *msg)
{
    fprintf(stderr, "agent: zygote: %s\n", msg);
    _exit(1);
}

static void send_msg(struct zygote *z, cJSON *m)
{
    if (ag_ipc_send(z->ctl, m) < 0) {
        cJSON_Delete(m);
        _exit(0); /* the agent process is gone */
    }
    cJSON_Delete(m);
}

static int dump_writer(lua_State *L, const void *p, size_t n, void *ud)
{
    AG_UNUSED(L);
    return ag_buf_add(ud, p, n) < 0;
}

/* Compiles a tool's source to bytecode once, so that workers only load it.
 * A chunk that does not compile is kept as source: the worker reports the
 * error at call time, naming the line. */
static void set_code(struct ag_tool_code *c, const char *name, const char *src)
{
    lua_State *L = luaL_newstate();
    struct ag_buf b;
    char chunkname[128];

    c->name = ag_xstrdup(name);
    snprintf(chunkname, sizeof chunkname, "=%s.lua", name);
    ag_buf_init(&b, 64u << 20);
    if (L && luaL_loadbufferx(L, src, strlen(src), chunkname, "t") == LUA_OK &&
        lua_dump(L, dump_writer, &b, 0) == 0 && b.len > 0) {
        c->len = b.len;
        c->chunk = ag_buf_steal(&b);
        c->binary = 1;
    } else {
        ag_buf_free(&b);
        c->chunk = ag_xstrdup(src);
        c->len = strlen(src);
        c->binary = 0;
    }
    if (L)
        lua_close(L);
}

static void on_tools(struct zygote *z, const cJSON *msg)
{
    const cJSON *tools = cJSON_GetObjectItemCaseSensitive(msg, "tools"), *t;

    cJSON_ArrayForEach(t, tools)
    {
        struct ag_tool_code *c = NULL;
        if (!cJSON_IsString(t))
            continue;
        for (int i = 0; i < z->ncode; i++)
            if (strcmp(z->code[i].name, t->string) == 0) {
                c = &z->code[i];
                free(c->name);
                free(c->chunk);
            }
        if (!c) {
            z->code =
                ag_xrealloc(z->code, sizeof *z->code * (size_t)(z->ncode + 1));
            c = &z->code[z->ncode++];
        }
        set_code(c, t->string, t->valuestring);
    }
}

/* In the new worker: the set-up steps of setup.h, in order, then the tool
 * loop. A step that fails ends the worker before any tool code runs. */
static void child_setup_and_run(struct zygote *z, int fd,
                                const struct ag_spawn *sp)
{
    if (ag_setup_worker(&z->setup, fd, sp) < 0)
        _exit(AG_SETUP_EXIT);
    ag_worker_main(fd, z->code, z->ncode);
}

static void on_spawn(struct zygote *z, const cJSON *msg)
{
    int worker = (int)ag_json_num(msg, "worker", -1), fd;
    struct ag_spawn sp;
    cJSON *reply;
    pid_t pid;

    if (z->nfds == 0)
        die("spawn request without a socket");
    fd = z->fds[0];
    memmove(z->fds, z->fds + 1, sizeof z->fds[0] * (size_t)--z->nfds);
    pid = ag_setup_clone(&z->setup, &sp);
    if (pid == 0)
        child_setup_and_run(z, fd, &sp);
    if (pid < 0) {
        errno = -pid;
        pid = -1;
    }
    close(fd);
    reply = cJSON_CreateObject();
    cJSON_AddStringToObject(reply, "type", pid < 0 ? "exit" : "spawned");
    cJSON_AddNumberToObject(reply, "worker", worker);
    cJSON_AddNumberToObject(reply, "pid", pid < 0 ? 0 : pid);
    if (pid < 0) {
        cJSON_AddNumberToObject(reply, "code", -1);
        cJSON_AddStringToObject(reply, "message", strerror(errno));
    } else {
        if (z->nkids == z->capkids) {
            z->capkids = z->capkids ? z->capkids * 2 : 16;
            z->kids =
                ag_xrealloc(z->kids, sizeof *z->kids * (size_t)z->capkids);
        }
        z->kids[z->nkids].pid = pid;
        z->kids[z->nkids].report = sp.report;
        z->kids[z->nkids++].worker = worker;
    }
    send_msg(z, reply);
}

static void on_kill(struct zygote *z, const cJSON *msg)
{
    int worker = (int)ag_json_num(msg, "worker", -1);

    for (int i = 0; i < z->nkids; i++)
        if (z->kids[i].worker == worker)
            kill(z->kids[i].pid, SIGKILL);
}

static void reap(struct zygote *z)
{
    struct signalfd_siginfo si;
    int status;
    pid_t pid;

    while (read(z->sfd, &si, sizeof si) == sizeof si)
        ;
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        cJSON *m = cJSON_CreateObject();
        struct ag_report r = {0};
        int worker = -1, got = 0;
        char name[64], why[160];

        for (int i = 0; i < z->nkids; i++)
            if (z->kids[i].pid == pid) {
                worker = z->kids[i].worker;
                got = ag_setup_read_report(z->kids[i].report, &r);
                close(z->kids[i].report);
                z->kids[i] = z->kids[--z->nkids];
                break;
            }
        cJSON_AddStringToObject(m, "type", "exit");
        cJSON_AddNumberToObject(m, "worker", worker);
        cJSON_AddNumberToObject(m, "pid", pid);
        cJSON_AddNumberToObject(m, "code",
                                WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        cJSON_AddNumberToObject(m, "signal",
                                WIFSIGNALED(status) ? WTERMSIG(status) : 0);
        /* what the worker said before it died: the blocked call, or the
         * set-up step that failed */
        if (got && r.kind == AG_REPORT_VIOLATION)
            cJSON_AddStringToObject(m, "syscall",
                                    ag_seccomp_name(r.a, name, sizeof name));
        if (got && r.kind == AG_REPORT_STEP) {
            snprintf(why, sizeof why, "sandbox set-up failed: %s: %s",
                     ag_setup_layer_name(r.a), strerror(r.b));
            cJSON_AddStringToObject(m, "message", why);
        }
        send_msg(z, m);
    }
}

/* Reads what is available on the control socket, keeping passed fds. */
static int read_ctl(struct zygote *z)
{
    char buf[65536];
    union {
        struct cmsghdr h;
        char space[CMSG_SPACE(sizeof(int) * 16)];
    } cm;
    struct iovec iov = {buf, sizeof buf};
    struct msghdr mh;
    struct cmsghdr *c;
    ssize_t n;

    memset(&mh, 0, sizeof mh);
    mh.msg_iov = &iov;
    mh.msg_iovlen = 1;
    mh.msg_control = cm.space;
    mh.msg_controllen = sizeof cm.space;
    do
        n = recvmsg(z->ctl, &mh, MSG_CMSG_CLOEXEC);
    while (n < 0 && errno == EINTR);
    if (n <= 0)
        return -1;
    for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        int *fds = (int *)(void *)CMSG_DATA(c);
        for (int i = 0; i < k; i++) {
            if (z->nfds == MAX_FDS_QUEUED)
                die("too many sockets queued");
            z->fds[z->nfds++] = fds[i];
        }
    }
    if (ag_ipc_reader_feed(&z->rd, buf, (size_t)n) < 0)
        die("control message too large");
    return 0;
}

int ag_zygote_main(void)
{
    struct zygote z;
    sigset_t set;
    cJSON *msg;
    char why[300];
    int rc;

    memset(&z, 0, sizeof z);
    z.ctl = AG_ZYGOTE_FD;
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() == 1)
        return 0;
    /* Load the time zone now: a worker must not need to open files. */
    tzset();
    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGCHLD);
    sigprocmask(SIG_BLOCK, &set, NULL);
    if ((z.sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK)) < 0)
        die("signalfd failed");
    ag_ipc_reader_init(&z.rd, AG_IPC_MAX_FRAME);

    /* The sandbox, once for all workers (setup.h): compile the policy,
     * enter the shared namespaces and the empty root (no file is reachable
     * after this), and try the per-worker steps in a probe. */
    ag_setup_init(&z.setup, NULL);
    ag_setup_enter(&z.setup);
    if ((rc = ag_setup_probe(&z.setup)) < 0)
        snprintf(why, sizeof why, "cannot make a worker: %s", strerror(-rc));

    msg = cJSON_CreateObject();
    cJSON_AddStringToObject(msg, "type", "ready");
    cJSON_AddItemToObject(msg, "layers", ag_setup_layers(&z.setup));
    send_msg(&z, msg);
    if (rc < 0 || !ag_setup_ready(&z.setup, why, sizeof why)) {
        char m[400];
        snprintf(m, sizeof m, "required sandbox layer unavailable: %s", why);
        msg = cJSON_CreateObject();
        cJSON_AddStringToObject(msg, "type", "fatal");
        cJSON_AddStringToObject(msg, "message", rc < 0 ? why : m);
        send_msg(&z, msg);
        return 1;
    }

    for (;;) {
        struct pollfd p[2] = {{z.ctl, POLLIN, 0}, {z.sfd, POLLIN, 0}};

        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            die("poll failed");
        }
        if (p[1].revents)
            reap(&z);
        if (!p[0].revents)
            continue;
        if (read_ctl(&z) < 0)
            break;
        while ((rc = ag_ipc_reader_next(&z.rd, &msg)) == 1) {
            const char *type = ag_ipc_type(msg);
            if (strcmp(type, "tools") == 0)
                on_tools(&z, msg);
            else if (strcmp(type, "spawn") == 0)
                on_spawn(&z, msg);
            else if (strcmp(type, "kill") == 0)
                on_kill(&z, msg);
            cJSON_Delete(msg);
        }
        if (rc < 0)
            die("malformed control message");
    }
    /* The agent process closed the socket: end every worker. */
    for (int i = 0; i < z.nkids; i++)
        kill(z.kids[i].pid, SIGKILL);
    return 0;
}
