/*
 * test-agent.c: the plan-act-observe state machine with real parts: the
 * scripted stand-in model, the real tool registry and real sandboxed
 * workers (this binary re-executed as the zygote). Covers answers, tool
 * results reaching the model, every kind of invalid call, each limit, the
 * loop guard, context cuts, a broken model script, and many agents on one
 * loop.
 */
#include "agent.h"
#include "sandbox.h"
#include "tap.h"

#include <stdlib.h>
#include <string.h>

static char tooldirs[2][1024];
static int counts[AG_EV_RUN_END + 1];

static void count_event(void *ud, const struct ag_event *ev)
{
    AG_UNUSED(ud);
    counts[ev->type]++;
}

struct fixture {
    uv_loop_t *loop;
    struct ag_rt rt;
    struct ag_registry *reg;
    struct ag_script *script;
    struct ag_agent_cfg cfg;
};

static int setup(struct fixture *f, const char *model, const char *tools_csv)
{
    struct ag_task_tool want[4];
    const char *dirs[2] = {tooldirs[0], tooldirs[1]};
    char err[512], path[1200], names[128], *save = NULL;
    int n = 0;

    memset(f, 0, sizeof *f);
    memset(counts, 0, sizeof counts);
    f->loop = uv_default_loop();
    snprintf(names, sizeof names, "%s", tools_csv);
    for (char *t = strtok_r(names, ",", &save); t && n < 4;
         t = strtok_r(NULL, ",", &save)) {
        want[n].name = t;
        want[n++].opts = NULL;
    }
    if (ag_registry_load(dirs, 2, want, n, &f->reg, err, sizeof err) < 0) {
        printf("# registry: %s\n", err);
        return -1;
    }
    snprintf(path, sizeof path, "%s/tests/data/agent/%s",
             getenv("SRCDIR") ? getenv("SRCDIR") : ".", model);
    if (ag_script_new(path, &f->script, err, sizeof err) < 0) {
        printf("# script: %s\n", err);
        return -1;
    }
    if (ag_rt_init(&f->rt, f->loop, f->reg->sources, NULL) < 0)
        return -1;
    ag_rt_add_sink(&f->rt, count_event, NULL, 0);
    f->cfg.name = "test";
    f->cfg.model = "script";
    f->cfg.provider = "script";
    f->cfg.context = 32768;
    f->cfg.temperature = -1;
    f->cfg.llm.script = f->script;
    f->cfg.reg = f->reg;
    f->cfg.limits.steps = 6;
    f->cfg.limits.seconds = 20;
    f->cfg.limits.repeat_calls = 3;
    return 0;
}

static void teardown(struct fixture *f)
{
    ag_rt_close(&f->rt);
    uv_run(f->loop, UV_RUN_DEFAULT);
    ag_script_free(f->script);
    ag_registry_free(f->reg);
}

/* Runs one agent with goal to its end; the result stays in *a. */
static void run_goal(struct fixture *f, struct ag_agent *a, const char *goal)
{
    ag_agent_init(a, &f->rt, &f->cfg, goal, 1);
    ag_agent_start(a);
    while (a->outcome == AG_OUT_NONE)
        uv_run(f->loop, UV_RUN_ONCE);
}

static void end_agent(struct fixture *f, struct ag_agent *a)
{
    ag_agent_free(a);
    uv_run(f->loop, UV_RUN_NOWAIT);
}

static void echo_tests(void)
{
    struct fixture f;
    struct ag_agent a;

    if (setup(&f, "model-echo.lua", "calc") < 0) {
        ok(0, "fixture");
        return;
    }
    run_goal(&f, &a, "plain");
    is_int(a.outcome, AG_OUT_DONE, "plain answer: done");
    is_str(a.answer, "hello there", "plain answer: the text");
    is_int(a.step, 1, "plain answer: one step");
    end_agent(&f, &a);

    run_goal(&f, &a, "calc");
    is_str(a.answer, "RESULT(ok): {\"expr\":\"6*7\",\"value\":42}",
           "tool result reaches the model");
    is_int(a.step, 2, "tool call: two steps");
    is_int(counts[AG_EV_TOOL_CALL], 1, "one tool.call event");
    is_int(counts[AG_EV_TOOL_RESULT], 1, "one tool.result event");
    end_agent(&f, &a);

    run_goal(&f, &a, "unknown");
    is_str(a.answer,
           "RESULT(error): error: unknown tool \"clok\"; the tools are: calc",
           "unknown tool: the model is told which tools exist");
    is_int(a.invalid_calls, 1, "unknown tool counted as invalid");
    end_agent(&f, &a);

    run_goal(&f, &a, "badjson");
    has_str(a.answer, "not valid JSON", "broken JSON arguments refused");
    has_str(a.answer, "\"required\":[\"expr\"]", "... quoting the schema");
    end_agent(&f, &a);

    run_goal(&f, &a, "badschema");
    has_str(a.answer, "$.expr: expected string, got integer",
            "schema violation names the path");
    has_str(a.answer, "match this JSON schema: {", "... and quotes the schema");
    end_agent(&f, &a);

    run_goal(&f, &a, "toolerror");
    is_str(a.answer, "RESULT(error): error: division by zero",
           "the tool's own error reaches the model");
    is_int(a.outcome, AG_OUT_DONE, "a tool error does not end the run");
    end_agent(&f, &a);

    run_goal(&f, &a, "empty");
    is_int(a.outcome, AG_OUT_FAILED, "empty answer fails");
    has_str(a.reason, "empty answer", "empty answer reason");
    end_agent(&f, &a);

    run_goal(&f, &a, "raise");
    is_int(a.outcome, AG_OUT_ENDPOINT, "broken script is a model failure");
    has_str(a.reason, "the script broke on purpose", "... with its message");
    end_agent(&f, &a);
    teardown(&f);
}

