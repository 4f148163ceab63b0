/*
 * sim-engine.c: the game clock and the agents (see sim.h). Each full agent
 * is a Lua coroutine running sim/cognition.lua; it yields to wait (for game
 * time to pass, or for something to happen near it) or to ask the model.
 *
 * The engine works in rounds. A round takes every agent due at the
 * earliest game time T, in agent order, and resumes each until it yields.
 * The model calls they made are then sent together (identical ones once,
 * at most `concurrency` at a time) and, when all are answered, the agents
 * are resumed again, in agent order, with their answers; this repeats until
 * no agent of the round waits for the model. So the order in which answers
 * arrive never matters: the same world, seed and model answers give the
 * same run, byte for byte. Something that happens near an idle agent (an
 * arrival, being spoken to) wakes it in a later round at the same T.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "json.h"
#include "sim-private.h"

void ag__sim_tick_metrics(struct ag__sim *s);

/* ---- the queue: a binary heap of (time, seq) --------------------------- */

static int before(const struct ag__sim_qitem *a, const struct ag__sim_qitem *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void heap_push(struct ag__sim *s, struct ag__sim_qitem it)
{
    int i;

    if (s->nheap == s->capheap) {
        s->capheap = s->capheap ? s->capheap * 2 : 64;
        s->heap = ag_xrealloc(s->heap, sizeof *s->heap * (size_t)s->capheap);
    }
    i = s->nheap++;
    while (i > 0 && before(&it, &s->heap[(i - 1) / 2])) {
        s->heap[i] = s->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    s->heap[i] = it;
}

static struct ag__sim_qitem heap_pop(struct ag__sim *s)
{
    struct ag__sim_qitem top = s->heap[0], last = s->heap[--s->nheap];
    int i = 0;

    for (;;) {
        int c = 2 * i + 1;
        if (c >= s->nheap)
            break;
        if (c + 1 < s->nheap && before(&s->heap[c + 1], &s->heap[c]))
            c++;
        if (!before(&s->heap[c], &last))
            break;
        s->heap[i] = s->heap[c];
        i = c;
    }
    if (s->nheap)
        s->heap[i] = last;
    return top;
}

void ag__sim_schedule(struct ag__sim *s, int agent, int64_t t)
{
    struct ag__sim_qitem it = {t, ++s->qseq, agent};

    s->agents[agent].wake = t;
    heap_push(s, it);
}

void ag__sim_wake_place(struct ag__sim *s, int place, int except)
{
    for (int i = 0; i < s->nagents; i++) {
        struct ag__sim_agent *a = &s->agents[i];
        if (i == except || a->place != place || !a->wake_events ||
            a->state != AG__SIM_IDLE || a->in_chat || a->wake <= s->now)
            continue;
        a->woken = 1;
        a->wake_events = 0;
        ag__sim_schedule(s, i, s->now);
    }
}

uint64_t ag__sim_draw(struct ag__sim *s, int agent, uint32_t purpose)
{
    return ag_sim_rand(s->seed, (uint32_t)agent, purpose,
                       s->agents[agent].draws++);
}

/* ---- resuming agents ---------------------------------------------------- */

extern int ag__sim_cur; /* the agent being resumed (sim-lua.c) */

/* Resumes agent i with nargs values on its stack; handles its yield. */
static void resume(struct ag__sim *s, int i, int nargs)
{
    struct ag__sim_agent *a = &s->agents[i];
    int nres = 0, rc;

    ag__sim_cur = i;
    rc = lua_resume(a->co, s->L, nargs, &nres);
    ag__sim_cur = -1;
    if (rc == LUA_OK) {
        a->state = AG__SIM_DONE;
        return;
    }
    if (rc != LUA_YIELD) {
        cJSON *f = cJSON_CreateObject();
        const char *m = lua_tostring(a->co, -1);
        luaL_traceback(s->L, a->co, m ? m : "(no message)", 0);
        ag_error("sim: %s: %s", s->w.personas[i].name, lua_tostring(s->L, -1));
        cJSON_AddStringToObject(f, "message", m ? m : "?");
        ag__sim_event(s, i, "error", f);
        lua_pop(s->L, 1);
        a->state = AG__SIM_DONE;
        return;
    }
    /* yielded: "ask" (the answer comes later) or "wait", seconds, events */
    if (nres >= 1 && lua_type(a->co, -nres) == LUA_TSTRING &&
        strcmp(lua_tostring(a->co, -nres), "ask") == 0) {
        a->state = AG__SIM_MODEL;
        lua_pop(a->co, nres);
        return;
    }
    {
        double secs = nres >= 2 ? lua_tonumber(a->co, -nres + 1) : 60;
        int events = nres >= 3 && lua_toboolean(a->co, -nres + 2);
        int64_t d = secs < 1 ? 1 : (int64_t)secs;
        if (s->w.set.tick > 0 && d > s->w.set.tick)
            d = s->w.set.tick; /* lock-step: everyone wakes every tick */
        lua_pop(a->co, nres);
        a->state = AG__SIM_IDLE;
        a->wake_events = events;
        a->woken = 0;
        ag__sim_schedule(s, i, s->now + d);
    }
}

/* Runs the round at s->now: the due agents, then their model answers. */
static void round_at(struct ag__sim *s, int *due, int ndue)
{
    for (int k = 0; k < ndue; k++) {
        struct ag__sim_agent *a = &s->agents[due[k]];
        if (!a->started) { /* cognition(agent number) */
            a->started = 1;
            lua_pushinteger(a->co, due[k] + 1);
        } else {
            lua_pushboolean(a->co, a->woken);
        }
        a->woken = 0;
        resume(s, due[k], 1);
    }
    /* s->waiting counts the agents that yielded for an answer: send what
     * the round asked, wait for all of it, then resume those answered, in
     * agent order; they may ask again */
    while (s->waiting > 0) {
        int resumed = 0;
        ag__sim_flush(s);
        while (s->inflight > 0)
            uv_run(s->loop, UV_RUN_ONCE);
        for (int i = 0; i < s->nagents; i++) {
            struct ag__sim_agent *a = &s->agents[i];
            if (a->state != AG__SIM_MODEL || !a->answer)
                continue;
            ag_json_push(a->co, a->answer);
            cJSON_Delete(a->answer);
            a->answer = NULL;
            s->waiting--;
            resumed++;
            resume(s, i, 1);
        }
        if (!resumed && s->inflight == 0 && !s->queue && !s->nepending) {
            /* cannot happen; if it does, say so rather than spin */
            ag_error("sim: %d agents wait for answers that nothing will "
                     "give; they are stopped",
                     s->waiting);
            for (int i = 0; i < s->nagents; i++)
                if (s->agents[i].state == AG__SIM_MODEL)
                    s->agents[i].state = AG__SIM_DONE;
            s->waiting = 0;
        }
    }
}

static int by_int(const void *x, const void *y)
{
    return *(const int *)x - *(const int *)y;
}

static void progress(struct ag__sim *s)
{
    char t[20];
    long calls = 0, hits = 0, tok = 0;
    double cost = 0;
    int awake = 0;

    for (int k = 0; k < AG__SIM_KINDS; k++) {
        calls += s->usage[k].calls;
        hits += s->usage[k].cache_hits;
        tok += s->usage[k].tokens_in + s->usage[k].tokens_out;
        cost += s->usage[k].cost;
    }
    for (int i = 0; i < s->nagents; i++) {
        const struct ag__sim_agent *a = &s->agents[i];
        awake += a->state != AG__SIM_DONE &&
                 !(a->activity && strstr(a->activity, "sleep"));
    }
    ag__sim_fmt_time(s->now, t);
    fprintf(stderr,
            "\r%.16s · %d of %d agents awake · %ld model calls · %ld cache "
            "hits · %ld tokens · $%.4f  ",
            t, awake, s->nagents, calls, hits, tok, cost);
    fflush(stderr);
}

void ag__sim_audit(struct ag__sim *s, int agent, const char *type, cJSON *data)
{
    if (ag_audit_write(s->audit, s->run, (unsigned)agent + 1, 0, type, data) <
            0 &&
        !s->stopping) {
        snprintf(s->stop_reason, sizeof s->stop_reason,
                 "cannot write %s/audit.jsonl", s->out);
        s->stopping = 1;
    }
}

static int limits_hit(struct ag__sim *s)
{
    const struct ag__sim_settings *st = &s->w.set;

    if (s->stopping)
        return 1;
    if (st->max_calls > 0 && s->new_calls >= st->max_calls)
        snprintf(s->stop_reason, sizeof s->stop_reason,
                 "model call limit reached (%ld)", st->max_calls);
    else if (st->max_tokens > 0 && s->new_tokens >= st->max_tokens)
        snprintf(s->stop_reason, sizeof s->stop_reason,
                 "token limit reached (%ld)", st->max_tokens);
    else if (st->max_cost > 0 && s->new_cost >= st->max_cost)
        snprintf(s->stop_reason, sizeof s->stop_reason,
                 "cost limit reached ($%.4f)", st->max_cost);
    else
        return 0;
    s->stopping = 1;
    return 1;
}

int ag__sim_loop(struct ag__sim *s);
int ag__sim_loop(struct ag__sim *s)
{
    int *due = ag_xmalloc(sizeof *due * (size_t)(s->nagents + 1));
    uint64_t last_progress = 0;

    s->next_density = s->w.start;
    while (s->nheap > 0) {
        int64_t t = s->heap[0].t;
        int ndue = 0;

        if (t > s->until)
            break;
        s->now = t;
        ag__sim_tick_metrics(s);
        while (s->nheap > 0 && s->heap[0].t == t) {
            struct ag__sim_qitem it = heap_pop(s);
            struct ag__sim_agent *a = &s->agents[it.agent];
            int dup = 0;
            if (a->state != AG__SIM_IDLE || a->in_chat || a->wake != t)
                continue; /* stale: rescheduled, busy or done */
            for (int k = 0; k < ndue; k++)
                dup |= due[k] == it.agent;
            if (!dup)
                due[ndue++] = it.agent;
        }
        qsort(due, (size_t)ndue, sizeof *due, by_int);
        round_at(s, due, ndue);
        if (limits_hit(s))
            break;
        if (s->progress && ag_now_ns() - last_progress > 200000000u) {
            progress(s);
            last_progress = ag_now_ns();
        }
    }
    if (s->progress) {
        progress(s);
        fputc('\n', stderr);
    }
    free(due);
    return s->stopping ? 1 : 0;
}

/* ---- a whole run -------------------------------------------------------- */

char *ag__sim_dir(void)
{
    const char *env = getenv("AGENT_SIM_DIR");

    if (env && *env)
        return ag_xstrdup(env);
    return ag_xstrdup(access(AG_SIM_DIR "/cognition.lua", R_OK) == 0
                          ? AG_SIM_DIR
                          : AG_SRC_SIM_DIR);
}

static void agents_init(struct ag__sim *s)
{
    int n = s->w.npersonas;

    s->nagents = n;
    s->agents = ag_xcalloc((size_t)n, sizeof *s->agents);
    for (int i = 0; i < n; i++) {
        struct ag__sim_agent *a = &s->agents[i];
        a->id = i;
        a->place = s->w.personas[i].start;
        a->knows = ag_xcalloc((size_t)s->w.nfacts + 1, 1);
        a->teller = ag_xcalloc((size_t)s->w.nfacts + 1, sizeof *a->teller);
        a->after_chat = -1;
        a->chat_end = ag_xcalloc((size_t)n, sizeof *a->chat_end);
        a->chats = ag_xcalloc((size_t)n, sizeof *a->chats);
        a->state = AG__SIM_IDLE;
    }
}

static void agents_free(struct ag__sim *s)
{
    for (int i = 0; i < s->nagents; i++) {
        struct ag__sim_agent *a = &s->agents[i];
        free(a->activity);
        free(a->knows);
        free(a->teller);
        free(a->chat_end);
        free(a->chats);
        cJSON_Delete(a->answer);
        ag__sim_stream_free(&a->mem);
    }
    free(s->agents);
}

/* Returns 0 or a negative errno (the old checkpoint, if any, is kept). */
static int write_checkpoint(struct ag__sim *s)
{
    cJSON *c = cJSON_CreateObject();
    char t[20];
    int rc;

    ag__sim_fmt_time(s->now, t);
    cJSON_AddStringToObject(c, "world", s->w.path);
    cJSON_AddNumberToObject(c, "seed", (double)s->seed);
    cJSON_AddStringToObject(c, "stopped_at", t);
    cJSON_AddStringToObject(c, "reason", s->stop_reason);
    cJSON_AddNumberToObject(c, "events", (double)s->tseq);
    cJSON_AddStringToObject(c, "audit", "audit.jsonl");
    if (s->set)
        cJSON_AddItemToObject(c, "set", cJSON_Duplicate(s->set, 1));
    ag__sim_fmt_time(s->until, t);
    cJSON_AddStringToObject(c, "until", t);
    rc = ag__sim_write_json(s->out, "checkpoint.json", c);
    cJSON_Delete(c);
    return rc;
}

/* --resume: the checkpoint of the run in o->out (it stopped at a limit),
 * or NULL with a message. */
static cJSON *read_checkpoint(const struct ag_sim_opts *o, char *err,
                              size_t errlen)
{
    char *path = ag_xasprintf("%s/checkpoint.json", o->out), *data;
    cJSON *c;
    int rc = ag_read_file(path, 1u << 20, &data, NULL);

    if (rc < 0) {
        snprintf(err, errlen,
                 "%s: %s: nothing to resume (a run leaves a "
                 "checkpoint only when a limit stops it)",
                 path, ag_strerror(rc));
        free(path);
        return NULL;
    }
    c = cJSON_Parse(data);
    free(data);
    if (!cJSON_IsObject(c) ||
        !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(c, "seed"))) {
        snprintf(err, errlen, "%s: not a checkpoint", path);
        cJSON_Delete(c);
        c = NULL;
    }
    free(path);
    return c;
}

/* The settings for the world loader: the checkpoint's (when resuming), then
 * --set's; NULL when none. Returns -1 with a message on a malformed --set. */
static int settings_set(const struct ag_sim_opts *o, cJSON *cp, cJSON **out,
                        char *err, size_t errlen)
{
    cJSON *set = cJSON_DetachItemFromObjectCaseSensitive(cp, "set");

    for (int i = 0; i < o->nsets; i++) {
        if (!set)
            set = cJSON_CreateObject();
        if (ag_json_set_path(set, o->sets[i]) < 0) {
            snprintf(err, errlen,
                     "--set %s: expected KEY=VALUE, KEY a setting of the "
                     "world (memory, attention, weights.recency, ...)",
                     o->sets[i]);
            cJSON_Delete(set);
            return -1;
        }
    }
    *out = set;
    return 0;
}

/* ---- light agents ------------------------------------------------------ */

static void light_progress(const struct ag_sim_light *w, void *ud)
{
    struct ag_sim_light_stats st;

    (void)ud;
    ag_sim_light_stats(w, &st);
    fprintf(stderr, "\r%llu events, %u of %u agents informed, game second %u",
            (unsigned long long)st.events, st.informed, st.agents, st.now);
    if (st.done)
        fputc('\n', stderr);
}

/* A world of light agents: sim-light-set.c reads the world file itself. */
static int run_light(const struct ag_sim_opts *o, struct ag_sim_result *res,
                     char *err, size_t errlen)
{
    struct ag_sim_light_opts lo = {.world = o->world,
                                   .seed = o->seed,
                                   .out_dir = o->out,
                                   .progress =
                                       o->progress ? light_progress : NULL};
    struct ag_sim_light_stats st;
    int rc;

    if (o->resume || o->replay || o->tick >= 0 || o->model || o->nsets) {
        snprintf(err, errlen,
                 "%s: a world of light agents makes no model calls and keeps "
                 "no checkpoint: --resume, --replay, --tick, --model and "
                 "--set do not apply",
                 o->world);
        return 2;
    }
    if (o->until) {
        struct ag__sim_world w;
        int64_t until = ag__sim_parse_time(o->until), start;

        memset(&w, 0, sizeof w);
        if (ag__sim_world_load(o->world, NULL, &w, err, errlen) < 0) {
            ag__sim_world_free(&w);
            return 2;
        }
        start = w.start;
        ag__sim_world_free(&w);
        if (until <= start || until - start > UINT32_MAX) {
            snprintf(err, errlen,
                     "--until must be a game time after the "
                     "start (\"YYYY-MM-DD HH:MM\")");
            return 2;
        }
        lo.until = (uint32_t)(until - start);
    }
    rc = ag_sim_light_run(NULL, &lo, &st, err, errlen);
    if (rc < 0)
        return 2;
    res->events = (long)st.events;
    res->now = (int64_t)st.now;
    return 0;
}

int ag_sim_run(const struct ag_sim_opts *o, struct ag_sim_result *res,
               char *err, size_t errlen)
{
    struct ag__sim s;
    char *audit_path = NULL;
    cJSON *cp = NULL;
    int rc, status = 0;

    memset(&s, 0, sizeof s);
    memset(res, 0, sizeof *res);
    if (o->resume && !(cp = read_checkpoint(o, err, errlen)))
        return 2;
    if (settings_set(o, cp, &s.set, err, errlen) < 0 ||
        (rc = ag__sim_world_load(o->world, s.set, &s.w, err, errlen)) < 0) {
        cJSON_Delete(s.set);
        cJSON_Delete(cp);
        return 2;
    }
    if (s.w.light) {
        ag__sim_world_free(&s.w);
        cJSON_Delete(s.set);
        cJSON_Delete(cp);
        return run_light(o, res, err, errlen);
    }
    if (s.w.npersonas == 0) {
        snprintf(err, errlen, "%s: no personas to simulate", o->world);
        ag__sim_world_free(&s.w);
        cJSON_Delete(s.set);
        cJSON_Delete(cp);
        return 2;
    }
    if (o->tick >= 0)
        s.w.set.tick = o->tick;
    s.loop = uv_default_loop();
    s.base_url = o->base_url;
    s.seed = o->seed;
    s.progress = o->progress;
    s.out = ag_xstrdup(o->out);
    s.sim_dir = ag__sim_dir();
    s.t_start_ns = ag_now_ns();
    s.now = s.w.start;
    s.until = o->until ? ag__sim_parse_time(o->until) : s.w.start + 86400;
    if (cp) { /* the seed and end the run had (an --until given now wins) */
        s.seed = (uint64_t)ag_json_num(cp, "seed", 1);
        if (!o->until && ag_json_str(cp, "until"))
            s.until = ag__sim_parse_time(ag_json_str(cp, "until"));
    }
    if (s.until < s.w.start) {
        snprintf(err, errlen,
                 "--until must be a game time after the start "
                 "(\"YYYY-MM-DD HH:MM\")");
        status = 2;
        goto out;
    }
    ag_new_id(s.run);
    agents_init(&s);
    if ((rc = ag__sim_llm_init(&s, o->model, err, errlen)) < 0) {
        status = 2;
        goto out;
    }
    if (!s.script && (rc = ag_http_new(s.loop, &s.http)) < 0) {
        snprintf(err, errlen, "cannot start the HTTP client: %s",
                 ag_strerror(rc));
        status = 2;
        goto out;
    }
    if ((rc = ag__sim_out_open(&s, err, errlen)) < 0) {
        status = 2;
        goto out;
    }
    /* a resumed run answers from the log it wrote before, and goes on
     * writing it; a new run starts a new one */
    audit_path = ag_xasprintf("%s/audit.jsonl", s.out);
    if (o->resume) {
        if (ag__sim_llm_preload(&s, audit_path, err, errlen) < 0) {
            status = 2;
            goto out;
        }
    } else {
        unlink(audit_path);
    }
    if (o->replay && ag__sim_llm_preload(&s, o->replay, err, errlen) < 0) {
        status = 2;
        goto out;
    }
    if ((rc = ag_audit_open(s.loop, audit_path, NULL, NULL, &s.audit, err,
                            errlen)) < 0) {
        status = 2;
        goto out;
    }
    if ((rc = ag__sim_lua_open(&s, err, errlen)) < 0) {
        status = 2;
        goto out;
    }
    for (int f = 0; f < s.w.nfacts; f++)
        ag__sim_learned(&s, s.w.facts[f].holder, f, -1);
    for (int i = 0; i < s.nagents; i++)
        ag__sim_schedule(&s, i, s.w.start);
    status = ag__sim_loop(&s);
    if (o->replay_strict && s.new_calls > 0) {
        snprintf(err, errlen,
                 "replay: %ld model calls were not in the log (the run "
                 "diverged from it)",
                 s.new_calls);
        status = 1;
    }
    if (status == 0) {
        char *done = ag_xasprintf("%s/checkpoint.json", s.out);
        unlink(done); /* done: nothing left to resume */
        free(done);
    }
    if (status == 1 && s.stopping) {
        if ((rc = write_checkpoint(&s)) < 0)
            snprintf(err, errlen,
                     "stopped: %s (and the checkpoint cannot be written: "
                     "%s/checkpoint.json: %s)",
                     s.stop_reason, s.out, strerror(-rc));
        else
            snprintf(err, errlen,
                     "stopped: %s (checkpoint in %s/checkpoint.json;"
                     " resume with --resume)",
                     s.stop_reason, s.out);
    }
    res->now = s.now;
    res->calls = s.new_calls;
    for (int k = 0; k < AG__SIM_KINDS; k++) {
        res->cache_hits += s.usage[k].cache_hits;
        res->failures += s.usage[k].failures;
    }
    res->failures += s.eusage.failures;
    res->events = (long)s.tseq;
out:
    if (s.timeline) {
        char cerr[512];
        if (ag__sim_out_close(&s, cerr, sizeof cerr) < 0 && !status) {
            snprintf(err, errlen, "%s", cerr);
            status = 2;
        }
    }
    if (s.L)
        lua_close(s.L);
    if (s.http)
        ag_http_close(s.http);
    uv_run(s.loop, UV_RUN_DEFAULT); /* the audit log's writes finish */
    if (s.audit && ag_audit_close(s.audit) < 0 && !status) {
        snprintf(err, errlen, "%s: cannot write the audit log", audit_path);
        status = 2;
    }
    ag__sim_llm_free(&s);
    agents_free(&s);
    ag__sim_world_free(&s.w);
    cJSON_Delete(s.set);
    cJSON_Delete(cp);
    free(s.heap);
    free(s.out);
    free(s.sim_dir);
    free(audit_path);
    return status;
}
