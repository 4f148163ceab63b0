/*
 * sim-view.c: `agent sim view DIR`: one self-contained HTML page showing a
 * finished run (its --out directory, see "What a run writes" in sim.h): a
 * map of the world with the agents replayed over a timeline slider, speech
 * bubbles and the events around the current time; the diffusion curve of
 * each fact; the relationship graph; model usage by prompt kind.
 *
 * The C side only reads and checks the three files with cJSON and embeds
 * them, untouched, as one JSON value {"world", "timeline", "metrics"} in a
 * <script type="application/json"> block; the page's own script lays out
 * the map and precomputes every agent's place per game minute, so that
 * scrubbing and playing stay smooth with 25 agents and thousands of events.
 * Every "<" in the data is written as \u003c, so that no text in the run
 * ("</script>", "<!--") can end the block. The page needs no network: no
 * external fonts, scripts or images, and a Content-Security-Policy of
 * default-src 'none' says so to the browser. It is written to a temporary
 * file and renamed, so a failed call leaves no partial page.
 *
 * The page is kept below as three string literals (before the title,
 * between the title and the data, after the data). Its script is plain ES5
 * with single-quoted strings, for Chromium and Firefox alike and so that
 * the literals read like the page; tests/e2e-sim-view.sh renders it in
 * headless Chromium.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "ag.h"
#include "json.h"
#include "sim-private.h"

#define WORLD_MAX    (16u << 20)  /* world.json */
#define METRICS_MAX  (64u << 20)  /* metrics.json */
#define TIMELINE_MAX (512u << 20) /* timeline.jsonl */

/* ---- the page -------------------------------------------------------- */

/* from the start to the title */
static const char page_head[] =
    "<!DOCTYPE html>\n"
    "<html lang='en'>\n"
    "<head>\n"
    "<meta charset='utf-8'>\n"
    "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
    "<meta http-equiv='Content-Security-Policy'\n"
    " content=\"default-src 'none'; style-src 'unsafe-inline';\n"
    " script-src 'unsafe-inline'\">\n"
    "<title>";

