/*
 * standin-script.c: the reply files of the stand-in. A script file (script
 * mode) lists the replies to play, one per model request; a faults file
 * (Lua mode, --faults) lists the faults to play before or between the Lua
 * model's answers. Both are read and checked at start-up, so that a broken
 * file stops the stand-in (exit 2) with the file, the reply and the reason,
 * instead of failing a test in some obscure way later. Also here: turning a
 * scripted reply into a struct reply, and its delivery options.
 */
#include <stdlib.h>
#include <string.h>

#include "standin.h"

/* ---- the script ----
 * A script file is {"replies": [R1, R2, ...], "repeat_last": false,
 * "embeddings": [E1, ...]} (or just the array of replies). The n-th model
 * request gets Rn, whatever its route; after the last one a 500 "stand-in
 * script exhausted" (or Rlast again with repeat_last). Embeddings requests
 * do not use the replies: the n-th gets En, and once they run out (or when
 * there are none) the computed vectors. An E is a raw answer, a fault, or
 * {} for the vectors, each with the delivery keys; model keys are errors.
 * Each R and E is checked at start-up: unknown keys, wrong types and mixed
 * kinds are errors (exit 2); keys starting with "_" are comments.
 *
 *   model answer: text, tool_calls [{id?, name, arguments?}] (arguments: a
 *       JSON value, or a string sent as it is, valid JSON or not), finish,
 *       usage {input, output}; streaming shape: text_pieces, args_pieces,
 *       omit_done, usage_choices, crlf.
 *   raw answer: status, body (a string, or a JSON value sent as JSON) or
 *       chunks (strings, sent chunked one by one; empty ones are skipped).
 *   delivery, for both: headers, delay_ms, split, gap_ms, stall_ms,
 *       truncate_after.
 *   fault: {"close": true} drops the connection, {"hang": true} never
 *       answers.
 */

/* The keys a reply may have, by kind; a reply is raw when it has a raw key,
 * a fault when it has "close" or "hang", else a high-level model answer. */
static const char *const model_keys[] = {
    "text",        "tool_calls", "finish",        "usage", "text_pieces",
    "args_pieces", "omit_done",  "usage_choices", "crlf",  NULL};
const char *const raw_keys[] = {"status", "body", "chunks", NULL};
static const char *const fault_keys[] = {"close", "hang", NULL};
static const char *const delivery_keys[] = {
    "split",   "gap_ms", "truncate_after", "stall_ms", "delay_ms",
    "headers", NULL};
static const char *const num_keys[] = {
    "split",          "gap_ms",   "text_pieces", "args_pieces",
    "truncate_after", "stall_ms", "delay_ms",    NULL};

static bool in_list(const char *const *list, const char *key)
{
    for (; *list; list++)
        if (strcmp(*list, key) == 0)
            return true;
    return false;
}

bool has_any(const cJSON *R, const char *const *list)
{
    for (; *list; list++)
        if (cJSON_GetObjectItemCaseSensitive(R, *list))
            return true;
    return false;
}

static bool is_comment(const char *key)
{
    return key[0] == '_' || strcmp(key, "comment") == 0;
}

static bool clean_text(const char *s)
{
    return !strpbrk(s, "\r\n");
}

