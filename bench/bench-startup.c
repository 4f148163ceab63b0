/*
 * bench-startup.c: how long `agent run` takes from its start to its first
 * model request. Each run starts a fresh stand-in endpoint (tests/standin
 * --mode bench, which records the CLOCK_MONOTONIC time of the first request
 * it receives in --first-request-file), writes a task file that points at
 * it, and spawns `agent run TASK -q`; the figure is the stand-in's time of
 * the first request minus CLOCK_MONOTONIC read just before posix_spawn. The
 * time until `agent run` exits (the whole task done) is reported too, and so
 * is the time `agent --version` takes from spawn to exit: the part of the
 * start-up that goes to exec and dynamic linking, before main() runs.
 *
 * One warm-up run comes first and is not counted. The stand-in is this
 * process's child here, which is fine: no CPU is measured.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_RUNS     1000
#define PORT_WAIT_MS 5000

extern char **environ;

static const char *agent_path, *standin_path;
static char dir[] = "/tmp/bench-startup.XXXXXX";

static long long now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Reads a file holding one integer. Returns 0 or -1 (missing, empty). */
static int read_number(const char *path, long long *out)
{
    FILE *f = fopen(path, "r");
    int ok;

    if (!f)
        return -1;
    ok = fscanf(f, "%lld", out) == 1;
    fclose(f);
    return ok ? 0 : -1;
}

/* Spawns argv with stdout to /dev/null. Returns the pid or -1. */
static pid_t spawn(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int rc;

    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    rc = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc) {
        fprintf(stderr, "bench-startup: %s: %s\n", argv[0], strerror(rc));
        return -1;
    }
    return pid;
}

static int wait_exit(pid_t pid)
{
    int st;

    while (waitpid(pid, &st, 0) < 0)
        if (errno != EINTR)
            return -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* `agent --version`, spawn to exit, in ms; -1 on failure. */
static double time_version(void)
{
    char *argv[] = {(char *)agent_path, "--version", NULL};
    long long t0 = now_ns();
    pid_t pid = spawn(argv);

    if (pid < 0 || wait_exit(pid) != 0) {
        fprintf(stderr, "bench-startup: %s --version failed\n", agent_path);
        return -1;
    }
    return (double)(now_ns() - t0) / 1e6;
}

/* One run: a fresh stand-in, a task pointing at it, `agent run`. Sets the
 * start-up and whole-run times in ms. Returns 0 or -1. */
static int run_once(int n, double *startup_ms, double *total_ms)
{
    char port_file[64], first_file[64], task_file[64];
    char *standin_argv[] = {(char *)standin_path,
                            "--mode",
                            "bench",
                            "--port",
                            "0",
                            "--port-file",
                            port_file,
                            "--first-request-file",
                            first_file,
                            NULL};
    char *agent_argv[] = {(char *)agent_path, "run", task_file, "-q", NULL};
    long long port = 0, t0, t_first, t_exit;
    pid_t standin, agent;
    FILE *f;
    int rc = -1, status, waited = 0;

    snprintf(port_file, sizeof port_file, "%s/port.%d", dir, n);
    snprintf(first_file, sizeof first_file, "%s/first.%d", dir, n);
    snprintf(task_file, sizeof task_file, "%s/task%d.lua", dir, n);

    if ((standin = spawn(standin_argv)) < 0)
        return -1;
    while (read_number(port_file, &port) < 0) {
        if (++waited > PORT_WAIT_MS || waitpid(standin, NULL, WNOHANG)) {
            fprintf(stderr, "bench-startup: the stand-in did not start\n");
            goto out;
        }
        sleep_ms(1);
    }
    if (!(f = fopen(task_file, "w"))) {
        fprintf(stderr, "bench-startup: %s: %s\n", task_file, strerror(errno));
        goto out;
    }
    fprintf(f,
            "return {\n"
            "  name = \"startup\",\n"
            "  model = { provider = \"openai\", name = \"bench-model\",\n"
            "            base_url = \"http://127.0.0.1:%lld/v1\" },\n"
            "  goal = \"What is 6*7? Use the calc tool.\",\n"
            "  tools = { \"calc\" },\n"
            "  limits = { steps = 5, seconds = 60 },\n"
            "}\n",
            port);
    fclose(f);

    t0 = now_ns();
    if ((agent = spawn(agent_argv)) < 0)
        goto out;
    status = wait_exit(agent);
    t_exit = now_ns();
    if (status != 0) {
        fprintf(stderr, "bench-startup: agent run exited with %d\n", status);
        goto out;
    }
    if (read_number(first_file, &t_first) < 0) {
        fprintf(stderr, "bench-startup: the stand-in saw no request\n");
        goto out;
    }
    *startup_ms = (double)(t_first - t0) / 1e6;
    *total_ms = (double)(t_exit - t0) / 1e6;
    rc = 0;
out:
    kill(standin, SIGTERM);
    wait_exit(standin);
    unlink(port_file);
    unlink(first_file);
    unlink(task_file);
    return rc;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;

    return a < b ? -1 : a > b;
}

static void spread(double *v, int n, double *med, double *lo, double *hi)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    *med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    *lo = v[0];
    *hi = v[n - 1];
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench-startup [--agent PATH] [--standin PATH] "
               "[--runs N]\n"
               "\n"
               "Times `agent run TASK -q` from its spawn to the stand-in "
               "endpoint's first\nrequest, and to its exit. PATHs default "
               "to $AGENT and $STANDIN; --runs to 5.\n");
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"agent", required_argument, NULL, 'a'},
        {"standin", required_argument, NULL, 's'},
        {"runs", required_argument, NULL, 'r'},
        {"help", no_argument, NULL, 'h'},
        {0}};
    static double startup[MAX_RUNS], total[MAX_RUNS], version[MAX_RUNS];
    double med, lo, hi;
    long runs = 5;
    char *end;
    int c, status = 0;

    agent_path = getenv("AGENT");
    standin_path = getenv("STANDIN");
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (c) {
        case 'a':
            agent_path = optarg;
            break;
        case 's':
            standin_path = optarg;
            break;
        case 'r':
            errno = 0;
            runs = strtol(optarg, &end, 10);
            if (errno || *end || runs < 1 || runs > MAX_RUNS) {
                fprintf(stderr, "bench-startup: --runs must be 1 to %d\n",
                        MAX_RUNS);
                return 2;
            }
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind != argc || !agent_path || !*agent_path || !standin_path ||
        !*standin_path) {
        usage(stderr);
        return 2;
    }
    if (!mkdtemp(dir)) {
        fprintf(stderr, "bench-startup: mkdtemp: %s\n", strerror(errno));
        return 1;
    }
    for (int i = 0; i <= runs; i++) { /* run 0 is the warm-up */
        double s, t, v;
        if (run_once(i, &s, &t) < 0 || (v = time_version()) < 0) {
            status = 1;
            break;
        }
        if (i > 0) {
            startup[i - 1] = s;
            total[i - 1] = t;
            version[i - 1] = v;
        }
    }
    rmdir(dir);
    if (status)
        return status;
    spread(startup, (int)runs, &med, &lo, &hi);
    printf("start-up to first model request: median %.2f ms (min %.2f, max "
           "%.2f) over %ld runs\n",
           med, lo, hi, runs);
    spread(version, (int)runs, &med, &lo, &hi);
    printf("  of which exec and dynamic linking (agent --version, start to "
           "exit): median %.2f ms\n",
           med);
    spread(total, (int)runs, &med, &lo, &hi);
    printf("  whole task, start to exit: median %.2f ms (min %.2f, max "
           "%.2f)\n",
           med, lo, hi);
    return 0;
}
