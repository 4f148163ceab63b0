#!/bin/sh
# e2e-sim.sh: `agent sim` end to end, with the examples' scripted stand-in
# model in process and over HTTP (tests/standin --lua, embeddings included):
# plans are well formed, the party spreads with provenance back to its host,
# attendees knew and planned; the same seed gives the same timeline, the
# HTTP run gives the script run's, a replay with the endpoint stopped gives
# it again; 429s, stalls, cut and dropped replies and junk answers end in a
# completed run; a limit stops a run with a checkpoint and --resume finishes
# it as if it never stopped; ablations; interviews and their provenance
# check; broken worlds; lock-step mode; light agents; the view.
. "$SRCDIR/tests/lib.sh"

command -v python3 >/dev/null 2>&1 || skip_all "python3 is needed"
EX=$SRCDIR/examples/sim
CHECK="python3 $SRCDIR/tests/data/sim/check-run.py"

# checks DIR [FACT]: the checker's lines as TAP
checks() {
    $CHECK "$@" >"$T/check.out" 2>&1 || echo "not ok checker: $(cat "$T/check.out")" >>"$T/check.out"
    while IFS= read -r line; do
        case $line in
        ok*) ok 0 "$1: ${line#ok }" ;;
        *) ok 1 "$1: ${line#not ok }" ;;
        esac
    done <"$T/check.out"
}
hash_of() { sha256sum "$1/timeline.jsonl" | cut -c1-64; }
# metric DIR PYTHON-EXPR (m is metrics.json)
metric() {
    python3 -c "import json,sys; m=json.load(open(sys.argv[1]+'/metrics.json')); print($2)" "$1"
}
# a world file around an example: world NAME EXAMPLE SETTINGS-LUA
world() {
    cat >"$T/$1.lua" <<EOF
local w = dofile("$EX/$2.lua")
w.model = "script:$EX/town-model.lua"
w.settings = $3
return w
EOF
}

# ---- the smoke world, in process -------------------------------------
"$AGENT" sim "$EX/smoke.lua" --out "$T/s1" 2>"$T/err"
ok $? "smoke: exit 0"
like "$(cat "$T/err")" " model calls, " "smoke: a summary"
for f in world.json timeline.jsonl metrics.json audit.jsonl \
    "memory/Nadia Petrova.jsonl"; do
    ok "$(test -s "$T/s1/$f"; echo $?)" "smoke: wrote $f"
done
ok "$(test ! -e "$T/s1/checkpoint.json"; echo $?)" "smoke: no checkpoint (it ran to its end)"
checks "$T/s1"
is "$(metric "$T/s1" "len(m['facts']['party']['holders'])")" 3 \
    "smoke: all three hear of the party"
"$AGENT" audit verify "$T/s1/audit.jsonl" >/dev/null 2>&1
ok $? "smoke: the audit log verifies"

"$AGENT" sim "$EX/smoke.lua" --out "$T/s2" -q
is "$(hash_of "$T/s2")" "$(hash_of "$T/s1")" "the same seed gives the same timeline"

