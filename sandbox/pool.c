/*
 * pool.c: the worker pool on the agent's event loop (see pool.h).
 *
 * Invariants:
 *  - a worker serves at most one job (w->job); a job is either queued
 *    (pool->q_head list), running (job->worker set), or finished (done
 *    called, the pool forgets it);
 *  - a worker that misbehaves in any way is never reused: it is marked dead,
 *    the zygote is asked to kill it, its handles are closed and a fresh one
 *    takes its place;
 *  - every libuv handle is freed only in its close callback; the pool itself
 *    is freed when the last of its handles (its own and its workers') has
 *    closed (pool->refs).
 */
#include "pool.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ag.h"
#include "ipc.h"
#include "json.h"
#include "sandbox.h"
#include "setup.h"

/* How long to wait, after a worker's socket closed, for the zygote to say
 * how the process ended before failing the job with a generic message. */
#define EXIT_WAIT_MS 1000
/* The zygote starts this long after the pool is made, unless a call
 * needs it sooner: its fork and exec would otherwise hold up the loop
 * while the first model request is being sent. */
#define ZYGOTE_DELAY_MS 3

/* Zygote restarts allowed before the pool gives up. */
#define MAX_ZYGOTE_STARTS 5

struct ag_worker {
    struct ag_pool *pool;
    struct ag_worker *next;
    int id;
    int pid; /* 0 until the zygote says */
    uv_pipe_t pipe;
    uv_timer_t timer; /* the call's time limit; then the wait for exit */
    struct ag_ipc_reader rd;
    struct ag_job *job;
    int dead;    /* takes no more calls; being closed */
    int oneshot; /* forked for one call (isolation "process"), then ended */
    int eof;     /* the socket closed while a job was running */
    int handles; /* open libuv handles */
    int calls;   /* served so far */
};

/* A warm worker is replaced after this many calls: its CPU-time rlimit
 * counts its whole life, and a fresh one costs a fraction of a ms. */
#define CALLS_PER_WORKER 2000

struct zout {
    struct zout *next;
    char *data;
    size_t len, off;
    int fd; /* to pass with the first byte, or -1 */
};

struct ag_pool {
    uv_loop_t *loop;
    char *exe;
    int warm;
    size_t max_frame;
    char *tools_msg; /* the "tools" control message, JSON text */

    uv_process_t zproc;
    uv_poll_t zpoll;
    int zfd;
    int zalive;
    int zstarts;
    struct ag_ipc_reader zrd;
    struct zout *zq, *zq_tail;

    struct ag_worker *workers;
    int nworkers;
    int next_worker;

    struct ag_job *q_head, *q_tail;
    int nqueued;
    uv_timer_t defer; /* fails queued jobs when no zygote can be had */
    uv_timer_t start; /* starts the zygote a moment after the loop starts */
    int start_pending;

    uint64_t next_call;
    struct ag_pool_stats st;
    int failstreak;  /* workers lost in a row without a call completing */
    char fatal[300]; /* why the zygote refused to start, if it did */
    int closing;
    int refs; /* open handles, the pool's and its workers' */
};

static char scratch[65536]; /* read buffer; consumed inside read callbacks */

static struct ag_worker *spawn_worker(struct ag_pool *p, int oneshot);
static void dispatch(struct ag_pool *p);
static void worker_fail(struct ag_worker *w, const char *verdict,
                        const char *message);
static int zygote_start(struct ag_pool *p);

static void pool_unref(struct ag_pool *p)
{
    if (--p->refs > 0)
        return;
    ag_ipc_reader_free(&p->zrd);
    free(p->tools_msg);
    free(p->exe);
    free(p);
}

static void on_handle_closed(uv_handle_t *h)
{
    pool_unref(h->data);
}

/* ---- finishing jobs ---------------------------------------------------- */

static void finish(struct ag_job *job, const struct ag_job_result *res)
{
    job->worker = NULL;
    job->next = NULL;
    job->done(job, res);
}

