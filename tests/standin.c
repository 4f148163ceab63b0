/*
 * standin.c: the stand-in LLM endpoint that the tests and benchmarks talk to.
 *
 * A small HTTP/1.1 server on libuv that speaks just enough of the OpenAI
 * chat-completions and Anthropic messages APIs for the agent to use it over a
 * real socket. It has three modes:
 *
 *  - script mode plays a JSON file of replies, one per model request, faults
 *    included (error statuses, cut or stalled streams, hangs, dropped
 *    connections; standin-script.c has the format);
 *  - bench mode answers every request at once with a tool call or, after a
 *    tool result, with a final text;
 *  - Lua mode (--lua FILE) runs a scripted stand-in model of the kind that
 *    agent's in-process script: provider runs (agent/llm-script.c): the file
 *    returns function(ctx), or a table with a reply function, and is called
 *    for every chat request with the conversation as it came over the wire
 *    (standin-lua.c). A Lua error is a 500 whose message names the file and
 *    line, and the server carries on. --faults FILE plays a list of faults
 *    (429 with Retry-After, stalls, truncated streams, dropped connections)
 *    on the first chat requests, or on every k-th one, and the model
 *    answers the rest. This is how a simulation's tests get a model that
 *    answers like the real thing and misbehaves like one.
 *
 * With --log it appends each request as one JSON line so that tests can
 * check what the client sent. It also serves OpenAI's /v1/embeddings, in
 * every mode, with the vectors of the agent's local embedder
 * (agent/llm-embed.h), computed here a second time by the same algorithm; a
 * script or faults file can put faults before them. Once listening it prints
 * "port N" on standard output (and to --port-file).
 *
 * The stand-in links with libuv, cJSON and liblua only, never with libagent,
 * so that the client under test and its stand-in share no code; the json
 * global of a Lua model is the pure-Lua tests/data/sim/json.lua. standin.h
 * lists the files and what each does.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "standin.h"

/* The json global of Lua models, unless --lua-json says otherwise. */
#ifndef STANDIN_LUA_JSON
#define STANDIN_LUA_JSON "tests/data/sim/json.lua"
#endif

struct server srv;

/* ---- the models ---- */

/* The content of the tool result in message m, or NULL if there is none. */
static char *tool_result(const cJSON *m, enum api api)
{
    const char *role = json_str(m, "role");
    const cJSON *block, *found = NULL;

    if (!role)
        return NULL;
    if (api == API_OPENAI)
        return strcmp(role, "tool") == 0
                   ? content_text(
                         cJSON_GetObjectItemCaseSensitive(m, "content"))
                   : NULL;
    if (strcmp(role, "user") != 0)
        return NULL;
    cJSON_ArrayForEach(block, cJSON_GetObjectItemCaseSensitive(m, "content"))
    {
        const char *type = json_str(block, "type");
        if (type && strcmp(type, "tool_result") == 0)
            found = block;
    }
    return found ? content_text(
                       cJSON_GetObjectItemCaseSensitive(found, "content"))
                 : NULL;
}

/* The bench model: a calc call, or "done: RESULT" after a tool result. */
static void reply_bench(const struct req *q, enum api api, unsigned long seq,
                        struct reply *r)
{
    cJSON *last = q->last.n ? parse_json(q->last.p, q->last.n) : NULL;
    char *result = last ? tool_result(last, api) : NULL;

    reply_init(r);
    if (result) {
        size_t n = strlen(result);
        r->text_owned = xrealloc(NULL, n + 7);
        memcpy(r->text_owned, "done: ", 6);
        memcpy(r->text_owned + 6, result, n + 1);
        r->text = r->text_owned;
        r->text_len = n + 6;
    } else {
        struct call *k = &r->calls[r->ncalls++];
        k->name = "calc";
        k->args = "{\"expr\":\"6*7\"}";
        k->args_json = true;
        call_id(k, api, seq, 0);
    }
    free(result);
    cJSON_Delete(last);
}

