#!/bin/sh
# e2e-audit.sh: `agent audit` on real logs written by `agent run` with the
# scripted stand-in (offline): verify on good logs (two runs in one file, the
# chain going on across them) and on logs tampered with by hand (a value
# edited, a record deleted, two swapped, a copy inserted, the file cut mid
# line or at a line boundary, then --head), with the exit codes; show's
# timeline, --run and --follow; export --otel wired to the exporter.
. "$SRCDIR/tests/lib.sh"

# field NAME LINE: the value of a top-level string field of one record
field() {
    printf '%s\n' "$2" | sed "s/.*\"$1\":\"\\([^\"]*\\)\".*/\\1/"
}

log=$T/two.jsonl
"$AGENT" run "$SRCDIR/examples/hello.lua" -q --audit "$log" >/dev/null
ok $? "hello.lua writes its log"
"$AGENT" run "$SRCDIR/examples/calc.lua" -q --audit "$log" >/dev/null
ok $? "calc.lua appends to the same log"
n=$(wc -l <"$log" | tr -d ' ')
last=$(tail -n 1 "$log")
head=$(field hash "$last")

# ---- verify: good logs -------------------------------------------------
out=$("$AGENT" audit verify "$log"); ok $? "verify: a good log exits 0"
is "$out" "$log: ok: $n records, head $head" "verify: ok, N records, head"
r1=$(field run "$(head -n 1 "$log")")
r2=$(field run "$last")
[ "$r1" != "$r2" ]; ok $? "the log holds two runs"
k=$(grep -n "\"run\":\"$r2\"" "$log" | head -n 1 | cut -d: -f1)
is "$(field prev "$(sed -n "${k}p" "$log")")" \
    "$(field hash "$(sed -n "$((k - 1))p" "$log")")" \
    "the chain goes on across runs: the second's first record links to the first's last"
out=$("$AGENT" audit verify "$log" --head "$head"); ok $? "verify --head HEAD: 0"
upper=$(printf '%s' "$head" | tr 'a-f' 'A-F')
"$AGENT" audit verify "$log" --head "$upper" >/dev/null
ok $? "verify: --head in upper case is fine too"
out=$("$AGENT" audit verify -q "$log"); ok $? "verify -q: 0"
is "$out" "" "verify -q: nothing printed when all is well"
: >"$T/empty.jsonl"
out=$("$AGENT" audit verify "$T/empty.jsonl")
is "$out" "$T/empty.jsonl: ok: 0 records, head $(printf '%064d' 0)" \
    "verify: an empty log is a chain of nothing"

# ---- verify: tampering -------------------------------------------------
sed '5s/1234 \* 5678/1234 * 5679/' "$log" >"$T/edited.jsonl"
out=$("$AGENT" audit verify "$T/edited.jsonl"); is $? 1 "edited: exit 1"
like "$out" "$T/edited.jsonl:5: seq 5: edited: the record does not match its hash" \
    "edited: file, line, seq and what"
like "$out" "the 4 records before it verify, up to head $(field hash "$(sed -n 4p "$log")")" \
    "edited: where the good part ends"

sed '7d' "$log" >"$T/deleted.jsonl"
out=$("$AGENT" audit verify "$T/deleted.jsonl"); is $? 1 "deleted: exit 1"
like "$out" "deleted.jsonl:7: seq 8: deleted: seq 7 is missing" "deleted: named"

{ sed -n '1,5p' "$log"; sed -n 7p "$log"; sed -n 6p "$log"; sed -n '8,$p' "$log"; } \
    >"$T/swapped.jsonl"
out=$("$AGENT" audit verify "$T/swapped.jsonl"); is $? 1 "swapped: exit 1"
like "$out" "swapped.jsonl:6: seq 7: reordered: seq 7 comes before seq 6 (line 7)" \
    "swapped: named"

{ sed -n '1,9p' "$log"; sed -n 3p "$log"; sed -n '10,$p' "$log"; } \
    >"$T/inserted.jsonl"
out=$("$AGENT" audit verify "$T/inserted.jsonl"); is $? 1 "inserted: exit 1"
like "$out" "inserted.jsonl:10: seq 3: inserted: a copy of line 3 (seq 3)" \
    "inserted: named, with where it came from"

size=$(wc -c <"$log" | tr -d ' ')
head -c $((size - 30)) "$log" >"$T/torn.jsonl"
tornlen=$(tail -n 1 "$T/torn.jsonl" | wc -c | tr -d ' ')
out=$("$AGENT" audit verify "$T/torn.jsonl"); is $? 1 "torn: exit 1"
is "$(printf '%s\n' "$out" | head -n 1)" \
    "$T/torn.jsonl:$n: torn: the last line ($tornlen bytes) is incomplete; a crash while writing?" \
    "torn: the last line, never accepted silently"
