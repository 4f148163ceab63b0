#!/bin/sh
# tests/e2e-sim-view.sh: `agent sim view DIR -o FILE` on a fixture run
# (tests/data/sim-view: six agents, a day, a party spreading by word of
# mouth). Checks that the page is self-contained (no network references, the
# data embedded so that it cannot end its <script> block), then renders it
# in headless Chromium: a screenshot that is the right size and not blank,
# and the DOM after the page's script ran (agents, events, bubbles, graph).
# A generated run of 25 agents and thousands of events
# (tests/data/sim-view/big-run.py) checks that the page shows every event;
# its timings (#bench renders every game minute) are only reported.
#
# Needs Debian's chromium (/usr/bin/chromium, or $CHROMIUM) and python3;
# skipped without them.

. "${SRCDIR:-.}/tests/lib.sh"

: "${CHROMIUM:=/usr/bin/chromium}"
[ -x "$CHROMIUM" ] ||
    skip_all "no Chromium at $CHROMIUM (apt-get install -y chromium)"
command -v python3 >/dev/null 2>&1 || skip_all "python3 is needed"

FIX=$SRCDIR/tests/data/sim-view
PAGE=$T/view.html

# chrome_run ARGS... URL: headless Chromium with a private profile, no
# network services; output in $T/chrome.out, $T/chrome.err
chrome_run() {
    HOME=$T XDG_CONFIG_HOME=$T/xdg XDG_CACHE_HOME=$T/xdg \
        timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
        --disable-quic --no-first-run --disable-background-networking \
        --disable-component-update --disable-sync \
        --user-data-dir="$T/chrome" "$@" >"$T/chrome.out" 2>"$T/chrome.err"
}

# dom URL [ARGS...]: the DOM after 3 s of virtual time, in $T/dom.html
dom() {
    _dom_url=$1
    shift
    chrome_run "$@" --virtual-time-budget=3000 --dump-dom "$_dom_url"
    _dom_rc=$?
    cp "$T/chrome.out" "$T/dom.html"
    [ "$_dom_rc" = 0 ] || diag "chromium: $(tail -5 "$T/chrome.err")"
    return $_dom_rc
}

# attr NAME: the value of the body's data-NAME attribute in $T/dom.html
attr() {
    sed -n "s/.*<body[^>]* data-$1=\"\([^\"]*\)\".*/\1/p" "$T/dom.html" |
        head -1
}

count() { # STRING FILE: how many times STRING occurs in FILE
    grep -o -- "$1" "$2" | wc -l | tr -d ' '
}

# ---- the page -------------------------------------------------------------

"$AGENT" sim view "$FIX" -o "$PAGE" >"$T/out" 2>"$T/err"
rc=$?
ok $rc "agent sim view writes the page" || diag "$(cat "$T/err")"
[ -s "$PAGE" ] || bail_out "no page at $PAGE"

"$AGENT" sim view "$FIX" -o "$T/again.html" 2>/dev/null
cmp -s "$PAGE" "$T/again.html"
ok $? "the same run gives the same page, byte for byte"

