#!/bin/sh
# e2e-web.sh: the web_fetch tool end to end, against a real HTTP server.
# Python's http.server (Debian's python3), started here on 127.0.0.1 at a
# free port, serves pages written into $T/www and a few routes of its own:
# redirect chains, a loop, a redirect to a host outside the policy, pages in
# latin1, errors, an image, a page over the broker's size limit, markup
# that makes an HTML parser clone elements without end. A scripted
# stand-in model (a Lua file in $T) calls web_fetch on each in one step and
# answers with what it got. The tool results are read from the --json
# events, the requests from the --audit log (net.request records) and from
# the server's own log: redirects are followed within the policy and each
# hop is checked, a redirect outside it is refused and never made, a long
# page is cut at max_bytes, binary content is refused. Then the policy
# rules: 127.0.0.1 is loopback, reached only when the task names it in
# allow_hosts, never with allow_private = false; the task's
# web_fetch = { max_bytes = N } caps the text. Last, examples/web.lua runs
# against the server, and without one.
. "$SRCDIR/tests/lib.sh"

PY=/usr/bin/python3
[ -x "$PY" ] || skip_all "no /usr/bin/python3"

unset OPENAI_API_KEY OPENAI_BASE_URL ANTHROPIC_API_KEY ANTHROPIC_BASE_URL \
    AGENT_MODEL
: >"$T/seen"

# ---- the server ----
mkdir "$T/www"
cat >"$T/www/page.html" <<'EOF'
<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>The  Test Page</title>
<script>var secret = "script text never shown";</script></head>
<body><h1>Welcome</h1>
<p>This page is served by <b>Python</b> &amp; read by web_fetch.</p>
<ul><li><a href="other.html">Other page</a></li>
<li><a href="/sub/deep.html?x=1#top">Deep page</a></li>
<li><a href="javascript:alert(1)">Not a link</a></li></ul>
<table><tr><th>Key</th><th>Value</th></tr><tr><td>answer</td><td>42</td></tr></table>
</body></html>
EOF
{
    printf '<html><head><title>Big page</title></head><body>\n'
    i=0
    while [ $i -lt 400 ]; do
        printf '<p>Paragraph %d: lorem ipsum dolor sit amet, caf\303\251 na\303\257ve \342\202\254 %d.</p>\n' $i $i
        i=$((i + 1))
    done
    printf '<p>THE END</p></body></html>\n'
} >"$T/www/big.html"
printf '\211PNG\r\n\032\n\0\0\0\rIHDR\0\0\0\1\0\0\0\1\10\6\0\0\0\37\25\304\211' \
    >"$T/www/image.png"
printf 'plain text file\nsecond line\n' >"$T/www/plain.txt"

cat >"$T/server.py" <<'PY'
# Serves $1 (static files) plus the routes below on 127.0.0.1, a free port
# written to $2; logs "METHOD PATH" lines to $3; ends when the process $4
# (the test) is gone.
import http.server, os, sys, threading, time
root, portfile, logfile = sys.argv[1], sys.argv[2], sys.argv[3]
parent = int(sys.argv[4])
def watch():
    while True:
        try:
            os.kill(parent, 0)
        except OSError:
            os._exit(0)
        time.sleep(0.5)
threading.Thread(target=watch, daemon=True).start()
LATIN1 = ('<html><head><title>Caf\xe9</title></head><body><p>\xab Cr\xe8me '
          'br\xfbl\xe9e \xbb \x93quoted\x94 \x80 5</p></body></html>'
          ).encode('latin-1')
