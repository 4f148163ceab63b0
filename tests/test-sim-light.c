/*
 * test-sim-light.c: light agents (agent/sim-light*.c): the counter-based
 * generator, the graphs' properties (degree, no self loops, no duplicates,
 * symmetric), determinism (same seed: the same metrics byte for byte;
 * another seed: others), monotonic diffusion with provenance along edges,
 * the Lua policy of examples/sim/gossip.lua against "builtin:gossip", the
 * forms a policy can take, stopping rules, settings errors that name their
 * field, handler errors that name the agent, and memory per agent for
 * 100,000 agents. Example files are found under $SRCDIR (default ".").
 */
#include "ag.h"
#include "sim.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

static const char *srcdir;
static char tmpdir[] = "/tmp/test-sim-light.XXXXXX";

/* A light world from JSON text; NULL (and a diagnostic) when it fails. */
static struct ag_sim_light *make(const char *json, uint64_t seed)
{
    struct ag_sim_light_opts o = {0};
    struct ag_sim_light *w = NULL;
    cJSON *j = cJSON_Parse(json);
    char err[512];

    o.seed = seed;
    if (!j || ag_sim_light_new(j, &o, &w, err, sizeof err) < 0) {
        tap_diag(j ? err : "bad JSON in the test");
        w = NULL;
    }
    cJSON_Delete(j);
    return w;
}

/* Runs to the end and returns the metrics as compact JSON (free it). */
static char *finish(struct ag_sim_light *w)
{
    cJSON *m = cJSON_CreateObject();
    char err[512], *text;

    if (ag_sim_light_advance(w, 0, err, sizeof err) < 0)
        tap_diag(err);
    ag_sim_light_metrics(w, m);
    text = cJSON_PrintUnformatted(m);
    cJSON_Delete(m);
    return text;
}

static char *run_json(const char *json, uint64_t seed)
{
    struct ag_sim_light *w = make(json, seed);
    char *text = w ? finish(w) : ag_xstrdup("");

    ag_sim_light_free(w);
    return text;
}

/* The error of ag_sim_light_new for json, in err; its return code. */
static int new_error(const char *json, char *err, size_t errlen)
{
    struct ag_sim_light_opts o = {0};
    struct ag_sim_light *w = NULL;
    cJSON *j = cJSON_Parse(json);
    int rc;

    *err = 0;
    rc = ag_sim_light_new(j, &o, &w, err, errlen);
    ag_sim_light_free(w);
    cJSON_Delete(j);
    return rc;
}

static void test_rand(void)
{
    uint64_t r = ag_sim_rand(1, 2, 3, 4);

    is_int(ag_sim_rand(1, 2, 3, 4) == r, 1, "rand: same key, same number");
    ok(ag_sim_rand(2, 2, 3, 4) != r && ag_sim_rand(1, 3, 3, 4) != r &&
           ag_sim_rand(1, 2, 4, 4) != r && ag_sim_rand(1, 2, 3, 5) != r,
       "rand: each part of the key matters");
    ok(ag_sim_rand(0, 0, 0, 0) != ag_sim_rand(0, 0, 0, 1),
       "rand: zero key, successive counters differ");
}