/* from the title to the data */
static const char page_body[] =
    "</title>\n"
    "<style>\n"
    ":root { --ink: #1f2430; --dim: #6b7280; --line: #d9dde3;\n"
    "  --bg: #f4f5f7; --card: #fff; --accent: #2563eb; }\n"
    "* { box-sizing: border-box; }\n"
    "body { margin: 0; background: var(--bg); color: var(--ink);\n"
    "  font: 14px/1.4 system-ui, -apple-system, 'Segoe UI', sans-serif; }\n"
    "header { padding: 14px 20px 4px; }\n"
    "h1 { margin: 0; font-size: 20px; }\n"
    "h2 { margin: 0 0 8px; font-size: 15px; }\n"
    ".sub, .hint { color: var(--dim); font-size: 12px; }\n"
    "main { display: grid; gap: 14px; padding: 10px 20px 20px;\n"
    "  grid-template-columns: minmax(0, 1fr) 340px; }\n"
    ".card { background: var(--card); border: 1px solid var(--line);\n"
    "  border-radius: 8px; padding: 12px; min-width: 0; }\n"
    ".wide { grid-column: 1 / -1; }\n"
    ".row2 { grid-column: 1 / -1; display: grid; gap: 14px;\n"
    "  grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); }\n"
    "svg { display: block; width: 100%; height: auto; }\n"
    "svg.ico { width: 12px; height: 12px; fill: currentColor; }\n"
    "button { display: inline-flex; align-items: center; min-height: 28px; }\n"
    "#map .sector { fill: #eef2f7; stroke: #c3cad5; }\n"
    "#map .arena { fill: #fff; stroke: #d5dbe3; }\n"
    "#map .sname { font-size: 12px; font-weight: 600; fill: #374151; }\n"
    "#map .aname { font-size: 10px; fill: var(--dim); }\n"
    ".anim .agent { transition: transform .35s ease; }\n"
    "@media (prefers-reduced-motion: reduce) {\n"
    "  .anim .agent { transition: none; } }\n"
    ".agent text, .node text { font-size: 9px; fill: #fff; font-weight: 700;\n"
    "  text-anchor: middle; dominant-baseline: central;\n"
    "  pointer-events: none; }\n"
    ".agent .nm { fill: var(--ink); font-weight: 400; font-size: 9px; }\n"
    ".node .gl { fill: var(--ink); font-weight: 400; font-size: 13px; }\n"
    ".bubble rect { fill: #fffbea; stroke: #e0b84a; }\n"
    ".bubble text { font-size: 10px; fill: #3b3200; }\n"
    ".controls { display: flex; align-items: center; gap: 8px;\n"
    "  margin-top: 8px; flex-wrap: wrap; }\n"
    ".controls input[type=range] { flex: 1; min-width: 200px; }\n"
    "button, select { font: inherit; padding: 3px 10px; border-radius: 6px;\n"
    "  border: 1px solid var(--line); background: #fff; cursor: pointer; }\n"
    "button:focus-visible, input:focus-visible, select:focus-visible {\n"
    "  outline: 2px solid var(--accent); outline-offset: 2px; }\n"
    "#clock { font: 600 16px ui-monospace, monospace; min-width: 11ch; }\n"
    "#side { display: flex; flex-direction: column; gap: 8px;\n"
    "  height: 0; min-height: 100%; }  /* as tall as the map, no taller */\n"
    "#mapcard { min-height: 560px; }\n"
    "#side { overflow: hidden; }\n"
    "#roster { list-style: none; margin: 0; padding: 0; font-size: 12px;\n"
    "  max-height: 220px; overflow-y: auto; flex: none; }\n"
    "#roster li { padding: 2px 0; border-bottom: 1px solid #f0f1f3;\n"
    "  white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }\n"
    ".dot { display: inline-block; width: 10px; height: 10px;\n"
    "  border-radius: 50%; margin-right: 5px; vertical-align: -1px; }\n"
    ".pl { color: var(--dim); }\n"
    "#types { display: flex; flex-wrap: wrap; gap: 4px; font-size: 11px; }\n"
    "#types label { border: 1px solid var(--line); border-radius: 10px;\n"
    "  padding: 0 6px; cursor: pointer; }\n"
    "#events { overflow-y: auto; flex: 1 1 0; min-height: 120px;\n"
    "  font-size: 12px;\n"
    "  border-top: 1px solid var(--line); }\n"
    ".ev { padding: 3px 2px; border-bottom: 1px solid #f0f1f3; }\n"
    ".ev.next { opacity: .45; }\n"
    ".ev.cur { background: #eef4ff; }\n"
    ".ev .tm { font-family: ui-monospace, monospace; color: var(--dim); }\n"
    ".ev .ty { font-size: 10px; color: var(--dim); margin: 0 4px; }\n"
    ".nowline { border-top: 2px solid var(--accent); margin: 2px 0; }\n"
    ".axis { font-size: 11px; fill: var(--dim); }\n"
    ".grid { stroke: #eceef2; }\n"
    "table { border-collapse: collapse; width: 100%; font-size: 13px; }\n"
    "th, td { padding: 4px 8px; border-bottom: 1px solid var(--line);\n"
    "  text-align: right; }\n"
    "th:first-child, td:first-child { text-align: left; }\n"
    "tfoot td { font-weight: 600; }\n"
    ".facts p { margin: 4px 0; font-size: 12px; }\n"
    "#error { background: #fee2e2; color: #991b1b; padding: 10px;\n"
    "  margin: 10px 20px; border-radius: 6px; }\n"
    "</style>\n"
    "</head>\n"
    "<body>\n"
    "<header><h1 id='title'></h1><div class='sub' id='sub'></div>\n"
    "</header>\n"
    "<div id='error' hidden></div>\n"
    "<main>\n"
    "<section class='card' id='mapcard' aria-labelledby='h-map'>\n"
    "<h2 id='h-map'>Map and replay</h2>\n"
    "<svg id='map' role='img' aria-label='Map of the world with agents'>\n"
    "</svg>\n"
    "<div class='controls'>\n"
    "<button id='first' title='Back to the start'\n"
    " aria-label='Back to the start'>\n"
    "<svg viewBox='0 0 12 12' class='ico'>\n"
    "<path d='M2 2h2v8H2zM11 2v8L5 6z'/>\n"
    "</svg></button>\n"
    "<button id='prev' title='Previous event'\n"
    " aria-label='Previous event'>\n"
    "<svg viewBox='0 0 12 12' class='ico'><path d='M10 2v8L3 6z'/>\n"
    "</svg>\n"
    "</button>\n"
    "<button id='play' aria-pressed='false'>Play</button>\n"
    "<button id='next' title='Next event' aria-label='Next event'>\n"
    "<svg viewBox='0 0 12 12' class='ico'><path d='M2 2v8l7-4z'/></svg>\n"
    "</button>\n"
    "<input id='slider' type='range' min='0' max='0' value='0' step='1'\n"
    " aria-label='Game time'>\n"
    "<span id='clock' aria-live='off'></span>\n"
    "<label>Speed <select id='speed'>\n"
    "<option value='5'>5 min/s</option>\n"
    "<option value='15'>15 min/s</option>\n"
    "<option value='30' selected>30 min/s</option>\n"
    "<option value='60'>1 h/s</option><option value='180'>3 h/s</option>\n"
    "</select></label>\n"
    "</div>\n"
    "<div class='hint' id='legend'></div>\n"
    "<div class='hint'>Slider: arrow keys step one game minute, Page Up/Down\n"
    "jump; space plays or pauses; [ and ] go to the previous and next event.\n"
    "</div>\n"
    "</section>\n"
    "<aside class='card' id='side' aria-label='Agents and events'>\n"
    "<h2>Agents</h2>\n"
    "<ul id='roster'></ul>\n"
    "<h2>Events</h2>\n"
    "<div id='types' role='group' aria-label='Event types shown'></div>\n"
    "<div id='events' tabindex='0'\n"
    " aria-label='Events near the current time'>\n"
    "</div>\n"
    "</aside>\n"
    "<div class='row2'>\n"
    "<section class='card' aria-labelledby='h-diff'>\n"
    "<h2 id='h-diff'>Diffusion of facts</h2>\n"
    "<svg id='diff' role='img' aria-label='Informed agents over game time'>\n"
    "</svg>\n"
    "<div class='facts' id='facts'></div>\n"
    "</section>\n"
    "<section class='card' aria-labelledby='h-graph'>\n"
    "<h2 id='h-graph'>Relationships</h2>\n"
    "<svg id='graph' role='img' aria-label='Who talked with whom'></svg>\n"
    "<div class='hint' id='ghint'></div>\n"
    "<svg id='dens' role='img' aria-label='Graph density over game time'>\n"
    "</svg>\n"
    "</section>\n"
    "</div>\n"
    "<section class='card wide' aria-labelledby='h-use'>\n"
    "<h2 id='h-use'>Model usage by prompt kind</h2>\n"
    "<div id='usage'></div>\n"
    "</section>\n"
    "</main>\n"
    "<script type='application/json' id='sim-data'>";