static void finish_error(struct ag_job *job, const char *verdict,
                         const char *message)
{
    struct ag_job_result r = {0, NULL, message, verdict, 0};

    r.ms = (double)(ag_now_ns() - job->started_ns) / 1e6;
    finish(job, &r);
}

static struct ag_job *queue_pop(struct ag_pool *p)
{
    struct ag_job *j = p->q_head;

    if (j) {
        p->q_head = j->next;
        if (!p->q_head)
            p->q_tail = NULL;
        p->nqueued--;
    }
    return j;
}

static void fail_queued(struct ag_pool *p, const char *message)
{
    struct ag_job *j;

    while ((j = queue_pop(p)))
        finish_error(j, "crash", message);
}

static void on_defer(uv_timer_t *t)
{
    struct ag_pool *p = t->data;

    if (!p->zalive)
        fail_queued(p, p->fatal[0]
                           ? p->fatal
                           : "the tool sandbox is not available (zygote "
                             "failed)");
}

/* ---- the zygote's control socket --------------------------------------- */

static void on_zpoll(uv_poll_t *h, int status, int events);

static void zpoll_update(struct ag_pool *p)
{
    if (p->zfd < 0)
        return;
    uv_poll_start(&p->zpoll, UV_READABLE | (p->zq ? UV_WRITABLE : 0), on_zpoll);
}

static void zflush(struct ag_pool *p)
{
    while (p->zq) {
        struct zout *o = p->zq;
        struct iovec iov = {o->data + o->off, o->len - o->off};
        union {
            struct cmsghdr h;
            char space[CMSG_SPACE(sizeof(int))];
        } cm;
        struct msghdr mh;
        ssize_t n;

        memset(&mh, 0, sizeof mh);
        mh.msg_iov = &iov;
        mh.msg_iovlen = 1;
        if (o->fd >= 0) {
            memset(&cm, 0, sizeof cm);
            mh.msg_control = cm.space;
            mh.msg_controllen = sizeof cm.space;
            cm.h.cmsg_level = SOL_SOCKET;
            cm.h.cmsg_type = SCM_RIGHTS;
            cm.h.cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(&cm.h), &o->fd, sizeof(int));
        }
        n = sendmsg(p->zfd, &mh, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
            return; /* the zygote is gone; its exit callback cleans up */
        }
        if (o->fd >= 0) {
            close(o->fd);
            o->fd = -1;
        }
        o->off += (size_t)n;
        if (o->off < o->len)
            continue;
        p->zq = o->next;
        if (!p->zq)
            p->zq_tail = NULL;
        free(o->data);
        free(o);
    }
    zpoll_update(p);
}

static void zsend(struct ag_pool *p, const char *json, int fd)
{
    struct zout *o = ag_xcalloc(1, sizeof *o);
    struct ag_buf b;

    ag_buf_init(&b, (size_t)UINT32_MAX);
    if (ag_ipc_encode_raw(&b, json, strlen(json)) < 0) {
        ag_buf_free(&b);
        free(o);
        if (fd >= 0)
            close(fd);
        return;
    }
    o->len = b.len;
    o->data = ag_buf_steal(&b);
    o->fd = fd;
    if (p->zq_tail)
        p->zq_tail->next = o;
    else
        p->zq = o;
    p->zq_tail = o;
    zflush(p);
}

static struct ag_worker *find_worker(struct ag_pool *p, int id)
{
    for (struct ag_worker *w = p->workers; w; w = w->next)
        if (w->id == id)
            return w;
    return NULL;
}

static void on_worker_exit(struct ag_pool *p, const cJSON *msg)
{
    struct ag_worker *w = find_worker(p, (int)ag_json_num(msg, "worker", -1));
    int sig = (int)ag_json_num(msg, "signal", 0);
    int code = (int)ag_json_num(msg, "code", 0);
    const char *call = ag_json_str(msg, "syscall");
    const char *why = ag_json_str(msg, "message");
    char m[160];

    if (!w || w->dead)
        return;
    /* SIGSYS: seccomp stopped a call; the zygote names it (setup.h) */
    if (sig == SIGSYS)
        snprintf(m, sizeof m, "blocked syscall %s",
                 call ? call : "(unknown: no report from the worker)");
    else if (sig == SIGXCPU)
        snprintf(m, sizeof m, "tool worker used up its CPU time (rlimit)");
    else if (why)
        snprintf(m, sizeof m, "%s", why);
    else if (sig)
        snprintf(m, sizeof m, "tool worker was killed by signal %d (%s)", sig,
                 sigabbrev_np(sig) ? sigabbrev_np(sig) : "?");
    else
        snprintf(m, sizeof m, "tool worker exited with code %d", code);
    p->st.crashed++;
    worker_fail(w, "crash", m);
}