/* Checks one reply; returns NULL or what is wrong with it. */
static const char *check_reply(const cJSON *R)
{
    static char why[160];
    const cJSON *v, *tc;
    bool fault = json_flag(R, "close") || json_flag(R, "hang");
    int i;

    if (!cJSON_IsObject(R))
        return "a reply must be an object";
    cJSON_ArrayForEach(v, R)
    {
        const char *k = v->string;
        bool known = in_list(model_keys, k) || in_list(raw_keys, k) ||
                     in_list(delivery_keys, k) || in_list(fault_keys, k);

        if (is_comment(k) || (fault ? in_list(fault_keys, k) : known))
            continue;
        snprintf(why, sizeof why,
                 known ? "\"%s\" does not go with close or hang"
                       : "unknown key \"%s\"",
                 k);
        return why;
    }
    if (has_any(R, raw_keys) && has_any(R, model_keys))
        return "status, body and chunks (raw) do not mix with text, "
               "tool_calls and the other model keys";
    if (cJSON_GetObjectItemCaseSensitive(R, "body") &&
        cJSON_GetObjectItemCaseSensitive(R, "chunks"))
        return "body and chunks do not mix";
    for (i = 0; num_keys[i]; i++) {
        v = cJSON_GetObjectItemCaseSensitive(R, num_keys[i]);
        if (v &&
            (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e9))
            return "split, *_ms, *_pieces and truncate_after must be "
                   "numbers from 0 to 1e9";
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(R, "status")) &&
        (!cJSON_IsNumber(v) || v->valueint < 100 || v->valueint > 999))
        return "status must be a number from 100 to 999";
    if ((v = cJSON_GetObjectItemCaseSensitive(R, "text")) && !cJSON_IsString(v))
        return "text must be a string";
    if ((v = cJSON_GetObjectItemCaseSensitive(R, "finish")) &&
        !cJSON_IsString(v))
        return "finish must be a string";
    if ((v = cJSON_GetObjectItemCaseSensitive(R, "usage")) &&
        !cJSON_IsObject(v))
        return "usage must be an object {\"input\": N, \"output\": N}";
    if ((v = cJSON_GetObjectItemCaseSensitive(R, "usage_choices")) &&
        (!cJSON_IsString(v) ||
         (strcmp(v->valuestring, "empty") && strcmp(v->valuestring, "null") &&
          strcmp(v->valuestring, "absent"))))
        return "usage_choices must be \"empty\", \"null\" or \"absent\"";
    if ((v = cJSON_GetObjectItemCaseSensitive(R, "tool_calls"))) {
        if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > MAX_CALLS)
            return "tool_calls must be an array of at most 32 calls";
        cJSON_ArrayForEach(tc, v)
        {
            const cJSON *id = cJSON_GetObjectItemCaseSensitive(tc, "id");
            if (!json_str(tc, "name"))
                return "each tool call needs a \"name\" string";
            if (id && !cJSON_IsString(id))
                return "a tool call's id must be a string";
        }
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(R, "headers"))) {
        const cJSON *h;
        if (!cJSON_IsObject(v))
            return "headers must be an object";
        cJSON_ArrayForEach(h, v)
        {
            if (!h->string[0] || !clean_text(h->string) ||
                strchr(h->string, ':') ||
                !(cJSON_IsNumber(h) ||
                  (cJSON_IsString(h) && clean_text(h->valuestring))))
                return "header values must be strings or numbers, without "
                       "CR or LF";
        }
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(R, "chunks"))) {
        const cJSON *s;
        if (!cJSON_IsArray(v))
            return "chunks must be an array of strings";
        cJSON_ArrayForEach(s, v)
        {
            if (!cJSON_IsString(s))
                return "chunks must be an array of strings";
        }
    }
    return NULL;
}

/*
 * ---- the faults file (Lua mode) ----
 * [F1, F2, ...], or {"faults": [F1, ...], "every": k, "embeddings": [E1,
 * ...]}. Without "every", chat request n (counting chat requests only) gets
 * Fn, and the model answers the ones after the last. With "every": k, chat
 * requests k, 2k, 3k, ... get F1, F2, ..., Fn, F1, ... (cycling) and the
 * model answers the others. An F is a raw answer (a 429 with Retry-After, a
 * 503 ...), a fault (close, hang), or delivery and streaming-shape keys
 * alone, which apply to the model's answer (truncate_after, stall_ms,
 * delay_ms, split, gap_ms, headers, text_pieces, crlf ...): {} lets the
 * model answer as usual. The answer keys text, tool_calls, finish and usage
 * are errors: the model answers. "embeddings" is as in a script.
 */
static const char *const answer_keys[] = {"text", "tool_calls", "finish",
                                          "usage", NULL};