class H(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **k):
        super().__init__(*a, directory=root, **k)
    def log_message(self, fmt, *args):
        with open(logfile, 'a') as f:
            f.write('%s %s\n' % (self.command, self.path))
    def body(self, code, ctype, data, headers=()):
        self.send_response(code)
        if ctype:
            self.send_header('Content-Type', ctype)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(data)))
        self.end_headers()
        if self.command != 'HEAD':
            self.wfile.write(data)
        return True
    def moved(self, code, loc):
        return self.body(code, 'text/html', b'<p>moved</p>', [('Location', loc)])
    def route(self):
        p, port = self.path, self.server.server_address[1]
        if p.startswith('/hop/'):  # N more redirects, then page.html
            n = int(p[5:])
            return self.moved(302 if n % 2 else 301,
                              '/hop/%d' % (n - 1) if n > 0 else '../page.html')
        if p == '/loop':
            return self.moved(302, '/loop2')
        if p == '/loop2':
            return self.moved(307, 'http://127.0.0.1:%d/loop' % port)
        if p == '/away':
            return self.moved(302, 'http://evil.example/steal?c=1')
        if p == '/away-private':
            return self.moved(302, 'http://127.0.0.2:%d/page.html' % port)
        if p == '/see-other':
            return self.moved(303, 'page.html#section')
        if p == '/permanent':
            return self.moved(308, 'sub/../plain.txt')
        if p == '/latin1':
            return self.body(200, 'text/html; charset=iso-8859-1', LATIN1)
        if p == '/missing':
            return self.body(404, 'text/html; charset=utf-8',
                b'<html><head><title>Not here</title></head><body><h1>404</h1>'
                b'<p>The page you asked for is gone.</p></body></html>')
        if p == '/broken':
            return self.body(500, 'text/plain', b'database on fire')
        if p == '/nolocation':
            return self.body(302, 'text/html', b'<p>no location given</p>')
        if p == '/json':
            return self.body(200, 'application/json',
                             b'{"temp": 21.5, "unit": "\xc2\xb0C"}')
        if p == '/hostile':  # each <p> clones 480 misnested <b>s
            return self.body(200, 'text/html', (b'<div>' + b''.join(
                b'<b a=%d>' % i for i in range(480)) + b'</div>' +
                b'<p>x</p>' * 3000))
        if p == '/huge':
            return self.body(200, 'text/plain', b'x' * (3 << 20))
        return False
    def do_GET(self):
        if not self.route():
            super().do_GET()
    def do_HEAD(self):
        if not self.route():
            super().do_HEAD()
srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), H)
with open(portfile + '.tmp', 'w') as f:
    f.write(str(srv.server_address[1]))
os.rename(portfile + '.tmp', portfile)
srv.serve_forever()
PY
: >"$T/www.log"
"$PY" "$T/server.py" "$T/www" "$T/www.port" "$T/www.log" $$ \
    >"$T/www.out" 2>"$T/www.err" &
WWW_PID=$!
www_stop() {
    [ -n "$WWW_PID" ] || return 0
    kill "$WWW_PID" 2>/dev/null
    wait "$WWW_PID" 2>/dev/null
    WWW_PID=
}
# stop the server however the test ends (lib.sh's handler then cleans up)
_web_exit() {
    _web_rc=$?
    www_stop
    (exit $_web_rc)
    _lib_exit
}
trap _web_exit EXIT
trap 'exit 141' PIPE
i=0
while [ ! -s "$T/www.port" ]; do
    kill -0 "$WWW_PID" 2>/dev/null ||
        bail_out "the web server did not start: $(cat "$T/www.err")"
    i=$((i + 1))
    [ $i -lt 200 ] || { www_stop; bail_out "the web server did not start in 10 s"; }
    sleep 0.05
done
PORT=$(cat "$T/www.port")
BASE=http://127.0.0.1:$PORT