/* The sandbox's layers as the last zygote reported them (see
 * ag_sandbox_layers), or NULL. */
static cJSON *reported_layers;

static void on_ready(const cJSON *msg)
{
    const cJSON *layers = cJSON_GetObjectItemCaseSensitive(msg, "layers"), *l;
    int first = reported_layers == NULL;

    if (!cJSON_IsArray(layers))
        return;
    cJSON_Delete(reported_layers);
    reported_layers = cJSON_Duplicate(layers, 1);
    if (!first)
        return;
    cJSON_ArrayForEach(l, layers)
    {
        const char *why = ag_json_str(l, "reason");
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l, "active")))
            ag_info("tool sandbox: %s unavailable: %s", ag_json_str(l, "layer"),
                    why ? why : "?");
    }
}

static void on_zmsg(struct ag_pool *p, const cJSON *msg)
{
    const char *type = ag_ipc_type(msg);

    if (strcmp(type, "ready") == 0) {
        on_ready(msg);
    } else if (strcmp(type, "spawned") == 0) {
        struct ag_worker *w =
            find_worker(p, (int)ag_json_num(msg, "worker", -1));
        if (w)
            w->pid = (int)ag_json_num(msg, "pid", 0);
    } else if (strcmp(type, "exit") == 0) {
        on_worker_exit(p, msg);
    } else if (strcmp(type, "fatal") == 0) {
        const char *m = ag_json_str(msg, "message");
        ag_error("tool sandbox: %s", m ? m : "?");
        snprintf(p->fatal, sizeof p->fatal, "%s", m ? m : "?");
    }
}

static void on_zpoll(uv_poll_t *h, int status, int events)
{
    struct ag_pool *p = h->data;
    cJSON *msg;
    int rc;

    if (status < 0 || (events & UV_DISCONNECT)) {
        uv_poll_stop(h);
        return;
    }
    if (events & UV_WRITABLE)
        zflush(p);
    if (!(events & UV_READABLE))
        return;
    for (;;) {
        ssize_t n = read(p->zfd, scratch, sizeof scratch);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
                uv_poll_stop(h); /* the exit callback does the rest */
            break;
        }
        if (ag_ipc_reader_feed(&p->zrd, scratch, (size_t)n) < 0)
            break;
        while ((rc = ag_ipc_reader_next(&p->zrd, &msg)) == 1) {
            on_zmsg(p, msg);
            cJSON_Delete(msg);
        }
        if (rc < 0) {
            ag_error("tool sandbox: malformed message from the zygote");
            uv_process_kill(&p->zproc, SIGKILL);
            break;
        }
    }
}

static void on_zygote_exit(uv_process_t *proc, int64_t status, int sig)
{
    struct ag_pool *p = proc->data;
    struct ag_worker *w, *next;

    p->zalive = 0;
    if (!p->closing)
        ag_warn("tool sandbox: zygote ended (status %lld, signal %d)",
                (long long)status, sig);
    /* Its workers died with it (PR_SET_PDEATHSIG). */
    for (w = p->workers; w; w = next) {
        next = w->next;
        if (!w->dead)
            worker_fail(w, "crash",
                        p->fatal[0] ? p->fatal
                                    : "the tool sandbox ended unexpectedly");
    }
    if (p->zfd >= 0) {
        uv_close((uv_handle_t *)&p->zpoll, on_handle_closed);
        p->zfd = -1;
    }
    while (p->zq) {
        struct zout *o = p->zq;
        p->zq = o->next;
        if (o->fd >= 0)
            close(o->fd);
        free(o->data);
        free(o);
    }
    p->zq_tail = NULL;
    uv_close((uv_handle_t *)proc, on_handle_closed);
    if (p->closing)
        return;
    if (p->q_head && zygote_start(p) < 0)
        uv_timer_start(&p->defer, on_defer, 0, 0);
}

