/*
 * test-sim.c: the core of the simulation (agent/sim-world.c and ag_sim_rand),
 * through the private API of sim-private.h. The counter-based generator
 * (determinism, every part of the key, rough uniformity); game time (exact
 * forms, real dates, round trips); the world loader on the example worlds and
 * on a table of broken worlds, each of which must fail with a message naming
 * the file and the field. Example files are found under $SRCDIR (default ".");
 * the memory stream is tests/test-sim-memory.c.
 */
#include "ag.h"
#include "sim-private.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *srcdir;
static char tmpdir[] = "/tmp/test-sim.XXXXXX";

/* ---- ag_sim_rand -------------------------------------------------------- */

static void test_rand(void)
{
    uint64_t r = ag_sim_rand(42, 7, 3, 1000);
    long buckets[10] = {0}, bits[64] = {0};
    int n = 100000, same = 1, spread = 1, balanced = 1;
    char msg[128];

    for (int i = 0; i < 5; i++)
        same &= ag_sim_rand(42, 7, 3, 1000) == r;
    ok(same, "rand: the same key always gives the same number");
    ok(ag_sim_rand(43, 7, 3, 1000) != r, "rand: the seed matters");
    ok(ag_sim_rand(42, 8, 3, 1000) != r, "rand: the agent matters");
    ok(ag_sim_rand(42, 7, 4, 1000) != r, "rand: the purpose matters");
    ok(ag_sim_rand(42, 7, 3, 1001) != r, "rand: the counter matters");
    ok(ag_sim_rand(42 | (UINT64_C(1) << 63), 7, 3, 1000) != r &&
           ag_sim_rand(42, 7, 3, 1000 | (UINT64_C(1) << 40)) != r,
       "rand: the high bits of seed and counter matter");
    ok(ag_sim_rand(1, 2, 3, 4) != ag_sim_rand(1, 3, 2, 4) &&
           ag_sim_rand(1, 2, 3, 4) != ag_sim_rand(2, 1, 3, 4),
       "rand: the parts of the key are not interchangeable");
    for (int i = 0; i < n; i++) {
        uint64_t x = ag_sim_rand(9, 1, 2, (uint64_t)i);
        buckets[x % 10]++;
        for (int b = 0; b < 64; b++)
            bits[b] += (x >> b) & 1;
    }
    /* 10,000 expected per digit, sd about 95: 600 is over six sd */
    for (int d = 0; d < 10; d++)
        spread &= labs(buckets[d] - n / 10) < 600;
    ok(spread, "rand: 100k draws modulo 10 are roughly uniform");
    if (!spread)
        for (int d = 0; d < 10; d++) {
            snprintf(msg, sizeof msg, "digit %d: %ld", d, buckets[d]);
            tap_diag(msg);
        }
    for (int b = 0; b < 64; b++) /* 50,000 expected, sd about 158 */
        balanced &= labs(bits[b] - n / 2) < 1200;
    ok(balanced, "rand: every bit is set about half the time");
    memset(buckets, 0, sizeof buckets);
    for (int i = 0; i < n; i++) /* consecutive agents, counter 0 */
        buckets[ag_sim_rand(9, (uint32_t)i, 2, 0) % 10]++;
    spread = 1;
    for (int d = 0; d < 10; d++)
        spread &= labs(buckets[d] - n / 10) < 600;
    ok(spread, "rand: uniform across agents too");
}

/* ---- game time ---------------------------------------------------------- */