head -c $((size - 1)) "$log" >"$T/nonl.jsonl"
out=$("$AGENT" audit verify "$T/nonl.jsonl"); is $? 1 "no final newline: exit 1"
like "$out" "torn: the last line" "no final newline: torn"

head -n $((n - 3)) "$log" >"$T/short.jsonl"
out=$("$AGENT" audit verify "$T/short.jsonl"); ok $? "cut at a line boundary: verifies alone"
out=$("$AGENT" audit verify "$T/short.jsonl" --head "$head")
is $? 1 "cut at a line boundary, --head: exit 1"
shorthead=$(field hash "$(tail -n 1 "$T/short.jsonl")")
is "$out" "$T/short.jsonl: truncated: the log ends at $shorthead, expected $head" \
    "--head: truncated, both heads named"
out=$("$AGENT" audit verify "$log" --head "$shorthead"); is $? 1 "--head earlier: exit 1"
like "$out" "extended: the log goes on past the expected head" "--head earlier: extended"

cat "$log" "$log" >"$T/twice.jsonl"
out=$("$AGENT" audit verify "$T/twice.jsonl"); is $? 1 "a log twice over: exit 1"
like "$out" "twice.jsonl:$((n + 1)): seq 1: inserted: a copy of line 1" \
    "a log twice over: the second copy starts at line $((n + 1))"