static int zygote_start(struct ag_pool *p)
{
    uv_process_options_t o;
    uv_stdio_container_t stdio[4];
    char *args[] = {"agent", AG_ZYGOTE_ARG, NULL};
    char *env[] = {NULL};
    int sv[2], rc;

    if (p->zstarts >= MAX_ZYGOTE_STARTS)
        return AG_ECONNECT;
    p->zstarts++;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
        return -errno;
    memset(&o, 0, sizeof o);
    memset(stdio, 0, sizeof stdio);
    stdio[0].flags = UV_IGNORE;
    stdio[1].flags = UV_IGNORE;
    stdio[2].flags = UV_INHERIT_FD;
    stdio[2].data.fd = 2;
    stdio[3].flags = UV_INHERIT_FD;
    stdio[3].data.fd = sv[1];
    o.file = p->exe;
    o.args = args;
    o.env = env;
    o.stdio = stdio;
    o.stdio_count = 4;
    o.exit_cb = on_zygote_exit;
    p->zproc.data = p;
    rc = uv_spawn(p->loop, &p->zproc, &o);
    close(sv[1]);
    if (rc < 0) {
        close(sv[0]);
        ag_error("tool sandbox: cannot start %s: %s", p->exe, uv_strerror(rc));
        /* uv_spawn failed: the handle still needs closing */
        uv_close((uv_handle_t *)&p->zproc, on_handle_closed);
        p->refs++;
        return rc;
    }
    p->refs++;
    p->zalive = 1;
    p->zfd = sv[0];
    ag_ipc_reader_free(&p->zrd);
    ag_ipc_reader_init(&p->zrd, p->max_frame);
    uv_poll_init(p->loop, &p->zpoll, p->zfd);
    p->zpoll.data = p;
    p->refs++;
    uv_poll_start(&p->zpoll, UV_READABLE, on_zpoll);
    zsend(p, p->tools_msg, -1);
    for (int i = 0; i < p->warm; i++)
        spawn_worker(p, 0);
    return 0;
}

/* ---- workers ----------------------------------------------------------- */

static void on_worker_handle_closed(uv_handle_t *h)
{
    struct ag_worker *w = h->data;
    struct ag_pool *p = w->pool;

    if (--w->handles == 0) {
        ag_ipc_reader_free(&w->rd);
        free(w);
        pool_unref(p);
    }
}

static void worker_unlink(struct ag_worker *w)
{
    struct ag_pool *p = w->pool;

    for (struct ag_worker **pp = &p->workers; *pp; pp = &(*pp)->next)
        if (*pp == w) {
            *pp = w->next;
            if (!w->oneshot)
                p->nworkers--;
            return;
        }
}

/* Ends a one-call worker after its call: closing its socket ends it (it
 * exits at end of input); no replacement is spawned. */
static void retire(struct ag_worker *w)
{
    w->dead = 1;
    worker_unlink(w);
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->pipe, on_worker_handle_closed);
    uv_close((uv_handle_t *)&w->timer, on_worker_handle_closed);
}

/* Ends a worker for good; fails its job (if any) with message. */
static void worker_fail(struct ag_worker *w, const char *verdict,
                        const char *message)
{
    struct ag_pool *p = w->pool;
    struct ag_job *job = w->job;
    char kill_msg[64];

    if (w->dead)
        return;
    w->dead = 1;
    w->job = NULL;
    worker_unlink(w);
    if (p->zalive) {
        snprintf(kill_msg, sizeof kill_msg, "{\"type\":\"kill\",\"worker\":%d}",
                 w->id);
        zsend(p, kill_msg, -1);
        p->st.killed++;
    }
    uv_timer_stop(&w->timer);
    uv_close((uv_handle_t *)&w->pipe, on_worker_handle_closed);
    uv_close((uv_handle_t *)&w->timer, on_worker_handle_closed);
    if (job)
        finish_error(job, verdict, message);
    else if (verdict)
        p->failstreak++;
    if (p->failstreak > 10 && !p->closing) {
        fail_queued(p, "tool workers keep dying at start; giving up");
        return;
    }
    if (!p->closing && p->zalive) {
        if (!w->oneshot && p->nworkers < p->warm)
            spawn_worker(p, 0);
        dispatch(p);
    }
}

