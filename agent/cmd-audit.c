/*
 * cmd-audit.c: `agent audit verify|show|export`: the commands that read an
 * audit log (audit.h; reading and checking in audit-read.h).
 *
 *  - verify FILE... checks each log's chain and names the first bad record;
 *  - show FILE prints a timeline for people, grouped by run and step: the
 *    run's set-up, per step the model's text, tool calls and results,
 *    tokens, durations, retries and errors, and how the run ended; with
 *    --follow it keeps reading as the log grows, like tail -f;
 *  - export --otel FILE writes the runs as OpenTelemetry spans
 *    (audit-otel.h).
 *
 * show never trusts the log's text: control characters are printed as
 * escapes so that a tool's output cannot drive the terminal.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ag.h"
#include "audit-otel.h"
#include "audit-read.h"
#include "audit.h"
#include "cmd.h"
#include "json.h"

#define LINE_WIDTH 120  /* a result's line, roughly */
#define TEXT_MAX   2000 /* the model's text, unless --full */

static void usage(FILE *f)
{
    fputs("usage: agent audit verify FILE... [--head HASH] [-q]\n"
          "       agent audit show FILE [--run ID] [-f] [--no-color] [--full]\n"
          "       agent audit export --otel FILE [--run ID] [-o OUT]\n\n"
          "verify: checks each record's hash, the chain, seq and ts; prints\n"
          "  \"FILE: ok: N records, head HASH\" or names the first bad record\n"
          "  and what happened (edited, deleted, reordered, inserted, torn)\n"
          "  --head HASH    the log must end at HASH (one FILE only)\n"
          "  -q, --quiet    print only what is wrong\n"
          "show: a readable timeline, by run and step\n"
          "  --run ID       only that run (a unique prefix of its id)\n"
          "  -f, --follow   keep reading as the log grows, until interrupted\n"
          "  --no-color     no colors on a terminal either (or set NO_COLOR)\n"
          "  --full         do not shorten the model's text\n"
          "export: the runs as OpenTelemetry spans (OTLP/JSON, GenAI)\n"
          "  --otel         the format; --run ID: one run only\n"
          "  -o, --output OUT  write to OUT instead of stdout\n\n"
          "exit status: 0 fine, 1 a log does not verify (or no such run),\n"
          "2 usage error or unreadable file\n",
          f);
}

/* ---- verify ------------------------------------------------------------ */