# ---- the model: one step of calls, then an answer from the results ----
cat >"$T/model.lua" <<LUA
-- Calls web_fetch on each page at once, then answers with one line per
-- call: its id, ok or error, and the first line of what came back.
local base = "$BASE"
local calls = {
  { "c_page", { url = base .. "/page.html" } },
  { "c_hops", { url = base .. "/hop/3" } },
  { "c_toomany", { url = base .. "/hop/5" } },
  { "c_loop", { url = base .. "/loop" } },
  { "c_away", { url = base .. "/away" } },
  { "c_private", { url = base .. "/away-private" } },
  { "c_303", { url = base .. "/see-other" } },
  { "c_308", { url = base .. "/permanent" } },
  { "c_latin1", { url = base .. "/latin1" } },
  { "c_404", { url = base .. "/missing" } },
  { "c_500", { url = base .. "/broken" } },
  { "c_nolocation", { url = base .. "/nolocation" } },
  { "c_png", { url = base .. "/image.png" } },
  { "c_big", { url = base .. "/big.html", max_bytes = 2000 } },
  { "c_head", { url = base .. "/page.html", method = "HEAD" } },
  { "c_json", { url = base .. "/json" } },
  { "c_huge", { url = base .. "/huge" } },
  { "c_hostile", { url = base .. "/hostile" } },
  { "c_scheme", { url = "ftp://127.0.0.1/x" } },
  { "c_outside", { url = "http://evil.example/" } },
}
return function(ctx)
  if ctx.step == 1 then
    local tc = {}
    for i, c in ipairs(calls) do
      tc[i] = { id = c[1], name = "web_fetch", arguments = c[2] }
    end
    return { text = "Fetching the pages.", tool_calls = tc }
  end
  local lines = {}
  for _, m in ipairs(ctx.messages) do
    if m.role == "tool" then
      local body = m.content:gsub("^<<untrusted[^\n]*\n", "")
      local title = body:match("\nTitle: ([^\n]*)")
      lines[#lines + 1] = string.format("%s %s %s%s", m.tool_call_id,
        m.is_error and "error" or "ok", body:match("^[^\n]*"),
        title and " | " .. title or "")
    end
  end
  return table.concat(lines, "\n")
end
LUA

cat >"$T/web.lua" <<'LUA'
return {
  name = "web",
  model = { provider = "script", file = "model.lua" },
  goal = "Read the local test pages.",
  tools = { web_fetch = { allow_hosts = { "127.0.0.1" }, allow_private = true } },
  limits = { steps = 3, seconds = 60 },
}
LUA

# run TASK [ARGS...]: agent run with --json and --audit; sets rc, out, err.
run() {
    _task=$1
    shift
    rm -f "$T/audit.jsonl"
    "$AGENT" run "$T/$_task" --json --audit "$T/audit.jsonl" "$@" \
        >"$T/out" 2>"$T/err"
    rc=$?
    out=$(cat "$T/out")
    err=$(cat "$T/err")
    cat "$T/out" "$T/err" >>"$T/seen"
}

# result ID: the tool.result event of that call, as one JSON line.
result() {
    printf '%s\n' "$out" | grep '"event":"tool.result"' | grep "\"call_id\":\"$1\""
}

# field ID NAME: a field of that event, decoded (python reads the JSON).
field() {
    result "$1" | "$PY" -c 'import json, sys
for line in sys.stdin:
    v = json.loads(line).get(sys.argv[1])
    print(v if not isinstance(v, bool) else str(v).lower())' "$2"
}

# net ID: the net.request records of that call: "METHOD URL STATUS|refused".
net() {
    "$PY" -c 'import json, sys
for line in open(sys.argv[1]):
    r = json.loads(line)
    if r.get("type") != "net.request": continue
    d = r.get("data", {})
    if d.get("call_id") != sys.argv[2]: continue
    print(d.get("method"), d.get("url"),
          d.get("status") if d.get("ok") else "refused: " + d.get("refused", ""))
' "$T/audit.jsonl" "$1"
}

# truncated ID: "True BYTES" when the net.request record of that call says
# its body was cut.
truncated() {
    "$PY" -c 'import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line).get("data", {})
    if d.get("call_id") == sys.argv[2] and "truncated" in d:
        print(d["truncated"], d["bytes"])
' "$T/audit.jsonl" "$1"
}

served() {
    grep -c "^$1\$" "$T/www.log"
}

run web.lua
case $(field c_page result) in
*"global 'html'"*)
    www_stop
    bail_out "the worker offers no html module (ag_html_open, sandbox/worker.c)"
    ;;