static void on_timer(uv_timer_t *t)
{
    struct ag_worker *w = t->data;
    char m[96];

    if (w->eof) {
        worker_fail(w, "crash", "tool worker ended unexpectedly");
        return;
    }
    if (!w->job)
        return;
    snprintf(m, sizeof m, "tool exceeded %g s", w->job->timeout);
    worker_fail(w, "time", m);
}

static void write_done(uv_write_t *req, int status)
{
    AG_UNUSED(status); /* a failed write shows up as EOF on the read side */
    free(req);
}

static int worker_write(struct ag_worker *w, const char *json, size_t n)
{
    struct wreq {
        uv_write_t req;
        char data[];
    } *r = malloc(sizeof *r + n + 4);
    uv_buf_t buf;
    int rc;

    if (!r)
        return -ENOMEM;
    r->data[0] = (char)(n >> 24);
    r->data[1] = (char)(n >> 16);
    r->data[2] = (char)(n >> 8);
    r->data[3] = (char)n;
    memcpy(r->data + 4, json, n);
    buf = uv_buf_init(r->data, (unsigned)(n + 4));
    if ((rc = uv_write(&r->req, (uv_stream_t *)&w->pipe, &buf, 1, write_done)) <
        0)
        free(r);
    return rc;
}

static void on_worker_msg(struct ag_worker *w, const cJSON *msg)
{
    const char *type = ag_ipc_type(msg);
    struct ag_job *job = w->job;
    struct ag_pool *p = w->pool;

    if (strcmp(type, "rpc") == 0 && job) {
        const char *op = ag_json_str(msg, "op");
        const cJSON *params = cJSON_GetObjectItemCaseSensitive(msg, "params");
        long id = (long)ag_json_num(msg, "id", 0);
        if (op && strcmp(op, "log") == 0) {
            if (job->log)
                job->log(job, ag_json_str(params, "message")
                                  ? ag_json_str(params, "message")
                                  : "");
            ag_pool_rpc_reply(p, job, id, "true", NULL);
        } else if (op && job->rpc) {
            job->rpc(job, id, op, params);
        } else {
            ag_pool_rpc_reply(p, job, id, NULL, "operation not available");
        }
        return;
    }
    if ((strcmp(type, "result") == 0 || strcmp(type, "error") == 0) && job &&
        (uint64_t)ag_json_num(msg, "id", -1) == job->id) {
        struct ag_job_result r = {0};
        char *value = NULL;
        r.ms = (double)(ag_now_ns() - job->started_ns) / 1e6;
        if (type[0] == 'r') {
            value = cJSON_PrintUnformatted(
                cJSON_GetObjectItemCaseSensitive(msg, "value"));
            r.ok = value != NULL;
            r.value = value ? value : "null";
        } else {
            r.message = ag_json_str(msg, "message");
            if (!r.message)
                r.message = "tool failed";
            r.verdict = ag_json_str(msg, "verdict");
        }
        uv_timer_stop(&w->timer);
        w->job = NULL;
        p->failstreak = 0;
        if (w->oneshot)
            retire(w);
        else if (++w->calls >= CALLS_PER_WORKER) {
            retire(w);
            if (!p->closing && p->nworkers < p->warm)
                spawn_worker(p, 0);
        }
        finish(job, &r);
        free(value);
        if (!p->closing)
            dispatch(p);
        return;
    }
    worker_fail(w, "protocol",
                "tool worker sent an unexpected message; it was ended");
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    AG_UNUSED(h);
    AG_UNUSED(suggested);
    *buf = uv_buf_init(scratch, sizeof scratch);
}

