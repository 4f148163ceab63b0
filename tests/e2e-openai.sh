#!/bin/sh
# e2e-openai.sh: `agent run` against the stand-in endpoint (tests/standin)
# speaking OpenAI's chat-completions format over a real socket. A streamed
# task with a tool call; whole replies; streams cut at awkward bytes; usage
# chunks; retries (429 with Retry-After, 5xx, dropped and truncated streams,
# stalls, hangs); failures that end the run at once (401, malformed replies)
# or after the retries (persistent 500s, nothing listening); invalid tool
# calls answered to the model; the step, token and cost limits; and the API
# key, which must reach the Authorization header and nothing else.
#
# Each case writes a scenario (the replies the stand-in plays, see
# `tests/standin --help`), runs the real binary and checks its exit status,
# stdout, stderr and the requests the stand-in logged. Retries use a 50 ms
# backoff (model.retries) so that the file runs in a few seconds; the only
# waits are Retry-After (1 s), the idle and first-byte timeouts (1 s each).
. "$SRCDIR/tests/lib.sh"

KEY=sk-e2e-0penai-7c1d9f2a5b3e
unset OPENAI_BASE_URL ANTHROPIC_API_KEY ANTHROPIC_BASE_URL AGENT_MODEL
OPENAI_API_KEY=$KEY
export OPENAI_API_KEY
: >"$T/seen"

# run SCENARIO TASK [ARGS...]: starts the stand-in playing $T/SCENARIO, runs
# `agent run $T/TASK --base-url URL ARGS` against it and stops it. Sets rc,
# out, err and ms (wall-clock milliseconds); keeps all output in $T/seen.
run() {
    _sc=$1 _task=$2
    shift 2
    standin_start --script "$T/$_sc" || bail_out "the stand-in did not start"
    _t0=$(date +%s%N)
    "$AGENT" run "$T/$_task" --base-url "$STANDIN_URL" "$@" \
        >"$T/out" 2>"$T/err"
    rc=$?
    _t1=$(date +%s%N)
    ms=$(((_t1 - _t0) / 1000000))
    standin_stop
    out=$(cat "$T/out")
    err=$(cat "$T/err")
    cat "$T/out" "$T/err" >>"$T/seen"
}

# event NAME: the --json events of that name in $out.
event() {
    printf '%s\n' "$out" | grep "\"event\":\"$1\""
}

# body N: the body of the N-th logged request, as JSON text.
body() {
    standin_request "$1" | sed 's/.*"body"://; s/}$//'
}

cat >"$T/main.lua" <<'LUA'
return {
  name = "product",
  model = "openai:gpt-e2e",
  system = "You are a careful calculator.",
  goal = "What is 1234 * 5678?",
  tools = { "calc", "clock" },
}
LUA
cat >"$T/retry.lua" <<'LUA'
return {
  goal = "What is 1234 * 5678?",
  model = { provider = "openai", name = "gpt-e2e", retries = { backoff = 0.05 } },
  tools = { "calc" },
}
LUA

# ---- a streamed task: a calc call, its result, the answer ----
scenario full.json <<'EOF'
{"replies": [
  {"text": "Let me calculate.",
   "tool_calls": [{"id": "call_A1", "name": "calc",
                   "arguments": {"expr": "1234 * 5678"}}],
   "usage": {"input": 100, "output": 20}},
  {"text": "1234 * 5678 = 7006652.", "usage": {"input": 150, "output": 12}}
]}
EOF
run full.json main.lua -v --audit "$T/audit.jsonl"
is "$rc" 0 "streamed task: exit 0"
is "$out" "1234 * 5678 = 7006652." "streamed task: the answer on stdout"
is "$(standin_count)" 2 "streamed task: two requests"
r1=$(standin_request 1)
r2=$(standin_request 2)
like "$r1" '"method":"POST","path":"/v1/chat/completions"' \
    "request 1: POST to /v1/chat/completions"
like "$r1" "\"authorization\":\"Bearer $KEY\"" \
    "request 1: Authorization: Bearer and the key"
