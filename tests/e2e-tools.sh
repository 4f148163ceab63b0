#!/bin/sh
# e2e-tools.sh: tools as `agent run` runs them: in worker processes forked
# from the zygote, never in the agent. The stand-in endpoint plays a model
# that calls tools from the task's own tools/ folder: one that never ends
# (stopped at its timeout), one that raises, one that returns nil and a
# message, one that looks for io, os.execute, os.getenv, require and
# friends, ones that break the memory, instruction and output caps; each
# failure is answered to the model and the run goes on. While a tool runs,
# the worker processes are looked at from outside: they exist, and their
# environment is empty (the API key is in the agent's only). Two calls of
# one step are answered in the order asked; the loop guard stops a model
# that repeats itself.
. "$SRCDIR/tests/lib.sh"

KEY=sk-e2e-t00ls-secret-5e6f7a8b9c
unset OPENAI_BASE_URL ANTHROPIC_API_KEY ANTHROPIC_BASE_URL AGENT_MODEL
OPENAI_API_KEY=$KEY
export OPENAI_API_KEY
: >"$T/seen"

# run SCENARIO TASK [ARGS...]: starts the stand-in playing $T/SCENARIO, runs
# `agent run $T/TASK --base-url URL ARGS` against it and stops it. Sets rc,
# out and err; keeps all output in $T/seen.
run() {
    _sc=$1 _task=$2
    shift 2
    standin_start --script "$T/$_sc" || bail_out "the stand-in did not start"
    "$AGENT" run "$T/$_task" --base-url "$STANDIN_URL" "$@" \
        >"$T/out" 2>"$T/err"
    rc=$?
    standin_stop
    out=$(cat "$T/out")
    err=$(cat "$T/err")
    cat "$T/out" "$T/err" >>"$T/seen"
}

# event NAME: the --json events of that name in $out.
event() {
    printf '%s\n' "$out" | grep "\"event\":\"$1\""
}

# tool_msg N ID: the content of the tool message answering ID in request N,
# still JSON-escaped.
tool_msg() {
    standin_request "$1" | awk -v pre="{\"role\":\"tool\",\"tool_call_id\":\"$2\",\"content\":\"" '
        { i = index($0, pre)
          if (!i) exit
          s = substr($0, i + length(pre))
          for (k = 1; k <= length(s); k++) {
              c = substr(s, k, 1)
              if (c == "\\") { printf "%s", c substr(s, k + 1, 1); k++ }
              else if (c == "\"") break
              else printf "%s", c
          }
          print "" }'
}

# skip REASON: a test that cannot run here (lib.sh has no helper for it).
skip() {
    _tap_n=$((_tap_n + 1))
    printf 'ok %d # SKIP %s\n' "$_tap_n" "$*"
}

# descendants PID: the processes below PID, from /proc/*/stat (the command
# name in parentheses may hold spaces: the fields after it are counted).
descendants() {
    cat /proc/[0-9]*/stat 2>/dev/null | awk -v root="$1" '
        { pid = $1; l = $0; sub(/.*\) /, "", l); split(l, f, " ")
          parent[pid] = f[2] }
        END { for (p in parent) {
                  q = p
                  while ((q in parent) && q != root && q > 1) q = parent[q]
                  if (q == root && p != root) print p } }'
}

mkdir "$T/tools"
cat >"$T/tools/spin.lua" <<'LUA'
return {
  name = "spin", description = "Never ends.",
  parameters = { type = "object", properties = {} },
  policy = { timeout = 1, instructions = 1e12 },
  run = function() local i = 0; while true do i = i + 1 end end,
}
LUA
cat >"$T/tools/boom.lua" <<'LUA'
return {
  name = "boom", description = "Raises an error.",
  parameters = { type = "object", properties = {} },
  run = function() error("deliberate failure in boom") end,
}
LUA
cat >"$T/tools/nothing.lua" <<'LUA'
return {
  name = "nothing", description = "Finds nothing.",
  parameters = { type = "object", properties = {} },
  run = function() return nil, "nothing found for that" end,
}
LUA
cat >"$T/tools/probe.lua" <<'LUA'
-- Reports what the sandbox offers, or tries one forbidden thing.
return {
  name = "probe", description = "Looks around the sandbox.",
  parameters = { type = "object", properties = { what = { type = "string" } },
                 required = { "what" }, additionalProperties = false },
  run = function(args)
    local w = args.what
    if w == "globals" then
      local _, binary = load("\27Lua\84\0\25\147\13\10\26\10")
      return {
        io = type(io), require = type(require), dofile = type(dofile),
        loadfile = type(loadfile), debug = type(debug), package = type(package),
        collectgarbage = type(collectgarbage),
        os_execute = type(os.execute), os_getenv = type(os.getenv),
        os_remove = type(os.remove), os_exit = type(os.exit),
        os_time = type(os.time), string_dump = type(string.dump),
        json = type(json), binary = binary,
      }
    elseif w == "io.open" then
      return io.open("/etc/passwd"):read("a")
    elseif w == "os.execute" then
      return os.execute("echo hello")
    elseif w == "os.getenv" then
      return os.getenv("OPENAI_API_KEY")
    elseif w == "require" then
      return require("os")
    end
    return w
  end,
}
LUA
cat >"$T/tools/slow.lua" <<'LUA'
return {
  name = "slow", description = "Takes a while.",
  parameters = { type = "object", properties = {} },
  run = function()
    local t = os.clock()
    while os.clock() - t < 0.3 do end
    return "slow done"
  end,
}
LUA
cat >"$T/tools/hog.lua" <<'LUA'
return {
  name = "hog", description = "Breaks a cap.",
  parameters = { type = "object", properties = { cap = { type = "string" } } },
  policy = { memory = 4 * 1024 * 1024, instructions = 1e6, output = 1024 },
  run = function(args)
    if args.cap == "memory" then
      local t = {}
      for i = 1, 1e7 do t[i] = string.rep("x", 64) .. i end
      return #t
    elseif args.cap == "instructions" then
      while true do pcall(function() while true do end end) end
    end
    return string.rep("y", 5000)
  end,
}
LUA
cat >"$T/tools/chatty.lua" <<'LUA'
return {
  name = "chatty", description = "Logs a line.",
  parameters = { type = "object", properties = {} },
  run = function() log("hello from the tool"); return "said hello" end,
}
LUA
cat >"$T/task.lua" <<'LUA'
return {
  name = "sandbox",
  model = { provider = "openai", name = "gpt-e2e" },
  goal = "Try the tools.",
  tools = { "calc", "spin", "boom", "nothing", "probe", "slow", "hog", "chatty" },
}
LUA