static void on_worker_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
    struct ag_worker *w = s->data;
    cJSON *msg;
    int rc;

    if (w->dead)
        return;
    if (n < 0) {
        uv_read_stop(s);
        if (!w->job) {
            worker_fail(w, "crash", NULL);
            return;
        }
        /* Wait for the zygote to say how the worker ended. */
        w->eof = 1;
        uv_timer_start(&w->timer, on_timer, EXIT_WAIT_MS, 0);
        return;
    }
    if (ag_ipc_reader_feed(&w->rd, buf->base, (size_t)n) < 0) {
        worker_fail(w, "output", "tool output exceeded the message size cap");
        return;
    }
    while (!w->dead && (rc = ag_ipc_reader_next(&w->rd, &msg)) == 1) {
        on_worker_msg(w, msg);
        cJSON_Delete(msg);
    }
    if (!w->dead && rc < 0)
        worker_fail(w, rc == AG_ETOOBIG ? "output" : "protocol",
                    rc == AG_ETOOBIG
                        ? "tool output exceeded the message size cap"
                        : "tool worker sent a malformed message; it was ended");
}

static struct ag_worker *spawn_worker(struct ag_pool *p, int oneshot)
{
    struct ag_worker *w;
    char msg[64];
    int sv[2];

    if (!p->zalive || p->closing)
        return NULL;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
        ag_error("tool sandbox: socketpair: %s", strerror(errno));
        return NULL;
    }
    w = ag_xcalloc(1, sizeof *w);
    w->pool = p;
    w->id = ++p->next_worker;
    ag_ipc_reader_init(&w->rd, p->max_frame);
    uv_pipe_init(p->loop, &w->pipe, 0);
    uv_pipe_open(&w->pipe, sv[0]);
    uv_timer_init(p->loop, &w->timer);
    w->pipe.data = w->timer.data = w;
    w->handles = 2;
    p->refs++;
    w->oneshot = oneshot;
    w->next = p->workers;
    p->workers = w;
    if (!oneshot)
        p->nworkers++;
    p->st.spawned++;
    uv_read_start((uv_stream_t *)&w->pipe, alloc_cb, on_worker_read);
    snprintf(msg, sizeof msg, "{\"type\":\"spawn\",\"worker\":%d}", w->id);
    zsend(p, msg, sv[1]); /* zsend closes sv[1] once passed */
    return w;
}

static int send_call(struct ag_worker *w, struct ag_job *job)
{
    struct ag_buf b;
    char *args;
    int rc;

    args = job->args ? cJSON_PrintUnformatted(job->args) : NULL;
    ag_buf_init(&b, w->pool->max_frame);
    rc = ag_buf_printf(&b, "{\"type\":\"call\",\"id\":%llu,\"tool\":\"",
                       (unsigned long long)job->id);
    if (!rc)
        rc = ag_buf_add_json_str(&b, job->tool, strlen(job->tool));
    if (!rc && job->fn) {
        rc = ag_buf_adds(&b, "\",\"fn\":\"");
        if (!rc)
            rc = ag_buf_add_json_str(&b, job->fn, strlen(job->fn));
    }
    if (!rc)
        rc = ag_buf_printf(&b,
                           "\",\"limits\":{\"memory\":%zu,\"instructions\":%ld,"
                           "\"output\":%zu},\"options\":%s,\"context\":%s,"
                           "\"args\":%s}",
                           job->memory, job->instructions, job->max_output,
                           job->options ? job->options : "{}",
                           job->context ? job->context : "{}",
                           args ? args : "{}");
    free(args);
    if (!rc)
        rc = worker_write(w, b.data, b.len);
    ag_buf_free(&b);
    return rc;
}