/* src cut to n - 1 bytes in dst, control characters as '?'; dst. */
static char *clean(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
    for (char *p = dst; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = '?';
    return dst;
}

/* pre "FILE:LINE: seq S: KIND: what" post (line and seq when known). */
static void put_fault(FILE *f, const char *pre, const char *path,
                      uint64_t lineno, long long seq, enum ag_audit_fault fault,
                      const char *msg, const char *post)
{
    char m[512];

    fprintf(f, "%s%s:", pre, path);
    if (lineno)
        fprintf(f, "%llu:", (unsigned long long)lineno);
    if (seq >= 0)
        fprintf(f, " seq %lld:", seq);
    fprintf(f, " %s: %s%s", ag_audit_fault_name(fault), clean(m, sizeof m, msg),
            post);
}

static int verify_main(int argc, char **argv)
{
    static const struct option opts[] = {{"head", required_argument, NULL, 'H'},
                                         {"quiet", no_argument, NULL, 'q'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    char *head = NULL;
    int quiet = 0, status = AG_EXIT_OK, c, nfiles;

    optind = 1;
    while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
        if (c == 'H') {
            for (char *p = head = optarg; *p; p++)
                *p = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
            if (!ag_audit_is_hash(head)) {
                fprintf(stderr,
                        "agent audit verify: --head must be 64 hex digits "
                        "(got \"%s\")\n",
                        head);
                return AG_EXIT_USAGE;
            }
        } else if (c == 'q')
            quiet = 1;
        else {
            usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? AG_EXIT_OK : AG_EXIT_USAGE;
        }
    }
    if ((nfiles = argc - optind) < 1 || (head && nfiles > 1)) {
        fprintf(stderr, nfiles < 1 ? "agent audit verify: no file given\n"
                                   : "agent audit verify: --head is for one "
                                     "file only\n");
        return AG_EXIT_USAGE;
    }
    for (int i = 0; i < nfiles; i++) {
        const char *path = argv[optind + i];
        struct ag_audit_report rep;
        int rc = ag_audit_verify(path, head, &rep);

        if (rc < 0) {
            fprintf(stderr, "agent audit verify: %s: %s\n", path,
                    rc == AG_ETOOBIG ? "a line is longer than 64 MiB"
                                     : ag_strerror(rc));
            status = AG_EXIT_USAGE;
        } else if (rep.fault == AG_AUDIT_OK) {
            if (!quiet)
                printf("%s: ok: %llu records, head %s\n", path,
                       (unsigned long long)rep.records, rep.head);
        } else {
            if (status == AG_EXIT_OK)
                status = AG_EXIT_FAILED;
            put_fault(stdout, "", path, rep.lineno, rep.seq, rep.fault, rep.msg,
                      "\n");
            if (rep.lineno && rep.records)
                printf("  the %llu records before it verify, up to head %s\n",
                       (unsigned long long)rep.records, rep.head);
        }
    }
    fflush(stdout);
    return status;
}

/* ---- show: text for people --------------------------------------------- */

#define BOLD  "\033[1m"
#define DIM   "\033[2m"
#define RED   "\033[31m"
#define CYAN  "\033[36m"
#define RESET "\033[0m"

/* What show remembers of a run, to show times and sums. */
struct run {
    char id[33];
    char start_ts[32]; /* of run.start, or the run's first record */
    char req_ts[32];   /* of the last llm.request */
    long long step;    /* the step whose header was shown last */
    double tokens_in, tokens_out;
};

struct show {
    FILE *f;
    int color, full;
    const char *want; /* --run prefix */
    struct run *runs;
    size_t nruns;
    size_t last; /* 1 + the index of the run shown last; 0: none */
};

static const char *C(const struct show *s, const char *code)
{
    return s->color ? code : "";
}

/* "0.0345 ms", "12.3 ms", "1.25 s", "3 min 4 s" into b */
static const char *secs_str(char *b, size_t n, double s)
{
    if (s < 0)
        snprintf(b, n, "?");
    else if (s < 1)
        snprintf(b, n, "%.3g ms", s * 1000);
    else if (s < 60)
        snprintf(b, n, "%.2f s", s);
    else
        snprintf(b, n, "%.0f min %.0f s", floor(s / 60), fmod(s, 60));
    return b;
}

static double since(const char *from, const char *to)
{
    double a = ag_audit_ts_us(from), b = ag_audit_ts_us(to);
    return a < 0 || b < 0 ? -1 : (b - a) / 1e6;
}

/* Writes n bytes of p: control characters as escapes; newlines as a space
 * when oneline, else followed by indent. */
static void put_raw(FILE *f, const char *p, size_t n, int oneline,
                    const char *indent)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)p[i];
        if (ch == '\n' && !oneline)
            fprintf(f, "\n%s", indent);
        else if (ch == '\n' || ch == '\t' || ch == '\r')
            fputc(' ', f);
        else if (ch < 0x20 || ch == 0x7f)
            fprintf(f, "\\x%02x", ch);
        else
            fputc(ch, f);
    }
}

/* A content field (audit.h): text, text the writer cut ("... [+M bytes]")
 * or {"sha256", "bytes"}; anything else is shown as JSON. */