esac
is "$rc" 0 "the run ends with exit 0"
[ "$rc" = 0 ] || diag "$err"
answer=$(printf '%s\n' "$out" | grep '"event":"run.end"')
like "$answer" '"outcome":"done","reason":"answered"' "the model answers"

# ---- a page ----
page=$(field c_page result)
is "$(field c_page ok)" true "page: ok"
like "$page" "URL: $BASE/page.html" "page: the URL"
like "$page" "Status: 200 OK" "page: the status"
like "$page" "Content-Type: text/html" "page: the content type"
like "$page" "Title: The Test Page" "page: the title, whitespace collapsed"
like "$page" "# Welcome" "page: the heading"
like "$page" "This page is served by Python & read by web_fetch." \
    "page: the text, entities decoded"
like "$page" "- Other page [1]" "page: a list item with a numbered link"
like "$page" "Key | Value
answer | 42" "page: the table as rows"
like "$page" "[1] Other page: $BASE/other.html" "page: a relative link resolved"
like "$page" "[2] Deep page: $BASE/sub/deep.html?x=1#top" \
    "page: a root-relative link with query and fragment"
unlike "$page" "javascript" "page: javascript: links left out"
unlike "$page" "script text never shown" "page: scripts dropped"
like "$page" "<<untrusted content from the network" \
    "page: the result is marked as untrusted network content"
is "$(net c_page)" "GET $BASE/page.html 200" "page: one net.request record"

# ---- redirects ----
hops=$(field c_hops result)
is "$(field c_hops ok)" true "4 redirects: followed"
like "$hops" "URL: $BASE/page.html" "4 redirects: the final URL"
like "$hops" "Redirected from: $BASE/hop/3 (302 $BASE/hop/2 -> 301 $BASE/hop/1 -> 302 $BASE/hop/0 -> 301 $BASE/page.html)" \
    "4 redirects: the chain is reported"
like "$hops" "Title: The Test Page" "4 redirects: the page at the end"
is "$(net c_hops | wc -l | tr -d ' ')" 5 "4 redirects: five requests, each audited"
like "$(net c_hops | tail -n 1)" "GET $BASE/page.html 200" \
    "4 redirects: the last request"
like "$(field c_toomany result)" "too many redirects (more than 5)" \
    "6 redirects: too many"
is "$(field c_toomany ok)" false "6 redirects: an error"
is "$(net c_toomany | wc -l | tr -d ' ')" 6 "6 redirects: six requests, no seventh"
like "$(field c_loop result)" "redirect loop: 302 $BASE/loop2 -> 307 $BASE/loop" \
    "a redirect loop is seen"
away=$(field c_away result)
like "$away" "redirected to http://evil.example/steal?c=1, which failed: policy: host evil.example is not allowed" \
    "a redirect to a host outside the policy is refused"
is "$(field c_away ok)" false "... as an error"
like "$(net c_away)" "GET http://evil.example/steal?c=1 refused: policy: host evil.example is not allowed" \
    "... the refusal is audited"
like "$(field c_private result)" "redirected to http://127.0.0.2:$PORT/page.html, which failed: policy: host 127.0.0.2 is not allowed" \
    "a redirect to another loopback address is refused"
is "$(served 'GET /page.html')" 3 "the server saw page.html only from the allowed calls"
like "$(field c_303 result)" "Redirected from: $BASE/see-other (303 $BASE/page.html)" \
    "303: followed with GET, the fragment dropped"
like "$(field c_308 result)" "URL: $BASE/plain.txt" "308: a relative location resolved"
like "$(field c_308 result)" "plain text file
second line" "308: a text file passes through"
like "$(field c_nolocation result)" "Status: 302 Found" \
    "a redirect without a location is the answer"

# ---- charsets, types, errors, sizes ----
l1=$(field c_latin1 result)
like "$l1" "Title: Café" "latin1: the title decoded"
like "$l1" "« Crème brûlée » “quoted” € 5" "latin1: the text decoded (windows-1252 superset)"
like "$l1" "Charset: iso-8859-1" "latin1: the charset reported"
# an error page's excerpt came from the network: it is marked untrusted
like "$(field c_404 result)" "HTTP 404 Not Found for $BASE/missing: Not here: 404 The page you asked for is gone." \
    "404: an error with the page's title and an excerpt"