like "$r1" '"content-type":"application/json"' "request 1: JSON body"
like "$r1" '"model":"gpt-e2e","messages":[{"role":"system","content":"You are a careful calculator."},{"role":"user","content":"What is 1234 * 5678?"}]' \
    "request 1: the model, the system prompt, then the goal"
like "$r1" '"tools":[{"type":"function","function":{"name":"calc",' \
    "request 1: the tools as functions"
like "$r1" '"stream":true,"stream_options":{"include_usage":true}' \
    "request 1: streamed, asking for usage"
like "$r2" '{"role":"assistant","content":"Let me calculate.","tool_calls":[{"id":"call_A1","type":"function","function":{"name":"calc","arguments":"{\"expr\":\"1234 * 5678\"}"}}]}' \
    "request 2: the assistant's tool call, as it was made"
like "$r2" '{"role":"tool","tool_call_id":"call_A1","content":"{\"expr\":\"1234 * 5678\",\"value\":7006652}"}' \
    "request 2: the tool result answers call_A1"
like "$r2" "\"authorization\":\"Bearer $KEY\"" "request 2: the key again"
like "$err" "model openai:gpt-e2e" "-v: names the model"
like "$err" "→ calc {\"expr\":\"1234 * 5678\"}" "-v: shows the call"
like "$err" "← calc ok" "-v: shows the result"
like "$err" "done · 2 steps · 282 tokens" "-v: shows the end and the tokens"
unlike "$err" "$KEY" "-v: the key is not on stderr"
unlike "$out" "$KEY" "the key is not on stdout"
ok "$(grep -c "$KEY" "$T/audit.jsonl")" "the key is not in the audit log"
like "$(cat "$T/audit.jsonl")" '"type":"tool.result"' "the audit log has the run"

run full.json main.lua --json -v --audit "$T/audit2.jsonl"
is "$rc" 0 "--json -v: exit 0"
like "$(event run.end)" '"outcome":"done","reason":"answered","answer":"1234 * 5678 = 7006652.","steps":2,"tokens_in":250,"tokens_out":32' \
    "--json: run.end has the answer and the tokens of both replies"
like "$(event tool.result)" '"call_id":"call_A1","ok":true' "--json: the tool result"
unlike "$out$err" "$KEY" "--json -v: the key is neither on stdout nor stderr"
ok "$(grep -c "$KEY" "$T/audit2.jsonl")" "--json: the key is not in the audit log"

# an endpoint that echoes the key in its text, a tool call and an error
scenario echo.json <<EOF
{"replies": [
  {"text": "Your key is $KEY.",
   "tool_calls": [{"id": "$KEY", "name": "$KEY", "arguments": {"k": "$KEY"}}]},
  {"status": 400, "body": {"error": {"message": "bad key $KEY",
                                     "type": "invalid_request_error"}}}
]}
EOF
run echo.json main.lua -v --audit "$T/audit3.jsonl"
is "$rc" 3 "an echoed key: the 400 ends the run with exit 3"
like "$err" "bad key [redacted]" "an echoed key is redacted in the error"
unlike "$err" "$KEY" "an echoed key is redacted everywhere on stderr (-v)"
run echo.json main.lua --json --audit "$T/audit3.jsonl"
like "$out" '"tool":"[redacted]","call_id":"[redacted]"' \
    "--json: an echoed key is redacted in tool names and ids"
unlike "$out" "$KEY" "--json: an echoed key is redacted everywhere"
ok "$(grep -c "$KEY" "$T/audit3.jsonl")" "an echoed key is not in the audit log"

# the live display holds back streamed text that could be the start of a
# key, so a key cut across pieces of text is redacted too
scenario echo-pieces.json <<EOF
{"replies": [{"text": "Your key is $KEY, keep it safe.", "text_pieces": 6}]}
EOF
run echo-pieces.json main.lua -v
is "$out" "Your key is [redacted], keep it safe." "a key in the answer is redacted on stdout"
unlike "$err" "$KEY" "a key cut across streamed pieces is not shown (-v)"