static void check_graph(const char *name, const char *json, int regular,
                        uint32_t degree)
{
    struct ag_sim_light *w = make(json, 5);
    struct ag_sim_light_stats st;
    uint64_t sum = 0;
    uint32_t n, loops = 0, unsorted = 0, asym = 0, irregular = 0;
    char msg[128];

    if (!ok(w != NULL, name))
        return;
    ag_sim_light_stats(w, &st);
    for (uint32_t a = 0; a < st.agents; a++) {
        const uint32_t *nb = ag_sim_light_neighbours(w, a, &n);
        sum += n;
        irregular += n != degree;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t m, found = 0;
            const uint32_t *back = ag_sim_light_neighbours(w, nb[i], &m);
            loops += nb[i] == a;
            unsorted += i > 0 && nb[i - 1] >= nb[i];
            for (uint32_t k = 0; k < m && !found; k++)
                found = back[k] == a;
            asym += !found;
        }
    }
    snprintf(msg, sizeof msg, "%s: mean degree %u (edges = count * %u / 2)",
             name, degree, degree);
    is_int(st.edges, (uint64_t)st.agents * degree / 2, msg);
    snprintf(msg, sizeof msg, "%s: degrees sum to twice the edges", name);
    is_int(sum, 2 * st.edges, msg);
    snprintf(msg, sizeof msg, "%s: no self loops", name);
    is_int(loops, 0, msg);
    snprintf(msg, sizeof msg, "%s: rows sorted, no duplicate edges", name);
    is_int(unsorted, 0, msg);
    snprintf(msg, sizeof msg, "%s: symmetric", name);
    is_int(asym, 0, msg);
    if (regular) {
        snprintf(msg, sizeof msg, "%s: every agent has degree %u", name,
                 degree);
        is_int(irregular, 0, msg);
    } else {
        snprintf(msg, sizeof msg, "%s: degrees vary", name);
        ok(irregular > 0, msg);
    }
    ag_sim_light_free(w);
}

static void test_graphs(void)
{
    struct ag_sim_light *a, *b;
    uint32_t n1, n2, diff = 0;

    check_graph("ring", "{\"count\": 1000, \"graph\": \"ring\", \"degree\": 6}",
                1, 6);
    check_graph("small-world",
                "{\"count\": 2000, \"degree\": 8, \"rewire\": 0.3}", 0, 8);
    check_graph("random",
                "{\"count\": 2000, \"graph\": \"random\", \"degree\": 5}", 0,
                5);
    check_graph("dense random",
                "{\"count\": 30, \"graph\": \"random\", \"degree\": 20}", 0,
                20);
    check_graph("small-world, all rewired",
                "{\"count\": 50, \"degree\": 10, \"rewire\": 1}", 0, 10);
    /* graph_seed fixes the graph whatever the run's seed */
    a = make("{\"count\": 500, \"graph_seed\": 9}", 1);
    b = make("{\"count\": 500, \"graph_seed\": 9}", 2);
    for (uint32_t i = 0; a && b && i < 500; i++) {
        const uint32_t *x = ag_sim_light_neighbours(a, i, &n1);
        const uint32_t *y = ag_sim_light_neighbours(b, i, &n2);
        diff += n1 != n2 || memcmp(x, y, n1 * sizeof *x) != 0;
    }
    ok(a && b && diff == 0, "graph_seed: the same graph for two run seeds");
    ag_sim_light_free(a);
    ag_sim_light_free(b);
}

static const char *const gossip_json =
    "{\"count\": 3000, \"degree\": 8, \"facts\": [{\"id\": \"rumor\", "
    "\"holders\": [0]}, {\"id\": \"scandal\", \"seeds\": 3}], "
    "\"params\": {\"period\": 60, \"patience\": 3}}";

static void test_determinism(void)
{
    char *a = run_json(gossip_json, 42), *b = run_json(gossip_json, 42);
    char *c = run_json(gossip_json, 43);

    ok(*a && strcmp(a, b) == 0, "determinism: same seed, same metrics");
    ok(*c && strcmp(a, c) != 0, "determinism: another seed, other metrics");
    free(a);
    free(b);
    free(c);
}

/* The curve rises, ends at the count; every holder but the seeded ones
 * was told by a neighbour who knew the fact before. */