static void put_content(const struct show *s, const cJSON *v, size_t max,
                        int oneline, const char *indent)
{
    const char *t = NULL, *sha;
    size_t len = 0, total, more = 0;
    char *json = NULL;

    if (cJSON_IsString(v)) {
        const char *cut;
        t = v->valuestring;
        len = strlen(t);
        if (len > 4 && t[len - 1] == ']' && (cut = strrchr(t, '[')) &&
            cut > t && cut[-1] == ' ' &&
            sscanf(cut, "[+%zu bytes]", &more) == 1)
            len = (size_t)(cut - 1 - t);
        else
            more = 0;
    } else if (cJSON_IsObject(v) && (sha = ag_json_str(v, "sha256"))) {
        fprintf(s->f, "%s[sha256 ", C(s, DIM));
        put_raw(s->f, sha, strnlen(sha, 12), 1, "");
        fprintf(s->f, "…, %.0f bytes]%s", ag_json_num(v, "bytes", 0),
                C(s, RESET));
        return;
    } else if (v && (json = cJSON_PrintUnformatted(v)))
        t = json, len = strlen(json);
    if (!t) {
        fputs("-", s->f);
        return;
    }
    total = len + more;
    if (max && len > max) {
        len = max;
        while (len > 0 && ((unsigned char)t[len] & 0xC0) == 0x80)
            len--; /* not inside a UTF-8 sequence */
    }
    put_raw(s->f, t, len, oneline, indent);
    if (len < total)
        fprintf(s->f, "… (%zu bytes)", total);
    free(json);
}

/* sep then str on one line, when there is a str. */
static void put_opt(const struct show *s, const char *sep, const char *str)
{
    if (str) {
        fputs(sep, s->f);
        put_raw(s->f, str, strlen(str), 1, "");
    }
}

/* The content field key of d, on one line of at most max bytes. */
static void put_field(const struct show *s, const cJSON *d, const char *key,
                      size_t max)
{
    put_content(s, cJSON_GetObjectItemCaseSensitive(d, key), max, 1, "");
}

static void show_start(struct show *s, const struct run *r,
                       const struct ag_audit_rec *rec)
{
    const cJSON *d = rec->data, *v;
    const char *prov = ag_json_str(d, "provider"), *model;
    FILE *f = s->f;
    int n = 0;

    fprintf(f, "%srun %s%s", C(s, BOLD), r->id, C(s, RESET));
    if (rec->agent >= 0)
        fprintf(f, " · agent %lld", rec->agent);
    fprintf(f, " · %.10s %.15s UTC\n", r->start_ts, r->start_ts + 11);
    put_opt(s, "  task \"", ag_json_str(d, "task"));
    fputs(ag_json_str(d, "task") ? "\"" : "  task ?", f);
    put_opt(s, " · ", ag_json_str(d, "task_file"));
    put_opt(s, " · sha256 ", ag_json_str(d, "task_sha256"));
    fputs("\n  model ", f);
    model = ag_json_str(d, "model_label");
    if (!model && (model = ag_json_str(d, "model")) && prov &&
        strncmp(model, prov, strlen(prov)) != 0) {
        put_opt(s, "", prov);
        fputc(':', f);
    }
    put_opt(s, "", model);
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "stand_in")))
        fputs(" (scripted stand-in, not a real model)", f);
    fputs("\n  tools: ", f);
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(d, "tools"))
        put_opt(s, n++ ? ", " : "",
                cJSON_IsString(v) ? v->valuestring : ag_json_str(v, "name"));
    fputs(n ? "\n" : "none\n", f);
    n = 0;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(d, "limits"))
    {
        if (!cJSON_IsNumber(v) || v->valuedouble == 0)
            continue; /* 0: no limit */
        put_opt(s, n++ ? ", " : "  limits: ", v->string);
        fprintf(f, " %g", v->valuedouble);
    }
    if (n)
        fputc('\n', f);
    n = 0;
    cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(d, "sandbox"))
    {
        fputs(n++ ? "; " : "  sandbox: ", f);
        put_opt(s, "", ag_json_str(v, "layer"));
        if (!cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(v, "active")))
            fputs(" (off)", f);
    }
    if (n)
        fputc('\n', f);
    put_opt(s, "  content: ", ag_json_str(d, "content"));
    fputs(ag_json_str(d, "content") ? "\n" : "", f);
    if ((v = cJSON_GetObjectItemCaseSensitive(d, "system"))) {
        fputs("  system: ", f);
        put_content(s, v, s->full ? 0 : LINE_WIDTH, 1, "");
        fputc('\n', f);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(d, "goal"))) {
        fputs("  goal: ", f);
        put_content(s, v, s->full ? 0 : TEXT_MAX, 0, "        ");
        fputc('\n', f);
    }
}

