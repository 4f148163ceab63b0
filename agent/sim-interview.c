/*
 * sim-interview.c: `agent sim interview DIR AGENT "question"`: asks an agent
 * of a finished (or stopped) run a question, as the paper's authors
 * interviewed theirs. Everything comes from the run's files, so the run need
 * not be repeated: the persona from world.json, the memory stream from
 * memory/AGENT.jsonl (retrieved for the question with the run's weights),
 * what the agent holds and from whom from metrics.json, its plan and place
 * at the end from timeline.jsonl. With --at TIME, the agent as it was then:
 * facts learned, memories made, plans and conversations up to TIME. The prompt
 * is the "interview" template and goes through the same gateway as the run's
 * calls (cache, audit log: the question and answer are appended to the run's
 * audit.jsonl, whose recorded embeddings are used again).
 *
 * The answer names the facts it relies on; each is checked against the
 * agent's provenance: held from the start, or told by someone (and the
 * chain back to the seed), with the memories that mention it. A fact the
 * agent never held, an id no world fact has, or a "yes" that cites nothing
 * is reported as unsupported: a hallucination.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "json.h"
#include "sim-private.h"

static cJSON *read_json(const char *dir, const char *name, char *err,
                        size_t errlen)
{
    char *path = ag_xasprintf("%s/%s", dir, name), *data;
    size_t n;
    int rc = ag_read_file(path, (size_t)256 << 20, &data, &n);
    cJSON *v = NULL;

    if (rc < 0)
        snprintf(err, errlen, "%s: %s", path, ag_strerror(rc));
    else if (!(v = cJSON_ParseWithLength(data, n)))
        snprintf(err, errlen, "%s: not valid JSON", path);
    if (rc >= 0)
        free(data);
    free(path);
    return v;
}

/* Calls fn for each JSON line of dir/name; a missing file is no lines. */
static int each_line(const char *dir, const char *name,
                     void (*fn)(const cJSON *rec, void *ud), void *ud,
                     char *err, size_t errlen)
{
    char *path = ag_xasprintf("%s/%s", dir, name), *data, *line, *save = NULL;
    size_t n;
    int rc = ag_read_file(path, (size_t)1 << 31, &data, &n), lineno = 0;

    if (rc == -ENOENT) {
        free(path);
        return 0;
    }
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", path, ag_strerror(rc));
        free(path);
        return rc;
    }
    for (line = strtok_r(data, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        cJSON *rec = cJSON_Parse(line);
        lineno++;
        if (!rec) { /* a torn last line is what a crash leaves: skip it */
            ag_warn("%s:%d: not valid JSON; skipped", path, lineno);
            continue;
        }
        fn(rec, ud);
        cJSON_Delete(rec);
    }
    free(data);
    free(path);
    return 0;
}

/* ---- what the timeline says about the agent at the end ------------------ */

struct last_state {
    const char *agent;
    int64_t at; /* events after this are not read; -1: none */
    char place[256], now[20], date[11];
    cJSON *plan;  /* the day plan items of the last day, and those added */
    cJSON *chats; /* with --at: partner -> conversations so far */
};

static void on_event(const cJSON *e, void *ud)
{
    struct last_state *ls = ud;
    const char *t = ag_json_str(e, "t"), *type = ag_json_str(e, "type");
    const char *who = ag_json_str(e, "agent");

    if (ls->at >= 0 && (!t || ag__sim_parse_time(t) > ls->at))
        return;
    if (t && strlen(t) >= 16) {
        snprintf(ls->now, sizeof ls->now, "%.16s", t);
    }
    if (ls->chats && type && strcmp(type, "chat.start") == 0 && who) {
        const char *with = ag_json_str(e, "with");
        const char *other = !strcmp(who, ls->agent)            ? with
                            : with && !strcmp(with, ls->agent) ? who
                                                               : NULL;
        cJSON *c =
            other ? cJSON_GetObjectItemCaseSensitive(ls->chats, other) : NULL;
        if (c)
            cJSON_SetNumberValue(c, c->valuedouble + 1);
        else if (other)
            cJSON_AddNumberToObject(ls->chats, other, 1);
    }
    if (!who || !type || strcmp(who, ls->agent) != 0)
        return;
    if (strcmp(type, "move") == 0 && ag_json_str(e, "to"))
        snprintf(ls->place, sizeof ls->place, "%s", ag_json_str(e, "to"));
    if (strcmp(type, "plan") == 0) {
        const char *kind = ag_json_str(e, "kind");
        const cJSON *items = cJSON_GetObjectItemCaseSensitive(e, "items"), *it;
        if (!kind || (strcmp(kind, "day") != 0 && strcmp(kind, "added") != 0))
            return;
        if (strcmp(kind, "day") == 0) {
            cJSON_Delete(ls->plan);
            ls->plan = cJSON_CreateArray();
            snprintf(ls->date, sizeof ls->date, "%.10s", t ? t : "");
        }
        cJSON_ArrayForEach(it, items) if (cJSON_IsString(it))
            cJSON_AddItemToArray(ls->plan, cJSON_Duplicate(it, 0));
    }
}

