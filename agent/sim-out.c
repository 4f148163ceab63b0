/*
 * sim-out.c: what a run writes (sim.h): the timeline, one canonical JSON
 * line per event in the order the engine makes them (game time, then agent
 * number: the same run gives the same bytes), and the metrics gathered on
 * the way: who learned each seeded fact when and from whom (a provenance
 * tree), the diffusion curves, the relationship graph and its density per
 * game hour, who was where during planned events, and model usage by prompt
 * kind. Also each agent's memory stream and the world as loaded.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "json.h"
#include "sim-private.h"

int ag__sim_write_json(const char *dir, const char *name, const cJSON *v)
{
    char *path = ag_xasprintf("%s/%s", dir, name);
    char *text = cJSON_Print(v), *line = ag_xasprintf("%s\n", text);
    int rc = ag_write_file(path, line, strlen(line));

    free(path);
    free(text);
    free(line);
    return rc;
}

/* Presence at planned events: each visit to an event's place before the
 * event is over is kept as {agent, from, to} (to: when it left, absent
 * while there); those whose visit overlaps the event attended it. */
static void visit(struct ag__sim *s, int agent, int from, int to)
{
    for (int f = 0; f < s->w.nfacts; f++) {
        const struct ag__sim_fact *fa = &s->w.facts[f];
        cJSON *list, *e, *last = NULL;
        char t[20];
        if (fa->place < 0 || s->now >= fa->to)
            continue;
        list = cJSON_GetObjectItemCaseSensitive(s->presence, fa->id);
        ag__sim_fmt_time(s->now, t);
        if (from == fa->place) {
            cJSON_ArrayForEach(e, list)
            {
                if (strcmp(ag_json_str(e, "agent"),
                           s->w.personas[agent].name) == 0 &&
                    !cJSON_GetObjectItemCaseSensitive(e, "to"))
                    last = e;
            }
            if (last)
                cJSON_AddStringToObject(last, "to", t);
        }
        if (to == fa->place) {
            e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "agent", s->w.personas[agent].name);
            cJSON_AddStringToObject(e, "from", t);
            cJSON_AddItemToArray(list, e);
        }
    }
}

int ag__sim_out_open(struct ag__sim *s, char *err, size_t errlen)
{
    char *path;

    if (mkdir(s->out, 0755) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "%s: %s", s->out, strerror(errno));
        return -errno;
    }
    path = ag_xasprintf("%s/memory", s->out);
    mkdir(path, 0755);
    free(path);
    path = ag_xasprintf("%s/timeline.jsonl", s->out);
    s->timeline = fopen(path, "w");
    free(path);
    if (!s->timeline) {
        snprintf(err, errlen, "%s/timeline.jsonl: %s", s->out, strerror(errno));
        return -errno;
    }
    s->holders = cJSON_CreateObject();
    s->curves = cJSON_CreateObject();
    s->presence = cJSON_CreateObject();
    s->density = cJSON_CreateArray();
    for (int f = 0; f < s->w.nfacts; f++) {
        cJSON_AddItemToObject(s->holders, s->w.facts[f].id,
                              cJSON_CreateArray());
        cJSON_AddItemToObject(s->curves, s->w.facts[f].id, cJSON_CreateArray());
        cJSON_AddItemToObject(s->presence, s->w.facts[f].id,
                              cJSON_CreateArray());
    }
    for (int i = 0; i < s->nagents; i++) /* where each one starts */
        visit(s, i, -1, s->agents[i].place);
    { /* where it came from: a script model is found beside it */
        char *real = realpath(s->w.path, NULL);
        cJSON_DeleteItemFromObjectCaseSensitive(s->w.json, "source");
        if (real)
            cJSON_AddStringToObject(s->w.json, "source", real);
        free(real);
    }
    return ag__sim_write_json(s->out, "world.json", s->w.json);
}