/* Lua mode: the model answers, after or between the faults of --faults. */
static void answer_lua(struct conn *c, struct ctx *x)
{
    const cJSON *F = next_fault();
    uint64_t delay = (uint64_t)json_num(F, "delay_ms", (double)srv.delay_ms);
    char err[1024];
    struct reply r;
    cJSON *body;
    int rc;

    if (json_flag(F, "close")) {
        conn_close(c);
        return;
    }
    if (json_flag(F, "hang"))
        return; /* busy for good; the connection ends when the client goes */
    if (json_flag(F, "crlf"))
        x->nl = "\r\n";
    if (has_any(F, raw_keys)) {
        plan_raw(c, F);
        plan_options(c, F);
        plan_send(c, delay);
        return;
    }
    if (!(body = parse_json(c->in + c->head_len, c->body_len))) {
        plan_error(c, x->api, 400, "invalid_request_error",
                   "request body is not valid JSON");
        plan_send(c, 0);
        return;
    }
    rc = luamodel_reply(body, x->api, x->seq, &r, err, sizeof err);
    cJSON_Delete(body);
    if (rc < 0) {
        plan_error(c, x->api, 500,
                   x->api == API_ANTHROPIC ? "api_error" : "server_error", err);
        plan_send(c, delay);
        return;
    }
    reply_shape(F, &r);
    plan_reply(c, x, &r, cJSON_GetObjectItemCaseSensitive(F, "headers"));
    reply_free(&r);
    if (F)
        plan_options(c, F);
    plan_send(c, delay);
}

void answer_model(struct conn *c, enum api api)
{
    const char *body = c->in + c->head_len;
    const cJSON *R = NULL;
    struct reply r;
    struct req q;
    struct ctx x;

    if (scan_request(body, c->body_len, &q) < 0) {
        plan_error(c, api, 400, "invalid_request_error",
                   "request body is not a JSON object");
        plan_send(c, 0);
        return;
    }
    x.api = api;
    x.stream = q.stream;
    x.include_usage = q.include_usage;
    x.seq = srv.seq;
    x.created = (long long)time(NULL);
    x.model = q.model;
    x.nl = "\n";

    if (srv.mode == MODE_LUA) {
        answer_lua(c, &x);
        return;
    }
    if (srv.mode == MODE_BENCH) {
        reply_bench(&q, api, srv.seq, &r);
        plan_reply(c, &x, &r, NULL);
        reply_free(&r);
        c->ncuts = 0; /* for speed: the whole stream in one chunk, one write */
        plan_send(c, srv.delay_ms);
        return;
    }
    if (!(R = next_reply())) {
        plan_error(c, api, 500,
                   api == API_ANTHROPIC ? "api_error" : "server_error",
                   "stand-in script exhausted");
        plan_send(c, srv.delay_ms);
        return;
    }
    if (json_flag(R, "close")) {
        conn_close(c);
        return;
    }
    if (json_flag(R, "hang"))
        return; /* busy for good; the connection ends when the client goes */
    if (json_flag(R, "crlf"))
        x.nl = "\r\n";
    if (has_any(R, raw_keys)) {
        plan_raw(c, R);
    } else {
        reply_from_json(R, api, srv.seq, &r);
        plan_reply(c, &x, &r, cJSON_GetObjectItemCaseSensitive(R, "headers"));
        reply_free(&r);
    }
    plan_options(c, R);
    plan_send(c, (uint64_t)json_num(R, "delay_ms", (double)srv.delay_ms));
}

/* ---- start-up and shut-down ---- */

static void close_handle(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (uv_is_closing(h))
        return;
    if (h->data)
        conn_close(h->data);
    else
        uv_close(h, NULL);
}

/* Closes every handle so that the loop ends; closing the signal handles
 * restores the default action, so later signals are ignored instead. */
static void on_signal(uv_signal_t *s, int signum)
{
    (void)signum;
    uv_walk(s->loop, close_handle, NULL);
    signal(SIGTERM, SIG_IGN);
    signal(SIGINT, SIG_IGN);
}