/* "step N · +T" (T since the run started), and for a request what was
 * sent. */
static void step_header(struct show *s, struct run *r, long long step,
                        const char *ts, const cJSON *req)
{
    char t[48];

    r->step = step;
    fprintf(s->f, "%sstep %lld%s%s · +", C(s, BOLD), step, C(s, RESET),
            C(s, DIM));
    fputs(secs_str(t, sizeof t, since(r->start_ts, ts)), s->f);
    if (ag_json_num(req, "messages", -1) >= 0)
        fprintf(s->f, " · %.0f messages", ag_json_num(req, "messages", 0));
    if (ag_json_num(req, "bytes", -1) >= 0)
        fprintf(s->f, " · %.0f bytes sent", ag_json_num(req, "bytes", 0));
    fprintf(s->f, "%s\n", C(s, RESET));
}

static void show_response(struct show *s, struct run *r,
                          const struct ag_audit_rec *rec)
{
    const cJSON *d = rec->data,
                *u = cJSON_GetObjectItemCaseSensitive(d, "usage");
    double in = ag_json_num(u, "input", 0), out = ag_json_num(u, "output", 0);
    double lat = ag_json_num(d, "latency_ms", -1) / 1000;
    const cJSON *text = cJSON_GetObjectItemCaseSensitive(d, "text");
    char t[48];

    if (rec->step >= 0 && rec->step != r->step)
        step_header(s, r, rec->step, rec->ts, NULL);
    if (lat < 0 && r->req_ts[0])
        lat = since(r->req_ts, rec->ts);
    r->tokens_in += in;
    r->tokens_out += out;
    fprintf(s->f, "  %smodel ", C(s, DIM));
    fputs(secs_str(t, sizeof t, lat), s->f);
    fprintf(s->f, " · tokens %.0f in, %.0f out, %.0f so far", in, out,
            r->tokens_in + r->tokens_out);
    if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(d, "cost_usd")))
        fprintf(s->f, " · $%.4f", ag_json_num(d, "cost_usd", 0));
    put_opt(s, " · ", ag_json_str(d, "finish"));
    if (ag_json_num(d, "attempt", 1) > 1)
        fprintf(s->f, " · attempt %.0f", ag_json_num(d, "attempt", 1));
    fprintf(s->f, "%s\n", C(s, RESET));
    if (text && !(cJSON_IsString(text) && !text->valuestring[0])) {
        fprintf(s->f, "    %s", C(s, DIM));
        put_content(s, text, s->full ? 0 : TEXT_MAX, 0, "    ");
        fprintf(s->f, "%s\n", C(s, RESET));
    }
}

static void show_result(struct show *s, const struct ag_audit_rec *rec)
{
    const cJSON *d = rec->data;
    int ok = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(d, "ok"));
    const char *verdict = ag_json_str(d, "verdict");
    const char *tool = ag_json_str(d, "tool");
    char meta[160], t[48], v[64];
    size_t used;

    snprintf(meta, sizeof meta, "%s%s%s%s · %.0f bytes · %s",
             ok ? "ok" : "error", verdict ? " (" : "",
             clean(v, sizeof v, verdict), verdict ? ")" : "",
             ag_json_num(d, "bytes", 0),
             secs_str(t, sizeof t, ag_json_num(d, "ms", -1) / 1000));
    used = 4 + (tool ? strlen(tool) : 1) + 1 + strlen(meta) + 2;
    fprintf(s->f, "  %s← ", ok ? "" : C(s, RED));
    put_opt(s, "", tool);
    fprintf(s->f, " %s%s: ", meta, ok ? "" : C(s, RESET));
    put_content(s, cJSON_GetObjectItemCaseSensitive(d, ok ? "value" : "error"),
                used + 40 < LINE_WIDTH ? LINE_WIDTH - used : 40, 1, "");
    fputc('\n', s->f);
}