static void test_diffusion(void)
{
    struct ag_sim_light *w = make(gossip_json, 7);
    cJSON *m = cJSON_CreateObject(), *f, *p;
    double last_s = -1, last_c = 0;
    int rising = 1, along = 1, seeded = 0, n = 0;
    char *when, *text;

    if (!ok(w != NULL, "diffusion: world"))
        return;
    text = finish(w);
    free(text);
    ag_sim_light_metrics(w, m);
    f = cJSON_GetObjectItem(cJSON_GetObjectItem(m, "facts"), "rumor");
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(f, "curve"))
    {
        double s = cJSON_GetObjectItem(p, "s")->valuedouble;
        double c = cJSON_GetObjectItem(p, "count")->valuedouble;
        rising &= s > last_s && c > last_c;
        last_s = s, last_c = c;
    }
    ok(rising, "diffusion: the curve rises, time moves forward");
    is_int(last_c, cJSON_GetObjectItem(f, "count")->valuedouble,
           "diffusion: the curve ends at the count");
    ok(last_c > 3000 * 0.5, "diffusion: the rumour reached half the agents");
    when = ag_xcalloc(3000, 1);
    cJSON_ArrayForEach(p, cJSON_GetObjectItem(f, "holders"))
    {
        int a = (int)cJSON_GetObjectItem(p, "agent")->valuedouble;
        cJSON *from = cJSON_GetObjectItem(p, "from");
        uint32_t k, found = 0;
        n++;
        if (cJSON_IsNull(from)) {
            seeded++;
        } else {
            const uint32_t *nb =
                ag_sim_light_neighbours(w, (uint32_t)from->valuedouble, &k);
            for (uint32_t i = 0; i < k; i++)
                found |= nb[i] == (uint32_t)a;
            along &= found && when[(int)from->valuedouble];
        }
        when[a] = 1;
    }
    is_int(n, last_c, "provenance: one holder per agent told");
    is_int(seeded, 1, "provenance: one seeded holder");
    ok(along, "provenance: told by a neighbour who knew before");
    ok(cJSON_GetArraySize(cJSON_GetObjectItem(
           cJSON_GetObjectItem(cJSON_GetObjectItem(m, "facts"), "scandal"),
           "holders")) > 3,
       "diffusion: the second fact spread too");
    free(when);
    cJSON_Delete(m);
    ag_sim_light_free(w);
}

static char *write_tmp(const char *name, const char *text)
{
    char *path = ag_xasprintf("%s/%s", tmpdir, name);
    FILE *f = fopen(path, "w");

    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return path;
}

/* Runs the world file at path (settings NULL) and returns its metrics. */
static char *run_world(const char *path, const char *start, uint64_t seed,
                       char *err, size_t errlen)
{
    struct ag_sim_light_opts o = {0};
    struct ag_sim_light *w;
    char *text;

    o.world = path;
    o.start = start;
    o.seed = seed;
    if (ag_sim_light_new(NULL, &o, &w, err, errlen) < 0)
        return ag_xstrdup("");
    text = finish(w);
    ag_sim_light_free(w);
    return text;
}

static void test_lua_vs_c(void)
{
    char err[512], *lua, *c, *file, *src;
    char *path = write_tmp("world.lua",
                           "local w = dofile((os.getenv('SRCDIR') or '.') .. "
                           "'/examples/sim/gossip.lua')\n"
                           "w.light.count = 2000\n"
                           "w.light.duration = '1d'\n"
                           "w.light.params = { period = 60, patience = 3 }\n"
                           "return w\n");
    const char *base = "{\"count\": 2000, \"duration\": \"1d\", "
                       "\"params\": {\"period\": 60, \"patience\": 3}, ";
    char *json = ag_xasprintf("%s\"policy\": \"builtin:gossip\"}", base);
    struct ag_sim_light_opts o = {0};
    struct ag_sim_light *w = NULL;
    cJSON *j = cJSON_Parse(json);

    setenv("SRCDIR", srcdir, 1);
    lua = run_world(path, NULL, 3, err, sizeof err);
    if (!*lua)
        tap_diag(err);
    o.seed = 3;
    o.start = "2024-03-01 08:00";
    c = ag_sim_light_new(j, &o, &w, err, sizeof err) == 0 ? finish(w)
                                                          : ag_xstrdup("");
    ok(*lua && strcmp(lua, c) == 0,
       "gossip.lua and builtin:gossip give the same run");
    has_str(lua, "\"t\":\"2024-03-01 08:00:00\"",
            "the world's start dates the curve");
    ag_sim_light_free(w);
    cJSON_Delete(j);
    free(c);
    free(json);

    /* the same policy as a file next to the world, and as Lua source */
    free(write_tmp("policy.lua",
                   "local w = dofile((os.getenv('SRCDIR') or '.') .. "
                   "'/examples/sim/gossip.lua')\nreturn w.light.policy\n"));
    free(path);
    path = write_tmp("world2.lua",
                     "return { start = '2024-03-01 08:00', light = {\n"
                     "  count = 2000, duration = '1d',\n"
                     "  params = { period = 60, patience = 3 },\n"
                     "  policy = 'policy.lua' } }\n");
    file = run_world(path, NULL, 3, err, sizeof err);
    if (!*file)
        tap_diag(err);
    ok(*file && strcmp(lua, file) == 0, "policy as a file: the same run");
    src = ag_xasprintf(
        "%s\"policy\": \"local w = dofile((os.getenv('SRCDIR') or '.') .. "
        "'/examples/sim/gossip.lua') return w.light.policy\"}",
        base);
    o.world = NULL;
    j = cJSON_Parse(src);
    c = ag_sim_light_new(j, &o, &w, err, sizeof err) == 0 ? finish(w)
                                                          : ag_xstrdup("");
    if (!*c)
        tap_diag(err);
    ok(*c && strcmp(lua, c) == 0, "policy as Lua source: the same run");
    ag_sim_light_free(w);
    cJSON_Delete(j);
    free(c);
    free(src);
    free(file);
    free(path);
    free(lua);
}

