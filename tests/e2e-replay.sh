#!/bin/sh
# e2e-replay.sh: agent replay against real logs: recorded runs replay
# identical, with recorded or live tools; a run against the stand-in
# endpoint replays with the endpoint gone; a changed task diverges at the
# step it changes; a task file that is gone is replayed from the log's copy;
# logs without full content are refused. And the crash
# test: agent run killed with SIGKILL at many points leaves a log that
# verifies or has only a torn tail, which the next run repairs.
. "$SRCDIR/tests/lib.sh"

cp "$SRCDIR/examples/calc.lua" "$SRCDIR/examples/calc-model.lua" "$T/"
"$AGENT" run "$T/calc.lua" -q --audit "$T/calc.jsonl" >/dev/null
ok $? "a run with an audit log"

out=$("$AGENT" replay "$T/calc.jsonl" 2>"$T/err"); ok $? "replay exits 0"
is "$out" "identical: 4 steps, done, the same answer" "replay: identical"
like "$(cat "$T/err")" "calc.replay.jsonl" "replay names its own audit log"
ok "$(test -s "$T/calc.replay.jsonl"; echo $?)" "replay wrote its own log"
like "$(head -n 1 "$T/calc.replay.jsonl")" '"model_label":"replay:script:script"' \
    "the replay's log says a replay answered"
out=$("$AGENT" replay "$T/calc.jsonl" --live-tools 2>/dev/null)
is "$out" "identical: 4 steps, done, the same answer" \
    "replay with live tools (calc is deterministic): identical"

# a second run in the same file: the last is replayed unless --run says
"$AGENT" run "$T/calc.lua" -q --audit "$T/calc.jsonl" >/dev/null
first=$(head -n 1 "$T/calc.jsonl" | sed 's/.*"run":"\([0-9a-f]*\)".*/\1/')
err=$("$AGENT" replay "$T/calc.jsonl" 2>&1 >/dev/null)
like "$err" "the log holds 2 runs; replaying the last" "two runs: the last"
out=$("$AGENT" replay "$T/calc.jsonl" --run "$(echo "$first" | cut -c1-8)" 2>/dev/null)
is "$out" "identical: 4 steps, done, the same answer" "--run with a prefix"
err=$("$AGENT" replay "$T/calc.jsonl" --run ffffffffffff 2>&1)
is $? 2 "unknown run: exit 2"
like "$err" 'no run "ffffffffffff" in the log' "unknown run is named"

# a changed task diverges at the first step it changes
sed 's/2500 EUR in/2600 EUR in/' "$T/calc.lua" >"$T/calc2.lua" && mv "$T/calc2.lua" "$T/calc.lua"
out=$("$AGENT" replay "$T/calc.jsonl" 2>"$T/err")
is $? 1 "a changed task: exit 1"
is "$out" "diverged at step 1: the model is asked something else (the request differs from the logged one)" \
    "a changed goal diverges at step 1"
like "$(cat "$T/err")" "changed since the run" "the changed task file is reported"

# the task file gone (and its script model): the log's copy of it is replayed
mkdir "$T/gone"
cp "$SRCDIR/examples/calc.lua" "$SRCDIR/examples/calc-model.lua" "$T/gone/"
"$AGENT" run "$T/gone/calc.lua" -q --audit "$T/gone.jsonl" >/dev/null
like "$(head -n 1 "$T/gone.jsonl")" '"task_text":"' "run.start holds the task file's text"
rm "$T/gone/calc.lua" "$T/gone/calc-model.lua"
out=$("$AGENT" replay "$T/gone.jsonl" 2>"$T/err")
ok $? "a task file gone: replay exits 0"
is "$out" "identical: 4 steps, done, the same answer" "a task file gone: identical"
like "$(cat "$T/err")" "is gone; replaying the task as the log recorded it" \
    "a task file gone: said"
"$AGENT" run "$SRCDIR/examples/hello.lua" -q --audit "$T/hashtext.jsonl" \
    --audit-content hash >/dev/null
like "$(head -n 1 "$T/hashtext.jsonl")" '"task_text":{"bytes":' \
    "hash content: the task's text is hashed too"

# content other than full cannot be replayed
"$AGENT" run "$SRCDIR/examples/hello.lua" -q --audit "$T/hash.jsonl" \
    --audit-content hash >/dev/null
like "$(head -n 1 "$T/hash.jsonl")" '"goal":{"bytes":' "hash content: the goal is hashed"
err=$("$AGENT" replay "$T/hash.jsonl" 2>&1); is $? 2 "hashed log: exit 2"
like "$err" "needs the full content" "hashed log: replay says why"
"$AGENT" run "$SRCDIR/examples/hello.lua" -q --audit "$T/trunc.jsonl" \
    --audit-content truncate:10 >/dev/null
