#!/bin/sh
# e2e-escape.sh: the escape battery. Every tests/escape/*.lua is a hostile
# tool; each runs as the only tool of a task through `agent run`, called
# once by a scripted stand-in model, and must be contained:
#
#   - the tool's result carries the verdict on the script's first line:
#       -- expect: time | memory | cpu | output | crash | protocol
#                                 the sandbox stopped it: tool.result has
#                                 that verdict, and the audit log a
#                                 violation record with it
#       -- expect: error: TEXT    the tool failed on its own (the Lua layer
#                                 or the broker said no): its error holds
#                                 TEXT; no violation record
#       -- expect: ok: TEXT       the tool returned, its value holds TEXT
#       -- expect: load: TEXT     the agent refuses the tool as it reads it
#                                 (exit 2, TEXT on stderr)
#   - the agent is unharmed: the run goes on to the stand-in's answer (exit
#     0), the audit log verifies, no sanitizer report.
#
# Lua cannot make a raw system call, so these scripts test the Lua layer,
# the limits and the broker; tests/test-sandbox.c makes the forbidden calls
# (openat, socket, clone, execve, ptrace, kill, io_uring_setup, bpf, keyctl,
# userfaultfd, unshare, mount, ...) in C. Scripts that need the broker are
# skipped while the worker has no http or smtp.
. "$SRCDIR/tests/lib.sh"

unset OPENAI_API_KEY OPENAI_BASE_URL ANTHROPIC_API_KEY AGENT_MODEL
AGENT_TOOLS_PATH=
export AGENT_TOOLS_PATH

# ---- the sandbox on this machine ----
"$AGENT" sandbox check >"$T/check.out" 2>&1
rc=$?
if [ "$rc" != 0 ]; then
    diag "$(cat "$T/check.out")"
    skip_all "agent sandbox check: a required layer is missing here"
fi
like "$(cat "$T/check.out")" "sandbox: ready" "agent sandbox check: ready"
"$AGENT" sandbox check --json >"$T/check.json"
is "$?" 0 "agent sandbox check --json: exit 0"
like "$(cat "$T/check.json")" '"ok":true' "--json: ok"
like "$(cat "$T/check.json")" '"layer":"seccomp","active":true,"required":true' \
    "--json: seccomp is active and required"
"$AGENT" sandbox nonsense >/dev/null 2>&1
is "$?" 2 "agent sandbox with an unknown subcommand: exit 2"

mkdir "$T/tools"
n=0
for script in "$SRCDIR"/tests/escape/*.lua; do
    name=$(basename "$script" .lua)
    n=$((n + 1))
    expect=$(sed -n '1s/^-- expect: //p' "$script")
    if [ -z "$expect" ]; then
        ok 1 "$name: a first line \"-- expect: ...\""
        continue
    fi
    cp "$script" "$T/tools/$name.lua"
    cat >"$T/$name-model.lua" <<EOF
return function(ctx)
  if ctx.step == 1 then
    return { text = "Trying $name.",
             tool_calls = { { id = "c1", name = "$name", arguments = {} } } }
  end
  return { text = "contained" }
end
EOF
    cat >"$T/$name.task.lua" <<EOF
return {
  name = "escape-$name",
  model = { provider = "script", file = "$name-model.lua" },
  goal = "Run the tool $name once.",
  tools = { "$name" },
  limits = { steps = 3, seconds = 60 },
}
EOF
    audit=$T/$name.audit.jsonl
    "$AGENT" run "$T/$name.task.lua" --json --audit "$audit" \
        >"$T/out" 2>"$T/err"
    rc=$?
    out=$(cat "$T/out")
    err=$(cat "$T/err")
    result=$(printf '%s\n' "$out" | grep '"event":"tool.result"')
    # the tool's value or error alone (the event also names the tool)
    text=$(printf '%s\n' "$result" |
        sed -n 's/.*"result":"\(.*\)","\(verdict\|bytes\)":.*/\1/p')
    unlike "$err" "AddressSanitizer" "$name: no AddressSanitizer report"
    case $expect in
    load:*)
        is "$rc" 2 "$name: the agent refuses the tool (exit 2)"
        like "$err" "${expect#load: }" "$name: ... saying why"
        continue
        ;;
    esac
    case $text in
    *"attempt to index a nil value (global 'http')"* | \
        *"attempt to index a nil value (global 'smtp')"*)
        skip "$name: the worker has no broker functions yet"
        continue
        ;;
    esac
    is "$rc" 0 "$name: the run goes on to the answer (exit 0)"
    like "$out" '"outcome":"done"' "$name: ... and ends done"
    case $expect in
    error:*)
        like "$result" '"ok":false' "$name: the tool failed"
        like "$text" "${expect#error: }" "$name: ... with \"${expect#error: }\""
        unlike "$(cat "$audit")" '"type":"violation"' \
            "$name: no violation record (the tool's own error)"
        ;;
    ok:*)
        like "$result" '"ok":true' "$name: the tool returned"
        like "$text" "${expect#ok: }" "$name: ... \"${expect#ok: }\""
        ;;
    *)
        like "$result" "\"verdict\":\"$expect\"" "$name: verdict $expect"
        like "$(grep '"type":"violation"' "$audit")" "\"verdict\":\"$expect\"" \
            "$name: a violation record with verdict $expect"
        ;;
    esac
    "$AGENT" audit verify -q "$audit" >"$T/verify" 2>&1
    ok $? "$name: the audit log verifies"
done
[ "$n" -ge 40 ]
ok $? "forty hostile scripts or more ($n)"
done_testing