void ag__sim_event(struct ag__sim *s, int agent, const char *type,
                   cJSON *fields)
{
    struct ag_buf b;
    char t[20];

    if (!fields)
        fields = cJSON_CreateObject();
    ag__sim_fmt_time(s->now, t);
    cJSON_AddStringToObject(fields, "t", t);
    cJSON_AddNumberToObject(fields, "seq", (double)++s->tseq);
    cJSON_AddStringToObject(fields, "type", type);
    if (agent >= 0)
        cJSON_AddStringToObject(fields, "agent", s->w.personas[agent].name);
    ag_buf_init(&b, (size_t)-1 / 4);
    ag_json_canonical(fields, &b);
    ag_buf_addc(&b, '\n');
    if (s->timeline &&
        (fwrite(b.data, 1, b.len, s->timeline) != b.len ||
         ferror(s->timeline)) &&
        !s->stopping) {
        /* a full disk: stop as at a limit, with a checkpoint to resume */
        s->out_errno = errno ? errno : EIO;
        snprintf(s->stop_reason, sizeof s->stop_reason,
                 "cannot write %s/timeline.jsonl: %s", s->out,
                 strerror(s->out_errno));
        s->stopping = 1;
    }
    ag_buf_free(&b);
    cJSON_Delete(fields);
}

static cJSON *point(int64_t t, const char *key, double v)
{
    cJSON *o = cJSON_CreateObject();
    char ts[20];

    ag__sim_fmt_time(t, ts);
    cJSON_AddStringToObject(o, "t", ts);
    cJSON_AddNumberToObject(o, key, v);
    return o;
}

void ag__sim_learned(struct ag__sim *s, int agent, int fact, int from)
{
    const char *id = s->w.facts[fact].id;
    cJSON *h = cJSON_GetObjectItemCaseSensitive(s->holders, id), *e, *ev;
    char t[20];

    s->agents[agent].knows[fact] = 1;
    s->agents[agent].teller[fact] = from;
    ag__sim_fmt_time(s->now, t);
    e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "agent", s->w.personas[agent].name);
    cJSON_AddStringToObject(e, "t", t);
    if (from >= 0)
        cJSON_AddStringToObject(e, "from", s->w.personas[from].name);
    else
        cJSON_AddNullToObject(e, "from");
    cJSON_AddItemToArray(h, e);
    cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(s->curves, id),
                         point(s->now, "count", cJSON_GetArraySize(h)));
    ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "fact", id);
    if (from >= 0)
        cJSON_AddStringToObject(ev, "from", s->w.personas[from].name);
    else
        cJSON_AddNullToObject(ev, "from");
    ag__sim_event(s, agent, "learn", ev);
}

void ag__sim_chatted(struct ag__sim *s, int a, int b)
{
    int n = s->nagents;

    s->agents[a].chats[b]++;
    s->agents[b].chats[a]++;
    s->agents[a].chat_end[b] = s->agents[b].chat_end[a] = s->now;
    AG_UNUSED(n);
}

void ag__sim_moved(struct ag__sim *s, int agent, int from, int to)
{
    visit(s, agent, from, to);
}

/* The share of pairs that have talked, sampled each game hour. */
/* The relationship graph's density at time t: the share of pairs who know
 * each other (from the start, or since they talked). */
static void density_sample(struct ag__sim *s, int64_t t)
{
    int n = s->nagents, edges = 0;

    for (int a = 0; a < n; a++)
        for (int b = a + 1; b < n; b++)
            edges +=
                s->agents[a].chats[b] > 0 || s->w.knows[a * s->w.npersonas + b];
    cJSON_AddItemToArray(
        s->density, point(t, "value", n > 1 ? edges / (n * (n - 1) / 2.0) : 0));
}

/* Samples the density on the hour (of game time since the start). */
void ag__sim_tick_metrics(struct ag__sim *s);
void ag__sim_tick_metrics(struct ag__sim *s)
{
    while (s->now >= s->next_density) {
        density_sample(s, s->next_density);
        s->next_density += 3600;
    }
}

