/*
 * test-embed.c: embeddings (agent/llm-embed.h). The local embedder's
 * properties and pinned vectors; the reply parser on good and broken bodies;
 * the cache's bound and eviction order; the client over a real socket
 * against tests/standin ($STANDIN), whose /v1/embeddings must give the very
 * floats of ag_embed_local for many texts, and whose scripted faults (429
 * with Retry-After, 500s, a dropped connection, malformed replies) the
 * client must weather; the script stand-in embeds like the HTTP one.
 */
#include "llm-embed.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#define DIMS AG_EMBED_DIMS

static char tmpdir[64];

/* ---- the local embedder ------------------------------------------------ */

static double norm(const float *v, int dims)
{
    double s = 0;

    for (int i = 0; i < dims; i++)
        s += (double)v[i] * v[i];
    return sqrt(s);
}

static double cos_of(const char *a, const char *b)
{
    float va[DIMS], vb[DIMS];

    ag_embed_local(a, DIMS, va);
    ag_embed_local(b, DIMS, vb);
    return ag_embed_cosine(va, vb, DIMS);
}

static void test_local(void)
{
    static const char *texts[] = {
        "Isabella is planning a Valentine's Day party at Hobbs Cafe", "word",
        "a b c d e f g h i j k l m n o p q r s t u v w x y z",
        "Ünïcödé wörds stay whole: café, naïve, 東京", "42 is 6*7"};
    float v[DIMS], w[DIMS], big[1536];
    char buf[64];

    for (size_t i = 0; i < AG_ARRAY_SIZE(texts); i++) {
        snprintf(buf, sizeof buf, "text %zu: unit length", i);
        ok(ag_embed_local(texts[i], DIMS, v) > 0 &&
               fabs(norm(v, DIMS) - 1) < 1e-6,
           buf);
        ag_embed_local(texts[i], DIMS, w);
        snprintf(buf, sizeof buf, "text %zu: deterministic", i);
        ok(memcmp(v, w, sizeof v) == 0, buf);
    }
    is_int(ag_embed_local(texts[0], DIMS, v), 11, "returns the word count");
    ag_embed_local(texts[0], 1536, big);
    ok(fabs(norm(big, 1536) - 1) < 1e-6, "1536 dimensions: unit length");

    is_int(ag_embed_local("", DIMS, v), 0, "empty text: no words");
    ok(norm(v, DIMS) == 0, "empty text: the zero vector");
    is_int(ag_embed_local(NULL, DIMS, v), 0, "NULL is the empty text");
    is_int(ag_embed_local(" ,.!? -- \n\t", DIMS, v), 0, "punctuation only");
    ok(norm(v, DIMS) == 0, "punctuation only: the zero vector");
    ok(ag_embed_cosine(v, v, DIMS) == 0, "the zero vector: cosine 0");
    is_int(ag_embed_local("x", 0, v), -EINVAL, "dims 0 refused");
    is_int(ag_embed_local("x", AG_EMBED_MAX_DIMS + 1, v), -EINVAL,
           "dims past the maximum refused");
    is_int(ag_embed_local("x", DIMS, NULL), -EINVAL, "out NULL refused");

    ag_embed_local("Hello, World!", DIMS, v);
    ag_embed_local("hello world", DIMS, w);
    ok(memcmp(v, w, sizeof v) == 0, "case and punctuation do not matter");
    ok(cos_of("café", "cafe") < 0.99, "UTF-8 letters are part of words");
    {
        double c = cos_of("dog bites man", "man bites dog");
        ok(c > 0.3 && c < 0.999, "word order matters through bigrams");
    }
    {
        const char *q = "Isabella is hosting a Valentine's Day party";
        double rel = cos_of(q, texts[0]);
        double unrel = cos_of(q, "Klaus writes a research paper on "
                                 "gentrification in low-income communities");
        ok(rel > 0.4 && rel > unrel + 0.3,
           "texts sharing words are closer than unrelated ones");
    }
    {
        float a[4] = {1, 2, 3, 4}, b[4] = {-1, -2, -3, -4};
        ok(fabs(ag_embed_cosine(a, a, 4) - 1) < 1e-12 &&
               fabs(ag_embed_cosine(a, b, 4) + 1) < 1e-12,
           "cosine: 1 for a and a, -1 for a and -a");
    }
    /* pinned: the stand-in computes the same; change both or neither */
    {
        float p[8], want1[8] = {0, 0, 0, 0, 0, 0, 1, 0};
        float r = (float)(1 / sqrt(3.0));
        float want2[8] = {0, 0, 0, 0, -r, 0, r, r};
        ag_embed_local("hello", 8, p);
        ok(memcmp(p, want1, sizeof p) == 0, "pinned: hello in 8");
        ag_embed_local("Hello world", 8, p);
        ok(memcmp(p, want2, sizeof p) == 0, "pinned: Hello world in 8");
    }
    {
        size_t n = 2 * (AG_EMBED_MAX_WORDS + 1000);
        char *s = malloc(n + 1);
        for (size_t i = 0; i < n; i += 2)
            memcpy(s + i, "a ", 2);
        s[n] = '\0';
        is_int(ag_embed_local(s, DIMS, v), AG_EMBED_MAX_WORDS,
               "only the first AG_EMBED_MAX_WORDS words count");
        ok(fabs(norm(v, DIMS) - 1) < 1e-6, "a huge text: unit length");
        free(s);
    }
}