static void dispatch(struct ag_pool *p)
{
    while (p->q_head) {
        struct ag_worker *w;
        struct ag_job *job;

        if (p->q_head->fresh) {
            if (!(w = spawn_worker(p, 1)))
                return;
        } else {
            for (w = p->workers; w; w = w->next)
                if (!w->dead && !w->job && !w->oneshot)
                    break;
            if (!w) {
                if (p->zalive && p->nworkers < p->warm)
                    spawn_worker(p, 0);
                return;
            }
        }
        job = queue_pop(p);
        job->worker = w;
        w->job = job;
        p->st.calls++;
        if (send_call(w, job) < 0) {
            worker_fail(w, "protocol", "cannot send the call to a worker");
            continue;
        }
        uv_timer_start(&w->timer, on_timer,
                       (uint64_t)(job->timeout * 1000.0 + 0.5), 0);
    }
}

/* Starts the zygote after the loop's first poll: by then the first model
 * request is on the wire, so the fork and exec (a large part of `agent
 * run`'s start-up) no longer delay it. A tool call submitted earlier starts
 * the zygote itself. */
static void on_start(uv_timer_t *c)
{
    struct ag_pool *p = c->data;

    p->start_pending = 0;
    uv_close((uv_handle_t *)c, on_handle_closed);
    if (!p->closing && !p->zalive && zygote_start(p) < 0 && p->q_head)
        uv_timer_start(&p->defer, on_defer, 0, 0);
}

/* ---- public ------------------------------------------------------------ */

int ag_pool_new(uv_loop_t *loop, const struct ag_pool_cfg *cfg,
                const cJSON *tools, struct ag_pool **out)
{
    struct ag_pool *p = ag_xcalloc(1, sizeof *p);
    cJSON *msg = cJSON_CreateObject();
    char exe[4096];
    size_t exelen = sizeof exe;
    int rc;

    p->loop = loop;
    p->warm = cfg && cfg->warm > 0 ? cfg->warm : 2;
    p->max_frame = cfg && cfg->max_frame ? cfg->max_frame : AG_IPC_MAX_FRAME;
    if (cfg && cfg->exe)
        p->exe = ag_xstrdup(cfg->exe);
    else if ((rc = uv_exepath(exe, &exelen)) == 0)
        p->exe = ag_xstrdup(exe);
    else {
        free(p);
        return rc;
    }
    p->zfd = -1;
    ag_ipc_reader_init(&p->zrd, p->max_frame);
    cJSON_AddStringToObject(msg, "type", "tools");
    cJSON_AddItemToObject(
        msg, "tools", tools ? cJSON_Duplicate(tools, 1) : cJSON_CreateObject());
    p->tools_msg = cJSON_PrintUnformatted(msg);
    cJSON_Delete(msg);
    uv_timer_init(loop, &p->defer);
    p->defer.data = p;
    p->refs = 1;
    if (access(p->exe, X_OK) < 0) {
        rc = -errno;
        p->closing = 1;
        uv_close((uv_handle_t *)&p->defer, on_handle_closed);
        return rc;
    }
    uv_timer_init(loop, &p->start);
    p->start.data = p;
    p->refs++;
    p->start_pending = 1;
    uv_timer_start(&p->start, on_start, ZYGOTE_DELAY_MS, 0);
    *out = p;
    return 0;
}

int ag_pool_submit(struct ag_pool *p, struct ag_job *job)
{
    if (p->closing || !job->tool || !job->done)
        return -EINVAL;
    if (job->timeout <= 0)
        job->timeout = 30;
    if (!job->memory)
        job->memory = 64u << 20;
    if (!job->max_output)
        job->max_output = 1u << 20;
    job->id = ++p->next_call;
    job->worker = NULL;
    job->next = NULL;
    job->started_ns = ag_now_ns();
    if (p->q_tail)
        p->q_tail->next = job;
    else
        p->q_head = job;
    p->q_tail = job;
    p->nqueued++;
    if (!p->zalive) {
        if (zygote_start(p) < 0) {
            uv_timer_start(&p->defer, on_defer, 0, 0);
            return 0;
        }
    }
    dispatch(p);
    return 0;
}