static cJSON *attendance(struct ag__sim *s)
{
    cJSON *o = cJSON_CreateObject();

    for (int f = 0; f < s->w.nfacts; f++) {
        const struct ag__sim_fact *fa = &s->w.facts[f];
        cJSON *e = cJSON_CreateObject(), *att = cJSON_CreateArray(), *p;
        cJSON *during = cJSON_CreateArray();
        cJSON *pres = cJSON_GetObjectItemCaseSensitive(s->presence, fa->id);
        if (fa->place < 0) {
            cJSON_Delete(e);
            cJSON_Delete(att);
            cJSON_Delete(during);
            continue;
        }
        cJSON_ArrayForEach(p, pres)
        {
            const char *name = ag_json_str(p, "agent");
            const char *left = ag_json_str(p, "to");
            int dup = 0;
            const cJSON *q;
            if (ag__sim_parse_time(ag_json_str(p, "from")) >= fa->to ||
                (left && ag__sim_parse_time(left) <= fa->from))
                continue; /* there before or after it, not during */
            cJSON_AddItemToArray(during, cJSON_Duplicate(p, 1));
            cJSON_ArrayForEach(q, att) dup |= strcmp(q->valuestring, name) == 0;
            if (!dup)
                cJSON_AddItemToArray(att, cJSON_CreateString(name));
        }
        cJSON_AddItemToObject(e, "place",
                              cJSON_CreateString(s->w.places[fa->place].name));
        cJSON_AddItemToObject(e, "attendees", att);
        cJSON_AddItemToObject(e, "present", during);
        cJSON_AddItemToObject(o, fa->id, e);
    }
    return o;
}

static void add_usage(cJSON *usage, const char *name,
                      const struct ag__sim_usage *u)
{
    cJSON *o;

    if (!u->calls && !u->cache_hits)
        return;
    o = cJSON_AddObjectToObject(usage, name);
    cJSON_AddNumberToObject(o, "calls", (double)u->calls);
    cJSON_AddNumberToObject(o, "cache_hits", (double)u->cache_hits);
    cJSON_AddNumberToObject(o, "tokens_in", (double)u->tokens_in);
    cJSON_AddNumberToObject(o, "tokens_out", (double)u->tokens_out);
    cJSON_AddNumberToObject(o, "ms", u->ms);
    cJSON_AddNumberToObject(o, "mean_ms", u->calls ? u->ms / u->calls : 0);
    cJSON_AddNumberToObject(o, "cache_hit_rate",
                            (double)u->cache_hits /
                                (double)(u->calls + u->cache_hits));
    cJSON_AddNumberToObject(o, "cost", u->cost);
    cJSON_AddNumberToObject(o, "failures", (double)u->failures);
    cJSON_AddNumberToObject(o, "retries", (double)u->retries);
}

static int write_memories(struct ag__sim *s)
{
    int rc = 0;

    for (int i = 0; i < s->nagents && !rc; i++) {
        const struct ag__sim_stream *m = &s->agents[i].mem;
        char *path =
            ag_xasprintf("%s/memory/%s.jsonl", s->out, s->w.personas[i].name);
        struct ag_buf b;

        ag_buf_init(&b, (size_t)-1 / 4);
        for (int k = 0; k < m->n; k++) {
            cJSON *o = cJSON_CreateObject(), *ev;
            char c[20], a[20];
            ag__sim_fmt_time(m->m[k].created, c);
            ag__sim_fmt_time(m->m[k].accessed, a);
            cJSON_AddNumberToObject(o, "id", m->m[k].id);
            cJSON_AddStringToObject(o, "kind",
                                    ag__sim_mem_kind_name(m->m[k].kind));
            cJSON_AddStringToObject(o, "text", m->m[k].text);
            cJSON_AddNumberToObject(o, "importance", m->m[k].importance);
            cJSON_AddStringToObject(o, "created", c);
            cJSON_AddStringToObject(o, "accessed", a);
            ev = cJSON_AddArrayToObject(o, "evidence");
            for (int e = 0; e < m->m[k].nevidence; e++)
                cJSON_AddItemToArray(ev,
                                     cJSON_CreateNumber(m->m[k].evidence[e]));
            ag_json_canonical(o, &b);
            ag_buf_addc(&b, '\n');
            cJSON_Delete(o);
        }
        rc = ag_write_file(path, b.data ? b.data : "", b.len);
        ag_buf_free(&b);
        free(path);
    }
    return rc;
}