static void show_error(struct show *s, const struct ag_audit_rec *rec)
{
    const cJSON *d = rec->data;
    const char *what = ag_json_str(d, "what");
    char w[64];

    if (what && strcmp(what, "llm.attempt") == 0) {
        fprintf(s->f, "  %sretry:%s attempt %.0f failed", C(s, RED),
                C(s, RESET), ag_json_num(d, "attempt", 0));
        if (ag_json_num(d, "status", 0) > 0)
            fprintf(s->f, " (status %.0f)", ag_json_num(d, "status", 0));
        fputs(": ", s->f);
        put_field(s, d, "message", 300);
        if (ag_json_num(d, "retry_in_ms", -1) >= 0)
            fprintf(s->f, "; again in %.1f s",
                    ag_json_num(d, "retry_in_ms", 0) / 1000);
        fputc('\n', s->f);
        return;
    }
    fprintf(s->f, "  %serror%s%s%s:%s ", C(s, RED), what ? " (" : "",
            clean(w, sizeof w, what), what ? ")" : "", C(s, RESET));
    put_field(s, d, "message", 300);
    if (ag_json_num(d, "bytes", -1) >= 0)
        fprintf(s->f, " · %.0f bytes", ag_json_num(d, "bytes", 0));
    fputc('\n', s->f);
}

static void show_end(struct show *s, const struct run *r,
                     const struct ag_audit_rec *rec)
{
    const cJSON *d = rec->data, *v;
    const char *outcome = ag_json_str(d, "outcome");
    int done = outcome && strcmp(outcome, "done") == 0;
    double steps = ag_json_num(d, "steps", -1);
    double secs = ag_json_num(d, "seconds", -1);
    char t[48], o[64];

    fprintf(s->f, "%s%s%s", C(s, done ? BOLD : RED),
            outcome ? clean(o, sizeof o, outcome) : "ended", C(s, RESET));
    if (ag_json_str(d, "reason")) {
        fputs(": ", s->f);
        put_field(s, d, "reason", 300);
    }
    if (steps >= 0)
        fprintf(s->f, " · %.0f step%s", steps, steps == 1 ? "" : "s");
    fprintf(s->f, " · tokens %.0f in, %.0f out",
            ag_json_num(d, "tokens_in", r->tokens_in),
            ag_json_num(d, "tokens_out", r->tokens_out));
    fprintf(s->f, " · $%.4f · ", ag_json_num(d, "cost_usd", 0));
    fputs(secs_str(t, sizeof t, secs >= 0 ? secs : since(r->start_ts, rec->ts)),
          s->f);
    if (ag_json_num(d, "invalid_calls", 0) > 0)
        fprintf(s->f, " · %.0f invalid call%s",
                ag_json_num(d, "invalid_calls", 0),
                ag_json_num(d, "invalid_calls", 0) == 1 ? "" : "s");
    fputc('\n', s->f);
    if ((v = cJSON_GetObjectItemCaseSensitive(d, "answer"))) {
        fputs("  answer: ", s->f);
        put_content(s, v, s->full ? 0 : TEXT_MAX, 0, "          ");
        fputc('\n', s->f);
    }
}