# ---- failures are answered to the model, and the run goes on ----
scenario tools.json <<'EOF'
{"replies": [
  {"tool_calls": [{"id": "c_spin", "name": "spin"}]},
  {"tool_calls": [{"id": "c_boom", "name": "boom"}]},
  {"tool_calls": [{"id": "c_nil", "name": "nothing"}]},
  {"tool_calls": [{"id": "c_glob", "name": "probe", "arguments": {"what": "globals"}}]},
  {"tool_calls": [{"id": "c_io", "name": "probe", "arguments": {"what": "io.open"}},
                  {"id": "c_exec", "name": "probe", "arguments": {"what": "os.execute"}},
                  {"id": "c_env", "name": "probe", "arguments": {"what": "os.getenv"}},
                  {"id": "c_req", "name": "probe", "arguments": {"what": "require"}}]},
  {"tool_calls": [{"id": "c_mem", "name": "hog", "arguments": {"cap": "memory"}},
                  {"id": "c_ins", "name": "hog", "arguments": {"cap": "instructions"}},
                  {"id": "c_out", "name": "hog", "arguments": {"cap": "output"}}]},
  {"tool_calls": [{"id": "c_1", "name": "slow"},
                  {"id": "c_2", "name": "calc", "arguments": {"expr": "6*7"}}]},
  {"text": "All tried."}
]}
EOF
standin_start --script "$T/tools.json" || bail_out "the stand-in did not start"
"$AGENT" run "$T/task.lua" --base-url "$STANDIN_URL" --json \
    >"$T/out" 2>"$T/err" &
agent_pid=$!
# while spin runs (1 s), look at the processes below the agent
i=0
while ! grep -q '"event":"tool.call"' "$T/out" && [ $i -lt 200 ]; do
    sleep 0.05
    i=$((i + 1))
done
kids=$(descendants "$agent_pid")
n_kids=$(printf '%s\n' $kids | grep -c .)
n_env=0 n_key=0 n_read=0
for p in $kids; do
    [ -r "/proc/$p/environ" ] || continue
    n_read=$((n_read + 1))
    [ -s "/proc/$p/environ" ] && n_env=$((n_env + 1))
    tr '\0' '\n' <"/proc/$p/environ" 2>/dev/null | grep -q "$KEY" &&
        n_key=$((n_key + 1))
done
agent_env=$(tr '\0' '\n' <"/proc/$agent_pid/environ" 2>/dev/null | grep -c "$KEY")
wait "$agent_pid"
rc=$?
standin_stop
out=$(cat "$T/out")
err=$(cat "$T/err")
cat "$T/out" "$T/err" >>"$T/seen"

[ "$n_kids" -ge 2 ]
ok $? "tools run in separate processes: a zygote and workers below the agent ($n_kids)"
if [ "$n_read" -gt 0 ] && [ "$agent_env" = 1 ]; then
    is "$n_key" 0 "no worker or zygote has the key in its environment"
    is "$n_env" 0 "the zygote and the workers have an empty environment"
else
    skip "/proc/PID/environ is not readable here"
    skip "/proc/PID/environ is not readable here"
fi

is "$rc" 0 "failing tools: the run goes on to the answer"
like "$(event run.end)" '"outcome":"done","reason":"answered","answer":"All tried.","steps":8' \
    "failing tools: done in eight steps"
is "$(standin_count)" 8 "failing tools: eight requests"
last=8
like "$(event tool.result | grep c_spin)" '"ok":false,"result":"error: sandbox: tool exceeded 1 s","verdict":"time"' \
    "a tool that never ends is stopped at its timeout"