static void test_stops(void)
{
    struct ag_sim_light *w;
    struct ag_sim_light_stats st = {0};
    char err[256], *a, *b;
    cJSON *m;

    /* wake = "all": everyone called once at time 0 */
    w = make("{\"count\": 500, \"wake\": \"all\", \"policy\": \"return "
             "function(light) return function() return nil end end\"}",
             1);
    free(w ? finish(w) : NULL);
    if (w)
        ag_sim_light_stats(w, &st);
    is_int(st.events, 500, "wake all: one call per agent");
    ag_sim_light_free(w);

    w = make("{\"count\": 500, \"max_events\": 100, \"seeds\": 10}", 1);
    free(w ? finish(w) : NULL);
    if (w)
        ag_sim_light_stats(w, &st);
    is_int(st.events, 100, "max_events: stops there");
    m = cJSON_CreateObject();
    ag_sim_light_metrics(w, m);
    is_str(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "light"), "stopped")
               ->valuestring,
           "max_events", "max_events: said in the metrics");
    cJSON_Delete(m);
    ag_sim_light_free(w);

    /* an agent that wakes every 10 s forever, for 100 s */
    w = make("{\"count\": 10, \"duration\": 100, \"policy\": \"return "
             "function(light) return function() return 10 end end\"}",
             1);
    free(w ? finish(w) : NULL);
    if (w)
        ag_sim_light_stats(w, &st);
    is_int(st.events, 11, "duration: calls at 0, 10, ..., 100");
    is_int(st.now, 100, "duration: the last at the limit");
    ag_sim_light_free(w);

    /* long delays go through the heap and come back in order */
    w = make("{\"count\": 10, \"duration\": \"2d\", \"policy\": \"return "
             "function(light) return function(a, t) return 5000 + a end "
             "end\"}",
             1);
    free(w ? finish(w) : NULL);
    if (w)
        ag_sim_light_stats(w, &st);
    is_int(st.events, 1 + 172800 / 5000, "long delays: all calls made");
    ag_sim_light_free(w);

    /* in chunks or in one go: the same run */
    a = run_json(gossip_json, 9);
    w = make(gossip_json, 9);
    while (w && (ag_sim_light_stats(w, &st), !st.done))
        if (ag_sim_light_advance(w, 777, err, sizeof err) < 0)
            break;
    b = w ? finish(w) : ag_xstrdup("");
    ok(strcmp(a, b) == 0, "advance in chunks: the same run");
    free(a);
    free(b);
    ag_sim_light_free(w);
}