# ---- over HTTP: the stand-in plays the same model -----------------------
if standin_start --lua "$EX/town-model.lua"; then
    OPENAI_BASE_URL=$STANDIN_URL OPENAI_API_KEY=test \
        "$AGENT" sim "$EX/smoke.lua" --model openai:town --out "$T/h1" -q
    ok $? "HTTP: exit 0"
    is "$(hash_of "$T/h1")" "$(hash_of "$T/s1")" \
        "HTTP: the same timeline as the in-process script"
    ok "$(test "$(metric "$T/h1" "m['usage']['embeddings']['calls']")" -gt 0; echo $?)" \
        "HTTP: embeddings came from the endpoint's /v1/embeddings"
    like "$(cat "$STANDIN_LOG")" '/v1/embeddings' "HTTP: the stand-in saw embeddings requests"
    OPENAI_API_KEY=test "$AGENT" sim "$EX/smoke.lua" --model openai:town \
        --base-url "$STANDIN_URL" --out "$T/h1b" -q
    is "$(hash_of "$T/h1b")" "$(hash_of "$T/s1")" "HTTP: --base-url instead of OPENAI_BASE_URL"
    ANTHROPIC_BASE_URL=$STANDIN_URL ANTHROPIC_API_KEY=test \
        "$AGENT" sim "$EX/smoke.lua" --model anthropic:town --out "$T/an" -q \
        2>"$T/an.err"
    ok $? "Anthropic's wire format: exit 0"
    is "$(hash_of "$T/an")" "$(hash_of "$T/s1")" \
        "Anthropic's wire format: the same timeline"
    like "$(cat "$T/an.err")" "has no embeddings: memory relevance uses the local embedder" \
        "Anthropic: the local embedder stands in, and says so"
    standin_stop
    OPENAI_BASE_URL=$STANDIN_URL OPENAI_API_KEY=test \
        "$AGENT" sim "$EX/smoke.lua" --model openai:town --out "$T/h2" \
        --replay "$T/h1/audit.jsonl" 2>"$T/err"
    ok $? "replay with the endpoint stopped: exit 0"
    like "$(cat "$T/err")" " 0 model calls" "replay: no model call made"
    is "$(hash_of "$T/h2")" "$(hash_of "$T/s1")" "replay: the same timeline"
else
    ok 1 "the stand-in starts"
fi
# a server that ignores "dimensions" (96 numbers whatever is asked)
if standin_start --lua "$EX/town-model.lua" --embed-dims 96; then
    for r in p1 p2; do
        OPENAI_BASE_URL=$STANDIN_URL OPENAI_API_KEY=test \
            "$AGENT" sim "$EX/smoke.lua" --model openai:town --out "$T/$r" \
            -q 2>"$T/$r.err"
    done
    standin_stop
    like "$(cat "$T/p1.err")" "answers vectors of 96 numbers, not the 64 asked" \
        "other-size embeddings: said once"
    is "$(grep -c 'projected' "$T/p1.err")" 1 "... only once"
    unlike "$(cat "$T/p1.err")" "local embedder stands in" \
        "... and used (projected), not replaced by the local embedder"
    like "$(grep '"embed.response"' "$T/p1/audit.jsonl" | head -1)" \
        '"projected_from":96' "... the audit log says so"
    is "$(hash_of "$T/p2")" "$(hash_of "$T/p1")" "... the same run twice"
    "$AGENT" sim "$EX/smoke.lua" --model openai:town --out "$T/p3" -q \
        --replay "$T/p1/audit.jsonl" 2>/dev/null
    is "$(hash_of "$T/p3")" "$(hash_of "$T/p1")" \
        "... and again from its audit log with the endpoint stopped"
else
    ok 1 "the stand-in starts (--embed-dims)"
fi

# faults every 5th request: a 429, a stall, a cut stream, a dropped
# connection, a 500; the client retries and the run is the same run
cat >"$T/faults.json" <<'EOF'
{"every": 5, "faults": [
  {"status": 429, "headers": {"Retry-After": "0"},
   "body": {"error": {"message": "slow down", "type": "rate_limit"}}},
  {"stall_ms": 300},
  {"truncate_after": 40},
  {"close": true},
  {"status": 500, "body": {"error": {"message": "boom"}}}
]}
EOF
if standin_start --lua "$EX/town-model.lua" --faults "$T/faults.json"; then
    OPENAI_BASE_URL=$STANDIN_URL OPENAI_API_KEY=test \
        "$AGENT" sim "$EX/smoke.lua" --model openai:town --out "$T/f1" -q
    ok $? "faults: the run completes"
    is "$(hash_of "$T/f1")" "$(hash_of "$T/s1")" "faults: retried, the same timeline"
    like "$(cat "$T/f1/audit.jsonl")" '"what":"llm.attempt"' \
        "faults: failed attempts are in the audit log"
    "$AGENT" audit verify "$T/f1/audit.jsonl" >/dev/null 2>&1
    ok $? "faults: the audit log verifies"
    standin_stop