/* from the data to the end: the script (sim-view-script.c) */
extern const char ag__sim_view_script[];

/* ---- reading the run ------------------------------------------------- */

/* The line of text (from 1) that p points into. */
static int line_of(const char *text, const char *p)
{
    int line = 1;

    for (; text < p; text++)
        line += *text == '\n';
    return line;
}

/* Parses n bytes of text as one JSON object, into *out (caller frees).
 * Returns 0, or AG_EPARSE with a message naming path and line. */
static int parse_object(const char *path, int line0, const char *text, size_t n,
                        cJSON **out, char *err, size_t errlen)
{
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(text, n, &end, 0);

    if (v) { /* only white space may follow the value */
        while (end < text + n && *end && strchr(" \t\r\n", *end))
            end++;
        if (end < text + n) {
            cJSON_Delete(v);
            v = NULL;
        }
    }
    if (!v) {
        ag_seterr(err, errlen, "%s:%d: malformed JSON", path,
                  line0 - 1 + line_of(text, end ? end : text));
        return AG_EPARSE;
    }
    if (!cJSON_IsObject(v)) {
        cJSON_Delete(v);
        ag_seterr(err, errlen, "%s:%d: not a JSON object", path, line0);
        return AG_EPARSE;
    }
    *out = v;
    return 0;
}

/* Reads dir/name whole, at most max bytes, into *text and *len. */
static int slurp(const char *dir, const char *name, size_t max, char **path,
                 char **text, size_t *len, char *err, size_t errlen)
{
    int rc;

    *path = ag_xasprintf("%s/%s", dir, name);
    rc = ag_read_file(*path, max, text, len);
    if (rc < 0)
        ag_seterr(err, errlen, "%s: %s", *path,
                  rc == AG_ETOOBIG ? "larger than the view reads"
                                   : ag_strerror(rc));
    return rc;
}

/* Reads dir/name as one JSON object. A missing file is an empty object
 * when optional. */
static int read_object(const char *dir, const char *name, size_t max,
                       int optional, cJSON **out, char *err, size_t errlen)
{
    char *path, *text = NULL;
    size_t len;
    int rc = slurp(dir, name, max, &path, &text, &len, err, errlen);

    if (rc == -ENOENT && optional) {
        ag_warn("%s: missing; the page shows what the timeline tells", path);
        *out = cJSON_CreateObject();
        rc = *out ? 0 : -ENOMEM;
    } else if (rc == 0) {
        rc = parse_object(path, 1, text, len, out, err, errlen);
    }
    free(text);
    free(path);
    return rc;
}

/* Reads dir/timeline.jsonl into a JSON array of its events. Each line is
 * an object with "t" and "type" strings; blank lines are skipped, and so
 * is a last line without its newline that does not parse (a run stopped
 * while writing it). */