# byte changes through the command: one in a hash, one in a prev, a newline
for spec in "3:hash" "6:prev"; do
    ln=${spec%%:*} f=${spec#*:}
    h=$(field "$f" "$(sed -n "${ln}p" "$log")")
    c=$(printf '%s' "$h" | cut -c 10)
    d=$( [ "$c" = 0 ] && echo 1 || echo 0)
    new=$(printf '%s' "$h" | cut -c 1-9)$d$(printf '%s' "$h" | cut -c 11-)
    sed "${ln}s/$h/$new/" "$log" >"$T/flip.jsonl"
    out=$("$AGENT" audit verify "$T/flip.jsonl"); is $? 1 "a $f digit changed: exit 1"
    like "$out" "flip.jsonl:$ln: seq $ln: edited" "a $f digit changed: line $ln"
done
sed '4{N;s/\n/ /;}' "$log" >"$T/joined.jsonl"
out=$("$AGENT" audit verify "$T/joined.jsonl"); is $? 1 "a newline changed: exit 1"
like "$out" "joined.jsonl:4: edited: two records on one line" \
    "a newline changed: the two records named"

# several files, unreadable files, usage
out=$("$AGENT" audit verify "$log" "$T/edited.jsonl" "$T/empty.jsonl")
is $? 1 "several files, one bad: exit 1"
is "$(printf '%s\n' "$out" | grep -c ': ok: ')" 2 "several files: each on its own"
out=$("$AGENT" audit verify "$log" "$T/nope.jsonl" 2>"$T/err")
is $? 2 "an unreadable file: exit 2"
like "$(cat "$T/err")" "nope.jsonl: No such file or directory" "unreadable: named"
like "$out" "$log: ok:" "unreadable: the others are still verified"
err=$("$AGENT" audit verify "$log" --head abc 2>&1); is $? 2 "bad --head: exit 2"
like "$err" '--head must be 64 hex digits (got "abc")' "bad --head: quoted"
err=$("$AGENT" audit verify "$log" "$log" --head "$head" 2>&1)
is $? 2 "--head with two files: exit 2"
"$AGENT" audit verify >/dev/null 2>&1; is $? 2 "verify without a file: exit 2"
err=$("$AGENT" audit frob 2>&1); is $? 2 "unknown subcommand: exit 2"
like "$err" 'unknown subcommand "frob"' "unknown subcommand: named"
out=$("$AGENT" audit --help); ok $? "audit --help: exit 0"
like "$out" "agent audit verify FILE..." "audit --help: the usage"
out=$("$AGENT" audit show --help); ok $? "audit show --help: exit 0"

# ---- show --------------------------------------------------------------
out=$("$AGENT" audit show "$log" 2>"$T/err"); ok $? "show: exit 0"
is "$(cat "$T/err")" "" "show: nothing on stderr for a good log"
like "$out" "run $r1 · agent 1 ·" "show: the run header"
like "$out" '  task "hello"' "show: the task"
like "$out" "(scripted stand-in, not a real model)" "show: the stand-in note"
like "$out" "  tools: clock, calc" "show: the tools"
like "$out" "  limits: " "show: the limits"
like "$out" "  goal: What day of the week" "show: the goal"
like "$out" "step 1 · +" "show: steps"
like "$out" "    I will ask the clock for today's date" "show: the model's text"
like "$out" "tokens 117 in, 25 out, 142 so far" "show: tokens"
like "$out" '  → calc {"expr":"1234 * 5678"}' "show: a tool call and its arguments"
like "$out" '  ← calc ok · 38 bytes · ' "show: a result with its size"
like "$out" 'done: answered · 2 steps · tokens 288 in, 38 out · $0.0000' \
    "show: the run's end"
like "$out" "  answer: Today is Saturday" "show: the answer"
like "$out" "← calc error (invalid) · 314 bytes" "show: a refused call"
like "$out" "· 1 invalid call" "show: invalid calls counted"
long=$(printf '%s\n' "$out" | grep '← calc error (invalid)')
[ ${#long} -lt 160 ]; ok $? "show: a long result on one short line (${#long} bytes)"
like "$long" "… (314 bytes)" "show: a shortened result keeps its size"
unlike "$out" "$(printf '\033')" "show: no colors when stdout is not a terminal"
is "$(printf '%s\n' "$out" | grep -c '^run ')" 2 "show: both runs"

out=$("$AGENT" audit show "$log" --run "$(printf '%s' "$r2" | cut -c 1-8)")
ok $? "show --run PREFIX: exit 0"
like "$out" 'task "compound-interest"' "show --run: the run asked for"
unlike "$out" 'task "hello"' "show --run: only that one"
err=$("$AGENT" audit show "$log" --run ffff0000 2>&1); is $? 1 "show --run unknown: exit 1"
like "$err" 'no run "ffff0000"' "show --run unknown: named"
err=$("$AGENT" audit show "$log" --run "" 2>&1); is $? 2 "show --run matching both: exit 2"
like "$err" "matches several runs" "show --run ambiguous: says so"

out=$("$AGENT" audit show "$T/edited.jsonl" 2>"$T/err"); ok $? "show on a bad log: still shown"
like "$(cat "$T/err")" "warning: $T/edited.jsonl:5: seq 5: edited" \
    "show on a bad log: a warning names the bad record"
"$AGENT" audit show "$T/nope.jsonl" 2>/dev/null; is $? 2 "show: unreadable file: exit 2"

# a violation, in red on a terminal only
AGENT_TOOLS_PATH=$SRCDIR/tests/data/agent/tools \
    "$AGENT" run "$SRCDIR/tests/data/audit/violation.lua" -q --audit "$T/v.jsonl" \
    >/dev/null
ok $? "a run the sandbox stops a tool in"
out=$("$AGENT" audit show "$T/v.jsonl")
like "$out" "  ✗ violation: bigout: memory: error: sandbox: tool exceeded its memory limit" \
    "show: the violation"
like "$out" "← bigout error (memory)" "show: the failed call"
if script -qc true /dev/null >/dev/null 2>&1; then
    on_tty() { script -qc "$*" /dev/null </dev/null; }
    out=$(unset NO_COLOR; on_tty "'$AGENT' audit show '$T/v.jsonl'")
    like "$(printf '%s\n' "$out" | grep 'violation:')" "$(printf '\033[31m')" \
        "show on a terminal: the violation in red"
    out=$(unset NO_COLOR; on_tty "'$AGENT' audit show --no-color '$T/v.jsonl'")
    unlike "$out" "$(printf '\033')" "show --no-color: no escapes on a terminal"
    out=$(NO_COLOR=1 on_tty "'$AGENT' audit show '$T/v.jsonl'")
    unlike "$out" "$(printf '\033')" "show with NO_COLOR set: no escapes"
else
    diag "no script(1) to fake a terminal: the colour checks are left out"
fi

# content stored as hashes or cut short
sha=$(printf '%064d' 7)
sed "3s/\"text\":\"[^\"]*\"/\"text\":{\"bytes\":63,\"sha256\":\"$sha\"}/" "$log" |
    sed '5s/"arguments":"{\\"expr\\":\\"1234 \* 5678\\"}"/"arguments":"{\\"expr\\":\\"12 [+9 bytes]"/' \
        >"$T/content.jsonl"
out=$("$AGENT" audit show "$T/content.jsonl" 2>/dev/null)
like "$out" "[sha256 000000000000…, 63 bytes]" "show: hashed content"
like "$out" '→ calc {"expr":"12… (20 bytes)' "show: truncated content with its size"

# what the log holds never drives the terminal
sed '3s/"text":"I will/"text":"\\u001b[2J\\u0007I will/' "$log" >"$T/esc.jsonl"
out=$("$AGENT" audit show --no-color "$T/esc.jsonl" 2>/dev/null)
like "$out" '\x1b[2J\x07I will ask' "show: control characters shown as escapes"
unlike "$out" "$(printf '\033')" "show: no raw escape from the log"

# --follow: records appear as they are appended; a torn tail waits
head -n 13 "$log" >"$T/follow.jsonl"
sed -n 14p "$log" | head -c 100 >>"$T/follow.jsonl"
"$AGENT" audit show --follow "$T/follow.jsonl" >"$T/follow.out" 2>"$T/follow.err" &
pid=$!
i=0
until grep -q "Let me compute" "$T/follow.out" 2>/dev/null || [ $i -gt 50 ]; do
    sleep 0.1; i=$((i + 1))
done
like "$(cat "$T/follow.out")" "Let me compute the balance." "follow: what is there"
unlike "$(cat "$T/follow.out")" '→ calc {"expr":2500}' "follow: not the half line"
sed -n 14p "$log" | tail -c +101 >>"$T/follow.jsonl"
sed -n '15,$p' "$log" >>"$T/follow.jsonl"
i=0
until grep -q "answer: After 10 years" "$T/follow.out" || [ $i -gt 50 ]; do
    sleep 0.1; i=$((i + 1))
done
kill -TERM "$pid"
wait "$pid"; is $? 0 "follow: SIGTERM ends it with exit 0"
like "$(cat "$T/follow.out")" '→ calc {"expr":2500}' "follow: the line once complete"
like "$(cat "$T/follow.out")" "answer: After 10 years there are 3526.5 EUR" \
    "follow: records appended later"
is "$(cat "$T/follow.err")" "" "follow: a torn tail while following is no warning"

# ---- export ------------------------------------------------------------
out=$("$AGENT" audit export --otel "$log"); ok $? "export --otel: exit 0"
like "$out" '"resourceSpans"' "export: OTLP/JSON on stdout"
"$AGENT" audit export --otel "$log" --run "$r1" -o "$T/otel.json"
ok $? "export -o: exit 0"
like "$(cat "$T/otel.json")" "\"traceId\":\"$r1\"" "export -o: the file, the run"
err=$("$AGENT" audit export "$log" 2>&1); is $? 2 "export without a format: exit 2"
like "$err" "choose a format: --otel" "export without a format: says so"
"$AGENT" audit export --otel "$T/nope.jsonl" 2>/dev/null
is $? 2 "export: unreadable file: exit 2"

# ---- the task file's audit = { file, content, fsync } ----------------------
mkdir "$T/tk"
cp "$SRCDIR/examples/hello-model.lua" "$T/tk/"
sed 's/^return {$/return { audit = { file = "logs.jsonl", content = "hash", fsync = "never" },/' \
    "$SRCDIR/examples/hello.lua" >"$T/tk/hello.lua"
"$AGENT" run "$T/tk/hello.lua" -q >/dev/null 2>"$T/err"
ok $? "audit in the task file: exit 0" || diag "$(cat "$T/err")"
like "$(head -n 1 "$T/tk/logs.jsonl")" '"goal":{"bytes":' \
    "audit.file (beside the task) and audit.content = hash"
like "$(head -n 1 "$T/tk/logs.jsonl")" '"content":"hash"' "... run.start says hash"
before=$(wc -l <"$T/tk/logs.jsonl" | tr -d ' ')
"$AGENT" run "$T/tk/hello.lua" -q --audit "$T/tk/cli.jsonl" \
    --audit-content full >/dev/null
like "$(head -n 1 "$T/tk/cli.jsonl")" '"goal":"' "the command line wins over the task"
is "$(wc -l <"$T/tk/logs.jsonl" | tr -d ' ')" "$before" \
    "... and the task's log was not written to"
sed 's/content = "hash"/content = "most"/' "$T/tk/hello.lua" >"$T/tk/bad.lua"
"$AGENT" run "$T/tk/bad.lua" -q 2>"$T/err"
is $? 2 "a bad audit.content: exit 2"
like "$(cat "$T/err")" 'bad.lua: audit.content must be "full", "hash" or "truncate:N" (got "most")' \
    "a bad audit.content: the file and the field"
sed 's/file = "logs/fiel = "logs/' "$T/tk/hello.lua" >"$T/tk/bad2.lua"
"$AGENT" run "$T/tk/bad2.lua" -q 2>"$T/err"
like "$(cat "$T/err")" 'unknown field "audit.fiel" (did you mean "audit.file"?)' \
    "an unknown audit field: with a suggestion"

done_testing