static void test_api(void)
{
    struct ag_sim_light *w;
    char err[512];

    /* draws with a purpose repeat within an event; tell returns only new
     * bits; known and state read other agents */
    w = make("{\"count\": 20, \"graph\": \"ring\", \"degree\": 2, \"facts\": "
             "[{\"id\": \"a\", \"holders\": [0]}, {\"id\": \"b\", "
             "\"holders\": [1]}], \"policy\": \"return function(light) "
             "return function(me, t, known, deg, state) "
             "assert(light.rand(100, 7) == light.rand(100, 7)) "
             "assert(light.rand(1000) ~= light.rand(1000) or true) "
             "assert(light.neighbour(1) < light.neighbour(2)) "
             "if me == 0 then "
             "assert(light.tell(1, 3) == light.facts.a) "
             "assert(light.tell(1, 3) == 0) "
             "assert(light.known(1) == 3 and light.state(5) == 0) end "
             "return nil, 7 end end\"}",
             1);
    if (ok(w != NULL, "api: world") &&
        ok(ag_sim_light_advance(w, 0, err, sizeof err) == 0, "api: asserts"))
        is_int(ag_sim_light_known(w, 1), 3, "api: tell taught agent 1");
    else
        tap_diag(err);
    ag_sim_light_free(w);

    w = make("{\"count\": 20, \"policy\": \"return function(light) return "
             "function(me) if me == 0 then error('boom') end end end\"}",
             1);
    is_int(w ? ag_sim_light_advance(w, 0, err, sizeof err) : 0, AG_ELUA,
           "handler error: AG_ELUA");
    has_str(err, "agent 0 at second 0", "handler error: names the agent");
    has_str(err, "boom", "handler error: Lua's message");
    ag_sim_light_free(w);

    w = make("{\"count\": 20, \"policy\": \"return function(light) return "
             "function() return -5 end end\"}",
             1);
    is_int(w ? ag_sim_light_advance(w, 0, err, sizeof err) : 0, AG_ELUA,
           "bad delay: AG_ELUA");
    has_str(err, "delay -5", "bad delay: said");
    ag_sim_light_free(w);
}