like "$(field c_404 result)" "error: <<untrusted content from the network" \
    "404: the excerpt is marked untrusted"
is "$(field c_404 ok)" false "404: an error"
like "$(field c_500 result)" "HTTP 500 Internal Server Error for $BASE/broken: database on fire" \
    "500: an error with an excerpt"
like "$(field c_png result)" "$BASE/image.png: binary content (image/png), 33 bytes" \
    "an image is refused as binary"
big=$(field c_big result)
is "$(field c_big ok)" true "a big page: ok"
like "$big" "[truncated: the text goes on past" "a big page: cut, saying so"
like "$big" "(truncated)" "a big page: the header says so too"
unlike "$big" "THE END" "a big page: the end is not there"
is "$(printf '%s' "$big" | "$PY" -c 'import sys
t = sys.stdin.read().split("\n\n", 1)[1]
t = t.rsplit("\n<<end of untrusted content>>", 1)[0]
print(len(t.encode()) <= 2000)')" True "a big page: at most max_bytes of text"
head=$(field c_head result)
like "$head" "Status: 200 OK" "HEAD: the status"
like "$head" "content-type: text/html" "HEAD: the content type"
like "$head" "content-length: $(wc -c <"$T/www/page.html" | tr -d ' ')" "HEAD: the length"
unlike "$head" "Welcome" "HEAD: no body"
is "$(net c_head | cut -d' ' -f1)" HEAD "HEAD: the request was a HEAD"
like "$(field c_json result)" '{"temp": 21.5, "unit": "°C"}' "JSON passes through"
is "$(field c_huge ok)" true "a body over max_response: web_fetch reads a part"
like "$(field c_huge result)" "Length: the first 2097152 bytes of a longer page" \
    "... and says it read only the first max_response bytes"
is "$(truncated c_huge)" "True 2097152" "... the net.request record says truncated"
like "$(field c_hostile result)" "(truncated)" \
    "markup that makes the parser clone without end: a prefix is read"
like "$(field c_hostile result)" "[truncated: only " "... and the text says so"
like "$(field c_scheme result)" "only http and https URLs can be fetched, not ftp:" \
    "ftp: refused by the tool"
is "$(net c_scheme)" "" "ftp: no request made"
like "$(field c_outside result)" "fetching http://evil.example/ failed: policy: host evil.example is not allowed" \
    "a host outside allow_hosts is refused"
like "$answer" "c_page ok URL: $BASE/page.html | The Test Page" \
    "the model's answer carries what it read"

# ---- the policy: loopback only when named ----
cat >"$T/noprivate.lua" <<'LUA'
return {
  name = "web", model = { provider = "script", file = "model1.lua" },
  goal = "x", limits = { steps = 3, seconds = 30 },
  tools = { web_fetch = { allow_hosts = { "127.0.0.1" }, allow_private = false } },
}
LUA
sed "s|^local calls = {|local calls = { { \"c_one\", { url = base .. \"/page.html\" } } } local unused = {|" \
    "$T/model.lua" >"$T/model1.lua"
run noprivate.lua
one=$(field c_one result)
like "$one" "failed: blocked: 127.0.0.1 resolves to 127.0.0.1" \
    "allow_private = false: loopback refused even when named"
like "$one" "loopback" "... saying it is loopback"
cat >"$T/wildcard.lua" <<'LUA'
return {
  name = "web", model = { provider = "script", file = "model1.lua" },
  goal = "x", limits = { steps = 3, seconds = 30 }, tools = { "web_fetch" },
}
LUA
run wildcard.lua
one=$(field c_one result)
like "$one" "failed: blocked: 127.0.0.1 resolves to 127.0.0.1" \
    "hosts \"*\": loopback refused when not named"