/* Checks the "embeddings" replies of a script or faults file. */
static int check_embeds(const char *path)
{
    const cJSON *R;
    const char *why;
    int i = 0;

    cJSON_ArrayForEach(R, srv.embeds)
    {
        i++;
        if (!(why = check_reply(R)) && has_any(R, model_keys))
            why = "an embeddings reply takes no model keys: {} answers with "
                  "the vectors";
        if (why) {
            fprintf(stderr, "standin: %s: embeddings reply %d: %s\n", path, i,
                    why);
            return -1;
        }
    }
    srv.nembeds = i;
    return 0;
}

int load_script(const char *path)
{
    const cJSON *R, *v;
    const char *why = NULL;
    int i = 0;

    if (!(srv.script = read_json_file(path)))
        return -1;
    if (cJSON_IsArray(srv.script)) {
        srv.replies = srv.script;
    } else {
        cJSON_ArrayForEach(v, srv.script)
        {
            if (strcmp(v->string, "replies") &&
                strcmp(v->string, "repeat_last") &&
                strcmp(v->string, "embeddings") && !is_comment(v->string))
                why = "unknown top-level key";
        }
        srv.replies = cJSON_GetObjectItemCaseSensitive(srv.script, "replies");
        srv.repeat_last = json_flag(srv.script, "repeat_last");
        srv.embeds = cJSON_GetObjectItemCaseSensitive(srv.script, "embeddings");
        if (!cJSON_IsArray(srv.replies))
            why = "expected {\"replies\": [...], \"repeat_last\": false}";
        else if (srv.embeds && !cJSON_IsArray(srv.embeds))
            why = "\"embeddings\" must be an array of replies";
    }
    if (why) {
        fprintf(stderr, "standin: %s: %s\n", path, why);
        return -1;
    }
    cJSON_ArrayForEach(R, srv.replies)
    {
        i++;
        if ((why = check_reply(R))) {
            fprintf(stderr, "standin: %s: reply %d: %s\n", path, i, why);
            return -1;
        }
    }
    srv.nreplies = i;
    return check_embeds(path);
}

int load_faults(const char *path)
{
    const cJSON *F, *v, *every = NULL;
    const char *why = NULL;
    int i = 0;

    if (!(srv.script = read_json_file(path)))
        return -1;
    if (cJSON_IsArray(srv.script)) {
        srv.replies = srv.script;
    } else {
        cJSON_ArrayForEach(v, srv.script)
        {
            if (strcmp(v->string, "faults") && strcmp(v->string, "every") &&
                strcmp(v->string, "embeddings") && !is_comment(v->string))
                why = "unknown top-level key";
        }
        srv.replies = cJSON_GetObjectItemCaseSensitive(srv.script, "faults");
        srv.embeds = cJSON_GetObjectItemCaseSensitive(srv.script, "embeddings");
        every = cJSON_GetObjectItemCaseSensitive(srv.script, "every");
        if (!cJSON_IsArray(srv.replies))
            why = "expected [F1, ...] or {\"faults\": [F1, ...], \"every\": "
                  "k}";
        else if (srv.embeds && !cJSON_IsArray(srv.embeds))
            why = "\"embeddings\" must be an array of replies";
        else if (every && (!cJSON_IsNumber(every) || every->valueint < 1 ||
                           every->valuedouble != (double)every->valueint))
            why = "\"every\" must be a whole number from 1";
    }
    if (why) {
        fprintf(stderr, "standin: %s: %s\n", path, why);
        return -1;
    }
    srv.every = every ? every->valueint : 0;
    cJSON_ArrayForEach(F, srv.replies)
    {
        i++;
        if (!(why = check_reply(F)) && has_any(F, answer_keys))
            why = "a fault takes no text, tool_calls, finish or usage: the "
                  "model answers";
        if (why) {
            fprintf(stderr, "standin: %s: fault %d: %s\n", path, i, why);
            return -1;
        }
    }
    srv.nreplies = i;
    return check_embeds(path);
}