like "$(head -n 1 "$T/trunc.jsonl")" '"goal":"What day o [+' "truncate:10 cuts the goal"
err=$("$AGENT" run "$SRCDIR/examples/hello.lua" --audit-content half 2>&1)
is $? 2 "bad --audit-content: exit 2"

# a run against the stand-in endpoint replays with the endpoint gone
scenario chat.json <<'JSON'
{"replies": [
  {"text": "Computing.", "tool_calls": [{"id": "call_a", "name": "calc", "arguments": {"expr": "6*7"}}]},
  {"text": "It is 42."}
]}
JSON
standin_start --script "$T/chat.json" || bail_out "no stand-in"
cat >"$T/chat.lua" <<LUA
return { goal = "What is 6*7?", model = { provider = "openai", name = "gpt-4o-mini",
         base_url = "$STANDIN_URL" }, tools = { "calc" } }
LUA
OPENAI_API_KEY=sk-replay-secret-123456 "$AGENT" run "$T/chat.lua" -q \
    --audit "$T/chat.jsonl" >/dev/null
ok $? "a run against the stand-in endpoint"
standin_stop
out=$("$AGENT" replay "$T/chat.jsonl" 2>/dev/null)
is "$out" "identical: 2 steps, done, the same answer" \
    "replay needs no endpoint and gives identical"
unlike "$(cat "$T/chat.jsonl" "$T/chat.replay.jsonl")" "sk-replay-secret" \
    "the key is in neither log"
like "$(sed -n 2p "$T/chat.jsonl")" '"type":"llm.request"' "the request is logged"
like "$(sed -n 2p "$T/chat.jsonl")" '\"model\":\"gpt-4o-mini\"' \
    "the exact body sent is logged"

# SIGKILL at many points: the log verifies, or has only a torn tail
cat >"$T/long-model.lua" <<'LUA'
return function(ctx)
  if ctx.step > 300 then return "done" end
  return { text = string.rep("thinking ", 20),
           tool_calls = { { name = "calc", arguments = { expr = ctx.step .. " * 7" } } } }
end
LUA
cat >"$T/long.lua" <<'LUA'
return { goal = "count", model = "script:long-model.lua", tools = { "calc" },
         limits = { steps = 400 } }
LUA
good=0 torn=0 bad=0
for delay in 0.01 0.02 0.03 0.05 0.07 0.09 0.11 0.13 0.16 0.2 0.25 0.3; do
    rm -f "$T/long.jsonl"
    "$AGENT" run "$T/long.lua" -q --audit "$T/long.jsonl" >/dev/null 2>&1 &
    pid=$!
    sleep "$delay"
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    [ -e "$T/long.jsonl" ] || { good=$((good + 1)); continue; }
    v=$("$AGENT" audit verify "$T/long.jsonl" 2>&1)
    case $v in
    *": ok: "* | ok:*) good=$((good + 1)) ;;
    *torn*)
        torn=$((torn + 1))
        # the next run repairs the tail and the whole file verifies
        "$AGENT" run "$SRCDIR/examples/hello.lua" -q --audit "$T/long.jsonl" >/dev/null
        v2=$("$AGENT" audit verify "$T/long.jsonl" 2>&1)
        case $v2 in
        *": ok: "* | ok:*) ;;
        *) bad=$((bad + 1)); diag "after repair: $v2" ;;
        esac
        ;;
    *) bad=$((bad + 1)); diag "delay $delay: $v" ;;
    esac
done
diag "12 kills: $good whole logs, $torn torn tails (repaired), $bad bad"
is "$bad" 0 "a killed run never leaves a log that fails to verify but for a torn tail"

# a torn tail (as a crash in the middle of a write leaves it) is cut and
# noted by the next run, and nothing complete is lost
"$AGENT" run "$SRCDIR/examples/hello.lua" -q --audit "$T/torn.jsonl" >/dev/null
whole=$(wc -l <"$T/torn.jsonl" | tr -d ' ')
printf '{"agent":1,"data":{"outcome":"do' >>"$T/torn.jsonl"
v=$("$AGENT" audit verify "$T/torn.jsonl" 2>&1)
like "$v" "torn" "verify reports the torn tail"
"$AGENT" run "$SRCDIR/examples/hello.lua" -q --audit "$T/torn.jsonl" >/dev/null
ok $? "the next run appends to the repaired log"
like "$(sed -n "$((whole + 1))p" "$T/torn.jsonl")" '"what":"torn tail"' \
    "an error record says the torn tail was cut"
like "$("$AGENT" audit verify "$T/torn.jsonl" 2>&1)" ": ok: $((whole * 2 + 1)) records" \
    "the repaired log verifies, every complete record kept"
done_testing