/* One record of run r, as one or a few lines. */
static void show_record(struct show *s, size_t ri,
                        const struct ag_audit_rec *rec)
{
    struct run *r = &s->runs[ri];
    const char *type = rec->type ? rec->type : "?";
    const cJSON *d = rec->data;
    FILE *f = s->f;

    if (!r->start_ts[0] || strcmp(type, "run.start") == 0)
        clean(r->start_ts, sizeof r->start_ts, rec->ts);
    if (s->last != ri + 1 && strcmp(type, "run.start") != 0)
        fprintf(f, "%s── run %s%s\n", C(s, DIM), r->id, C(s, RESET));
    s->last = ri + 1;
    if (strcmp(type, "run.start") == 0)
        show_start(s, r, rec);
    else if (strcmp(type, "llm.request") == 0) {
        clean(r->req_ts, sizeof r->req_ts, rec->ts);
        step_header(s, r, rec->step + 1, rec->ts, d);
    } else if (strcmp(type, "llm.response") == 0)
        show_response(s, r, rec);
    else if (strcmp(type, "tool.call") == 0) {
        fprintf(f, "  %s→ ", C(s, CYAN));
        put_opt(s, "", ag_json_str(d, "tool"));
        fprintf(f, "%s ", C(s, RESET));
        put_field(s, d, "arguments", LINE_WIDTH * 2);
        fputc('\n', f);
    } else if (strcmp(type, "tool.result") == 0)
        show_result(s, rec);
    else if (strcmp(type, "violation") == 0) {
        fprintf(f, "  %s✗ violation", C(s, RED));
        put_opt(s, ": ", ag_json_str(d, "tool"));
        put_opt(s, ": ", ag_json_str(d, "verdict"));
        fputs(": ", f);
        put_field(s, d, "message", 300);
        fprintf(f, "%s\n", C(s, RESET));
    } else if (strcmp(type, "context.cut") == 0) {
        fprintf(f, "  %scontext cut: ", C(s, DIM));
        put_opt(s, "", ag_json_str(d, "what"));
        fprintf(f, " (message %.0f, %.0f → %.0f bytes)%s\n",
                ag_json_num(d, "message", 0), ag_json_num(d, "from_bytes", 0),
                ag_json_num(d, "to_bytes", 0), C(s, RESET));
    } else if (strcmp(type, "error") == 0)
        show_error(s, rec);
    else if (strcmp(type, "run.end") == 0)
        show_end(s, r, rec);
    else { /* a type this version does not know */
        fprintf(f, "  %s", C(s, DIM));
        put_opt(s, "", type);
        fputs(": ", f);
        put_content(s, d, LINE_WIDTH, 1, "");
        fprintf(f, "%s\n", C(s, RESET));
    }
}

/* ---- show: reading ----------------------------------------------------- */

/* The index of the run with this id, added on first sight. */
static size_t run_of(struct show *s, const char *id)
{
    char key[sizeof s->runs->id];

    clean(key, sizeof key, id ? id : "?");
    for (size_t i = s->nruns; i-- > 0;) /* the latest first */
        if (strcmp(s->runs[i].id, key) == 0)
            return i;
    s->runs = ag_xrealloc(s->runs, (s->nruns + 1) * sizeof *s->runs);
    memset(&s->runs[s->nruns], 0, sizeof *s->runs);
    memcpy(s->runs[s->nruns].id, key, sizeof key);
    s->runs[s->nruns].step = -1;
    return s->nruns++;
}

static void free_runs(struct show *s)
{
    free(s->runs);
    s->runs = NULL;
    s->nruns = s->last = 0;
}

#define WARN "agent audit show: warning: "
#define SEE  " (see agent audit verify)\n"

/* The whole file, one run after the other (runs may interleave when
 * agents share a log). */