const cJSON *next_reply(void)
{
    int i = srv.next_reply++;

    if (i >= srv.nreplies && srv.repeat_last && srv.nreplies)
        i = srv.nreplies - 1;
    if (i >= srv.nreplies) {
        fprintf(stderr, "standin: script exhausted at model request %d\n",
                i + 1);
        return NULL;
    }
    return cJSON_GetArrayItem(srv.replies, i);
}

const cJSON *next_fault(void)
{
    unsigned long n = ++srv.chats;

    if (srv.nreplies == 0)
        return NULL;
    if (srv.every == 0)
        return n <= (unsigned long)srv.nreplies
                   ? cJSON_GetArrayItem(srv.replies, (int)(n - 1))
                   : NULL;
    if (n % (unsigned long)srv.every)
        return NULL;
    n = (n / (unsigned long)srv.every - 1) % (unsigned long)srv.nreplies;
    return cJSON_GetArrayItem(srv.replies, (int)n);
}

/* ---- turning a scripted reply into a struct reply ---- */

void reply_init(struct reply *r)
{
    memset(r, 0, sizeof *r);
    r->input = 10;
    r->output = 5;
    r->text_pieces = 1;
    r->args_pieces = 1;
    r->usage_choices = "empty";
}

void reply_free(struct reply *r)
{
    int i;

    for (i = 0; i < r->ncalls; i++) {
        free(r->calls[i].owned);
        free(r->calls[i].name_owned);
        free(r->calls[i].id_owned);
    }
    free(r->text_owned);
    free(r->finish_owned);
}

void call_id(struct call *k, enum api api, unsigned long seq, int i)
{
    snprintf(k->idbuf, sizeof k->idbuf, "%s_%lu_%d",
             api == API_ANTHROPIC ? "toolu_standin" : "call_standin", seq,
             i + 1);
    k->id = k->idbuf;
}

void reply_shape(const cJSON *R, struct reply *r)
{
    r->text_pieces = (int)json_num(R, "text_pieces", 1);
    r->args_pieces = (int)json_num(R, "args_pieces", 1);
    r->omit_done = json_flag(R, "omit_done");
    if (json_str(R, "usage_choices"))
        r->usage_choices = json_str(R, "usage_choices");
}

void reply_from_json(const cJSON *R, enum api api, unsigned long seq,
                     struct reply *r)
{
    const cJSON *usage = cJSON_GetObjectItemCaseSensitive(R, "usage");
    const cJSON *tc;

    reply_init(r);
    if ((r->text = json_str(R, "text")))
        r->text_len = strlen(r->text);
    r->finish = json_str(R, "finish");
    r->input = (long long)json_num(usage, "input", 10);
    r->output = (long long)json_num(usage, "output", 5);
    reply_shape(R, r);
    cJSON_ArrayForEach(tc, cJSON_GetObjectItemCaseSensitive(R, "tool_calls"))
    {
        struct call *k = &r->calls[r->ncalls];
        const cJSON *a = cJSON_GetObjectItemCaseSensitive(tc, "arguments");

        k->name = json_str(tc, "name");
        if (!(k->id = json_str(tc, "id")))
            call_id(k, api, seq, r->ncalls);
        if (cJSON_IsString(a)) {
            cJSON *v = parse_json(a->valuestring, strlen(a->valuestring));
            k->args = a->valuestring;
            k->args_json = v != NULL;
            cJSON_Delete(v);
        } else if (a) {
            k->args = k->owned = cJSON_PrintUnformatted(a);
            k->args_json = true;
        } else {
            k->args = "{}";
            k->args_json = true;
        }
        r->ncalls++;
    }
}

void plan_options(struct conn *c, const cJSON *R)
{
    c->split = (size_t)json_num(R, "split", 0);
    c->gap_ms = (uint64_t)json_num(R, "gap_ms", 0);
    c->stall_ms = (uint64_t)json_num(R, "stall_ms", 0);
    c->truncate = (long long)json_num(R, "truncate_after", -1);
}
