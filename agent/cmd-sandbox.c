/*
 * cmd-sandbox.c: `agent sandbox check`: what the tool sandbox amounts to on
 * this machine. It starts the real thing, a zygote with one worker, runs a
 * trivial tool call through it, and prints the layers the zygote reported
 * (sandbox/setup.h), each active or unavailable with the reason, then the
 * call's outcome. Exit status 0 when every required layer is active and the
 * call worked, 1 otherwise, 2 on a usage error.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ag.h"
#include "cmd.h"
#include "json.h"
#include "pool.h"

static void usage(FILE *f)
{
    fputs("usage: agent sandbox check [--json]\n\n"
          "Starts the tool sandbox as `agent run` would, runs a trivial tool\n"
          "call in a worker, and lists the sandbox's layers on this machine,\n"
          "each active or unavailable with the reason.\n\n"
          "  --json     one JSON object: {\"ok\", \"layers\", \"call\"}\n\n"
          "exit status: 0 every required layer is active and the call ran,\n"
          "1 otherwise, 2 usage error\n",
          f);
}

struct check {
    struct ag_job job;
    int done, ok;
    char *text; /* the value, or the error */
    double ms;
};

static void on_done(struct ag_job *job, const struct ag_job_result *r)
{
    struct check *c = (struct check *)job;

    c->done = 1;
    c->ok = r->ok && r->value && strcmp(r->value, "42") == 0;
    c->text = ag_xstrdup(r->ok ? (r->value ? r->value : "null")
                               : (r->message ? r->message : "failed"));
    c->ms = r->ms;
}

/* Runs the call; fills c. Returns 0, or a negative code when no pool could
 * be made. */
static int run_call(struct check *c)
{
    uv_loop_t loop;
    struct ag_pool *p = NULL;
    cJSON *tools = cJSON_CreateObject();
    int rc;

    cJSON_AddStringToObject(tools, "check",
                            "return { run = function(a) return a.x + 1 end }");
    uv_loop_init(&loop);
    memset(c, 0, sizeof *c);
    c->job.tool = "check";
    c->job.args = cJSON_Parse("{\"x\":41}");
    c->job.timeout = 10;
    c->job.done = on_done;
    rc = ag_pool_new(&loop, &(struct ag_pool_cfg){NULL, 1, 0}, tools, &p);
    if (rc == 0 && (rc = ag_pool_submit(p, &c->job)) == 0)
        while (!c->done)
            uv_run(&loop, UV_RUN_ONCE);
    ag_pool_close(p);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    cJSON_Delete(tools);
    cJSON_Delete((cJSON *)c->job.args);
    return rc;
}

/* The first required layer that is not active, or NULL. */
static const cJSON *missing(const cJSON *layers)
{
    const cJSON *l;

    cJSON_ArrayForEach(l, layers)
    {
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l, "required")) &&
            !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l, "active")))
            return l;
    }
    return NULL;
}

static void print_text(const cJSON *layers, const struct check *c, int rc,
                       int ok)
{
    const cJSON *l, *miss = missing(layers);

    printf("%-18s %-12s %s\n", "layer", "state", "detail");
    cJSON_ArrayForEach(l, layers)
    {
        int on = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l, "active"));
        int req = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(l, "required"));
        const char *d = ag_json_str(l, on ? "detail" : "reason");
        printf("%-18s %-12s %s%s\n", ag_json_str(l, "layer"),
               on ? "active" : "unavailable", req ? "[required] " : "",
               d ? d : "");
    }
    printf("\n");
    if (rc < 0)
        printf("tool call: cannot start the sandbox: %s\n", ag_strerror(rc));
    else
        printf("tool call in a hardened worker: %s (%.1f ms)%s%s\n",
               c->ok ? "ok" : "FAILED", c->ms, c->ok ? "" : ": ",
               c->ok ? "" : c->text);
    if (ok)
        printf("sandbox: ready: every required layer is active\n");
    else if (miss)
        printf("sandbox: NOT ready: %s is unavailable\n",
               ag_json_str(miss, "layer"));
    else
        printf("sandbox: NOT ready: the tool call failed\n");
}

static int check(int json)
{
    struct check c;
    cJSON *layers;
    int rc, ok;

    rc = run_call(&c);
    layers = ag_sandbox_layers();
    ok = rc == 0 && c.ok && !missing(layers);
    if (json) {
        cJSON *o = cJSON_CreateObject(), *call;
        char *text;
        cJSON_AddBoolToObject(o, "ok", ok);
        cJSON_AddItemToObject(o, "layers", layers);
        call = cJSON_AddObjectToObject(o, "call");
        cJSON_AddBoolToObject(call, "ok", rc == 0 && c.ok);
        cJSON_AddNumberToObject(call, "ms", c.ms);
        if (!(rc == 0 && c.ok))
            cJSON_AddStringToObject(call, "error",
                                    rc < 0 ? ag_strerror(rc) : c.text);
        text = cJSON_PrintUnformatted(o);
        printf("%s\n", text);
        free(text);
        cJSON_Delete(o);
    } else {
        print_text(layers, &c, rc, ok);
        cJSON_Delete(layers);
    }
    free(c.text);
    return ok ? AG_EXIT_OK : AG_EXIT_FAILED;
}

static int sandbox_main(int argc, char **argv)
{
    static const struct option opts[] = {{"json", no_argument, NULL, 'j'},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    int c, json = 0;

    if (argc >= 2 && strcmp(argv[1], "check") == 0) {
        argc--;
        argv++;
    } else if (argc >= 2 &&
               (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage(stdout);
        return AG_EXIT_OK;
    } else {
        usage(stderr);
        return AG_EXIT_USAGE;
    }
    optind = 1;
    while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (c == 'j')
            json = 1;
        else if (c == 'h') {
            usage(stdout);
            return AG_EXIT_OK;
        } else {
            usage(stderr);
            return AG_EXIT_USAGE;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "agent sandbox check: unexpected \"%s\"\n",
                argv[optind]);
        return AG_EXIT_USAGE;
    }
    return check(json);
}

const struct ag_cmd ag_cmd_sandbox = {
    "sandbox", "check the tool sandbox on this machine", sandbox_main};