static void test_time(void)
{
    static const char *const good[] = {
        "1970-01-01 00:00:00", "2023-02-14 17:00:30", "2024-02-29 12:00:00",
        "2000-02-29 23:59:59", "2023-12-31 23:59:59", "9999-12-31 23:59:59"};
    static const char *const bad[] = {
        "",
        "2023-13-01 00:00",
        "2023-00-10 00:00",
        "2023-02-00 10:00",
        "2023-02-29 00:00", /* not a leap year */
        "2100-02-29 00:00", /* nor this */
        "2023-04-31 10:00",
        "2023-02-30 07:00",
        "2023-02-14 24:00",
        "2023-02-14 12:60",
        "2023-02-14 12:00:60",
        "2023-02-14 17:00xyz",
        "2023-02-14 17:00 ",
        "2023-02-14 17:00:",
        "2023-02-14 17:00:5",
        "2023-02-14 17:00:05:00",
        " 2023-02-14 17:00",
        "2023-02-14",
        "2023-02-14 17",
        "2023-02-14 17:0",
        "2023-2-14 17:00",
        "2023-02-14T17:00",
        "+023-02-14 17:00",
        "1969-12-31 23:59", /* before the epoch: would be negative */
        "tomorrow"};
    char out[20], msg[96];
    int all_good = 1;

    is_int(ag__sim_parse_time("2023-02-14 17:00"), 1676394000,
           "time: \"YYYY-MM-DD HH:MM\" is UTC game seconds");
    is_int(ag__sim_parse_time("2023-02-14 17:00:30"), 1676394030,
           "time: \":SS\" is accepted");
    is_int(ag__sim_parse_time("1970-01-01 00:00"), 0, "time: the epoch is 0");
    is_int(ag__sim_parse_time("2024-03-01 00:00") -
               ag__sim_parse_time("2024-02-28 00:00"),
           2 * 86400, "time: 2024 has a February 29");
    ag__sim_fmt_time(1676394000, out);
    is_str(out, "2023-02-14 17:00:00", "time: formatted with seconds");
    for (size_t i = 0; i < AG_ARRAY_SIZE(good); i++) {
        ag__sim_fmt_time(ag__sim_parse_time(good[i]), out);
        if (strcmp(out, good[i]) != 0) {
            snprintf(msg, sizeof msg, "%s came back as %s", good[i], out);
            tap_diag(msg);
            all_good = 0;
        }
    }
    ok(all_good, "time: parse then format gives the text back");
    all_good = 1;
    for (int64_t t = 0; t < INT64_C(253402300800); t += 86399 * 3671) {
        ag__sim_fmt_time(t, out);
        all_good &= ag__sim_parse_time(out) == t;
    }
    ok(all_good, "time: format then parse gives the time back, 1970-9999");
    is_int(ag__sim_parse_time(NULL), -1, "time: NULL is rejected");
    for (size_t i = 0; i < AG_ARRAY_SIZE(bad); i++) {
        snprintf(msg, sizeof msg, "time: \"%s\" is rejected", bad[i]);
        ok(ag__sim_parse_time(bad[i]) < 0, msg);
    }
    ag__sim_fmt_time(-5, out);
    is_str(out, "1970-01-01 00:00:00", "time: before 1970 shows the epoch");
    ag__sim_fmt_time(INT64_MAX, out);
    is_str(out, "9999-12-31 23:59:59", "time: far times show the year 9999");
}

/* ---- the world loader --------------------------------------------------- */

static char *example(const char *name)
{
    return ag_xasprintf("%s/examples/sim/%s", srcdir, name);
}

static int count_knows(const struct ag__sim_world *w)
{
    int n = 0;

    for (int a = 0; a < w->npersonas; a++)
        for (int b = a + 1; b < w->npersonas; b++)
            n += w->knows[a * w->npersonas + b];
    return n;
}