/* ---- projection (a server that ignores "dimensions") -------------------- */

static void test_project(void)
{
    enum { FROM = 768, TO = 256, N = 12 };
    static float in[N][FROM], out[N][TO], again[TO];
    double worst = 0, norm = 0;
    uint64_t x = 88172645463325252u;

    /* vectors that share a common part, so that cosines are spread out */
    for (int v = 0; v < N; v++)
        for (int i = 0; i < FROM; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            in[v][i] = (float)((double)(x % 2001) / 1000.0 - 1.0) +
                       (i % 7 == 0 ? 0.15f * (float)v : 0.0f);
        }
    for (int v = 0; v < N; v++)
        ag_embed_project(in[v], FROM, out[v], TO);
    for (int k = 0; k < TO; k++)
        norm += (double)out[0][k] * out[0][k];
    ok(fabs(norm - 1) < 1e-5, "project: unit length");
    ag_embed_project(in[0], FROM, again, TO);
    ok(memcmp(again, out[0], sizeof again) == 0,
       "project: the same vector gives the same projection");
    for (int a = 0; a < N; a++)
        for (int b = a + 1; b < N; b++) {
            double d = fabs(ag_embed_cosine(in[a], in[b], FROM) -
                            ag_embed_cosine(out[a], out[b], TO));
            if (d > worst)
                worst = d;
        }
    ok(worst < 0.2, "project 768 -> 256: cosines kept within 0.2");
    if (worst >= 0.2)
        printf("# worst cosine change %.3f\n", worst);
}

/* ---- the parser -------------------------------------------------------- */

static int parse(const char *body, int want, struct ag_embed_reply *r,
                 char *err, size_t errlen)
{
    return ag_embed_parse(body, strlen(body), want, r, err, errlen);
}

static void test_parse(void)
{
    struct ag_embed_reply r = {0};
    char err[256];
    static const struct {
        const char *body, *want;
        int rc;
    } bad[] = {
        {"{\"data\": [", "invalid JSON in reply at byte", AG_EPARSE},
        {"", "invalid JSON in reply: empty", AG_EPARSE},
        {"{}", "data missing", AG_EPARSE},
        {"{\"data\": {}}", "data is not an array", AG_EPARSE},
        {"{\"data\": [{\"embedding\": [1]}]}", "data has 1 items for 2 texts",
         AG_EPARSE},
        {"{\"data\": [{\"index\": 0, \"embedding\": [1]}, {\"index\": 0, "
         "\"embedding\": [1]}]}",
         "data[1].index 0 repeats", AG_EPARSE},
        {"{\"data\": [{\"index\": 2, \"embedding\": [1]}, {\"index\": 0, "
         "\"embedding\": [1]}]}",
         "data[0].index is not an integer from 0 to 1", AG_EPARSE},
        {"{\"data\": [{\"embedding\": [1, 2]}, {\"embedding\": [1, \"x\"]}]}",
         "data[1].embedding[1] is not a number", AG_EPARSE},
        {"{\"data\": [{\"embedding\": [1, 2]}, {\"embedding\": [1]}]}",
         "data[1].embedding has 1 numbers, the first one 2", AG_EPARSE},
        {"{\"data\": [{\"embedding\": \"AAAA\"}, {\"embedding\": [1]}]}",
         "data[0].embedding is not an array (base64?)", AG_EPARSE},
        {"{\"data\": [{\"index\": 0}, {\"embedding\": [1]}]}",
         "data[0].embedding missing", AG_EPARSE},
        {"{\"data\": [{\"embedding\": []}, {\"embedding\": [1]}]}",
         "data[0].embedding has 0 numbers", AG_EPARSE},
        {"{\"data\": [3, 4]}", "data[0] is not an object", AG_EPARSE},
        {"{\"error\": {\"message\": \"no such model\", \"type\": "
         "\"invalid_request_error\"}}",
         "error from endpoint: invalid_request_error: no such model",
         AG_EPROTO},
    };

    is_int(parse("{\"data\": [{\"index\": 1, \"embedding\": [3, 4]}, "
                 "{\"index\": 0, \"embedding\": [0.5, -1e-3]}], "
                 "\"usage\": {\"prompt_tokens\": 7}}",
                 2, &r, err, sizeof err),
           0, "a good reply");
    ok(r.n == 2 && r.dims == 2 && r.tokens == 7 && !r.stand_in,
       "its counts and usage");
    ok(r.vecs && r.vecs[0] == 0.5f && r.vecs[1] == -1e-3f &&
           r.vecs[2] == 3.0f && r.vecs[3] == 4.0f,
       "items placed by their index");
    is_int(parse("{\"data\": [{\"embedding\": [1]}]}", 0, &r, err, sizeof err),
           0, "want 0 takes what comes");
    ok(r.n == 1 && r.dims == 1 && r.tokens == -1, "no usage: tokens -1");
    for (size_t i = 0; i < AG_ARRAY_SIZE(bad); i++) {
        char name[96];
        err[0] = '\0';
        snprintf(name, sizeof name, "broken reply %zu: code", i + 1);
        is_int(parse(bad[i].body, 2, &r, err, sizeof err), bad[i].rc, name);
        snprintf(name, sizeof name, "broken reply %zu: says what", i + 1);
        has_str(err, bad[i].want, name);
        ok(r.vecs == NULL && r.n == 0, "left empty");
    }
    ag_embed_reply_clear(&r);
    ag_embed_reply_clear(NULL);
}