like "$one" "loopback" "... saying it is loopback"
like "$(net c_one)" "refused: " "... the refusal is audited"
is "$(served 'GET /page.html')" 3 "... and nothing reached the server"

# ---- the task caps the text: web_fetch = { max_bytes = N } ----
cat >"$T/capped.lua" <<'LUA'
return {
  name = "web", model = { provider = "script", file = "model2.lua" },
  goal = "x", limits = { steps = 3, seconds = 30 },
  tools = { web_fetch = { allow_hosts = { "127.0.0.1" }, max_bytes = 700 } },
}
LUA
sed "s|^local calls = {|local calls = { { \"c_cap\", { url = base .. \"/big.html\", max_bytes = 5000 } } } local unused = {|" \
    "$T/model.lua" >"$T/model2.lua"
run capped.lua
cap=$(field c_cap result)
like "$cap" "[truncated: the text goes on past" "the task's max_bytes caps the text"
is "$(printf '%s' "$cap" | "$PY" -c 'import sys
t = sys.stdin.read().split("\n\n", 1)[1]
t = t.rsplit("\n<<end of untrusted content>>", 1)[0]
print(len(t.encode()) <= 700)')" True "... below what the model asked for"

# ---- a tool that does not ask for truncate: the body is refused ----
mkdir -p "$T/tools"
cat >"$T/tools/grab.lua" <<'LUA'
return {
  name = "grab", description = "GET a URL whole or in part",
  parameters = { type = "object", properties = {
    url = { type = "string" }, part = { type = "boolean" } } },
  policy = { net = { hosts = { "*" }, max_response = 1000 } },
  run = function(args)
    local res, err = http.request { url = args.url, truncate = args.part }
    if not res then return nil, err end
    return string.format("%d bytes%s", res.bytes,
                         res.truncated and ", truncated" or "")
  end,
}
LUA
cat >"$T/model3.lua" <<LUA
return function(ctx)
  if ctx.step == 1 then
    return { text = "x", tool_calls = {
      { id = "g_whole", name = "grab", arguments = { url = "$BASE/huge" } },
      { id = "g_part", name = "grab",
        arguments = { url = "$BASE/huge", part = true } } } }
  end
  return "done"
end
LUA
cat >"$T/grab.lua" <<'LUA'
return {
  name = "grab", model = { provider = "script", file = "model3.lua" },
  goal = "x", limits = { steps = 3, seconds = 30 },
  tools = { grab = { allow_hosts = { "127.0.0.1" }, allow_private = true } },
}
LUA
AGENT_TOOLS_PATH="$T/tools:$AGENT_TOOLS_PATH" run grab.lua
like "$(field g_whole result)" "response larger than 1000 bytes" \
    "without truncate a body over max_response is refused, naming the limit"
like "$(field g_part result)" "
1000 bytes, truncated
" \
    "with truncate = true the first max_response bytes come back, marked"
is "$(truncated g_part)" "True 1000" "... and the audit record says so"
is "$(truncated g_whole)" "" "... the refused one is not marked truncated"

# ---- the example, against this server and against none ----
ex() {
    AGENT_WEB_URL=$1 "$AGENT" run "$SRCDIR/examples/web.lua" >"$T/out" 2>"$T/err"
    rc=$?
    out=$(cat "$T/out")
    cat "$T/out" "$T/err" >>"$T/seen"
}
ex "$BASE/"
is "$rc" 0 "the example: exit 0"
like "$out" "The page $BASE/ (\"Directory listing for /\") lists 4 links." \
    "the example reads the server's listing"
like "$out" "$BASE/big.html begins with \"Paragraph 0: lorem ipsum" \
    "the example follows a link"
www_stop
ex "$BASE/"
is "$rc" 0 "the example without a server: exit 0"
like "$out" "I could not read $BASE/: fetching $BASE/ failed:" \
    "the example without a server: the model says what failed"

unlike "$(cat "$T/seen")" "AddressSanitizer" "no AddressSanitizer report"
unlike "$(cat "$T/seen")" "runtime error:" "no UndefinedBehaviorSanitizer report"
done_testing