else
    ok 1 "the stand-in starts with faults"
fi

# an endpoint that is down: every call fails, the run still ends
OPENAI_BASE_URL=http://127.0.0.1:1/v1 OPENAI_API_KEY=test \
    timeout 120 "$AGENT" sim "$EX/smoke.lua" --model openai:town \
    --out "$T/down" --until "2023-02-14 08:00" 2>"$T/err"
ok $? "endpoint down: the run ends, exit 0"
like "$(cat "$T/err")" "failed" "endpoint down: the failures are reported"

# answers that are not JSON: the defaults, counted and reported
printf 'return function(ctx) return "{\\"plan\\": [\\"sleep fr" end\n' >"$T/junk.lua"
"$AGENT" sim "$EX/smoke.lua" --model "script:$T/junk.lua" --out "$T/j1" 2>"$T/err"
ok $? "junk answers: exit 0"
like "$(cat "$T/err")" "holds no JSON object" "junk answers: warned"
ok "$(test "$(metric "$T/j1" "m['usage']['day_plan']['failures']")" -gt 0; echo $?)" \
    "junk answers: counted as failures"

# ---- limits, checkpoint, resume ------------------------------------------
world lim smoke "{ max_calls = 80 }"
"$AGENT" sim "$T/lim.lua" --out "$T/lim" -q 2>"$T/err"
is $? 1 "a call limit: exit 1"
like "$(cat "$T/err")" "model call limit reached (80)" "the limit is named"
like "$(cat "$T/lim/checkpoint.json")" '"stopped_at"' "a checkpoint is written"
i=0
while [ -e "$T/lim/checkpoint.json" ] && [ $i -lt 10 ]; do
    "$AGENT" sim "$T/lim.lua" --out "$T/lim" -q --resume 2>/dev/null
    i=$((i + 1))
done
ok "$(test ! -e "$T/lim/checkpoint.json"; echo $?)" "resumed to the end ($i resumes)"
is "$(hash_of "$T/lim")" "$(hash_of "$T/s1")" "the resumed run is the uninterrupted run"
resumes=$i
# a full disk: the timeline cannot be written (a link to /dev/full)
mkdir -p "$T/full"
ln -s /dev/full "$T/full/timeline.jsonl"
"$AGENT" sim "$EX/smoke.lua" --out "$T/full" -q 2>"$T/err"
is $? 1 "a full disk: the run stops (exit 1)"
like "$(cat "$T/err")" "cannot write $T/full/timeline.jsonl: No space left on device" \
    "a full disk: the file is named"
like "$(cat "$T/err")" "resume with --resume" "a full disk: a checkpoint to resume from"
rm "$T/full/timeline.jsonl"
"$AGENT" sim "$EX/smoke.lua" --out "$T/full" -q --resume 2>/dev/null
is $? 0 "a full disk: with space again, --resume finishes"
is "$(hash_of "$T/full")" "$(hash_of "$T/s1")" "... and it is the uninterrupted run"
"$AGENT" sim "$EX/smoke.lua" --out "$T/limset" -q --set max_calls=80 2>/dev/null
is $? 1 "--set max_calls=80: the limit stops the run"
like "$(cat "$T/limset/checkpoint.json")" '"set":' "the checkpoint keeps what --set gave"
i=0
while [ -e "$T/limset/checkpoint.json" ] && [ $i -lt 10 ]; do
    "$AGENT" sim "$EX/smoke.lua" --out "$T/limset" -q --resume 2>/dev/null
    i=$((i + 1))
done
is "$i" "$resumes" "--resume without --set keeps the limit (as many resumes)"
is "$(hash_of "$T/limset")" "$(hash_of "$T/s1")" "... and is the uninterrupted run"
"$AGENT" audit verify "$T/lim/audit.jsonl" >/dev/null 2>&1
ok $? "the resumed run's audit log verifies"
"$AGENT" sim "$T/lim.lua" --out "$T/lim" -q --resume 2>"$T/err"
is $? 2 "--resume with nothing to resume: exit 2"
like "$(cat "$T/err")" "nothing to resume" "--resume says why"