/* ---- the cache --------------------------------------------------------- */

static void test_cache(void)
{
    struct ag_embed_cache *c;
    struct ag_embed_cache_stats st;
    float v[DIMS], out[DIMS], small[4];
    size_t one;
    char text[32];
    int ok_all = 1;

    ag_embed_local("the cat sat on the mat", DIMS, v);
    is_int(ag_embed_cache_new(0, &c), -EINVAL, "a bound of 0 refused");
    is_int(ag_embed_cache_new(1 << 20, &c), 0, "new");
    is_int(ag_embed_cache_get(c, "m", "the cat", out, DIMS), AG_ENOTFOUND,
           "miss");
    is_int(ag_embed_cache_put(c, "m", "the cat", v, DIMS), 0, "put");
    memset(out, 0, sizeof out);
    is_int(ag_embed_cache_get(c, "m", "the cat", out, DIMS), DIMS,
           "hit gives the dims");
    ok(memcmp(out, v, sizeof v) == 0, "hit gives the vector");
    is_int(ag_embed_cache_get(c, "other", "the cat", out, DIMS), AG_ENOTFOUND,
           "the model is part of the key");
    is_int(ag_embed_cache_get(c, "m", "the cat ", out, DIMS), AG_ENOTFOUND,
           "the whole text is part of the key");
    is_int(ag_embed_cache_get(c, "mt", "he cat", out, DIMS), AG_ENOTFOUND,
           "model and text are kept apart");
    is_int(ag_embed_cache_get(c, "m", "the cat", small, 4), AG_ETOOBIG,
           "too little room");
    is_int(ag_embed_cache_put(c, "m", "x", v, 0), -EINVAL, "dims 0 refused");
    is_int(ag_embed_cache_put(c, "m", "x", NULL, DIMS), -EINVAL,
           "NULL refused");
    v[0] = 42;
    is_int(ag_embed_cache_put(c, "m", "the cat", v, DIMS), 0, "replace");
    ag_embed_cache_get(c, "m", "the cat", out, DIMS);
    ok(out[0] == 42, "the new vector is there");
    ag_embed_cache_stats(c, &st);
    ok(st.entries == 1 && st.hits == 2 && st.misses == 4, "stats");
    one = st.bytes;
    ag_embed_cache_free(c);

    /* room for three: the least recently used goes first */
    ag_embed_cache_new(3 * one, &c);
    ag_embed_cache_put(c, NULL, "a", v, DIMS);
    ag_embed_cache_put(c, NULL, "b", v, DIMS);
    ag_embed_cache_put(c, NULL, "c", v, DIMS);
    ag_embed_cache_get(c, NULL, "a", out, DIMS); /* a is now the newest */
    ag_embed_cache_put(c, NULL, "d", v, DIMS);
    ag_embed_cache_stats(c, &st);
    ok(st.entries == 3 && st.evictions == 1 && st.bytes <= st.max_bytes,
       "bound kept, one evicted");
    is_int(ag_embed_cache_get(c, NULL, "b", out, DIMS), AG_ENOTFOUND,
           "the least recently used went");
    ok(ag_embed_cache_get(c, "", "a", out, DIMS) == DIMS &&
           ag_embed_cache_get(c, NULL, "c", out, DIMS) == DIMS &&
           ag_embed_cache_get(c, NULL, "d", out, DIMS) == DIMS,
       "the others stay (NULL model is \"\")");
    {
        float *huge = calloc(AG_EMBED_MAX_DIMS, sizeof *huge);
        is_int(ag_embed_cache_put(c, NULL, "huge", huge, AG_EMBED_MAX_DIMS),
               AG_ETOOBIG, "an entry larger than the bound is refused");
        free(huge);
    }
    ag_embed_cache_free(c);

    /* many entries: the table grows, every vector stays right */
    ag_embed_cache_new(64u << 20, &c);
    for (int i = 0; i < 20000; i++) {
        snprintf(text, sizeof text, "memory number %d", i);
        ag_embed_local(text, DIMS, v);
        ok_all &= ag_embed_cache_put(c, "m", text, v, DIMS) == 0;
    }
    for (int i = 0; i < 20000; i += 7) {
        snprintf(text, sizeof text, "memory number %d", i);
        ag_embed_local(text, DIMS, v);
        ok_all &= ag_embed_cache_get(c, "m", text, out, DIMS) == DIMS &&
                  memcmp(out, v, sizeof v) == 0;
    }
    ok(ok_all, "20000 entries: each found with its own vector");
    ag_embed_cache_free(c);
    ag_embed_cache_free(NULL);
}