/* ---- memories ----------------------------------------------------------- */

struct mem_load {
    struct ag__sim *s;
    struct ag__sim_stream *st;
    int64_t at; /* memories made after this are left out; -1: none */
};

static void on_memory(const cJSON *m, void *ud)
{
    struct mem_load *ml = ud;
    int dims = ml->s->w.set.dims, ev[64], nev = 0, id;
    const char *text = ag_json_str(m, "text");
    const cJSON *e;
    float *vec;
    int64_t created = ag__sim_parse_time(ag_json_str(m, "created"));
    int64_t accessed = ag__sim_parse_time(ag_json_str(m, "accessed"));

    if (!text || created < 0 || (ml->at >= 0 && created > ml->at))
        return;
    if (ml->at >= 0 && accessed > ml->at)
        accessed = created; /* its last access before then is not known */
    cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(m, "evidence"))
    {
        if (cJSON_IsNumber(e) && nev < 64)
            ev[nev++] = e->valueint;
    }
    vec = ag_xmalloc(sizeof *vec * (size_t)dims);
    ag__sim_embed(ml->s, text, vec);
    id = ag__sim_mem_add(ml->st, ag__sim_mem_kind(ag_json_str(m, "kind")), text,
                         (int)ag_json_num(m, "importance", 3), created, vec,
                         dims, ev, nev);
    if (accessed >= created)
        ml->st->m[id - 1].accessed = accessed;
    free(vec);
}

/* ---- provenance -----------------------------------------------------------
 */

/* The agent's holder record of the fact (learned by at, when at >= 0). */
static const cJSON *holder_of(const cJSON *metrics, const char *fact,
                              const char *agent, int64_t at)
{
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(
        cJSON_GetObjectItemCaseSensitive(metrics, "facts"), fact);
    const cJSON *h;

    cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(f, "holders"))
    {
        const char *a = ag_json_str(h, "agent");
        if (a && strcmp(a, agent) == 0)
            return at < 0 || ag__sim_parse_time(ag_json_str(h, "t")) <= at
                       ? h
                       : NULL;
    }
    return NULL;
}

static const cJSON *world_fact(const cJSON *world, const char *id)
{
    const cJSON *f;

    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(world, "facts"))
    {
        const char *fid = ag_json_str(f, "id");
        if (fid && strcmp(fid, id) == 0)
            return f;
    }
    return NULL;
}

/* Does text mention the fact: its id as a word, or most of its words? */
static int mentions(const char *text, const char *id, const char *ftext)
{
    char word[64];
    int n = 0, hit = 0;
    const char *p = ftext ? ftext : "";

    if (strstr(text, id))
        return 1;
    while (*p) {
        int len = 0;
        while (*p && !isalnum((unsigned char)*p))
            p++;
        while (isalnum((unsigned char)*p) && len < (int)sizeof word - 1)
            word[len++] = *p++;
        while (isalnum((unsigned char)*p))
            p++;
        word[len] = '\0';
        if (len < 5)
            continue; /* short words say little */
        n++;
        hit += strstr(text, word) != NULL;
    }
    return n > 0 && hit * 3 >= n * 2;
}