void ag_pool_cancel(struct ag_pool *p, struct ag_job *job)
{
    struct ag_job **pp;

    if (job->worker) {
        worker_fail(job->worker, NULL, "cancelled");
        return;
    }
    for (pp = &p->q_head; *pp; pp = &(*pp)->next)
        if (*pp == job) {
            *pp = job->next;
            if (p->q_tail == job) {
                p->q_tail = NULL;
                for (struct ag_job *j = p->q_head; j; j = j->next)
                    p->q_tail = j;
            }
            p->nqueued--;
            finish_error(job, NULL, "cancelled");
            return;
        }
}

/* The worker set-up's layers come from the zygote's "ready" message; before
 * any zygote has reported (a run.start record is written before the zygote
 * starts), from a probe in a throwaway child, once. The layers that the
 * worker's code and the pool add always follow. */
cJSON *ag_sandbox_layers(void)
{
    static const struct {
        const char *layer, *detail;
        int active;
    } fixed[] = {
        {"lua-state",
         "a fresh Lua state per call: no io, os (but the clock), "
         "debug, package, binary chunks",
         1},
        {"lua-memory", "a memory cap in the Lua allocator", 1},
        {"lua-instructions", "an instruction cap that pcall cannot swallow", 1},
        {"wall-clock", "the agent kills a worker past its time limit", 1},
        {"network-broker",
         "tools reach the network only through the agent, which checks "
         "each request against the tool's policy",
         1},
    };
    static cJSON *probed;
    cJSON *a;

    if (!reported_layers && !probed)
        probed = ag_setup_probe_layers();
    a = reported_layers ? cJSON_Duplicate(reported_layers, 1)
        : probed        ? cJSON_Duplicate(probed, 1)
                        : cJSON_CreateArray();
    for (size_t i = 0; i < AG_ARRAY_SIZE(fixed); i++) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "layer", fixed[i].layer);
        cJSON_AddBoolToObject(o, "active", fixed[i].active);
        cJSON_AddBoolToObject(o, "required", 0);
        cJSON_AddStringToObject(o, fixed[i].active ? "detail" : "reason",
                                fixed[i].active ? fixed[i].detail
                                                : "not wired in yet");
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

void ag_pool_rpc_reply(struct ag_pool *p, struct ag_job *job, long id,
                       const char *value_json, const char *error)
{
    struct ag_worker *w = job->worker;
    struct ag_buf b;

    AG_UNUSED(p);
    if (!w || w->dead || w->job != job)
        return;
    ag_buf_init(&b, (size_t)UINT32_MAX);
    ag_buf_printf(&b, "{\"type\":\"rpc.reply\",\"id\":%ld,", id);
    if (error) {
        ag_buf_adds(&b, "\"error\":\"");
        ag_buf_add_json_str(&b, error, strlen(error));
        ag_buf_adds(&b, "\"}");
    } else {
        ag_buf_printf(&b, "\"value\":%s}", value_json ? value_json : "null");
    }
    if (worker_write(w, b.data, b.len) < 0)
        worker_fail(w, "protocol", "cannot write to tool worker");
    ag_buf_free(&b);
}

int ag_pool_job_pid(const struct ag_job *job)
{
    return job->worker ? job->worker->pid : 0;
}

void ag_pool_stats(const struct ag_pool *p, struct ag_pool_stats *st)
{
    *st = p->st;
    st->alive = p->nworkers;
    st->idle = 0;
    for (struct ag_worker *w = p->workers; w; w = w->next)
        if (!w->dead && !w->job)
            st->idle++;
    st->queued = p->nqueued;
}

void ag_pool_close(struct ag_pool *p)
{
    if (!p || p->closing)
        return;
    p->closing = 1;
    if (p->start_pending) {
        p->start_pending = 0;
        uv_close((uv_handle_t *)&p->start, on_handle_closed);
    }
    fail_queued(p, "cancelled");
    while (p->workers)
        worker_fail(p->workers, NULL, "cancelled");
    if (p->zalive) {
        /* Closing the control socket ends the zygote, which kills any
         * worker left; the exit callback closes the process handle. */
        uv_process_kill(&p->zproc, SIGKILL);
    }
    uv_close((uv_handle_t *)&p->defer, on_handle_closed);
}