static void test_errors(void)
{
    static const struct {
        const char *json, *want;
        int rc;
    } cases[] = {
        {"{}", "light.count: is required", AG_EPARSE},
        {"{\"count\": 0}", "light.count: must be a whole number from 1",
         AG_EPARSE},
        {"{\"count\": 10.5}", "light.count: must be", AG_EPARSE},
        {"{\"count\": 100, \"cuont\": 1}", "light.cuont: unknown field",
         AG_EPARSE},
        {"{\"count\": 100, \"degree\": 7}", "light.degree: must be even",
         AG_EPARSE},
        {"{\"count\": 100, \"degree\": 100}", "light.degree: must be a whole",
         AG_EPARSE},
        {"{\"count\": 100, \"graph\": \"tree\"}",
         "light.graph: must be \"small-world\", \"random\" or \"ring\" (got "
         "\"tree\")",
         AG_EPARSE},
        {"{\"count\": 100, \"graph\": \"ring\", \"rewire\": 0.2}",
         "light.rewire: is only for graph = \"small-world\"", AG_EPARSE},
        {"{\"count\": 100, \"rewire\": 2}", "light.rewire: must be a number",
         AG_EPARSE},
        {"{\"count\": 100, \"duration\": \"2w\"}",
         "light.duration: must be game seconds", AG_EPARSE},
        {"{\"count\": 100, \"wake\": \"some\"}", "light.wake: must be",
         AG_EPARSE},
        {"{\"count\": 100, \"facts\": [{\"id\": \"x\", \"holders\": [0]}, "
         "{\"id\": \"y\", \"holders\": [100]}]}",
         "light.facts[2].holders[1]: must be a whole number from 0 to 99",
         AG_EPARSE},
        {"{\"count\": 100, \"facts\": [{\"id\": \"x\"}]}",
         "light.facts[1]: needs holders or seeds", AG_EPARSE},
        {"{\"count\": 100, \"facts\": [{\"id\": \"x\", \"seeds\": 1}, "
         "{\"id\": \"x\", \"seeds\": 1}]}",
         "light.facts[2].id: \"x\" is given twice", AG_EPARSE},
        {"{\"count\": 100, \"facts\": [{\"id\": \"x\", \"seeds\": 1, "
         "\"when\": 3}]}",
         "light.facts[1].when: unknown field", AG_EPARSE},
        {"{\"count\": 100, \"seeds\": 2, \"facts\": [{\"id\": \"x\", "
         "\"seeds\": 1}]}",
         "light.seeds: goes inside each fact", AG_EPARSE},
        {"{\"count\": 100, \"policy\": \"builtin:flood\"}",
         "light.policy: no built-in policy \"builtin:flood\"", AG_EPARSE},
        {"{\"count\": 100, \"params\": {\"period\": 0}}",
         "light.params.period: must be a whole number from 1", AG_EPARSE},
        {"{\"count\": 100, \"policy\": 5}", "light.policy: must be a function",
         AG_EPARSE},
        {"{\"count\": 100, \"policy\": \"return 5\"}",
         "light.policy: must give a function(light)", AG_EPARSE},
        {"{\"count\": 100, \"policy\": \"return function() return 1 end\"}",
         "light.policy: the function(light) must return the handler",
         AG_EPARSE},
        {"{\"count\": 100, \"policy\": \"return function(\"}",
         "light.policy:1:", AG_ELUA},
        {"{\"count\": 100, \"policy\": \"nope.lua\"}", "nope.lua", AG_ELUA},
        {"{\"count\": 100, \"policy\": \"return function(l) l.pick() end\"}",
         "light.pick: only inside the handler", AG_ELUA},
        {"{\"count\": 100, \"policy\": \"math.random() return nil\"}",
         "math.random is not deterministic", AG_ELUA},
    };
    char err[512], msg[160];

    for (size_t i = 0; i < AG_ARRAY_SIZE(cases); i++) {
        int rc = new_error(cases[i].json, err, sizeof err);
        snprintf(msg, sizeof msg, "bad settings: %s", cases[i].want);
        if (!tap_ok(rc == cases[i].rc && strstr(err, cases[i].want), __FILE__,
                    __LINE__, msg))
            printf("#   rc %d, got \"%s\"\n", rc, err);
    }
}

static void test_world_file(void)
{
    struct ag_sim_light_opts o = {0};
    struct ag_sim_light_stats st = {0};
    char err[512], *path, *mpath, *text = NULL;
    cJSON *m;

    path = write_tmp("bad.lua", "return { light = { count = 10, degree = 3,"
                                " graph = 'ring' } }");
    o.world = path;
    ok(ag_sim_light_run(NULL, &o, NULL, err, sizeof err) == AG_EPARSE,
       "world file: bad settings");
    has_str(err, "bad.lua: light.degree: must be even",
            "world file: the message names the file and field");
    free(path);
    path = write_tmp("none.lua", "return { name = 'x' }");
    o.world = path;
    ok(ag_sim_light_run(NULL, &o, NULL, err, sizeof err) == AG_EPARSE,
       "world file without light");
    has_str(err, "none.lua: no light section", "... said");
    free(path);

    path = write_tmp("syntax.lua", "return { light = { count = 10 }\n");
    o.world = path;
    ok(ag_sim_light_run(NULL, &o, NULL, err, sizeof err) == AG_EPARSE,
       "world file: a syntax error");
    has_str(err, "syntax.lua:2:", "... with its line");
    free(path);
    path = write_tmp("start.lua", "return { start = 'soon', "
                                  "light = { count = 10 } }");
    o.world = path;
    ok(ag_sim_light_run(NULL, &o, NULL, err, sizeof err) == AG_EPARSE,
       "world file: a bad start");
    has_str(err, "start.lua: start: must be a game time", "... said");
    o.start = "2024-01-01 00:00"; /* the caller's start wins */
    ok(ag_sim_light_run(NULL, &o, NULL, err, sizeof err) == 0,
       "the caller's start overrides the world's");
    o.start = NULL;
    free(path);

    /* the whole run: metrics.json in the output folder */
    o.world = ag_xasprintf("%s/examples/sim/gossip.lua", srcdir);
    o.out_dir = path = ag_xasprintf("%s/out", tmpdir);
    o.seed = 1;
    o.until = 6 * 3600;
    mpath = ag_xasprintf("%s/metrics.json", path);
    if (!ok(ag_sim_light_run(NULL, &o, &st, err, sizeof err) == 0,
            "gossip.lua: runs"))
        tap_diag(err);
    else if (ag_read_file(mpath, 1 << 24, &text, NULL) < 0)
        text = NULL;
    free(mpath);
    m = text ? cJSON_Parse(text) : NULL;
    is_int(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "light"), "agents")
               ? cJSON_GetObjectItem(cJSON_GetObjectItem(m, "light"), "agents")
                     ->valueint
               : 0,
           100000, "metrics.json: the light summary");
    ok(cJSON_GetObjectItem(
           cJSON_GetObjectItem(cJSON_GetObjectItem(m, "facts"), "rumor"),
           "curve") != NULL,
       "metrics.json: the rumour's curve");
    is_int(st.done, 1, "gossip.lua: done");
    is_int(st.now <= 6 * 3600, 1, "--until: respected");
    cJSON_Delete(m);
    free(text);
    free(path);
    free((char *)o.world);
}