/* The provenance of each fact the answer cites, and what is unsupported. */
static cJSON *check(const cJSON *world, const cJSON *metrics,
                    const struct ag__sim_stream *st, const char *agent,
                    int64_t at, const cJSON *answer)
{
    cJSON *rep = cJSON_CreateObject(), *facts, *bad;
    const cJSON *ids = cJSON_GetObjectItemCaseSensitive(answer, "facts"), *id;
    const char *text = ag_json_str(answer, "answer");
    int cited = 0;

    facts = cJSON_AddArrayToObject(rep, "facts");
    bad = cJSON_AddArrayToObject(rep, "unsupported");
    cJSON_ArrayForEach(id, ids)
    {
        const cJSON *wf, *h;
        cJSON *o;
        if (!cJSON_IsString(id))
            continue;
        cited++;
        wf = world_fact(world, id->valuestring);
        h = wf ? holder_of(metrics, id->valuestring, agent, at) : NULL;
        if (!h) {
            cJSON *b = cJSON_CreateObject();
            cJSON_AddStringToObject(b, "fact", id->valuestring);
            cJSON_AddStringToObject(b, "why",
                                    wf ? at >= 0 ? "the agent had not learned "
                                                   "it by then"
                                                 : "the agent never learned it"
                                       : "no fact of the world has this id");
            cJSON_AddItemToArray(bad, b);
            continue;
        }
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "fact", id->valuestring);
        cJSON_AddStringToObject(o, "since", ag_json_str(h, "t"));
        /* the chain of tellers back to the seed */
        {
            cJSON *chain = cJSON_AddArrayToObject(o, "chain");
            const cJSON *cur = h;
            int guard = 0;
            while (cur && ag_json_str(cur, "from") && guard++ < 1000) {
                const char *from = ag_json_str(cur, "from");
                cJSON_AddItemToArray(chain, cJSON_CreateString(from));
                cur = holder_of(metrics, id->valuestring, from, -1);
            }
        }
        {
            cJSON *mems = cJSON_AddArrayToObject(o, "memories");
            for (int i = 0; i < st->n; i++)
                if (mentions(st->m[i].text, id->valuestring,
                             ag_json_str(wf, "text")))
                    cJSON_AddItemToArray(mems, cJSON_CreateNumber(st->m[i].id));
        }
        cJSON_AddItemToArray(facts, o);
    }
    /* "yes, I know" with nothing to stand on */
    if (!cited && text) {
        while (isspace((unsigned char)*text))
            text++;
        if (strncasecmp(text, "yes", 3) == 0 &&
            !isalpha((unsigned char)text[3])) {
            cJSON *b = cJSON_CreateObject();
            cJSON_AddStringToObject(b, "fact", "");
            cJSON_AddStringToObject(b, "why",
                                    "the answer says yes but cites no fact "
                                    "the agent holds");
            cJSON_AddItemToArray(bad, b);
        }
    }
    cJSON_AddBoolToObject(rep, "hallucination", cJSON_GetArraySize(bad) > 0);
    return rep;
}

/* ---- the facts of the prompt ------------------------------------------ */

static cJSON *known_facts(const cJSON *world, const cJSON *metrics,
                          const char *agent, int64_t at)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *f;

    cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(world, "facts"))
    {
        const char *id = ag_json_str(f, "id");
        const cJSON *h = id ? holder_of(metrics, id, agent, at) : NULL;
        const cJSON *ev = cJSON_GetObjectItemCaseSensitive(f, "event");
        cJSON *o;
        if (!h)
            continue;
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "id", id);
        cJSON_AddStringToObject(o, "text", ag_json_str(f, "text"));
        cJSON_AddStringToObject(
            o, "from", ag_json_str(h, "from") ? ag_json_str(h, "from") : "");
        if (ev)
            cJSON_AddItemToObject(o, "event", cJSON_Duplicate(ev, 1));
        cJSON_AddItemToArray(out, o);
    }
    return out;
}

/* How the world file says the two know each other, or "". */
static const char *relation(const cJSON *world, const char *agent,
                            const char *other)
{
    const cJSON *k;
    const char *how = "";

    cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(world, "knows"))
    {
        const char *x = cJSON_GetArrayItem(k, 0)
                            ? cJSON_GetArrayItem(k, 0)->valuestring
                            : NULL;
        const char *y = cJSON_GetArrayItem(k, 1)
                            ? cJSON_GetArrayItem(k, 1)->valuestring
                            : NULL;
        const cJSON *w = cJSON_GetArrayItem(k, 2);
        if (x && y && cJSON_IsString(w) &&
            ((!strcmp(x, agent) && !strcmp(y, other)) ||
             (!strcmp(y, agent) && !strcmp(x, other))))
            how = w->valuestring;
    }
    return how;
}