static void test_examples(void)
{
    struct ag__sim_world w;
    char err[512] = "", *path = example("smoke.lua");
    int rc = ag__sim_world_load(path, NULL, &w, err, sizeof err), nadia, tomas,
        iris;

    free(path);
    if (!ok(rc == 0, "world: smoke.lua loads")) {
        tap_diag(err);
        return;
    }
    is_str(w.name, "smoke", "smoke: name");
    is_str(w.model, "script:town-model.lua", "smoke: model");
    is_int(w.start, ag__sim_parse_time("2023-02-14 07:00"), "smoke: start");
    is_int(w.nplaces, 9, "smoke: 9 places (sector:arena)");
    is_int(w.npersonas, 3, "smoke: 3 personas");
    is_int(w.nfacts, 1, "smoke: 1 fact");
    is_int(count_knows(&w), 1, "smoke: 1 pair knows each other");
    is_int(w.light, 0, "smoke: not a light world");
    nadia = ag__sim_persona_find(&w, "Nadia Petrova");
    tomas = ag__sim_persona_find(&w, "Tomas Reyes");
    iris = ag__sim_persona_find(&w, "Iris Lindqvist");
    ok(nadia == 0 && tomas == 1 && iris == 2 &&
           ag__sim_persona_find(&w, "Nobody") == -1,
       "smoke: personas are found by name");
    ok(w.knows[nadia * 3 + tomas] && w.knows[tomas * 3 + nadia] &&
           !w.knows[nadia * 3 + iris] && !w.knows[tomas * 3 + iris],
       "smoke: knows is symmetric and only for the pair named");
    is_str(w.knows_how[tomas * 3 + nadia], "housemates and old friends",
           "smoke: the relation's words are kept, both ways");
    ok(w.personas[nadia].home ==
               ag__sim_place_find(&w, "Blue House:Nadia's bedroom") &&
           w.personas[nadia].start == w.personas[nadia].home &&
           w.personas[nadia].age == 35,
       "smoke: a persona's home, start and age");
    ok(w.nplaces > 0 && w.places[0].w == 14 && w.places[0].h == 10 &&
           w.places[0].nobjects == 6 &&
           strcmp(w.places[0].name, "Corner Cafe:cafe") == 0 &&
           strcmp(w.places[0].objects[1], "coffee machine") == 0,
       "smoke: a place's name, size and objects");
    ok(w.nfacts == 1 && strcmp(w.facts[0].id, "party") == 0 &&
           w.facts[0].holder == nadia &&
           w.facts[0].place == ag__sim_place_find(&w, "Corner Cafe:cafe") &&
           w.facts[0].from == ag__sim_parse_time("2023-02-14 17:00") &&
           w.facts[0].to == ag__sim_parse_time("2023-02-14 19:00"),
       "smoke: the party's holder, place and times are resolved");
    ok(w.set.recency_decay == 0.995 && w.set.w_recency == 1 &&
           w.set.w_importance == 1 && w.set.w_relevance == 1 &&
           w.set.retrieve == 30 && w.set.dims == 64 && w.set.memory == 1 &&
           w.set.attention == 3 && w.set.reflect_threshold == 150 &&
           w.set.chat_cooldown == 120 && w.set.concurrency == 8,
       "smoke: the settings' defaults (sim.h)");
    ok(cJSON_GetObjectItemCaseSensitive(w.json, "map") &&
           cJSON_GetObjectItemCaseSensitive(w.json, "personas"),
       "smoke: the world is kept as JSON for world.json");
    ag__sim_world_free(&w);

    path = example("town.lua");
    rc = ag__sim_world_load(path, NULL, &w, err, sizeof err);
    if (!ok(rc == 0, "world: town.lua loads"))
        tap_diag(err);
    is_int(w.nplaces, 48, "town: 48 places");
    is_int(w.npersonas, 25, "town: 25 personas");
    is_int(w.nfacts, 3, "town: 3 facts");
    is_int(count_knows(&w), 49, "town: 49 pairs know each other");
    ok(w.nfacts == 3 && strcmp(w.facts[0].id, "party") == 0 &&
           w.facts[0].holder == ag__sim_persona_find(&w, "Rosa Delgado") &&
           w.facts[0].place == ag__sim_place_find(&w, "Juniper Cafe:cafe") &&
           w.facts[0].from == ag__sim_parse_time("2023-02-14 17:00") &&
           w.facts[0].to == ag__sim_parse_time("2023-02-14 19:00"),
       "town: the party's event is resolved");
    ok(w.nfacts == 3 && w.facts[1].place == -1 && w.facts[1].from == 0 &&
           w.facts[1].to == 0,
       "town: a fact without an event has no place");
    ag__sim_world_free(&w);
    free(path);

    path = example("gossip.lua");
    rc = ag__sim_world_load(path, NULL, &w, err, sizeof err);
    if (!ok(rc == 0, "world: gossip.lua loads"))
        tap_diag(err);
    is_int(w.light, 1, "gossip: a light world");
    is_int(w.npersonas, 0, "gossip: no personas");
    is_int(w.start, ag__sim_parse_time("2024-03-01 08:00"), "gossip: start");
    ag__sim_world_free(&w);
    ag__sim_world_free(&w); /* twice: a no-op */
    free(path);
}

static char *write_world(const char *name, const char *text)
{
    char *path = ag_xasprintf("%s/%s.lua", tmpdir, name);
    FILE *f = fopen(path, "w");

    if (f) {
        fputs(text, f);
        fclose(f);
    }
    return path;
}