mkdir "$T/run" && cp "$FIX"/*.json* "$T/run/"
"$AGENT" sim view "$T/run" 2>/dev/null && [ -s "$T/run/view.html" ]
ok $? "without -o the page goes to DIR/view.html"

"$AGENT" sim view "$T/nowhere" >/dev/null 2>"$T/err"
rc=$?
[ $rc != 0 ]
ok $? "a missing run directory fails"
like "$(cat "$T/err")" "nowhere/world.json" "and the message names the file"

mkdir "$T/bad" && cp "$FIX/world.json" "$T/bad/" &&
    { head -5 "$FIX/timeline.jsonl"; echo '{"t": "2023-02-14 09:00", oops}'
      tail -1 "$FIX/timeline.jsonl"; } >"$T/bad/timeline.jsonl"
"$AGENT" sim view "$T/bad" >/dev/null 2>"$T/err"
[ $? != 0 ]
ok $? "a malformed timeline line fails"
like "$(cat "$T/err")" "timeline.jsonl:6:" "and the message names its line"

# Self-contained: nothing the browser would fetch
refs=$(grep -Eio "(src|href|action|poster)[[:space:]]*=[[:space:]]*[\"']?[a-z]*:?//[^\"' >]*" "$PAGE")
is "$refs" "" "no src/href to another server"
is "$(grep -Eic '@import|url\(' "$PAGE")" 0 "no CSS imports or url()"
like "$(cat "$PAGE")" "default-src 'none'" "a CSP that forbids any fetch"
is "$(grep -io '</script' "$PAGE" | wc -l | tr -d ' ')" 2 \
    "only the page's own two </script> tags"
size=$(wc -c <"$PAGE" | tr -d ' ')
[ "$size" -gt 20000 ] && [ "$size" -lt 300000 ]
ok $? "a reasonable size ($size bytes)"

# The data: valid JSON, everything the run wrote, the tricky text intact
python3 - "$PAGE" "$FIX" >"$T/py.out" 2>&1 <<'EOF'
import json, sys
page, fix = sys.argv[1], sys.argv[2]
text = open(page, encoding="utf-8").read()
start = text.index("<script type='application/json' id='sim-data'>")
start = text.index(">", start) + 1
data = json.loads(text[start:text.index("</script>", start)])
lines = [l for l in open(fix + "/timeline.jsonl") if l.strip()]
assert data["world"] == json.load(open(fix + "/world.json")), "world"
assert data["metrics"] == json.load(open(fix + "/metrics.json")), "metrics"
assert data["timeline"] == [json.loads(l) for l in lines], "timeline"
assert any("</script><script>" in e.get("what", "")
           for e in data["timeline"]), "the </script> text"
EOF
ok $? "the embedded data is the run, parsed back exactly" ||
    diag "$(cat "$T/py.out")"
events=$(grep -c . "$FIX/timeline.jsonl")

# ---- in the browser: the DOM after the script ran --------------------------

dom "file://$PAGE" --enable-logging=stderr --v=0
ok $? "chromium --dump-dom"
console=$(grep -E 'CONSOLE|Uncaught' "$T/chrome.err")
is "$console" "" "no script errors, no fetch the page's CSP had to refuse"
is "$(attr ready)" 1 "the script ran (data-ready)"
is "$(attr error)" "" "without an error"
is "$(attr agents)" 6 "six agents"
is "$(attr events)" "$events" "all $events events"
is "$(attr facts)" 2 "two facts"
is "$(count '<g class="agent"' "$T/dom.html")" 6 "six agents on the map"
like "$(cat "$T/dom.html")" "Isabella's house" "the map's sectors"
like "$(cat "$T/dom.html")" '<input id="slider" type="range"' \
    "a native (keyboard) slider"
like "$(cat "$T/dom.html")" '<td>importance</td><td>212</td>' \
    "the usage table"
python3 - "$T/dom.html" >"$T/py.out" 2>&1 <<'EOF'
import re, sys
dom = open(sys.argv[1], encoding="utf-8").read()
def svg(name):
    s = dom.index('<svg id="%s"' % name)
    return dom[s:dom.index("</svg>", s)]
g, d = svg("graph"), svg("diff")
print(len(re.findall(r"<line ", g)), len(re.findall(r"<path ", d)),
      len(re.findall(r'<g class="node"', g)))
EOF
is "$(cat "$T/py.out")" "9 2 6" \
    "graph: 9 edges and 6 nodes; diffusion: a curve per fact"

dom "file://$PAGE#t=680"
like "$(cat "$T/dom.html")" 'So glad you came.</text>' \
    "at 17:20 a speech bubble shows what Isabella says"
like "$(cat "$T/dom.html")" '2023-02-14 17:20</span>' "the clock says 17:20"

# ---- the screenshot ---------------------------------------------------------

chrome_run --screenshot="$T/shot.png" --window-size=1280,900 "file://$PAGE"
ok $? "chromium --screenshot" || diag "$(tail -5 "$T/chrome.err")"
python3 - "$T/shot.png" >"$T/py.out" 2>&1 <<'EOF'
import struct, sys, zlib
from collections import Counter
raw = open(sys.argv[1], "rb").read()
assert raw[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
pos, idat = 8, b""
while pos < len(raw):
    n, kind = struct.unpack(">I4s", raw[pos:pos + 8])
    body = raw[pos + 8:pos + 8 + n]
    if kind == b"IHDR":
        w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
    pos += 12 + n
assert depth == 8 and ctype in (2, 6), "unexpected PNG format"
bpp = 3 if ctype == 2 else 4
data, stride = zlib.decompress(idat), w * bpp
prev, colours, vivid = bytearray(stride), Counter(), 0
for y in range(h):
    f = data[y * (stride + 1)]
    line = bytearray(data[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
    for i in range(stride):
        a = line[i - bpp] if i >= bpp else 0
        b, c = prev[i], prev[i - bpp] if i >= bpp else 0
        if f == 1: line[i] = (line[i] + a) & 255
        elif f == 2: line[i] = (line[i] + b) & 255
        elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
        elif f == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pr = a if pa <= pb and pa <= pc else b if pb <= pc else c
            line[i] = (line[i] + pr) & 255
    for i in range(0, stride, bpp):
        px = bytes(line[i:i + 3])
        colours[px] += 1
        if max(px) - min(px) > 100:
            vivid += 1
    prev = line
top = colours.most_common(1)[0][1]
print(w, h, len(colours), round(top / (w * h), 2), vivid)
EOF
set -- $(cat "$T/py.out")
is "$1x$2" 1280x900 "the screenshot is 1280x900" || diag "$(cat "$T/py.out")"
[ "${3:-0}" -ge 100 ]
ok $? "it is not blank: ${3:-?} colours"
[ "${5:-0}" -ge 200 ] && python3 -c "import sys; sys.exit(${4:-1} > 0.9)"
ok $? "no single colour covers it (${4:-?}); vivid pixels ${5:-?}"
[ -z "${KEEP_T:-}" ] || diag "screenshot: $T/shot.png"

# ---- a big run: 25 agents, two days, thousands of events -------------------

python3 "$FIX/big-run.py" "$T/big"
big_events=$(wc -l <"$T/big/timeline.jsonl" | tr -d ' ')
"$AGENT" sim view "$T/big" -o "$T/big.html" 2>"$T/err"
ok $? "a big run's page ($big_events events)" || diag "$(cat "$T/err")"
dom "file://$T/big.html#bench"
is "$(attr ready)/$(attr agents)/$(attr events)" "1/25/$big_events" \
    "it shows 25 agents and every event"
ms=$(attr ms) frame=$(attr frame-ms)
diag "big run: set-up $ms ms, $frame ms per rendered game minute"
# the figures are reported here and by bench/run.sh, never asserted

done_testing