is "$(tool_msg $last c_spin)" "error: sandbox: tool exceeded 1 s" \
    "... and the model is told"
is "$(tool_msg $last c_boom)" "error: boom.lua:4: deliberate failure in boom" \
    "a tool that raises: the model gets the error"
is "$(tool_msg $last c_nil)" "error: nothing found for that" \
    "a tool that returns nil, message: the model gets the message"
glob=$(tool_msg $last c_glob)
for name in io require dofile loadfile debug package collectgarbage \
    os_execute os_getenv os_remove os_exit string_dump; do
    like "$glob" "\\\"$name\\\":\\\"nil\\\"" "the sandbox has no $name"
done
like "$glob" '\"os_time\":\"function\"' "the sandbox has os.time"
like "$glob" '\"json\":\"table\"' "the sandbox has json"
like "$glob" 'attempt to load a binary chunk' "load refuses binary chunks"
like "$(tool_msg $last c_io)" "error: probe.lua:" "io.open: an error"
like "$(tool_msg $last c_io)" "attempt to index a nil value (global 'io')" \
    "io.open: io is absent"
like "$(tool_msg $last c_exec)" "attempt to call a nil value (field 'execute')" \
    "os.execute is absent"
like "$(tool_msg $last c_env)" "attempt to call a nil value (field 'getenv')" \
    "os.getenv is absent: a tool cannot read the environment"
like "$(tool_msg $last c_req)" "attempt to call a nil value (global 'require')" \
    "require is absent"
like "$(tool_msg $last c_mem)" "error: sandbox: tool exceeded its memory limit" \
    "a tool past its memory cap is stopped"
like "$(tool_msg $last c_ins)" "error: sandbox: tool exceeded its instruction limit" \
    "a tool past its instruction cap is stopped, pcall or not"
like "$(tool_msg $last c_out)" "error: sandbox: tool output exceeded 1024 bytes" \
    "a tool past its output cap is refused"
is "$(standin_request $last | grep -o '"tool_call_id":"c_[^"]*"' | sed 's/.*:"c_//; s/"//' | tr '\n' ' ')" \
    "spin boom nil glob io exec env req mem ins out 1 2 " \
    "every call answered, each step's results in the order asked"
diag "results of the last step came in as: $(event tool.result | sed -n 's/.*"call_id":"\(c_[12]\)".*/\1/p' | tr '\n' ' ')"
is "$(tool_msg $last c_1)" "slow done" "two calls: the slow one's result"
is "$(tool_msg $last c_2)" '{\"expr\":\"6*7\",\"value\":42}' "two calls: the quick one's result"
like "$(standin_request 8)" '{"role":"assistant","content":null,"tool_calls":[{"id":"c_1","type":"function","function":{"name":"slow","arguments":"{}"}},{"id":"c_2","type":"function","function":{"name":"calc","arguments":"{\"expr\":\"6*7\"}"}}]},{"role":"tool","tool_call_id":"c_1","content":"slow done"},{"role":"tool","tool_call_id":"c_2",' \
    "two calls: the results follow the assistant message directly"

# ---- a tool's log lines ----
scenario chatty.json <<'EOF'
{"replies": [{"tool_calls": [{"id": "c_log", "name": "chatty"}]},
             {"text": "It spoke."}]}
EOF
run chatty.json task.lua -v
is "$rc" 0 "a tool that logs: exit 0"
like "$err" "log: hello from the tool" "-v shows the tool's log line"
is "$(tool_msg 2 c_log)" "said hello" "the tool's value reaches the model"
run chatty.json task.lua --json
like "$(event tool.log)" '"message":"hello from the tool"' "--json: a tool.log event"

# ---- the loop guard ----
scenario loop.json <<'EOF'
{"replies": [{"tool_calls": [{"name": "calc", "arguments": {"expr": "1+1"}}]}],
 "repeat_last": true}
EOF
run loop.json task.lua
is "$rc" 1 "the same call three times in a row: exit 1"
like "$err" "agent: failed: loop guard: the model called calc with the same arguments 3 times in a row" \
    "the loop guard gives its reason"
is "$(standin_count)" 3 "the loop guard stops at the third call"
is "$out" "" "the loop guard: no answer on stdout"

cat >"$T/noguard.lua" <<'LUA'
return { goal = "x", model = { provider = "openai", name = "gpt-e2e" },
         tools = { "calc" }, limits = { repeat_calls = 0, steps = 4 } }
LUA
run loop.json noguard.lua
is "$rc" 1 "limits.repeat_calls = 0 turns the guard off"
like "$err" "agent: failed: step limit reached (4)" "... and the step limit ends the run"

# ---- over all runs ----
unlike "$(cat "$T/seen")" "$KEY" "the key never appeared on stdout or stderr"
unlike "$(cat "$T/seen")" "AddressSanitizer" "no AddressSanitizer report"
unlike "$(cat "$T/seen")" "runtime error:" "no UndefinedBehaviorSanitizer report"
done_testing