/* ---- the client against the stand-in ----------------------------------- */

struct standin {
    pid_t pid;
    int port;
    char url[64], log[128];
};

/* Starts $STANDIN, with script (JSON text) when not NULL, or in bench
 * mode when script is "bench". */
static int standin_start(struct standin *s, const char *script)
{
    const char *exe = getenv("STANDIN") ? getenv("STANDIN") : "tests/standin";
    char portfile[128], scriptfile[128], *text = NULL;
    FILE *f;

    snprintf(portfile, sizeof portfile, "%s/port", tmpdir);
    snprintf(scriptfile, sizeof scriptfile, "%s/script.json", tmpdir);
    snprintf(s->log, sizeof s->log, "%s/requests.jsonl", tmpdir);
    unlink(portfile);
    unlink(s->log);
    if (script && strcmp(script, "bench") != 0) {
        if (!(f = fopen(scriptfile, "w")))
            return -1;
        fputs(script, f);
        fclose(f);
    }
    if ((s->pid = fork()) == 0) {
        int fd = open("/dev/null", O_WRONLY);
        dup2(fd, 1);
        if (script && !strcmp(script, "bench"))
            execl(exe, exe, "--port", "0", "--port-file", portfile, "--log",
                  s->log, "--mode", "bench", (char *)NULL);
        else
            execl(exe, exe, "--port", "0", "--port-file", portfile, "--log",
                  s->log, script ? "--script" : (char *)NULL, scriptfile,
                  (char *)NULL);
        _exit(127);
    }
    for (int i = 0; i < 400; i++) {
        if (ag_read_file(portfile, 64, &text, NULL) == 0) {
            s->port = atoi(text);
            free(text);
            snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d/v1", s->port);
            return 0;
        }
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid)
            return -1;
        usleep(10000);
    }
    kill(s->pid, SIGKILL);
    waitpid(s->pid, NULL, 0);
    return -1;
}