static int show_file(struct show *s, const char *path)
{
    struct ag_audit_index ix;
    struct ag_audit_report rep;
    struct ag_audit_rec rec;
    int rc, only = -1;

    if ((rc = ag_audit_index(path, &ix)) < 0) {
        fprintf(stderr, "agent audit show: %s: %s\n", path, ag_strerror(rc));
        return AG_EXIT_USAGE;
    }
    if (s->want && (only = ag_audit_index_find(&ix, s->want)) < 0) {
        fprintf(stderr,
                only == -1 ? "agent audit show: no run \"%s\" in %s\n"
                           : "agent audit show: --run %s matches several runs "
                             "in %s; give more of the id\n",
                s->want, path);
        ag_audit_index_free(&ix);
        return only == -1 ? AG_EXIT_FAILED : AG_EXIT_USAGE;
    }
    if (ag_audit_verify(path, NULL, &rep) == 0 && rep.fault != AG_AUDIT_OK)
        put_fault(stderr, WARN, path, rep.lineno, rep.seq, rep.fault, rep.msg,
                  SEE);
    for (size_t i = 0; i < ix.nruns; i++) {
        size_t ri;
        if (only >= 0 && i != (size_t)only)
            continue;
        if (s->last)
            fputc('\n', s->f);
        ri = run_of(s, ix.runs[i].id);
        for (size_t k = 0; k < ix.runs[i].n; k++)
            if (ag_audit_index_rec(&ix, i, k, &rec) == 0) {
                show_record(s, ri, &rec);
                ag_audit_rec_free(&rec);
            }
    }
    ag_audit_index_free(&ix);
    return AG_EXIT_OK;
}

static volatile sig_atomic_t stop_following;

static void on_stop(int sig)
{
    (void)sig;
    stop_following = 1;
}

/* Shows records as they are appended, until SIGINT or SIGTERM. A last line
 * without its newline is not complete yet: it waits for the rest. */
static int follow_file(struct show *s, const char *path)
{
    struct sigaction sa;
    struct ag_audit_reader *rd;
    struct ag_audit_chain chain;
    struct ag_audit_line line;
    struct ag_audit_rec rec;
    const struct timespec nap = {0, 200 * 1000 * 1000};
    char msg[512];
    int rc, checking = 1;

    if ((rc = ag_audit_reader_open(path, &rd)) < 0) {
        fprintf(stderr, "agent audit show: %s: %s\n", path, ag_strerror(rc));
        return AG_EXIT_USAGE;
    }
    ag_audit_reader_hold(rd, 1);
    ag_audit_chain_init(&chain);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop; /* no SA_RESTART: the nap ends early */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    while (!stop_following) {
        struct stat st;
        if ((rc = ag_audit_reader_next(rd, &line)) == 1) {
            enum ag_audit_fault f = AG_AUDIT_OK;
            if (checking)
                f = ag_audit_chain_add(&chain, &line, &rec, msg, sizeof msg);
            else
                ag_audit_rec_parse(line.text, line.len, &rec);
            if (f != AG_AUDIT_OK) {
                put_fault(stderr, WARN, path, line.lineno, rec.seq, f, msg,
                          SEE);
                checking = 0;
            }
            if (rec.json &&
                (!s->want || strncmp(rec.run ? rec.run : "?", s->want,
                                     strlen(s->want)) == 0))
                show_record(s, run_of(s, rec.run), &rec);
            ag_audit_rec_free(&rec);
            continue;
        }
        if (rc < 0) {
            fprintf(stderr, "agent audit show: %s: %s\n", path,
                    ag_strerror(rc));
            ag_audit_reader_free(rd);
            return AG_EXIT_USAGE;
        }
        fflush(s->f);
        if (fstat(ag_audit_reader_fd(rd), &st) == 0 &&
            (uint64_t)st.st_size < ag_audit_reader_offset(rd)) {
            fprintf(stderr,
                    "agent audit show: %s was truncated; reading it "
                    "from the start\n",
                    path);
            ag_audit_reader_rewind(rd);
            ag_audit_chain_init(&chain);
            free_runs(s);
            checking = 1;
            continue;
        }
        nanosleep(&nap, NULL);
    }
    fflush(s->f);
    ag_audit_reader_free(rd);
    return AG_EXIT_OK;
}