/* Those known at the start and those talked to by then (--at), in the
 * order of the personas. */
static cJSON *acquaintances_at(const cJSON *world, const cJSON *chats,
                               const char *agent)
{
    cJSON *out = cJSON_CreateArray(), *o;
    const cJSON *p, *k;

    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(world, "personas"))
    {
        const char *other = ag_json_str(p, "name");
        int known = 0;
        if (!other || !strcmp(other, agent))
            continue;
        cJSON_ArrayForEach(k, cJSON_GetObjectItemCaseSensitive(world, "knows"))
        {
            const cJSON *x = cJSON_GetArrayItem(k, 0),
                        *y = cJSON_GetArrayItem(k, 1);
            if (cJSON_IsString(x) && cJSON_IsString(y) &&
                ((!strcmp(x->valuestring, agent) &&
                  !strcmp(y->valuestring, other)) ||
                 (!strcmp(y->valuestring, agent) &&
                  !strcmp(x->valuestring, other))))
                known = 1;
        }
        if (!known && !cJSON_GetObjectItemCaseSensitive(chats, other))
            continue;
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", other);
        cJSON_AddStringToObject(o, "relation", relation(world, agent, other));
        cJSON_AddNumberToObject(o, "chats", ag_json_num(chats, other, 0));
        cJSON_AddItemToArray(out, o);
    }
    return out;
}

static cJSON *acquaintances(const cJSON *world, const cJSON *metrics,
                            const char *agent)
{
    cJSON *out = cJSON_CreateArray();
    const cJSON *e;

    cJSON_ArrayForEach(
        e, cJSON_GetObjectItemCaseSensitive(
               cJSON_GetObjectItemCaseSensitive(metrics, "relations"), "edges"))
    {
        const char *a = ag_json_str(e, "a"), *b = ag_json_str(e, "b");
        const char *other = a && strcmp(a, agent) == 0   ? b
                            : b && strcmp(b, agent) == 0 ? a
                                                         : NULL;
        cJSON *o;
        if (!other)
            continue;
        o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", other);
        cJSON_AddStringToObject(o, "relation", relation(world, agent, other));
        cJSON_AddNumberToObject(o, "chats", ag_json_num(e, "chats", 0));
        cJSON_AddItemToArray(out, o);
    }
    return out;
}

static char *persona_text(const cJSON *p)
{
    return ag_xasprintf(
        "%s (%d): %s. %s %s %s", ag_json_str(p, "name"),
        (int)ag_json_num(p, "age", 0),
        ag_json_str(p, "innate") ? ag_json_str(p, "innate") : "",
        ag_json_str(p, "learned") ? ag_json_str(p, "learned") : "",
        ag_json_str(p, "currently") ? ag_json_str(p, "currently") : "",
        ag_json_str(p, "lifestyle") ? ag_json_str(p, "lifestyle") : "");
}

/* ---- the interview ------------------------------------------------------ */

/* Waits on the loop until agent 0 has its answer (or embedding). */
static cJSON *await(struct ag__sim *s)
{
    cJSON *a;

    ag__sim_flush(s);
    while (!s->agents[0].answer && (s->inflight > 0 || s->queue))
        if (uv_run(s->loop, UV_RUN_ONCE) == 0 && s->inflight == 0)
            ag__sim_flush(s);
    a = s->agents[0].answer;
    s->agents[0].answer = NULL;
    s->agents[0].state = AG__SIM_IDLE;
    s->waiting = 0;
    return a;
}