# no key: no Authorization header (local servers need none)
unset OPENAI_API_KEY
run full.json main.lua -q
OPENAI_API_KEY=$KEY
export OPENAI_API_KEY
is "$rc" 0 "no key: exit 0"
unlike "$(standin_request 1)" '"authorization"' "no key: no Authorization header"

# the task's key wins over the environment's
cat >"$T/taskkey.lua" <<'LUA'
return { goal = "What is 1234 * 5678?", tools = { "calc" },
         model = { provider = "openai", name = "gpt-e2e",
                   api_key = "sk-task-0wn-key-4242" } }
LUA
run full.json taskkey.lua -v
is "$rc" 0 "the task's key: exit 0"
like "$(standin_request 1)" '"authorization":"Bearer sk-task-0wn-key-4242"' \
    "the task's key wins over OPENAI_API_KEY"
unlike "$err" "sk-task-0wn-key-4242" "the task's key is not shown"

# the endpoint from OPENAI_BASE_URL when neither the command line nor the
# task names one
standin_start --script "$T/full.json" || bail_out "the stand-in did not start"
out=$(OPENAI_BASE_URL=$STANDIN_URL "$AGENT" run "$T/main.lua" 2>"$T/err")
rc=$?
standin_stop
cat "$T/err" >>"$T/seen"
is "$rc" 0 "OPENAI_BASE_URL: exit 0"
is "$(standin_count)" 2 "OPENAI_BASE_URL: the requests went there"

# ---- whole replies ----
run full.json main.lua --no-stream --json
is "$rc" 0 "--no-stream: exit 0"
like "$(event run.end)" '"answer":"1234 * 5678 = 7006652.","steps":2,"tokens_in":250,"tokens_out":32' \
    "--no-stream: the answer and the tokens"
unlike "$(body 1)" '"stream"' "--no-stream: the request does not ask for a stream"
like "$(standin_request 2)" '{"role":"tool","tool_call_id":"call_A1","content":"{\"expr\":\"1234 * 5678\",\"value\":7006652}"}' \
    "--no-stream: the tool result answers call_A1"