#define START "start = '2023-02-14 07:00',\n"
#define MAP                                                                    \
    "map = {\n"                                                                \
    "  { sector = 'Blue House', arenas = { { arena = 'kitchen' },\n"           \
    "      { arena = 'bedroom', size = { 6, 5 }, objects = { 'bed' } } } },\n" \
    "  { sector = 'Cafe', arenas = { { arena = 'cafe' } } } },\n"
#define ANN        "{ name = 'Ann', home = 'Blue House:bedroom' }"
#define BOB        "{ name = 'Bob', home = 'Blue House:kitchen', at = 'Cafe:cafe' }"
#define PEOPLE     "personas = { " ANN ", " BOB " },\n"
#define WORLD(...) "return {\n" START MAP PEOPLE __VA_ARGS__ "}\n"
#define EVENT(from, to)                                                        \
    "facts = { { id = 'party', holder = 'Ann', text = 'a party',\n"            \
    "  event = { place = 'Cafe:cafe', from = " from ", to = " to " } } },\n"

static void test_settings(void)
{
    struct ag__sim_world w;
    char err[512] = "", *path;
    int rc;

    path = write_world("good",
                       WORLD("knows = { { 'Ann', 'Bob' } },\n" EVENT(
                           "'2023-02-14 17:00'", "'2023-02-14 19:00:30'")));
    rc = ag__sim_world_load(path, NULL, &w, err, sizeof err);
    if (!ok(rc == 0, "world: a small world loads"))
        tap_diag(err);
    is_str(w.name, "good", "world: the name defaults to the file's");
    ok(w.npersonas == 2 && w.personas[1].start == 2 &&
           w.personas[1].home == 0 && w.knows[1] && w.knows[2] &&
           !w.knows_how[1],
       "world: at, home and knows without words");
    is_int(w.facts ? w.facts[0].to - w.facts[0].from : 0, 7230,
           "world: event times with seconds");
    ok(w.nplaces == 3 && w.places[0].w == 10 && w.places[0].h == 10 &&
           w.places[0].nobjects == 0,
       "world: an arena's default size and no objects");
    ag__sim_world_free(&w);
    free(path);

    path = write_world(
        "settings",
        WORLD("settings = { recency_decay = 0.9, attention = 5, tick = 60,\n"
              "  memory = false, reflection = false, dims = 32,\n"
              "  max_cost = 1.5, max_calls = 100,\n"
              "  weights = { relevance = 0, importance = 2.5 } },\n"));
    rc = ag__sim_world_load(path, NULL, &w, err, sizeof err);
    if (!ok(rc == 0, "world: settings load"))
        tap_diag(err);
    ok(w.set.recency_decay == 0.9 && w.set.attention == 5 && w.set.tick == 60 &&
           w.set.memory == 0 && w.set.planning == 1 && w.set.reflection == 0 &&
           w.set.dims == 32 && w.set.max_cost == 1.5 &&
           w.set.max_calls == 100 && w.set.w_relevance == 0 &&
           w.set.w_importance == 2.5 && w.set.w_recency == 1 &&
           w.set.retrieve == 30,
       "world: settings given override the defaults, the others stay");
    ag__sim_world_free(&w);
    free(path);

    {
        struct ag__sim_settings set;
        cJSON *j = cJSON_Parse("{\"retrieve\": 7, \"weights\": "
                               "{\"recency\": 0.5}, \"planning\": false}");
        ag__sim_settings_load(NULL, &set);
        ok(set.retrieve == 30 && set.recency_decay == 0.995 &&
               set.w_relevance == 1 && set.planning == 1,
           "settings_load: none gives the defaults");
        ag__sim_settings_load(j, &set);
        ok(set.retrieve == 7 && set.w_recency == 0.5 && set.planning == 0 &&
               set.w_importance == 1 && set.chat_turns == 8,
           "settings_load: world.json's settings are read");
        cJSON_AddStringToObject(j, "tick", "often");
        ag__sim_settings_load(j, &set);
        ok(set.retrieve == 30 && set.tick == 0,
           "settings_load: settings that do not check give the defaults");
        cJSON_Delete(j);
    }

    path = write_world("light", "return { light = { count = 10 } }\n");
    rc = ag__sim_world_load(path, NULL, &w, err, sizeof err);
    if (!ok(rc == 0 && w.light == 1,
            "world: a light world may go without a start"))
        tap_diag(err);
    ag__sim_world_free(&w);
    free(path);
}