/* A field of /proc/self/status in bytes ("VmRSS", "VmHWM"); 0 if none. */
static double status_bytes(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    double kb = 0;
    size_t n = strlen(field);

    while (f && fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':')
            kb = strtod(line + n + 1, NULL);
    if (f)
        fclose(f);
    return kb * 1024;
}

/* Resets VmHWM to the current RSS (Linux 4.0 and later); 0 on success. */
static int reset_peak(void)
{
    FILE *f = fopen("/proc/self/clear_refs", "w");
    int rc = f && fputs("5", f) >= 0 ? 0 : -1;

    if (f && fclose(f) != 0)
        rc = -1;
    return rc;
}

static void test_memory(void)
{
    struct ag_sim_light *w;
    struct ag_sim_light_stats st;
    int peak_ok = reset_peak() == 0;
    double base = status_bytes("VmRSS"), peak;
    char msg[200];

    w = make("{\"count\": 100000, \"degree\": 8, \"seeds\": 5, "
             "\"params\": {\"period\": 60}}",
             1);
    if (!ok(w != NULL, "memory: 100,000 agents"))
        return;
    free(finish(w));
    ag_sim_light_stats(w, &st);
    peak = (status_bytes("VmHWM") - base) / st.agents;
    snprintf(msg, sizeof msg,
             "memory: %.1f bytes per agent held (%.1f of them the graph), "
             "peak RSS %.1f; %llu events, %u informed",
             (double)st.bytes / st.agents, (double)st.graph_bytes / st.agents,
             peak, (unsigned long long)st.events, st.informed);
    tap_diag(msg);
    ok(st.bytes / st.agents < 1024, "memory: under 1 KB per agent held");
    if (peak_ok && base > 0)
        ok(peak < 1024, "memory: peak RSS under 1 KB per agent");
    else
        tap_diag("memory: cannot reset VmHWM, peak RSS not checked");
    ok(st.informed > 90000, "memory: the rumour reached most of them");
    ag_sim_light_free(w);
}

int main(void)
{
    char *cmd;

    srcdir = getenv("SRCDIR");
    if (!srcdir || !*srcdir)
        srcdir = ".";
    if (!mkdtemp(tmpdir)) {
        ok(0, "mkdtemp");
        return tap_done();
    }
    test_rand();
    test_graphs();
    test_determinism();
    test_diffusion();
    test_lua_vs_c();
    test_stops();
    test_api();
    test_errors();
    test_world_file();
    test_memory();
    cmd = ag_xasprintf("rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        tap_diag("could not remove the temporary folder");
    free(cmd);
    return tap_done();
}