# ---- ablations -------------------------------------------------------------
world nomem smoke "{ memory = false }"
"$AGENT" sim "$T/nomem.lua" --out "$T/nomem" -q
is "$(metric "$T/nomem" "[h['agent'] for h in m['facts']['party']['holders']]")" \
    "['Nadia Petrova']" "without memory nobody but the host knows"
world noplan smoke "{ planning = false }"
"$AGENT" sim "$T/noplan.lua" --out "$T/noplan" -q
is "$(metric "$T/noplan" "m['events']['party']['attendees']")" "[]" \
    "without planning nobody attends"
"$AGENT" sim "$EX/smoke.lua" --out "$T/setnomem" -q --set memory=false \
    --set weights.recency=1
is "$(hash_of "$T/setnomem")" "$(hash_of "$T/nomem")" \
    "--set memory=false: the same run as a world with that setting"
is "$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['settings']['memory'])" "$T/setnomem/world.json")" False \
    "--set: world.json holds the settings the run used"
"$AGENT" sim "$EX/smoke.lua" --out "$T/b" -q --set memry=false 2>"$T/err"
is $? 2 "--set with an unknown setting: exit 2"
like "$(cat "$T/err")" 'settings: unknown field "memry" (did you mean "memory"?)' \
    "--set with an unknown setting: named, with a suggestion"
"$AGENT" sim "$EX/smoke.lua" --out "$T/b" -q --set memory 2>"$T/err"
is $? 2 "--set without =VALUE: exit 2"
like "$(cat "$T/err")" "--set memory: expected KEY=VALUE" "--set without =VALUE: said"

# ---- interviews --------------------------------------------------------------
out=$("$AGENT" sim interview "$T/s1" "Iris Lindqvist" "Do you know about a party?")
ok $? "interview: exit 0"
like "$out" "Iris Lindqvist: Yes" "interview: Iris answers"
like "$out" 'relies on "party": held since 2023-02-14 15:00:00, told by Nadia Petrova' \
    "interview: the provenance of what she says"
"$AGENT" sim interview "$T/s1" "Tomas Reyes" "Do you know about a party?" --json >"$T/iv.json"
is "$(python3 -c "import json; r=json.load(open('$T/iv.json')); print(r['facts'][0]['chain'], r['hallucination'])")" \
    "['Nadia Petrova'] False" "interview --json: the chain of tellers"
"$AGENT" sim interview "$T/nomem" "Iris Lindqvist" "Do you know about a party?" >"$T/iv.out"
like "$(cat "$T/iv.out")" "don't know" "interview: who never heard says so"
printf 'return function(ctx) return [[{"answer": "Yes, the secret concert!", "facts": ["party", "concert"]}]] end\n' >"$T/liar.lua"
out=$("$AGENT" sim interview "$T/nomem" "Iris Lindqvist" "Do you know about a party?" \
    --model "script:$T/liar.lua")
is $? 1 "interview: a hallucination exits 1"
like "$out" 'HALLUCINATION "party": the agent never learned it' "interview: a fact never learned"
like "$out" 'HALLUCINATION "concert": no fact of the world' "interview: a fact that is no fact"
"$AGENT" audit verify "$T/nomem/audit.jsonl" >/dev/null 2>&1
ok $? "interview: appended to the run's audit log, which verifies"
like "$(cat "$T/nomem/audit.jsonl")" '"type":"sim.interview"' "interview: logged"
# --at: the agent as it was then (Iris hears of the party at 15:00)
out=$("$AGENT" sim interview "$T/s1" "Iris Lindqvist" "Do you know about a party?" \
    --at "2023-02-14 14:00")
ok $? "interview --at before she heard: exit 0"
like "$out" "don't know" "interview --at before she heard: she does not know"
out=$("$AGENT" sim interview "$T/s1" "Iris Lindqvist" "Do you know about a party?" \
    --at "2023-02-14 15:30")