struct broken {
    const char *name, *text, *want;
};

static const struct broken broken[] = {
    {"syntax", "return {\n  name = 'x'\n  start = '2023-02-14 07:00',\n}\n",
     ":3:"},
    {"runtime", "local t = {}\nreturn t.x.y\n", ":2:"},
    {"notable", "return 42\n", "a world file must return a table (got number)"},
    {"unknown", WORLD("mapp = {},\n"),
     "unknown field \"mapp\" (did you mean \"map\"?)"},
    {"unknown2", WORLD("zzz = 1, aaa = 2,\n"), "unknown field \"aaa\""},
    {"name", "return {\n" START MAP "name = 5, " PEOPLE "}\n",
     "name: must be a non-empty string (got 5)"},
    {"model", WORLD("model = { 'x' },\n"),
     "model: must be a string (got a list)"},
    {"nostart", "return {\n" MAP PEOPLE "}\n",
     "start: required, a game time \"YYYY-MM-DD HH:MM\""},
    {"badstart", "return {\nstart = '2023-02-30 07:00',\n" MAP PEOPLE "}\n",
     "start: must be a game time \"YYYY-MM-DD HH:MM\" (got "
     "\"2023-02-30 07:00\")"},
    {"nomap", "return {\n" START PEOPLE "}\n",
     "map: must be a non-empty list (got nothing)"},
    {"sectorname", "return {\n" START "map = { { arenas = {} } },\n}\n",
     "map[1].sector: required"},
    {"noarenas",
     "return {\n" START "map = { { sector = 'A', arenas = {} } },\n}\n",
     "map[1].arenas: must be a non-empty list (got an empty table)"},
    {"arenaname",
     "return {\n" START "map = { { sector = 'A', arenas = {\n"
     "  { arena = 'x' }, { size = { 3, 3 } } } } },\n" PEOPLE "}\n",
     "map[1].arenas[2].arena: required"},
    {"arenacolon",
     "return {\n" START "map = { { sector = 'A', arenas = {\n"
     "  { arena = 'x:y' } } } },\n}\n",
     "map[1].arenas[1].arena: must be a name without ':' (got \"x:y\")"},
    {"arenatwice",
     "return {\n" START "map = { { sector = 'Blue House', arenas = {\n"
     "  { arena = 'kitchen' }, { arena = 'attic' }, { arena = 'kitchen' } "
     "} } },\n}\n",
     "map[1].arenas[3].arena: \"kitchen\" is already an arena of \"Blue "
     "House\""},
    {"sectortwice",
     "return {\n" START "map = { { sector = 'A', arenas = { { arena = 'x' } "
     "} },\n  { sector = 'A', arenas = { { arena = 'y' } } } },\n}\n",
     "map[2].sector: \"A\" is an earlier sector's name"},
    {"size",
     "return {\n" START "map = { { sector = 'A', arenas = {\n"
     "  { arena = 'x', size = { 3, 0 } } } } },\n}\n",
     "map[1].arenas[1].size: must be { width, height }, whole numbers from 1 "
     "to 10000 (got a list)"},
    {"object",
     "return {\n" START "map = { { sector = 'A', arenas = {\n"
     "  { arena = 'x', objects = { 'bed', 5 } } } } },\n}\n",
     "map[1].arenas[1].objects[2]: must be a name (got 5)"},
    {"arenafield",
     "return {\n" START "map = { { sector = 'A', arenas = {\n"
     "  { arena = 'x', objets = { 'bed' } } } } },\n}\n",
     "map[1].arenas[1]: unknown field \"objets\" (did you mean "
     "\"objects\"?)"},
    {"nopersonas", "return {\n" START MAP "personas = {},\n}\n",
     "personas: must be a non-empty list (got an empty table)"},
    {"noname",
     "return {\n" START MAP "personas = { " ANN
     ", { home = 'Cafe:cafe' } },\n}\n",
     "personas[2].name: required"},
    {"twonames",
     "return {\n" START MAP "personas = { " ANN ", " BOB ", " ANN " },\n}\n",
     "personas[3].name: \"Ann\" is already personas[1]"},
    {"home",
     "return {\n" START MAP "personas = { " ANN
     ", { name = 'Cy', home = 'Blue House:attic' } },\n}\n",
     "personas[2].home: no place \"Blue House:attic\" in the map"},
    {"nohome", "return {\n" START MAP "personas = { { name = 'Cy' } },\n}\n",
     "personas[1].home: required"},
    {"at",
     "return {\n" START MAP "personas = { { name = 'Cy', home = 'Cafe:cafe',"
     " at = 'Cafe' } },\n}\n",
     "personas[1].at: no place \"Cafe\" in the map"},
    {"personafield",
     "return {\n" START MAP "personas = { { name = 'Cy', hom = 'Cafe:cafe' "
     "} },\n}\n",
     "personas[1]: unknown field \"hom\" (did you mean \"home\"?)"},
    {"age",
     "return {\n" START MAP "personas = { { name = 'Cy', age = 'old', "
     "home = 'Cafe:cafe' } },\n}\n",
     "personas[1].age: must be a whole number from 0 to 200 (got \"old\")"},
    {"innate",
     "return {\n" START MAP "personas = { { name = 'Cy', home = 'Cafe:cafe', "
     "innate = function() end } },\n}\n",
     "personas[1].innate: cannot encode a function"},
    {"persona", "return {\n" START MAP "personas = { 'Cy' },\n}\n",
     "personas[1]: must be a table of fields (got \"Cy\")"},
    {"knows", WORLD("knows = { { 'Ann', 'Bob' }, { 'Ann', 'Zed' } },\n"),
     "knows[2][2]: no persona \"Zed\""},
    {"knowsself", WORLD("knows = { { 'Bob', 'Bob', 'self' } },\n"),
     "knows[1][2]: the same persona as knows[1][1]"},
    {"knowsshape", WORLD("knows = { { 'Ann' } },\n"),
     "knows[1]: must be { \"name\", \"name\", \"how\" } (got a list)"},
    {"knowshow", WORLD("knows = { { 'Ann', 'Bob', 3 } },\n"),
     "knows[1][3]: must be a string (got 3)"},
    {"knowslist", WORLD("knows = 'everyone',\n"),
     "knows: must be a list (got \"everyone\")"},
    {"holder",
     WORLD("facts = { { id = 'x', holder = 'Zed', text = 'a fact' } },\n"),
     "facts[1].holder: no persona \"Zed\""},
    {"noholder", WORLD("facts = { { id = 'x', text = 'a fact' } },\n"),
     "facts[1].holder: required"},
    {"notext", WORLD("facts = { { id = 'x', holder = 'Ann' } },\n"),
     "facts[1].text: required"},
    {"factid",
     WORLD("facts = { { id = 'x', holder = 'Ann', text = 'a' },\n"
           "  { id = 'x', holder = 'Bob', text = 'b' } },\n"),
     "facts[2].id: \"x\" is already facts[1]"},
    {"eventplace",
     WORLD("facts = { { id = 'p', holder = 'Ann', text = 'a party',\n"
           "  event = { place = 'Cafe:roof', from = '2023-02-14 17:00',\n"
           "            to = '2023-02-14 19:00' } } },\n"),
     "facts[1].event.place: no place \"Cafe:roof\" in the map"},
    {"eventfrom", WORLD(EVENT("'tomorrow'", "'2023-02-14 19:00'")),
     "facts[1].event.from: must be a game time \"YYYY-MM-DD HH:MM\" (got "
     "\"tomorrow\")"},
    {"eventto", WORLD(EVENT("'2023-02-14 17:00'", "'2023-02-14 25:00'")),
     "facts[1].event.to: must be a game time"},
    {"eventnoto", WORLD(EVENT("'2023-02-14 17:00'", "nil")),
     "facts[1].event.to: required"},
    {"eventorder", WORLD(EVENT("'2023-02-14 19:00'", "'2023-02-14 17:00'")),
     "facts[1].event.to: must be after from, 2023-02-14 19:00 (got "
     "\"2023-02-14 17:00\")"},
    {"eventempty", WORLD(EVENT("'2023-02-14 17:00'", "'2023-02-14 17:00'")),
     "facts[1].event.to: must be after from"},
    {"eventfield",
     WORLD("facts = { { id = 'p', holder = 'Ann', text = 'a party',\n"
           "  event = { place = 'Cafe:cafe', from = '2023-02-14 17:00',\n"
           "            untill = '2023-02-14 19:00' } } },\n"),
     "facts[1].event: unknown field \"untill\""},
    {"settings", WORLD("settings = 'fast',\n"),
     "settings: must be a table of fields (got \"fast\")"},
    {"attention", WORLD("settings = { attention = 'three' },\n"),
     "settings.attention: must be a whole number from 1 to 1000 (got "
     "\"three\")"},
    {"retrieve", WORLD("settings = { retrieve = 2.5 },\n"),
     "settings.retrieve: must be a whole number from 1 to 10000 (got 2.5)"},
    {"decay", WORLD("settings = { recency_decay = 1.5 },\n"),
     "settings.recency_decay: must be a number from 0 to 1 (got 1.5)"},
    {"memory", WORLD("settings = { memory = 'no' },\n"),
     "settings.memory: must be true or false (got \"no\")"},
    {"atention", WORLD("settings = { atention = 3 },\n"),
     "settings: unknown field \"atention\" (did you mean \"attention\"?)"},
    {"weights", WORLD("settings = { weights = 1 },\n"),
     "settings.weights: must be a table of fields (got 1)"},
    {"weight", WORLD("settings = { weights = { relevance = -1 } },\n"),
     "settings.weights.relevance: must be a number from 0 to 1000 (got -1)"},
    {"weightname", WORLD("settings = { weights = { relevence = 0 } },\n"),
     "settings.weights: unknown field \"relevence\" (did you mean "
     "\"relevance\"?)"},
    {"actions", WORLD("settings = { action_min = 10, action_max = 5 },\n"),
     "settings.action_max: must be at least action_min (10)"},
};