static int read_timeline(const char *dir, cJSON **out, char *err, size_t errlen)
{
    char *path, *text = NULL, *p, *nl;
    size_t len;
    int rc, line = 0;
    cJSON *events, *ev;

    rc = slurp(dir, "timeline.jsonl", TIMELINE_MAX, &path, &text, &len, err,
               errlen);
    if (rc < 0) {
        free(path);
        return rc;
    }
    if (!(events = cJSON_CreateArray()))
        rc = -ENOMEM;
    for (p = text; rc == 0 && p < text + len; p = nl + 1) {
        size_t n;

        line++;
        nl = memchr(p, '\n', len - (size_t)(p - text));
        if (!nl)
            nl = text + len;
        n = (size_t)(nl - p);
        if (strspn(p, " \t\r") >= n)
            continue;
        rc = parse_object(path, line, p, n, &ev, err, errlen);
        if (rc < 0 && nl == text + len) {
            ag_warn("%s:%d: ignoring a torn last line", path, line);
            rc = 0;
            break;
        }
        if (rc < 0)
            break;
        cJSON_AddItemToArray(events, ev);
        if (!cJSON_IsString(cJSON_GetObjectItem(ev, "t")) ||
            !cJSON_IsString(cJSON_GetObjectItem(ev, "type"))) {
            ag_seterr(err, errlen, "%s:%d: an event needs \"t\" and \"type\"",
                      path, line);
            rc = AG_EPARSE;
        }
    }
    free(text);
    free(path);
    if (rc < 0) {
        cJSON_Delete(events);
        return rc;
    }
    *out = events;
    return 0;
}

/* ---- writing the page ------------------------------------------------ */

/* Text for an HTML element: &, <, >, " escaped. */
static void put_html(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&':
            fputs("&amp;", f);
            break;
        case '<':
            fputs("&lt;", f);
            break;
        case '>':
            fputs("&gt;", f);
            break;
        case '"':
            fputs("&quot;", f);
            break;
        default:
            putc(*s, f);
        }
    }
}

/* JSON text inside a <script> element: every "<" as \u003c (it can only
 * occur inside strings, where the escape means the same). */
static void put_script_json(FILE *f, const char *s)
{
    const char *lt;

    while ((lt = strchr(s, '<'))) {
        fwrite(s, 1, (size_t)(lt - s), f);
        fputs("\\u003c", f);
        s = lt + 1;
    }
    fputs(s, f);
}

static int write_page(const char *path, const char *title, const char *json,
                      char *err, size_t errlen)
{
    char *tmp = ag_xasprintf("%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    int rc = 0;

    if (!f) {
        rc = -errno;
        ag_seterr(err, errlen, "%s: %s", tmp, strerror(-rc));
        free(tmp);
        return rc;
    }
    fputs(page_head, f);
    put_html(f, title);
    fputs(page_body, f);
    put_script_json(f, json);
    fputs(ag__sim_view_script, f);
    if (ferror(f))
        rc = -EIO;
    if (fclose(f) != 0 && rc == 0)
        rc = -errno;
    if (rc == 0 && rename(tmp, path) != 0)
        rc = -errno;
    if (rc < 0) {
        ag_seterr(err, errlen, "%s: %s", path, strerror(-rc));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

int ag_sim_view(const char *dir, const char *out_path, char *err, size_t errlen)
{
    cJSON *all, *world = NULL, *timeline = NULL, *metrics = NULL;
    const char *name;
    char *json, *path;
    int rc;

    if (!dir || !*dir) {
        ag_seterr(err, errlen, "no run directory");
        return -EINVAL;
    }
    if (!(all = cJSON_CreateObject()))
        return -ENOMEM;
    rc = read_object(dir, "world.json", WORLD_MAX, 0, &world, err, errlen);
    if (rc == -ENOENT)
        ag__sim_light_hint(dir, err, errlen);
    if (rc == 0) {
        cJSON_AddItemToObject(all, "world", world);
        rc = read_timeline(dir, &timeline, err, errlen);
    }
    if (rc == 0) {
        cJSON_AddItemToObject(all, "timeline", timeline);
        rc = read_object(dir, "metrics.json", METRICS_MAX, 1, &metrics, err,
                         errlen);
    }
    if (rc < 0) {
        cJSON_Delete(all);
        return rc;
    }
    cJSON_AddItemToObject(all, "metrics", metrics);
    if (!(json = cJSON_PrintUnformatted(all))) {
        cJSON_Delete(all);
        ag_seterr(err, errlen, "out of memory");
        return -ENOMEM;
    }
    name = ag_json_str(world, "name");
    path = out_path ? ag_xstrdup(out_path) : ag_xasprintf("%s/view.html", dir);
    rc = write_page(path, name && *name ? name : "simulation", json, err,
                    errlen);
    free(path);
    free(json);
    cJSON_Delete(all);
    return rc;
}