/* Stops it; returns its exit status (0: a clean exit on SIGTERM). */
static int standin_stop(struct standin *s)
{
    int st = -1;

    kill(s->pid, SIGTERM);
    waitpid(s->pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

/* The n-th logged request (from 1), parsed; NULL when there is none. */
static cJSON *logged(const struct standin *s, int n)
{
    char *text = NULL, *line, *save = NULL;
    cJSON *v = NULL;

    if (ag_read_file(s->log, 1 << 26, &text, NULL) < 0)
        return NULL;
    for (line = strtok_r(text, "\n", &save); line && --n > 0;
         line = strtok_r(NULL, "\n", &save))
        ;
    if (line)
        v = cJSON_Parse(line);
    free(text);
    return v;
}

struct outcome {
    int done, err, attempts, failed;
    long first_status;
    double first_retry_ms, ms;
    char msg[700];
    struct ag_embed_reply reply;
    char *body; /* on_request's */
};

static void on_request(void *ud, const char *body, size_t n)
{
    struct outcome *o = ud;

    free(o->body);
    o->body = ag_xstrndup(body, n);
}

static void on_attempt(void *ud, const struct ag_llm_attempt *a)
{
    struct outcome *o = ud;

    if (!o->failed++) {
        o->first_status = a->status;
        o->first_retry_ms = a->retry_in_ms;
    }
}

static void on_done(void *ud, int err, struct ag_embed_reply *r,
                    const char *msg, int attempts)
{
    struct outcome *o = ud;

    o->done++;
    o->err = err;
    o->attempts = attempts;
    snprintf(o->msg, sizeof o->msg, "%s", msg ? msg : "");
    o->reply = *r; /* take the vectors */
    r->vecs = NULL;
}

/* One call on a fresh loop; returns ag_embed_send's code. */
static int embed(const struct ag_llm_cfg *cfg, const char *const *texts, int n,
                 int dims, struct outcome *o)
{
    struct ag_embed_cb cb = {on_request, on_attempt, on_done, o};
    uint64_t t0 = ag_now_us();
    struct ag_http *h;
    uv_loop_t loop;
    int rc;

    memset(o, 0, sizeof *o);
    uv_loop_init(&loop);
    ag_http_new(&loop, &h);
    rc = ag_embed_send(&loop, h, cfg, "embed-test", texts, n, dims, &cb, NULL);
    if (rc == 0 && o->done)
        tap_diag("on_done ran from inside ag_embed_send");
    if (rc == 0)
        uv_run(&loop, UV_RUN_DEFAULT);
    ag_http_close(h);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    o->ms = (double)(ag_now_us() - t0) / 1000;
    return rc;
}

static void outcome_free(struct outcome *o)
{
    ag_embed_reply_clear(&o->reply);
    free(o->body);
}

/* Every row of r equals ag_embed_local of its text, to the bit. */
static int same_as_local(const struct ag_embed_reply *r,
                         const char *const *texts, int n, int dims)
{
    float *v = malloc((size_t)dims * sizeof *v);
    int same = r->vecs && r->n == n && r->dims == dims;

    for (int i = 0; same && i < n; i++) {
        ag_embed_local(texts[i], dims, v);
        same = memcmp(v, r->vecs + (size_t)i * dims, dims * sizeof *v) == 0;
        if (!same)
            printf("# differs on text %d: \"%s\" (dims %d)\n", i, texts[i],
                   dims);
    }
    free(v);
    return same;
}

/* n texts of random words, case, punctuation, digits and UTF-8. */
static char **make_texts(int n, unsigned seed)
{
    static const char *words[] = {
        "Isabella", "party", "cafe",  "Hobbs",  "Valentine's", "Day", "the",
        "a",        "KLAUS", "paper", "at",     "5pm",         "on",  "14",
        "naïve",    "東京",  "über",  "Maria",  "loves",       "and", "x",
        "…",        "--",    "\"q\"", "\\path", "tab\there",   "ß",   ""};
    char **t = calloc((size_t)n, sizeof *t);

    srand(seed);
    for (int i = 0; i < n; i++) {
        char buf[512] = "";
        int k = rand() % 16;
        for (int j = 0; j < k; j++) {
            strcat(buf, words[rand() % (int)AG_ARRAY_SIZE(words)]);
            strcat(buf,
                   (const char *[]){" ", ", ", ". ", "! ", "  "}[rand() % 5]);
        }
        t[i] = ag_xstrdup(buf);
    }
    return t;
}

struct chat {
    int done, err;
    char text[64];
};

static void on_chat_done(void *ud, int err, struct ag_llm_reply *r,
                         const char *msg, int attempts)
{
    struct chat *ch = ud;

    AG_UNUSED(msg), AG_UNUSED(attempts);
    ch->done++;
    ch->err = err;
    snprintf(ch->text, sizeof ch->text, "%s", r->text ? r->text : "");
}

/* The chat client and the embeddings client on one loop and one stand-in:
 * the embeddings requests (one behind a 503) do not use the chat replies. */
static void test_with_chat(void)
{
    const char *texts[] = {"hello there"};
    struct ag_msg msg = {.role = AG_ROLE_USER, .text = "hi"};
    struct ag_llm_req req = {
        .model = "m", .msgs = &msg, .nmsgs = 1, .temperature = -1};
    struct ag_llm_cfg cfg = {.codec = &ag_codec_openai, .backoff_ms = 10};
    struct chat ch = {0};
    struct ag_llm_cb ccb = {.on_done = on_chat_done, .ud = &ch};
    struct ag_embed_cb ecb = {.on_attempt = on_attempt, .on_done = on_done};
    struct outcome o1 = {0}, o2 = {0};
    struct standin s;
    struct ag_http *h;
    uv_loop_t loop;

    if (standin_start(&s, "{\"replies\": [{\"text\": \"first\"}, {\"status\": "
                          "503}, {\"text\": \"second\"}], \"embeddings\": "
                          "[{\"status\": 503}]}") < 0) {
        ok(0, "the stand-in starts");
        return;
    }
    cfg.base_url = s.url;
    uv_loop_init(&loop);
    ag_http_new(&loop, &h);
    ecb.ud = &o1;
    ag_embed_send(&loop, h, &cfg, "e", texts, 1, 0, &ecb, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    ag_llm_send(&loop, h, &cfg, &req, &ccb, NULL);
    ecb.ud = &o2;
    ag_embed_send(&loop, h, &cfg, "e", texts, 1, 0, &ecb, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    ok(o1.err == 0 && o1.attempts == 2 && o2.err == 0 && o2.attempts == 1,
       "embeddings: a 503 retried, then vectors");
    ok(same_as_local(&o2.reply, texts, 1, DIMS), "the right vector");
    ok(ch.done == 1 && ch.err == 0, "the chat call, alongside, succeeds");
    is_str(ch.text, "first", "with the first chat reply: none was used up");
    ch.done = 0;
    ag_llm_send(&loop, h, &cfg, &req, &ccb, NULL);
    uv_run(&loop, UV_RUN_DEFAULT);
    ok(ch.err == 0 && !strcmp(ch.text, "second"),
       "the chat client still retries its 503");
    ag_http_close(h);
    uv_run(&loop, UV_RUN_DEFAULT);
    uv_loop_close(&loop);
    outcome_free(&o1);
    outcome_free(&o2);
    is_int(standin_stop(&s), 0, "the stand-in exits cleanly");
}

static void test_client(void)
{
    struct ag_llm_cfg cfg = {0};
    struct standin s;
    struct outcome o, l;
    const char *one[] = {"Isabella is planning a party"};
    const char *two[] = {"first text", "second text"};
    char **many;
    cJSON *req;

    if (standin_start(&s, NULL) < 0) {
        ok(0, "the stand-in starts");
        return;
    }
    cfg.base_url = s.url;
    cfg.api_key = "sk-embed-test";
    cfg.backoff_ms = 10;
    cfg.max_attempts = 3;

    is_int(embed(&cfg, one, 1, 0, &o), 0, "send");
    is_int(o.err, 0, "one text: success");
    ok(o.done == 1 && o.attempts == 1, "on_done once, one attempt");
    ok(same_as_local(&o.reply, one, 1, DIMS),
       "its vector is ag_embed_local's (default 64 dims)");
    is_int(o.reply.tokens, 5, "usage: the words");
    req = logged(&s, 1);
    has_str(cJSON_GetStringValue(cJSON_GetObjectItem(req, "path")),
            "/v1/embeddings", "POSTed to /v1/embeddings");
    is_str(cJSON_GetStringValue(cJSON_GetObjectItem(
               cJSON_GetObjectItem(req, "headers"), "authorization")),
           "Bearer sk-embed-test", "the key as a Bearer token");
    {
        char *b = cJSON_PrintUnformatted(cJSON_GetObjectItem(req, "body"));
        is_str(b,
               "{\"model\":\"embed-test\",\"input\":[\"Isabella is planning a "
               "party\"],\"encoding_format\":\"float\"}",
               "the body; no dimensions when dims is 0");
        is_str(o.body, b, "on_request saw that body");
        free(b);
    }
    cJSON_Delete(req);
    outcome_free(&o);

    /* many texts, in batches, with various sizes */
    many = make_texts(2000, 7);
    {
        static const int sizes[] = {1, 3, 64, 100, 256, 1536};
        int all = 1, off = 0, total = 0;
        char name[128];
        for (size_t k = 0; k < AG_ARRAY_SIZE(sizes); k++) {
            int n = k == 0 ? 1 : k == 2 ? 1500 : 100;
            embed(&cfg, (const char *const *)many + off, n, sizes[k], &o);
            all &= o.err == 0 &&
                   same_as_local(&o.reply, (const char *const *)many + off, n,
                                 sizes[k]);
            off = (off + n) % 400;
            total += n;
            outcome_free(&o);
        }
        snprintf(name, sizeof name,
                 "stand-in and ag_embed_local agree to the bit on %d texts "
                 "in 1 to 1536 dimensions",
                 total);
        ok(all, name);
    }
    req = logged(&s, 4);
    {
        const cJSON *body = cJSON_GetObjectItem(req, "body");
        is_int(cJSON_GetArraySize(cJSON_GetObjectItem(body, "input")), 1500,
               "1500 texts went in one request");
        ok(cJSON_GetNumberValue(cJSON_GetObjectItem(body, "dimensions")) == 64,
           "with the dimensions asked for");
    }
    cJSON_Delete(req);

    /* the local embedder answers for the script stand-in, identically */
    embed(&cfg, (const char *const *)many, 300, 0, &o);
    {
        struct ag_llm_cfg lc = {0};
        char path[128], err[256];
        FILE *f;
        snprintf(path, sizeof path, "%s/model.lua", tmpdir);
        f = fopen(path, "w");
        fputs("return function(ctx) return 'ok' end\n", f);
        fclose(f);
        if (ag_script_new(path, &lc.script, err, sizeof err) < 0)
            tap_diag(err);
        is_int(embed(&lc, (const char *const *)many, 300, 0, &l), 0,
               "script stand-in: send");
        ok(l.err == 0 && l.reply.stand_in && l.attempts == 1,
           "script stand-in: answered locally");
        ok(l.reply.n == o.reply.n && l.reply.dims == o.reply.dims &&
               memcmp(l.reply.vecs, o.reply.vecs,
                      (size_t)o.reply.n * o.reply.dims * sizeof(float)) == 0,
           "the same vectors as the HTTP stand-in's");
        is_int(l.reply.tokens, o.reply.tokens, "and the same token count");
        is_str(l.body, o.body, "and the same request body");
        outcome_free(&l);
        ag_script_free(lc.script);
    }
    outcome_free(&o);
    for (int i = 0; i < 2000; i++)
        free(many[i]);
    free(many);

    /* misuse */
    is_int(embed(&cfg, one, 0, 0, &o), -EINVAL, "no texts refused");
    is_int(embed(&cfg, one, 1, -1, &o), -EINVAL, "dims -1 refused");
    is_int(embed(&cfg, (const char *[]){NULL}, 1, 0, &o), -EINVAL,
           "a NULL text refused");
    ok(o.done == 0, "no callback after a refusal");
    {
        struct ag_embed_cb cb = {NULL, NULL, on_done, &o};
        struct ag_embed_call *c;
        struct ag_http *h;
        uv_loop_t loop;
        memset(&o, 0, sizeof o);
        uv_loop_init(&loop);
        ag_http_new(&loop, &h);
        is_int(ag_embed_send(&loop, h, &cfg, NULL, one, 1, 0, &cb, &c), 0,
               "send, then cancel");
        ag_embed_cancel(c);
        uv_run(&loop, UV_RUN_DEFAULT);
        ok(o.done == 0, "cancelled: no callback");
        ag_http_close(h);
        uv_run(&loop, UV_RUN_DEFAULT);
        uv_loop_close(&loop);
    }
    is_int(standin_stop(&s), 0, "the stand-in exits cleanly");

    /* a 429 with Retry-After, then the vectors */
    standin_start(&s, "{\"replies\": [], \"embeddings\": [{\"status\": 429, "
                      "\"headers\": {\"Retry-After\": \"0.3\"}, \"body\": "
                      "{\"error\": {\"message\": \"slow down\", \"type\": "
                      "\"rate_limit_error\"}}}]}");
    cfg.base_url = s.url;
    embed(&cfg, two, 2, 16, &o);
    is_int(o.err, 0, "429 then success");
    is_int(o.attempts, 2, "two attempts");
    ok(o.failed == 1 && o.first_status == 429, "the 429 was reported");
    ok(o.first_retry_ms >= 300 && o.ms >= 300,
       "Retry-After was honoured (0.3 s, over a 10 ms backoff)");
    ok(same_as_local(&o.reply, two, 2, 16), "then the right vectors");
    outcome_free(&o);
    standin_stop(&s);

    /* persistent 500s: an error after the retries */
    standin_start(&s, "{\"replies\": [], \"embeddings\": ["
                      "{\"status\": 500, \"body\": \"boom\"},"
                      "{\"status\": 500, \"body\": \"boom\"},"
                      "{\"status\": 500, \"body\": \"boom\"}, {}]}");
    cfg.base_url = s.url;
    embed(&cfg, two, 2, 0, &o);
    is_int(o.err, AG_EHTTP, "persistent 500: an HTTP error");
    is_int(o.attempts, 3, "after max_attempts (3)");
    is_int(o.failed, 3, "each attempt reported");
    has_str(o.msg, "HTTP 500: boom (gave up after 3 attempts)",
            "the message says so");
    ok(o.reply.vecs == NULL, "no vectors");
    outcome_free(&o);
    standin_stop(&s);

    /* a dropped connection is retried; a 400 is not */
    standin_start(&s,
                  "{\"replies\": [], \"embeddings\": [{\"close\": true}, {}, "
                  "{\"status\": 400, \"body\": {\"error\": {\"message\": "
                  "\"bad input\", \"type\": \"invalid_request_error\"}}}]}");
    cfg.base_url = s.url;
    embed(&cfg, one, 1, 0, &o);
    ok(o.err == 0 && o.attempts == 2, "dropped connection: retried");
    outcome_free(&o);
    embed(&cfg, one, 1, 0, &o);
    ok(o.err == AG_EHTTP && o.attempts == 1, "400: not retried");
    has_str(o.msg,
            "HTTP 400: error from endpoint: invalid_request_error: bad "
            "input",
            "the endpoint's message is quoted");
    outcome_free(&o);
    standin_stop(&s);

    /* malformed replies: an error at once, naming what was wrong */
    standin_start(
        &s, "{\"replies\": [], \"embeddings\": ["
            "{\"status\": 200, \"body\": \"{\\\"data\\\": [1,\"},"
            "{\"status\": 200, \"body\": {\"data\": [{\"embedding\": [1, "
            "\"x\"]}, {\"embedding\": [1, 2]}]}},"
            "{\"status\": 200, \"body\": {\"data\": [{\"embedding\": [1]}]}},"
            "{\"status\": 200, \"body\": {\"data\": [{\"embedding\": [1, 2, "
            "3]}, {\"embedding\": [4, 5, 6]}]}},"
            "{\"status\": 200, \"body\": \"\"}, {}]}");
    cfg.base_url = s.url;
    embed(&cfg, two, 2, 0, &o);
    ok(o.err == AG_EPARSE && o.attempts == 1, "invalid JSON: not retried");
    has_str(o.msg, "malformed reply: invalid JSON in reply at byte",
            "invalid JSON: named");
    outcome_free(&o);
    embed(&cfg, two, 2, 0, &o);
    has_str(o.msg, "malformed reply: data[0].embedding[1] is not a number",
            "a string among the numbers: named");
    outcome_free(&o);
    embed(&cfg, two, 2, 0, &o);
    has_str(o.msg, "malformed reply: data has 1 items for 2 texts",
            "one vector for two texts: named");
    outcome_free(&o);
    embed(&cfg, two, 2, 8, &o);
    ok(o.err == 0 && o.reply.dims == 8 && o.reply.projected_from == 3,
       "vectors of another size than asked: projected to the size asked");
    ok(o.reply.vecs &&
           fabs(ag_embed_cosine(o.reply.vecs, o.reply.vecs, 8) - 1) < 1e-6,
       "... of unit length");
    outcome_free(&o);
    embed(&cfg, two, 2, 0, &o);
    ok(o.err == 0 && o.attempts == 2, "an empty 200 reply is retried");
    outcome_free(&o);
    is_int(standin_stop(&s), 0, "the stand-in exits cleanly");

    /* bench mode serves the same vectors */
    standin_start(&s, "bench");
    cfg.base_url = s.url;
    embed(&cfg, two, 2, 32, &o);
    ok(o.err == 0 && same_as_local(&o.reply, two, 2, 32),
       "bench mode: the same vectors");
    outcome_free(&o);
    is_int(standin_stop(&s), 0, "the stand-in exits cleanly");

    /* a model key in an embeddings reply is a script error */
    ok(standin_start(&s, "{\"replies\": [], \"embeddings\": [{\"text\": "
                         "\"x\"}]}") < 0,
       "the stand-in refuses model keys among the embeddings replies");

    /* nothing listening: an error after the retries */
    cfg.base_url = "http://127.0.0.1:1/v1";
    embed(&cfg, one, 1, 0, &o);
    ok(o.err == AG_ECONNECT && o.attempts == 3, "nothing listening");
    outcome_free(&o);
}

int main(void)
{
    char cmd[96];

    snprintf(tmpdir, sizeof tmpdir, "/tmp/test-embed.XXXXXX");
    if (!mkdtemp(tmpdir)) {
        printf("Bail out! cannot create a temporary directory\n");
        return 99;
    }
    test_local();
    test_project();
    test_parse();
    test_cache();
    test_client();
    test_with_chat();
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    if (system(cmd) != 0)
        tap_diag("could not remove the temporary directory");
    return tap_done();
}