static int show_main(int argc, char **argv)
{
    static const struct option opts[] = {{"run", required_argument, NULL, 'r'},
                                         {"follow", no_argument, NULL, 'f'},
                                         {"no-color", no_argument, NULL, 'C'},
                                         {"full", no_argument, NULL, 'F'},
                                         {"help", no_argument, NULL, 'h'},
                                         {0}};
    struct show s;
    int c, no_color = 0, follow = 0, status;

    memset(&s, 0, sizeof s);
    s.f = stdout;
    optind = 1;
    while ((c = getopt_long(argc, argv, "fh", opts, NULL)) != -1) {
        if (c == 'r')
            s.want = optarg;
        else if (c == 'f' || c == 'C' || c == 'F')
            *(c == 'f' ? &follow : c == 'C' ? &no_color : &s.full) = 1;
        else {
            usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? AG_EXIT_OK : AG_EXIT_USAGE;
        }
    }
    if (optind != argc - 1) {
        fprintf(stderr, optind >= argc ? "agent audit show: no file given\n"
                                       : "agent audit show: one file only\n");
        return AG_EXIT_USAGE;
    }
    s.color = !no_color && isatty(fileno(stdout)) && !getenv("NO_COLOR");
    status =
        follow ? follow_file(&s, argv[optind]) : show_file(&s, argv[optind]);
    free_runs(&s);
    if (fflush(stdout) != 0 && status == AG_EXIT_OK)
        status = AG_EXIT_FAILED;
    return status;
}

/* ---- export ------------------------------------------------------------ */

static int export_main(int argc, char **argv)
{
    static const struct option opts[] = {
        {"otel", no_argument, NULL, 'O'},
        {"run", required_argument, NULL, 'r'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {0}};
    const char *run = NULL, *outpath = NULL;
    char err[1024] = "";
    int c, otel = 0, rc;
    FILE *out = stdout;

    optind = 1;
    while ((c = getopt_long(argc, argv, "o:h", opts, NULL)) != -1) {
        if (c == 'O')
            otel = 1;
        else if (c == 'r')
            run = optarg;
        else if (c == 'o')
            outpath = optarg;
        else {
            usage(c == 'h' ? stdout : stderr);
            return c == 'h' ? AG_EXIT_OK : AG_EXIT_USAGE;
        }
    }
    if (!otel || optind != argc - 1) {
        fprintf(stderr, !otel ? "agent audit export: choose a format: --otel\n"
                        : optind >= argc
                            ? "agent audit export: no file given\n"
                            : "agent audit export: one file only\n");
        return AG_EXIT_USAGE;
    }
    if (outpath && !(out = fopen(outpath, "w"))) {
        fprintf(stderr, "agent audit export: -o %s: %s\n", outpath,
                strerror(errno));
        return AG_EXIT_USAGE;
    }
    rc = ag_otel_export(argv[optind], out, run, err, sizeof err);
    if ((out != stdout ? fclose(out) : fflush(out)) != 0 && rc == 0) {
        snprintf(err, sizeof err, "%s: %s", outpath ? outpath : "stdout",
                 strerror(errno));
        rc = -EIO;
    }
    if (rc < 0) {
        fprintf(stderr, "agent audit export: %s\n",
                err[0] ? err : ag_strerror(rc));
        if (outpath)
            remove(outpath);
        return rc == -ENOENT || rc == -EACCES || rc == -EISDIR ? AG_EXIT_USAGE
                                                               : AG_EXIT_FAILED;
    }
    return AG_EXIT_OK;
}

/* ---- agent audit ------------------------------------------------------- */

static int audit_main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*main)(int, char **);
    } subs[] = {
        {"verify", verify_main}, {"show", show_main}, {"export", export_main}};

    if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? AG_EXIT_USAGE : AG_EXIT_OK;
    }
    for (size_t i = 0; i < AG_ARRAY_SIZE(subs); i++)
        if (strcmp(argv[1], subs[i].name) == 0)
            return subs[i].main(argc - 1, argv + 1);
    fprintf(stderr, "agent audit: unknown subcommand \"%s\"\n", argv[1]);
    usage(stderr);
    return AG_EXIT_USAGE;
}

const struct ag_cmd ag_cmd_audit = {
    "audit", "verify, show or export an audit log", audit_main};