static void limit_tests(void)
{
    struct fixture f;
    struct ag_agent a;

    if (setup(&f, "model-loop.lua", "calc,sleepy,bigout") < 0) {
        ok(0, "fixture");
        return;
    }
    run_goal(&f, &a, "same");
    is_int(a.outcome, AG_OUT_FAILED, "loop guard stops the run");
    is_str(a.reason,
           "loop guard: the model called calc with the same arguments 3 "
           "times in a row",
           "loop guard reason");
    is_int(counts[AG_EV_TOOL_RESULT], 2, "the third call never ran");
    end_agent(&f, &a);

    f.cfg.limits.steps = 4;
    run_goal(&f, &a, "vary");
    is_str(a.reason, "step limit reached (4)", "step limit");
    is_int(a.step, 4, "four steps taken");
    end_agent(&f, &a);
    f.cfg.limits.steps = 6;

    f.cfg.limits.tokens = 3000;
    run_goal(&f, &a, "usage");
    is_str(a.reason, "token limit reached (3000 of 3000)", "token limit");
    end_agent(&f, &a);
    f.cfg.limits.tokens = 0;

    f.cfg.limits.cost = 0.01;
    f.cfg.price_in = 3;
    f.cfg.price_out = 15;
    run_goal(&f, &a, "usage");
    is_str(a.reason, "cost limit reached ($0.0105 of $0.0100)", "cost limit");
    end_agent(&f, &a);
    f.cfg.limits.cost = 0;

    f.cfg.limits.seconds = 0.3;
    run_goal(&f, &a, "sleepy");
    is_str(a.reason, "time limit reached (0.3 s)",
           "time limit stops a run waiting on a tool");
    end_agent(&f, &a);
    f.cfg.limits.seconds = 20;

    f.cfg.context = 1200;
    f.cfg.max_tokens = 100;
    run_goal(&f, &a, "big");
    is_int(a.outcome, AG_OUT_DONE, "run with big results still ends");
    ok(counts[AG_EV_CONTEXT_CUT] >= 2, "context cuts were made and reported");
    has_str(a.answer, "done after", "the model saw the conversation");
    end_agent(&f, &a);
    teardown(&f);
}

#define MANY 200

static int ended;

static void on_end(struct ag_agent *a)
{
    AG_UNUSED(a);
    ended++;
}

static void many_tests(void)
{
    struct fixture f;
    struct ag_agent *as = calloc(MANY, sizeof *as);
    int good = 0;

    if (setup(&f, "model-echo.lua", "calc") < 0) {
        ok(0, "fixture");
        free(as);
        return;
    }
    for (int i = 0; i < MANY; i++) {
        ag_agent_init(&as[i], &f.rt, &f.cfg, "calc", (unsigned)i + 1);
        as[i].on_end = on_end;
        ag_agent_start(&as[i]);
    }
    while (ended < MANY)
        uv_run(f.loop, UV_RUN_ONCE);
    for (int i = 0; i < MANY; i++) {
        good += as[i].outcome == AG_OUT_DONE && as[i].answer &&
                strstr(as[i].answer, "\"value\":42");
        ag_agent_free(&as[i]);
    }
    uv_run(f.loop, UV_RUN_NOWAIT);
    is_int(good, MANY, "200 agents on one loop all get their answer");
    is_int(f.rt.running, 0, "no agent left running");
    teardown(&f);
    free(as);
}

int main(int argc, char **argv)
{
    const char *src = getenv("SRCDIR") ? getenv("SRCDIR") : ".";

    if (argc > 1 && strcmp(argv[1], AG_ZYGOTE_ARG) == 0)
        return ag_zygote_main();
    snprintf(tooldirs[0], sizeof tooldirs[0], "%s/tools", src);
    snprintf(tooldirs[1], sizeof tooldirs[1], "%s/tests/data/agent/tools", src);
    echo_tests();
    limit_tests();
    many_tests();
    return tap_done();
}