/* Lets a benchmark open as many sockets as the hard limit allows. */
static void raise_nofile(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

static void usage(FILE *f)
{
    fputs(
        "usage: standin [--host 127.0.0.1] [--port N] [--port-file FILE]\n"
        "               [--script FILE] [--mode script|bench] [--delay-ms N]\n"
        "               [--lua FILE [--lua-json FILE] [--faults FILE]]\n"
        "               [--log FILE] [--first-request-file FILE]\n"
        "               [--embed-dims N]\n"
        "\n"
        "A stand-in LLM endpoint for tests and benchmarks: HTTP/1.1 with\n"
        "keep-alive on POST /v1/chat/completions, /chat/completions (OpenAI),\n"
        "POST /v1/messages, /messages (Anthropic), POST /v1/embeddings,\n"
        "/embeddings (OpenAI: the vectors of agent's local embedder, 64\n"
        "dimensions unless the request says; --embed-dims N answers N\n"
        "whatever it says, as servers that ignore it do) and GET /health.\n"
        "Prints \"port N\" once listening (--port 0 picks a free port).\n"
        "\n"
        "script mode: the n-th model request gets reply n of\n"
        "  {\"replies\": [R1, R2, ...], \"repeat_last\": false}; then 500.\n"
        "  R = {\"text\", \"tool_calls\": [{\"id\", \"name\", "
        "\"arguments\"}],\n"
        "       \"finish\", \"usage\": {\"input\", \"output\"}, \"headers\",\n"
        "       \"split\", \"gap_ms\", \"text_pieces\", \"args_pieces\",\n"
        "       \"omit_done\", \"usage_choices\", \"truncate_after\",\n"
        "       \"stall_ms\", \"delay_ms\", \"crlf\"}\n"
        "    | {\"status\", \"headers\", \"body\" | \"chunks\", and the\n"
        "       delivery keys above}\n"
        "    | {\"close\": true} | {\"hang\": true}\n"
        "  Keys starting with \"_\" are comments.\n"
        "  \"embeddings\": [E1, ...] answers the first embeddings requests\n"
        "  (E: the raw and fault forms above, or {} for the vectors, with\n"
        "  the delivery keys); the later ones get the vectors.\n"
        "bench mode: a calc tool call, or \"done: RESULT\" after a tool "
        "result.\n"
        "Lua mode (--lua FILE): FILE plays the model as for agent's script:\n"
        "  provider; it returns function(ctx), or a table with reply =\n"
        "  function(ctx). ctx = {messages = {{role, content, tool_calls,\n"
        "  tool_call_id, name, is_error}}, tools = {NAME, ...}, step, model,\n"
        "  api = \"openai\"|\"anthropic\", stream, request = N}. It returns\n"
        "  the text, or {text, tool_calls = {{id, name, arguments}}, finish,\n"
        "  usage = {input, output}} (default usage: bytes / 4 + 1). A Lua\n"
        "  error answers 500 with the file and line. The global json comes\n"
        "  from --lua-json FILE (default: " STANDIN_LUA_JSON ").\n"
        "  --faults FILE: [F1, ...] or {\"faults\": [F1, ...], \"every\": k,\n"
        "  \"embeddings\": [E1, ...]}: chat request n gets Fn, or with\n"
        "  \"every\", requests k, 2k, 3k, ... get F1, F2, ... (cycling); the\n"
        "  model answers the others. F is a raw answer or a fault as above\n"
        "  ({\"status\": 429, \"headers\": {\"Retry-After\": 1}},\n"
        "  {\"close\": true}), or delivery and streaming-shape keys alone,\n"
        "  applied to the model's answer ({\"truncate_after\": 120},\n"
        "  {\"stall_ms\": 1500}, {\"delay_ms\": 50}; {} changes nothing).\n",
        f);
}

static int parse_uint(const char *s, unsigned long max, unsigned long *v)
{
    char *end;

    errno = 0;
    *v = strtoul(s, &end, 10);
    return (*s && !*end && !errno && *v <= max && *s != '-') ? 0 : -1;
}

int main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"host", required_argument, NULL, 'H'},
        {"port", required_argument, NULL, 'p'},
        {"port-file", required_argument, NULL, 'P'},
        {"script", required_argument, NULL, 's'},
        {"mode", required_argument, NULL, 'm'},
        {"delay-ms", required_argument, NULL, 'd'},
        {"log", required_argument, NULL, 'l'},
        {"first-request-file", required_argument, NULL, 'f'},
        {"lua", required_argument, NULL, 'L'},
        {"lua-json", required_argument, NULL, 'J'},
        {"faults", required_argument, NULL, 'F'},
        {"embed-dims", required_argument, NULL, 'E'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0}};
    const char *host = "127.0.0.1", *port_file = NULL, *script = NULL;
    const char *lua = NULL, *lua_json = NULL, *faults = NULL;
    bool mode_set = false;
    unsigned long port = 0, delay = 0, edims = 0;
    struct sockaddr_storage addr;
    int len = sizeof addr, opt, r;
    char text[32];

    while ((opt = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (opt) {
        case 'H':
            host = optarg;
            break;
        case 'P':
            port_file = optarg;
            break;
        case 's':
            script = optarg;
            break;
        case 'f':
            srv.first_file = optarg;
            break;
        case 'L':
            lua = optarg;
            break;
        case 'J':
            lua_json = optarg;
            break;
        case 'F':
            faults = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'p':
            if (parse_uint(optarg, 65535, &port) == 0)
                break;
            fprintf(stderr, "standin: --port wants 0 to 65535\n");
            return 2;
        case 'E':
            if (parse_uint(optarg, 8192, &edims) == 0 && edims > 0) {
                srv.embed_dims = (int)edims;
                break;
            }
            fprintf(stderr, "standin: --embed-dims wants 1 to 8192\n");
            return 2;
        case 'd':
            if (parse_uint(optarg, 86400000, &delay) == 0)
                break;
            fprintf(stderr, "standin: --delay-ms wants a number of ms\n");
            return 2;
        case 'm':
            if (!strcmp(optarg, "script") || !strcmp(optarg, "bench")) {
                srv.mode = !strcmp(optarg, "bench") ? MODE_BENCH : MODE_SCRIPT;
                mode_set = true;
                break;
            }
            fprintf(stderr, "standin: --mode is script or bench\n");
            return 2;
        case 'l':
            if ((srv.log = fopen(optarg, "a")))
                break;
            fprintf(stderr, "standin: %s: %s\n", optarg, strerror(errno));
            return 2;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 2;
    }
    if (lua && (script || mode_set)) {
        fprintf(stderr, "standin: --lua does not go with --script or "
                        "--mode\n");
        return 2;
    }
    if (!lua && (lua_json || faults)) {
        fprintf(stderr, "standin: --lua-json and --faults go with --lua\n");
        return 2;
    }
    srv.delay_ms = delay;
    if (script && load_script(script) < 0)
        return 2;
    if (lua) {
        srv.mode = MODE_LUA;
        if (faults && load_faults(faults) < 0)
            return 2;
        if (luamodel_load(lua, lua_json ? lua_json : STANDIN_LUA_JSON) < 0)
            return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    raise_nofile();

    srv.loop = uv_default_loop();
    uv_tcp_init(srv.loop, &srv.listener);
    r = strchr(host, ':')
            ? uv_ip6_addr(host, (int)port, (struct sockaddr_in6 *)&addr)
            : uv_ip4_addr(host, (int)port, (struct sockaddr_in *)&addr);
    if (r == 0)
        r = uv_tcp_bind(&srv.listener, (struct sockaddr *)&addr, 0);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&srv.listener, BACKLOG, on_connection);
    if (r == 0)
        r = uv_tcp_getsockname(&srv.listener, (struct sockaddr *)&addr, &len);
    if (r < 0) {
        fprintf(stderr, "standin: listen on %s:%lu: %s\n", host, port,
                uv_strerror(r));
        return 1;
    }
    port = ntohs(addr.ss_family == AF_INET6
                     ? ((struct sockaddr_in6 *)&addr)->sin6_port
                     : ((struct sockaddr_in *)&addr)->sin_port);
    printf("port %lu\n", port);
    fflush(stdout);
    snprintf(text, sizeof text, "%lu\n", port);
    if (port_file && (r = write_file_atomic(port_file, text)) < 0) {
        fprintf(stderr, "standin: %s: %s\n", port_file, strerror(-r));
        return 1;
    }
    uv_signal_init(srv.loop, &srv.sigterm);
    uv_signal_init(srv.loop, &srv.sigint);
    uv_signal_start(&srv.sigterm, on_signal, SIGTERM);
    uv_signal_start(&srv.sigint, on_signal, SIGINT);

    uv_run(srv.loop, UV_RUN_DEFAULT);
    uv_loop_close(srv.loop);
    luamodel_close();
    cJSON_Delete(srv.script);
    if (srv.log)
        fclose(srv.log);
    return 0;
}