like "$out" 'relies on "party": held since 2023-02-14 15:00:00' \
    "interview --at after she heard: she knows, and from whom"
out=$("$AGENT" sim interview "$T/s1" "Iris Lindqvist" "Do you know about a party?" \
    --at "2023-02-14 14:00" --model "script:$T/liar.lua")
is $? 1 "interview --at: knowing it before she heard is a hallucination"
like "$out" 'HALLUCINATION "party": the agent had not learned it by then' \
    "interview --at: ... named as such"
"$AGENT" sim interview "$T/s1" "Iris Lindqvist" "hi" --at "2020-01-01 00:00" 2>"$T/err"
is $? 2 "interview --at before the run: exit 2"
like "$(cat "$T/err")" "not a game time of the run" "interview --at before the run: said"
"$AGENT" sim interview "$T/s1" "Nobody" "hi" 2>"$T/err"
is $? 2 "interview: an unknown agent exits 2"
like "$(cat "$T/err")" 'no agent "Nobody" (the agents: Nadia Petrova, ' "interview: the agents are listed"

# ---- the town: 25 people, the party on the second evening ---------------
"$AGENT" sim "$EX/town.lua" --until "2023-02-14 21:00" --out "$T/town" -q
ok $? "town: exit 0"
checks "$T/town"
ok "$(test "$(metric "$T/town" "len(m['events']['party']['attendees'])")" -gt 1; echo $?)" \
    "town: guests came to the party"

# ---- lock-step mode --------------------------------------------------------------
"$AGENT" sim "$EX/smoke.lua" --tick 600 --out "$T/tick" --until "2023-02-14 20:00" -q
ok $? "--tick 600: exit 0"
checks "$T/tick"

# ---- broken worlds and bad options ------------------------------------------
printf 'return {\n  name = "x",\n  personas = {\n' >"$T/broken.lua"
"$AGENT" sim "$T/broken.lua" --out "$T/b" 2>"$T/err"
is $? 2 "a broken world: exit 2"
like "$(cat "$T/err")" "broken.lua:4:" "a broken world: file and line"
printf 'return { start = "2023-02-14 07:00", colour = "red" }\n' >"$T/bad.lua"
"$AGENT" sim "$T/bad.lua" --out "$T/b" 2>"$T/err"
is $? 2 "an unknown field: exit 2"
like "$(cat "$T/err")" 'colour' "an unknown field is named"
{ sed '$d' "$EX/gossip.lua"; printf '  personas = {},\n}\n'; } >"$T/mixed.lua"
"$AGENT" sim "$T/mixed.lua" --out "$T/b" 2>"$T/err"
is $? 2 "light agents with personas: exit 2"
like "$(cat "$T/err")" 'light: light agents cannot share a world' \
    "light agents with personas: said, not ignored"
"$AGENT" sim "$EX/smoke.lua" --until "2020-01-01 00:00" --out "$T/b" 2>"$T/err"
is $? 2 "--until before the start: exit 2"
"$AGENT" sim "$EX/smoke.lua" --seed x --out "$T/b" 2>"$T/err"
is $? 2 "a bad --seed: exit 2"
"$AGENT" sim --help >"$T/help"
ok $? "--help: exit 0"
like "$(cat "$T/help")" "agent sim interview DIR AGENT" "--help names the subcommands"

# ---- light agents and the view -------------------------------------------------
"$AGENT" sim "$EX/gossip.lua" --out "$T/gossip" -q
ok $? "light agents: exit 0"
ok "$(test "$(metric "$T/gossip" "m['light']['informed']")" -gt 1000; echo $?)" \
    "light agents: the rumour spread"
"$AGENT" sim view "$T/gossip" 2>"$T/err"
like "$(cat "$T/err")" "holds a run of light agents" \
    "view of a light-agents run: says why there is no page"
"$AGENT" sim view "$T/s1" 2>/dev/null
ok $? "view: exit 0"
like "$(head -c 300 "$T/s1/view.html")" "<!DOCTYPE html>" "view: a page"

done_testing