# a server that ignores "stream" and answers with one JSON object
scenario whole.json <<'EOF'
{"replies": [
  {"status": 200, "body": {
    "id": "chatcmpl-1", "object": "chat.completion", "created": 1,
    "model": "gpt-e2e",
    "choices": [{"index": 0, "finish_reason": "tool_calls",
      "message": {"role": "assistant", "content": null, "tool_calls": [
        {"id": "call_W", "type": "function",
         "function": {"name": "calc", "arguments": "{\"expr\":\"2+3\"}"}}]}}],
    "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}}},
  {"text": "five", "usage": {"input": 20, "output": 1}}
]}
EOF
run whole.json main.lua --json
is "$rc" 0 "a whole reply to a streamed request: exit 0"
like "$(body 1)" '"stream":true' "... the request asked for a stream"
like "$(event tool.result)" '"call_id":"call_W","ok":true,"result":"{\"expr\":\"2+3\",\"value\":5}"' \
    "... the tool call in the whole reply ran"
like "$(event run.end)" '"answer":"five","steps":2,"tokens_in":27,"tokens_out":4' \
    "... and its usage was counted"

# ---- streams cut at awkward places ----
# The same two replies framed differently must give the same run: text with
# multi-byte characters and escapes, arguments with a \u escape.
split_case() { # NAME OPTIONS: the two replies with these framing options
    scenario "split-$1.json" <<EOF
{"replies": [
  {"text": "Sure — “1234 × 5678”:\\t\\"quoted\\" \\\\ back", $2
   "tool_calls": [{"id": "call_S", "name": "calc",
                   "arguments": "{\\"expr\\": \\"\\\\u0031234 * 5678\\"}"}],
   "usage": {"input": 31, "output": 7}},
  {"text": "Ergebnis: 7006652 ✓ — fertig.", $2 "usage": {"input": 40, "output": 9}}
]}
EOF
    run "split-$1.json" main.lua --json
    digest=$(event llm.response; event tool.call;
             event tool.result | sed 's/"ms":[0-9.e+-]*//'
             event run.end | sed 's/"seconds":[0-9.e+-]*//'
             body 2 | sed 's/.*"messages":\(.*\),"tools":.*/\1/')
}
split_case plain ""
ref=$digest
is "$rc" 0 "framing: the reference run exits 0"
like "$(event tool.result)" '"ok":true,"result":"{\"expr\":\"1234 * 5678\",\"value\":7006652}"' \
    "framing: the reference run computed the product"
like "$(event llm.response)" '"text":"Sure — “1234 × 5678”:\t\"quoted\" \\ back"' \
    "framing: the reference text arrived intact"
for v in "split1:\"split\": 1," "split3:\"split\": 3," "split7:\"split\": 7," \
    "pieces:\"text_pieces\": 7, \"args_pieces\": 9," \
    "crlf:\"crlf\": true," \
    "all:\"crlf\": true, \"split\": 1, \"text_pieces\": 5, \"args_pieces\": 11,"; do
    name=${v%%:*}
    split_case "$name" "${v#*:}"
    is "$rc" 0 "framing $name: exit 0"
    is "$digest" "$ref" "framing $name: the same replies, calls, results and request"
done

# ---- the usage chunk: choices [], null or absent ----
for u in empty null absent; do
    scenario "usage-$u.json" <<EOF
{"replies": [{"text": "ok", "usage": {"input": 123, "output": 45},
              "usage_choices": "$u"}]}
EOF
    run "usage-$u.json" main.lua --json
    is "$rc" 0 "usage chunk with choices $u: exit 0"
    like "$(event run.end)" '"tokens_in":123,"tokens_out":45' \
        "usage chunk with choices $u: the tokens are counted"
done

# ---- 429 with Retry-After: 1, then an answer ----
scenario 429.json <<'EOF'
{"replies": [
  {"status": 429, "headers": {"Retry-After": "1"},
   "body": {"error": {"message": "Rate limit reached for gpt-e2e",
                      "type": "requests", "code": "rate_limit_exceeded"}}},
  {"text": "after the wait"}
]}
EOF
run 429.json main.lua -v
is "$rc" 0 "429 then an answer: exit 0"
is "$out" "after the wait" "429: the answer of the second attempt"
is "$(standin_count)" 2 "429: two requests"
like "$err" "retry: attempt 1 failed: HTTP 429" "429: -v shows the retry"
like "$err" "Rate limit reached for gpt-e2e" "429: -v shows the endpoint's message"
like "$err" "trying again in 1.0 s" "429: -v shows the wait from Retry-After"
[ "$ms" -ge 900 ]
ok $? "429: waited for Retry-After (${ms} ms >= 900)"
run 429.json main.lua --json
is "$rc" 0 "429 with --json: exit 0"
like "$(event llm.retry)" '"attempt":1,"status":429,' "--json: an llm.retry event with the status"
like "$(event llm.retry)" '"retry_in_ms":1000' "--json: the retry waits 1000 ms"
like "$(event llm.response)" '"attempts":2' "--json: the response took two attempts"
[ "$ms" -ge 900 ]
ok $? "429 with --json: waited for Retry-After (${ms} ms >= 900)"

# ---- 500, 502, 503, then an answer ----
scenario 5xx.json <<'EOF'
{"replies": [
  {"status": 500, "body": {"error": {"message": "boom", "type": "server_error"}}},
  {"status": 502, "body": "<html><body>Bad Gateway</body></html>",
   "headers": {"Content-Type": "text/html"}},
  {"status": 503, "body": "upstream busy"},
  {"text": "fine now"}
]}
EOF
run 5xx.json retry.lua --json
is "$rc" 0 "500, 502, 503 then an answer: exit 0"
like "$(event run.end)" '"answer":"fine now"' "5xx: the answer"
is "$(standin_count)" 4 "5xx: four requests"
is "$(event llm.retry | sed 's/.*"status":\([0-9]*\).*/\1/' | tr '\n' ' ')" \
    "500 502 503 " "5xx: one retry per status, in order"
like "$(event llm.retry)" 'HTTP 500: error from endpoint: server_error: boom' \
    "5xx: the JSON error body is quoted"
like "$(event llm.retry)" 'HTTP 502: <html><body>Bad Gateway' \
    "5xx: a non-JSON body is quoted"
like "$(event llm.response)" '"attempts":4' "5xx: four attempts"
is "$(body 4)" "$(body 1)" "5xx: every attempt sends the same body"
run 5xx.json retry.lua -v
is "$(printf '%s\n' "$err" | grep -c '^        retry: attempt [123] failed: HTTP 50[023]')" 3 \
    "5xx with -v: one line per failed attempt"
is "$(printf '%s\n' "$err" | grep -c '^$')" 0 "5xx with -v: no blank lines"

scenario 500.json <<'EOF'
{"replies": [{"status": 500,
              "body": {"error": {"message": "always broken", "type": "server_error"}}}],
 "repeat_last": true}
EOF
run 500.json retry.lua
is "$rc" 3 "persistent 500s: exit 3"
is "$(standin_count)" 5 "persistent 500s: five attempts (the default)"
like "$err" "agent: failed: model endpoint: HTTP 500: error from endpoint: server_error: always broken (gave up after 5 attempts)" \
    "persistent 500s: the message names the status and the attempts"
is "$out" "" "persistent 500s: nothing on stdout"

# ---- 401: no retry ----
scenario 401.json <<'EOF'
{"replies": [{"status": 401, "body": {"error": {
  "message": "Incorrect API key provided: sk-e2e-0p**3e. You can find your API key at https://platform.openai.com/account/api-keys.",
  "type": "invalid_request_error", "param": null, "code": "invalid_api_key"}}}],
 "repeat_last": true}
EOF
run 401.json main.lua
is "$rc" 3 "401: exit 3"
is "$(standin_count)" 1 "401: exactly one request (not retried)"
like "$err" "HTTP 401: error from endpoint: invalid_request_error: Incorrect API key provided: sk-e2e-0p**3e." \
    "401: the endpoint's message is shown"

# ---- nothing listening ----
standin_start || bail_out "the stand-in did not start"
dead=$STANDIN_URL
standin_stop
cat >"$T/refused.lua" <<'LUA'
return { goal = "x", tools = { "calc" },
         model = { provider = "openai", name = "gpt-e2e",
                   retries = { attempts = 2, backoff = 0.05 } } }
LUA
err=$("$AGENT" run "$T/refused.lua" --base-url "$dead" 2>&1 >/dev/null)
rc=$?
printf '%s\n' "$err" >>"$T/seen"
is "$rc" 3 "connection refused: exit 3"
like "$err" "agent: failed: model endpoint: cannot reach endpoint: " \
    "connection refused: the message says the endpoint cannot be reached"
like "$err" "(gave up after 2 attempts)" "connection refused: retried first"

# the command line's URL wins over the task's
cat >"$T/deadurl.lua" <<LUA
return { goal = "What is 1234 * 5678?", tools = { "calc" },
         model = { provider = "openai", name = "gpt-e2e", base_url = "$dead" } }
LUA
run full.json deadurl.lua
is "$rc" 0 "--base-url wins over the task's base_url"

# ---- dropped, truncated and unfinished streams ----
scenario truncated.json <<'EOF'
{"replies": [
  {"tool_calls": [{"id": "call_T1", "name": "calc",
                   "arguments": {"expr": "1234 * 5678"}}],
   "args_pieces": 6, "truncate_after": 700},
  {"close": true},
  {"tool_calls": [{"id": "call_T2", "name": "calc",
                   "arguments": {"expr": "1234 * 5678"}}]},
  {"text": "done after retries"}
]}
EOF
run truncated.json retry.lua --json
is "$rc" 0 "truncated stream, dropped connection, then an answer: exit 0"
is "$(standin_count)" 4 "truncated: four requests"
like "$(event llm.retry | sed -n 1p)" '"error":"reply truncated: ' \
    "truncated: the first attempt is a truncated reply"
is "$(event llm.retry | wc -l | tr -d ' ')" 2 "truncated: two retries"
is "$(event tool.call | wc -l | tr -d ' ')" 1 \
    "truncated: the cut tool call never ran"
like "$(event tool.call)" '"call_id":"call_T2"' "truncated: the whole call ran"
like "$(event run.end)" '"answer":"done after retries"' "truncated: the answer"

scenario nodone.json <<'EOF'
{"replies": [{"text": "no end marker", "omit_done": true},
             {"text": "with the end marker"}]}
EOF
run nodone.json retry.lua --json
is "$rc" 0 "a stream without [DONE]: exit 0 after a retry"
like "$(event llm.retry)" 'reply truncated: the stream ended before its final event' \
    "a stream without [DONE] is treated as truncated"
like "$(event run.end)" '"answer":"with the end marker"' "... and the retry's answer is used"

# ---- replies that cannot be understood: no retry ----
scenario badjson.json <<'EOF'
{"replies": [{"status": 200, "headers": {"Content-Type": "application/json"},
              "body": "{\"id\":\"x\",\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":\"hi\"}"}],
 "repeat_last": true}
EOF
run badjson.json main.lua --no-stream
is "$rc" 3 "invalid JSON in a whole reply: exit 3 (no crash)"
like "$err" "agent: failed: model endpoint: malformed reply: invalid JSON in reply at byte" \
    "invalid JSON: the message names the malformed reply"
is "$(standin_count)" 1 "invalid JSON: not retried"
run badjson.json main.lua
is "$rc" 3 "invalid JSON in a whole reply to a streamed request: exit 3"
like "$err" "malformed reply: invalid JSON in reply" "... named as malformed"

scenario badevent.json <<'EOF'
{"replies": [{"status": 200, "headers": {"Content-Type": "text/event-stream"},
              "chunks": ["data: {\"id\":\"x\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"hi\"}\n\n",
                         "data: [DONE]\n\n"]}],
 "repeat_last": true}
EOF
run badevent.json main.lua
is "$rc" 3 "invalid JSON in a stream event: exit 3"
like "$err" "invalid JSON in reply at byte" "invalid JSON in an event is named"
is "$(standin_count)" 1 "invalid JSON in an event: not retried"

# ---- stalls and hangs (model.timeouts) ----
cat >"$T/stall.lua" <<'LUA'
return { goal = "x", tools = { "calc" },
         model = { provider = "openai", name = "gpt-e2e",
                   timeouts = { first_byte = 30, idle = 1 },
                   retries = { backoff = 0.05 } } }
LUA
scenario stall.json <<'EOF'
{"replies": [{"text": "the stalled answer", "stall_ms": 4000},
             {"text": "the prompt answer"}],
 "repeat_last": true}
EOF
run stall.json stall.lua --json
is "$rc" 0 "a stream silent for longer than the idle timeout: exit 0"
like "$(event llm.retry)" '"error":"timed out: response stalled for 1000 ms"' \
    "stall: the idle timeout fires (before the first-byte timeout)"
like "$(event run.end)" '"answer":"the prompt answer"' "stall: the retry's answer"

cat >"$T/hang.lua" <<'LUA'
return { goal = "x", tools = { "calc" },
         model = { provider = "openai", name = "gpt-e2e",
                   timeouts = { first_byte = 1 },
                   retries = { backoff = 0.05 } } }
LUA
scenario hang.json <<'EOF'
{"replies": [{"hang": true}, {"text": "the prompt answer"}],
 "repeat_last": true}
EOF
run hang.json hang.lua --json
is "$rc" 0 "an endpoint that never answers: exit 0 after a retry"
like "$(event llm.retry)" '"error":"timed out: no response within 1000 ms"' \
    "hang: the first-byte timeout fires"
like "$(event run.end)" '"answer":"the prompt answer"' "hang: the retry's answer"

# ---- invalid tool calls are answered to the model ----
scenario invalid.json <<'EOF'
{"replies": [
  {"tool_calls": [{"id": "c1", "name": "frobnicate", "arguments": {"x": 1}}]},
  {"tool_calls": [{"id": "c2", "name": "calc", "arguments": "{\"expr\": \"1+"}]},
  {"tool_calls": [{"id": "c3", "name": "calc", "arguments": {"expression": "1+1"}}]},
  {"tool_calls": [{"id": "c4", "name": "calc", "arguments": {"expr": "1+1"}}]},
  {"text": "two"}
]}
EOF
run invalid.json main.lua --json
is "$rc" 0 "invalid tool calls: the run goes on to the answer"
is "$(standin_count)" 5 "invalid tool calls: five requests"
like "$(standin_request 2)" '{"role":"tool","tool_call_id":"c1","content":"error: unknown tool \"frobnicate\"; the tools are: calc, clock"}' \
    "unknown tool: the model is told, with the tools it has"
like "$(standin_request 3)" '{"role":"tool","tool_call_id":"c2","content":"error: the arguments are not valid JSON. Call calc again with arguments that match this JSON schema: {\"additionalProperties\":false,' \
    "arguments that are not JSON: the model is told, with the schema"
like "$(standin_request 3)" '\"required\":[\"expr\"],\"type\":\"object\"}"}' \
    "... the whole schema"
like "$(standin_request 4)" '{"role":"tool","tool_call_id":"c3","content":"error: invalid arguments: $: missing required property \"expr\". Call calc again with arguments that match this JSON schema: {\"additionalProperties\":false,' \
    "arguments that break the schema: the model is told why, with the schema"
like "$(standin_request 5)" '{"role":"tool","tool_call_id":"c4","content":"{\"expr\":\"1+1\",\"value\":2}"}' \
    "the corrected call runs"
like "$(event run.end)" '"outcome":"done","reason":"answered","answer":"two","steps":5' \
    "invalid tool calls: done in five steps"
like "$(event run.end)" '"invalid_calls":3' "invalid tool calls: three counted"

# ---- limits ----
scenario busy.json <<'EOF'
{"replies": [
  {"tool_calls": [{"name": "calc", "arguments": {"expr": "1+1"}}], "usage": {"input": 60, "output": 20}},
  {"tool_calls": [{"name": "calc", "arguments": {"expr": "2+2"}}], "usage": {"input": 60, "output": 20}},
  {"tool_calls": [{"name": "calc", "arguments": {"expr": "3+3"}}], "usage": {"input": 60, "output": 20}},
  {"tool_calls": [{"name": "calc", "arguments": {"expr": "4+4"}}], "usage": {"input": 60, "output": 20}},
  {"text": "too late"}
]}
EOF
run busy.json main.lua --max-steps 3
is "$rc" 1 "--max-steps 3 with a model that keeps calling tools: exit 1"
like "$err" "agent: failed: step limit reached (3)" "--max-steps: the reason"
is "$(standin_count)" 3 "--max-steps 3: three requests"
is "$out" "" "--max-steps: no answer on stdout"

cat >"$T/tokens.lua" <<'LUA'
return { goal = "x", model = "openai:gpt-e2e", tools = { "calc" },
         limits = { tokens = 100 } }
LUA
run busy.json tokens.lua
is "$rc" 1 "limits.tokens: exit 1"
like "$err" "agent: failed: token limit reached (160 of 100)" "limits.tokens: the reason"
is "$(standin_count)" 2 "limits.tokens: stopped after the second reply"

cat >"$T/cost.lua" <<'LUA'
return { goal = "x", tools = { "calc" }, limits = { cost = 0.15 },
         model = { provider = "openai", name = "gpt-e2e",
                   price = { input = 1000, output = 2000 } } }
LUA
run busy.json cost.lua --json
is "$rc" 1 "limits.cost with the task's price: exit 1"
like "$(event run.end)" '"outcome":"failed","reason":"cost limit reached ($0.2000 of $0.1500)"' \
    "limits.cost: the reason, priced per million tokens"
like "$(event run.end)" '"cost_usd":0.2' "limits.cost: the cost in run.end"

# ---- over all runs ----
unlike "$(cat "$T/seen")" "$KEY" "the key never appeared on stdout or stderr"
unlike "$(cat "$T/seen")" "AddressSanitizer" "no AddressSanitizer report"
unlike "$(cat "$T/seen")" "runtime error:" "no UndefinedBehaviorSanitizer report"
done_testing