int ag_sim_interview(const struct ag_sim_interview_opts *o, cJSON **report,
                     char *err, size_t errlen)
{
    struct ag__sim s;
    struct ag__sim_stream st;
    struct last_state ls;
    struct mem_load ml;
    cJSON *world = NULL, *metrics = NULL, *facts = NULL, *answer = NULL;
    const cJSON *p, *persona = NULL;
    char *mempath = NULL, *audit = NULL, *ptext = NULL, *source_dir = NULL;
    float *q = NULL;
    int *idx = NULL, rc = -1, n;

    *report = NULL;
    memset(&s, 0, sizeof s);
    memset(&st, 0, sizeof st);
    memset(&ls, 0, sizeof ls);
    ls.agent = o->agent;
    ls.at = ml.at = -1;
    if (!(world = read_json(o->dir, "world.json", err, errlen)))
        ag__sim_light_hint(o->dir, err, errlen);
    if (!world || !(metrics = read_json(o->dir, "metrics.json", err, errlen)))
        goto out;
    cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(world, "personas"))
    {
        const char *name = ag_json_str(p, "name");
        if (name && strcmp(name, o->agent) == 0)
            persona = p;
    }
    if (!persona) {
        struct ag_buf b;
        ag_buf_init(&b, 1u << 20);
        cJSON_ArrayForEach(p,
                           cJSON_GetObjectItemCaseSensitive(world, "personas"))
        {
            if (b.len)
                ag_buf_adds(&b, ", ");
            ag_buf_adds(&b,
                        ag_json_str(p, "name") ? ag_json_str(p, "name") : "?");
        }
        snprintf(err, errlen, "%s/world.json: no agent \"%s\" (the agents: %s)",
                 o->dir, o->agent, ag_buf_cstr(&b));
        ag_buf_free(&b);
        goto out;
    }

    if (o->at) {
        int64_t start = ag__sim_parse_time(ag_json_str(world, "start"));
        ls.at = ml.at = ag__sim_parse_time(o->at);
        if (ls.at < 0 || ls.at < start) {
            snprintf(err, errlen,
                     "--at %s: not a game time of the run (\"YYYY-MM-DD "
                     "HH:MM\", from its start, %s)",
                     o->at,
                     ag_json_str(world, "start") ? ag_json_str(world, "start")
                                                 : "?");
            goto out;
        }
        ls.chats = cJSON_CreateObject();
    }

    /* the gateway, as the run had it */
    {
        const char *src = ag_json_str(world, "source");
        const char *slash = src ? strrchr(src, '/') : NULL;
        source_dir = slash ? ag_xstrndup(src, (size_t)(slash - src))
                           : ag_xstrdup(o->dir);
    }
    s.w.path = ag_xasprintf("%s/world.json", o->dir);
    s.w.dir = source_dir;
    source_dir = NULL;
    s.w.model = ag_json_str(world, "model")
                    ? ag_xstrdup(ag_json_str(world, "model"))
                    : NULL;
    s.w.json = world;
    ag__sim_settings_load(cJSON_GetObjectItemCaseSensitive(world, "settings"),
                          &s.w.set);
    s.loop = uv_default_loop();
    s.base_url = o->base_url;
    s.sim_dir = ag__sim_dir();
    s.nagents = 1;
    s.agents = ag_xcalloc(1, sizeof *s.agents);
    ag_new_id(s.run);
    if (ag__sim_llm_init(&s, o->model, err, errlen) < 0)
        goto out;
    if (!s.script && ag_http_new(s.loop, &s.http) < 0) {
        snprintf(err, errlen, "cannot start the HTTP client");
        goto out;
    }
    audit = ag_xasprintf("%s/audit.jsonl", o->dir);
    if (access(audit, R_OK) == 0 &&
        ag__sim_llm_preload(&s, audit, err, errlen) < 0)
        goto out;
    if (ag_audit_open(s.loop, audit, NULL, NULL, &s.audit, err, errlen) < 0)
        goto out;

    /* the end of the run, and the agent's memory */
    if (each_line(o->dir, "timeline.jsonl", on_event, &ls, err, errlen) < 0)
        goto out;
    if (!ls.place[0])
        snprintf(ls.place, sizeof ls.place, "%s",
                 ag_json_str(persona, "at") ? ag_json_str(persona, "at") : "");
    if (!ls.now[0])
        snprintf(ls.now, sizeof ls.now, "%s",
                 ag_json_str(world, "start") ? ag_json_str(world, "start")
                                             : "");
    if (ls.at >= 0) {
        ag__sim_fmt_time(ls.at, ls.now);
        ls.now[16] = '\0'; /* "YYYY-MM-DD HH:MM", as the events give it */
    }
    s.now = ag__sim_parse_time(ls.now);
    ml.s = &s;
    ml.st = &st;
    mempath = ag_xasprintf("memory/%s.jsonl", o->agent);
    if (each_line(o->dir, mempath, on_memory, &ml, err, errlen) < 0)
        goto out;

    /* the memories that matter for the question */
    q = ag_xmalloc(sizeof *q * (size_t)s.w.set.dims);
    if (!ag__sim_embed_need(&s, 0, o->question))
        cJSON_Delete(await(&s));
    ag__sim_embed(&s, o->question, q);
    idx = ag_xmalloc(sizeof *idx * (size_t)s.w.set.retrieve);
    n = ag__sim_mem_retrieve(&st, q, s.w.set.dims, s.now, &s.w.set,
                             s.w.set.retrieve, idx);

    facts = cJSON_CreateObject();
    ptext = persona_text(persona);
    cJSON_AddStringToObject(facts, "agent", o->agent);
    cJSON_AddStringToObject(facts, "persona", ptext);
    cJSON_AddStringToObject(facts, "now", ls.now);
    cJSON_AddStringToObject(facts, "place", ls.place);
    cJSON_AddStringToObject(
        facts, "home",
        ag_json_str(persona, "home") ? ag_json_str(persona, "home") : "");
    cJSON_AddStringToObject(facts, "question", o->question);
    cJSON_AddItemToObject(facts, "known_facts",
                          known_facts(world, metrics, o->agent, ls.at));
    {
        cJSON *mems = cJSON_AddArrayToObject(facts, "memories");
        for (int i = 0; i < n; i++) {
            cJSON *m = cJSON_CreateObject();
            cJSON_AddNumberToObject(m, "id", st.m[idx[i]].id);
            cJSON_AddStringToObject(m, "text", st.m[idx[i]].text);
            cJSON_AddItemToArray(mems, m);
        }
    }
    cJSON_AddItemToObject(facts, "plan",
                          ls.plan ? cJSON_Duplicate(ls.plan, 1)
                                  : cJSON_CreateArray());
    cJSON_AddItemToObject(facts, "acquaintances",
                          ls.chats ? acquaintances_at(world, ls.chats, o->agent)
                                   : acquaintances(world, metrics, o->agent));

    if (ag__sim_ask(&s, 0, "interview", facts, &answer) == 0)
        answer = await(&s);
    if (!answer) {
        snprintf(err, errlen, "the model gave no answer");
        goto out;
    }
    *report = check(world, metrics, &st, o->agent, ls.at, answer);
    cJSON_AddStringToObject(*report, "agent", o->agent);
    cJSON_AddStringToObject(*report, "question", o->question);
    cJSON_AddStringToObject(
        *report, "answer",
        ag_json_str(answer, "answer") ? ag_json_str(answer, "answer") : "");
    cJSON_AddStringToObject(*report, "at", ls.now);
    ag_audit_write(s.audit, s.run, 1, 0, "sim.interview",
                   cJSON_Duplicate(*report, 1));
    rc = 0;
out:
    if (s.http)
        ag_http_close(s.http);
    if (s.loop)
        uv_run(s.loop, UV_RUN_DEFAULT); /* the audit log's writes finish */
    if (s.audit && ag_audit_close(s.audit) < 0 && rc == 0) {
        snprintf(err, errlen, "%s/audit.jsonl: cannot write", o->dir);
        rc = -1;
    }
    cJSON_Delete(answer);
    cJSON_Delete(facts);
    cJSON_Delete(ls.plan);
    cJSON_Delete(ls.chats);
    ag__sim_stream_free(&st);
    free(q);
    free(idx);
    free(ptext);
    free(mempath);
    free(audit);
    if (s.agents) {
        cJSON_Delete(s.agents[0].answer);
        free(s.agents);
    }
    ag__sim_llm_free(&s);
    free(s.sim_dir);
    free(s.w.path);
    free(s.w.dir);
    free(s.w.model);
    cJSON_Delete(metrics);
    cJSON_Delete(world);
    return rc;
}