static void test_broken(void)
{
    struct ag__sim_world w;
    char err[512], *path, *prefix, name[96];

    for (size_t i = 0; i < AG_ARRAY_SIZE(broken); i++) {
        const struct broken *b = &broken[i];
        int rc;

        path = write_world(b->name, b->text);
        prefix = ag_xasprintf("%s%s", path, b->want[0] == ':' ? "" : ": ");
        snprintf(err, sizeof err, "(no message)");
        memset(&w, 0x5a, sizeof w); /* the loader must not read it */
        rc = ag__sim_world_load(path, NULL, &w, err, sizeof err);
        snprintf(name, sizeof name, "broken %s: fails, names file and field",
                 b->name);
        if (!ok(rc == AG_ETASK && strncmp(err, prefix, strlen(prefix)) == 0 &&
                    strstr(err, b->want),
                name)) {
            printf("#   rc %d, message: %s\n#   want: %s...%s\n", rc, err,
                   prefix, b->want);
        }
        ok(w.path == NULL && w.nplaces == 0 && w.json == NULL,
           "... and leaves the world empty");
        ag__sim_world_free(&w);
        free(prefix);
        free(path);
    }
    path = ag_xasprintf("%s/missing.lua", tmpdir);
    ok(ag__sim_world_load(path, NULL, &w, err, sizeof err) == AG_ETASK &&
           strncmp(err, path, strlen(path)) == 0 &&
           strstr(err, ": cannot read the world file: No such file"),
       "broken: a missing file is named");
    ag__sim_world_free(&w);
    free(path);
}

int main(void)
{
    srcdir = getenv("SRCDIR") ? getenv("SRCDIR") : ".";
    if (!mkdtemp(tmpdir)) {
        perror("mkdtemp");
        return 99;
    }
    test_rand();
    test_time();
    test_examples();
    test_settings();
    test_broken();
    for (size_t i = 0; i < AG_ARRAY_SIZE(broken); i++) {
        char *p = ag_xasprintf("%s/%s.lua", tmpdir, broken[i].name);
        unlink(p);
        free(p);
    }
    {
        static const char *const extra[] = {"good", "settings", "light"};
        for (size_t i = 0; i < AG_ARRAY_SIZE(extra); i++) {
            char *p = ag_xasprintf("%s/%s.lua", tmpdir, extra[i]);
            unlink(p);
            free(p);
        }
    }
    rmdir(tmpdir);
    return tap_done();
}