void ag__sim_light_hint(const char *dir, char *err, size_t errlen)
{
    char *path = ag_xasprintf("%s/metrics.json", dir), *data;
    size_t n = strlen(err);

    if (ag_read_file(path, 64u << 20, &data, NULL) == 0) {
        cJSON *m = cJSON_Parse(data);
        if (cJSON_GetObjectItemCaseSensitive(m, "light") && n < errlen)
            snprintf(err + n, errlen - n,
                     " (%s holds a run of light agents: its figures are in "
                     "metrics.json; view and interview are for full "
                     "simulations)",
                     dir);
        cJSON_Delete(m);
        free(data);
    }
    free(path);
}

int ag__sim_out_close(struct ag__sim *s, char *err, size_t errlen)
{
    cJSON *m = cJSON_CreateObject(), *facts, *rel, *edges, *usage;
    const char *what = "timeline.jsonl";
    int rc = 0, r;

    if (!s->timeline)
        return 0;
    if (s->now > s->next_density - 3600) /* and where the run ended */
        density_sample(s, s->now);
    facts = cJSON_AddObjectToObject(m, "facts");
    for (int f = 0; f < s->w.nfacts; f++) {
        cJSON *o = cJSON_AddObjectToObject(facts, s->w.facts[f].id);
        cJSON_AddItemToObject(o, "holders",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(
                                                  s->holders, s->w.facts[f].id),
                                              1));
        cJSON_AddItemToObject(o, "curve",
                              cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(
                                                  s->curves, s->w.facts[f].id),
                                              1));
    }
    rel = cJSON_AddObjectToObject(m, "relations");
    edges = cJSON_AddArrayToObject(rel, "edges");
    for (int a = 0; a < s->nagents; a++)
        for (int b = a + 1; b < s->nagents; b++) {
            cJSON *e;
            int known = s->w.knows[a * s->w.npersonas + b];
            if (!s->agents[a].chats[b] && !known)
                continue;
            e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "a", s->w.personas[a].name);
            cJSON_AddStringToObject(e, "b", s->w.personas[b].name);
            cJSON_AddNumberToObject(e, "chats", s->agents[a].chats[b]);
            cJSON_AddBoolToObject(e, "known_at_start", known);
            cJSON_AddItemToArray(edges, e);
        }
    cJSON_AddItemToObject(rel, "density", cJSON_Duplicate(s->density, 1));
    cJSON_AddItemToObject(m, "events", attendance(s));
    usage = cJSON_AddObjectToObject(m, "usage");
    for (int k = 0; k < AG__SIM_KINDS; k++)
        add_usage(usage, ag__sim_kind_name(k), &s->usage[k]);
    add_usage(usage, "embeddings", &s->eusage);
    if (s->stopping)
        cJSON_AddStringToObject(m, "stopped", s->stop_reason);
    if (fclose(s->timeline) != 0)
        rc = -errno;
    else if (s->out_errno)
        rc = -s->out_errno;
    s->timeline = NULL;
    /* each file is written even when one before failed */
    if ((r = ag__sim_write_json(s->out, "metrics.json", m)) < 0 && !rc) {
        rc = r;
        what = "metrics.json";
    }
    if ((r = write_memories(s)) < 0 && !rc) {
        rc = r;
        what = "memory/";
    }
    if (rc < 0)
        snprintf(err, errlen, "%s/%s: cannot write: %s", s->out, what,
                 strerror(-rc));
    cJSON_Delete(m);
    cJSON_Delete(s->holders);
    cJSON_Delete(s->curves);
    cJSON_Delete(s->presence);
    cJSON_Delete(s->density);
    return rc;
}
