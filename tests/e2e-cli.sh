#!/bin/sh
# e2e-cli.sh: `agent` as a user meets it: help, version, exit codes, task
# file errors naming file, line and field, the bundled examples run offline
# with the scripted stand-in, --json events, the audit log.
. "$SRCDIR/tests/lib.sh"

out=$("$AGENT" --help); ok $? "agent --help exits 0"
like "$out" "run " "--help lists the run command"
out=$("$AGENT" --version); ok $? "agent --version exits 0"
like "$out" "agent 0." "--version prints the version"
out=$("$AGENT" run --help); ok $? "agent run --help exits 0"
like "$out" "--max-steps N" "run --help lists the options"
like "$out" "exit status:" "run --help explains the exit codes"

"$AGENT" >/dev/null 2>&1; is $? 2 "no command: exit 2"
err=$("$AGENT" frobnicate 2>&1); is $? 2 "unknown command: exit 2"
like "$err" 'unknown command "frobnicate"' "unknown command is named"
err=$("$AGENT" run 2>&1); is $? 2 "run without a task: exit 2"
err=$("$AGENT" run --max-steps ten "$SRCDIR/examples/hello.lua" 2>&1)
is $? 2 "bad --max-steps: exit 2"
like "$err" '--max-steps must be a positive integer (got "ten")' \
    "bad option value is quoted"
err=$("$AGENT" run "$T/missing.lua" 2>&1); is $? 2 "missing task: exit 2"
like "$err" "missing.lua: cannot read: No such file or directory" \
    "missing task file is named"

cat >"$T/steps.lua" <<'LUA'
return { goal = "x", model = "script:m.lua", limits = { steps = "ten" } }
LUA
err=$("$AGENT" run "$T/steps.lua" 2>&1); is $? 2 "bad field: exit 2"
like "$err" 'steps.lua: limits.steps must be a positive integer (got "ten")' \
    "task error names file and field"

printf 'return {\n  goal = "x",\n  limits = { steps = 3 \n' >"$T/syntax.lua"
err=$("$AGENT" run "$T/syntax.lua" 2>&1); is $? 2 "syntax error: exit 2"
like "$err" "syntax.lua:4: '}' expected (to close '{' at line 3)" "syntax error names the line"

cat >"$T/typo.lua" <<'LUA'
return { goal = "x", model = "script:m.lua", limts = {} }
LUA
err=$("$AGENT" run "$T/typo.lua" 2>&1)
like "$err" 'unknown field "limts" (did you mean "limits"?)' "typo suggestion"

cat >"$T/notool.lua" <<LUA
return { goal = "x", model = "script:$SRCDIR/examples/hello-model.lua",
         tools = { "clok" } }
LUA
err=$("$AGENT" run "$T/notool.lua" 2>&1); is $? 2 "unknown tool: exit 2"
like "$err" 'tool "clok" not found (looked in' "unknown tool is named"

err=$("$AGENT" run "$SRCDIR/examples/hello.lua" --model nope:x 2>&1)
is $? 2 "unknown provider on the command line: exit 2"
like "$err" "provider must be one of openai, anthropic, script" \
    "unknown provider lists the known ones"

# the examples, offline
out=$("$AGENT" run "$SRCDIR/examples/hello.lua" 2>"$T/err")
ok $? "examples/hello.lua exits 0"
like "$out" "1234 * 5678 = 7006652" "hello: the answer on stdout"
is "$(cat "$T/err")" "" "hello: nothing on stderr when it is not a terminal"
out=$("$AGENT" run "$SRCDIR/examples/hello.lua" -v 2>&1 >/dev/null)
like "$out" "scripted stand-in, not a real model" "-v says a stand-in answered"
like "$out" "→ calc {\"expr\":\"1234 * 5678\"}" "-v shows the tool call"
like "$out" "← calc ok, 38 bytes" "-v shows the result size"
like "$out" "done · 2 steps" "-v shows the end"

out=$("$AGENT" run "$SRCDIR/examples/calc.lua" -q); ok $? "examples/calc.lua exits 0"
is "$out" "After 10 years there are 3526.5 EUR, of which 1026.5 EUR is interest." \
    "calc: the model corrected its broken call"

out=$("$AGENT" run "$SRCDIR/examples/calc.lua" --json)
is "$(printf '%s\n' "$out" | head -n 1 | cut -c1-21)" '{"event":"run.start",' \
    "--json: the first event is run.start"
like "$(printf '%s\n' "$out" | tail -n 1)" '"outcome":"done"' \
    "--json: the last event is run.end, done"
like "$out" '"verdict":"invalid"' "--json: the refused call has a verdict"
is "$(printf '%s\n' "$out" | grep -c '"event":"tool.result"')" 3 \
    "--json: three tool results"

out=$("$AGENT" run "$SRCDIR/examples/calc.lua" --max-steps 2 2>&1 >/dev/null)
is $? 1 "--max-steps 2: the task fails with exit 1"
like "$out" "step limit reached (2)" "the reason is printed"

"$AGENT" run "$SRCDIR/examples/hello.lua" -q --audit "$T/audit.jsonl" >/dev/null
ok $? "--audit run exits 0"
is "$(wc -l <"$T/audit.jsonl" | tr -d ' ')" 10 "audit: ten records"
like "$(head -n 1 "$T/audit.jsonl")" \
    '"prev":"0000000000000000000000000000000000000000000000000000000000000000"' \
    "audit: the first record starts the chain"
like "$(tail -n 1 "$T/audit.jsonl")" '"type":"run.end"' "audit: ends with run.end"
"$AGENT" run "$SRCDIR/examples/hello.lua" -q --audit "$T/audit.jsonl" >/dev/null
head1=$(sed -n 10p "$T/audit.jsonl" | sed 's/.*"hash":"\([0-9a-f]*\)".*/\1/')
like "$(sed -n 11p "$T/audit.jsonl")" "\"prev\":\"$head1\"" \
    "audit: a second run continues the chain"
like "$(sed -n 11p "$T/audit.jsonl")" '"seq":11' "audit: ... and the numbering"

err=$("$AGENT" run "$SRCDIR/examples/hello.lua" --audit /nonexistent/dir/a.jsonl 2>&1)
is $? 2 "unwritable audit log: exit 2"
like "$err" "/nonexistent/dir/a.jsonl: No such file or directory" \
    "unwritable audit log is named"
done_testing
