#!/bin/sh
# e2e-anthropic.sh: `agent run` against the stand-in endpoint (tests/standin)
# speaking Anthropic's messages format over a real socket: the same
# essentials as e2e-openai.sh (a streamed task with a tool call, whole
# replies, streams cut at awkward bytes, usage, retries, failures, invalid
# tool calls, limits, the key), plus what is Anthropic's own: x-api-key and
# anthropic-version, the system prompt outside the messages, tool_use and
# tool_result blocks (all results of a step in one user message), is_error,
# an error event in the middle of a stream, 529, and message_stop.
#
# Retries use a 50 ms backoff (model.retries) so that the file runs in a
# few seconds; the only waits are Retry-After (1 s) and the idle and
# first-byte timeouts (1 s each).
. "$SRCDIR/tests/lib.sh"

KEY=sk-ant-e2e-4nthropic-91b3c7d2e8
unset ANTHROPIC_BASE_URL OPENAI_API_KEY OPENAI_BASE_URL AGENT_MODEL
ANTHROPIC_API_KEY=$KEY
export ANTHROPIC_API_KEY
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
  model = "anthropic:claude-e2e",
  system = "You are a careful calculator.",
  goal = "What is 1234 * 5678?",
  tools = { "calc", "clock" },
}
LUA
cat >"$T/retry.lua" <<'LUA'
return {
  goal = "What is 1234 * 5678?",
  model = { provider = "anthropic", name = "claude-e2e",
            retries = { backoff = 0.05 } },
  tools = { "calc" },
}
LUA

# ---- a streamed task: a calc call, its result, the answer ----
scenario full.json <<'EOF'
{"replies": [
  {"text": "Let me calculate.",
   "tool_calls": [{"id": "toolu_A1", "name": "calc",
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
like "$r1" '"method":"POST","path":"/v1/messages"' "request 1: POST to /v1/messages"
like "$r1" "\"x-api-key\":\"$KEY\"" "request 1: the key in x-api-key"
like "$r1" '"anthropic-version":"2023-06-01"' "request 1: anthropic-version"
unlike "$r1" '"authorization"' "request 1: no Authorization header"
like "$r1" '"model":"claude-e2e","max_tokens":4096,"system":"You are a careful calculator.","messages":[{"role":"user","content":"What is 1234 * 5678?"}]' \
    "request 1: the model, max_tokens, the system prompt apart, the goal"
like "$r1" '"tools":[{"name":"calc","description":"Evaluate' \
    "request 1: the tools"
like "$r1" '"input_schema":{"additionalProperties":false,' \
    "request 1: each tool with its input_schema"
like "$r1" '"stream":true' "request 1: streamed"
like "$r2" '{"role":"assistant","content":[{"type":"text","text":"Let me calculate."},{"type":"tool_use","id":"toolu_A1","name":"calc","input":{"expr":"1234 * 5678"}}]}' \
    "request 2: the assistant's text and tool_use"
like "$r2" '{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_A1","content":"{\"expr\":\"1234 * 5678\",\"value\":7006652}"}]}' \
    "request 2: the tool_result answers toolu_A1"
like "$r2" "\"x-api-key\":\"$KEY\"" "request 2: the key again"
like "$err" "model anthropic:claude-e2e" "-v: names the model"
like "$err" "→ calc {\"expr\":\"1234 * 5678\"}" "-v: shows the call"
like "$err" "done · 2 steps · 282 tokens" "-v: shows the end and the tokens"
unlike "$out$err" "$KEY" "-v: the key is neither on stdout nor stderr"
ok "$(grep -c "$KEY" "$T/audit.jsonl")" "the key is not in the audit log"

run full.json main.lua --json -v --audit "$T/audit2.jsonl"
is "$rc" 0 "--json -v: exit 0"
like "$(event run.end)" '"outcome":"done","reason":"answered","answer":"1234 * 5678 = 7006652.","steps":2,"tokens_in":250,"tokens_out":32' \
    "--json: run.end has the answer and the tokens (message_start and message_delta)"
unlike "$out$err" "$KEY" "--json -v: the key is neither on stdout nor stderr"
ok "$(grep -c "$KEY" "$T/audit2.jsonl")" "--json: the key is not in the audit log"

scenario echo.json <<EOF
{"replies": [
  {"text": "Your key is $KEY.",
   "tool_calls": [{"id": "$KEY", "name": "$KEY", "arguments": {"k": "$KEY"}}]},
  {"status": 401, "body": {"type": "error", "error": {
     "type": "authentication_error", "message": "invalid x-api-key $KEY"}}}
]}
EOF
run echo.json main.lua -v --audit "$T/audit3.jsonl"
is "$rc" 3 "an echoed key: the 401 ends the run with exit 3"
like "$err" "invalid x-api-key [redacted]" "an echoed key is redacted in the error"
unlike "$err" "$KEY" "an echoed key is redacted everywhere on stderr (-v)"
run echo.json main.lua --json --audit "$T/audit3.jsonl"
unlike "$out" "$KEY" "--json: an echoed key is redacted everywhere"
ok "$(grep -c "$KEY" "$T/audit3.jsonl")" "an echoed key is not in the audit log"

# no key: no x-api-key header
unset ANTHROPIC_API_KEY
run full.json main.lua -q
ANTHROPIC_API_KEY=$KEY
export ANTHROPIC_API_KEY
is "$rc" 0 "no key: exit 0"
unlike "$(standin_request 1)" '"x-api-key"' "no key: no x-api-key header"

# the endpoint from ANTHROPIC_BASE_URL
standin_start --script "$T/full.json" || bail_out "the stand-in did not start"
out=$(ANTHROPIC_BASE_URL=$STANDIN_URL "$AGENT" run "$T/main.lua" 2>"$T/err")
rc=$?
standin_stop
cat "$T/err" >>"$T/seen"
is "$rc" 0 "ANTHROPIC_BASE_URL: exit 0"
is "$(standin_count)" 2 "ANTHROPIC_BASE_URL: the requests went there"

# ---- two calls in one step: one user message with both results ----
scenario two.json <<'EOF'
{"replies": [
  {"tool_calls": [{"id": "toolu_1", "name": "calc", "arguments": {"expr": "6*7"}},
                  {"id": "toolu_2", "name": "calc", "arguments": {"expr": "6+7"}}]},
  {"text": "42 and 13"}
]}
EOF
run two.json main.lua -q
is "$rc" 0 "two calls in one step: exit 0"
like "$(standin_request 2)" '{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_1","content":"{\"expr\":\"6*7\",\"value\":42}"},{"type":"tool_result","tool_use_id":"toolu_2","content":"{\"expr\":\"6+7\",\"value\":13}"}]}' \
    "two calls: both tool_result blocks in one user message, in order"

# ---- whole replies ----
run full.json main.lua --no-stream --json
is "$rc" 0 "--no-stream: exit 0"
like "$(event run.end)" '"answer":"1234 * 5678 = 7006652.","steps":2,"tokens_in":250,"tokens_out":32' \
    "--no-stream: the answer and the tokens"
unlike "$(body 1)" '"stream"' "--no-stream: the request does not ask for a stream"
like "$(standin_request 2)" '{"type":"tool_result","tool_use_id":"toolu_A1","content":"{\"expr\":\"1234 * 5678\",\"value\":7006652}"}' \
    "--no-stream: the tool_result answers toolu_A1"

scenario whole.json <<'EOF'
{"replies": [
  {"status": 200, "body": {
    "id": "msg_1", "type": "message", "role": "assistant", "model": "claude-e2e",
    "content": [{"type": "text", "text": "Adding."},
                {"type": "tool_use", "id": "toolu_W", "name": "calc",
                 "input": {"expr": "2+3"}}],
    "stop_reason": "tool_use", "stop_sequence": null,
    "usage": {"input_tokens": 7, "output_tokens": 3}}},
  {"text": "five", "usage": {"input": 20, "output": 1}}
]}
EOF
run whole.json main.lua --json
is "$rc" 0 "a whole reply to a streamed request: exit 0"
like "$(body 1)" '"stream":true' "... the request asked for a stream"
like "$(event tool.result)" '"call_id":"toolu_W","ok":true,"result":"{\"expr\":\"2+3\",\"value\":5}"' \
    "... the tool_use in the whole reply ran"
like "$(event run.end)" '"answer":"five","steps":2,"tokens_in":27,"tokens_out":4' \
    "... and its usage was counted"

# ---- streams cut at awkward places ----
split_case() { # NAME OPTIONS: the two replies with these framing options
    scenario "split-$1.json" <<EOF
{"replies": [
  {"text": "Sure — “1234 × 5678”:\\t\\"quoted\\" \\\\ back", $2
   "tool_calls": [{"id": "toolu_S", "name": "calc",
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
like "$(event run.end)" '"tokens_in":71,"tokens_out":16' "framing: the tokens"
for v in "split1:\"split\": 1," "split3:\"split\": 3," "split7:\"split\": 7," \
    "pieces:\"text_pieces\": 7, \"args_pieces\": 9," \
    "crlf:\"crlf\": true," \
    "all:\"crlf\": true, \"split\": 1, \"text_pieces\": 5, \"args_pieces\": 11,"; do
    name=${v%%:*}
    split_case "$name" "${v#*:}"
    is "$rc" 0 "framing $name: exit 0"
    is "$digest" "$ref" "framing $name: the same replies, calls, results and request"
done

# ---- 429 with Retry-After: 1, then an answer ----
scenario 429.json <<'EOF'
{"replies": [
  {"status": 429, "headers": {"Retry-After": "1"},
   "body": {"type": "error", "error": {"type": "rate_limit_error",
            "message": "Number of request tokens has exceeded your rate limit"}}},
  {"text": "after the wait"}
]}
EOF
run 429.json main.lua -v
is "$rc" 0 "429 then an answer: exit 0"
is "$out" "after the wait" "429: the answer of the second attempt"
is "$(standin_count)" 2 "429: two requests"
like "$err" "retry: attempt 1 failed: HTTP 429: error from endpoint: rate_limit_error: Number of request tokens" \
    "429: -v shows the retry and the endpoint's message"
like "$err" "trying again in 1.0 s" "429: -v shows the wait from Retry-After"
[ "$ms" -ge 900 ]
ok $? "429: waited for Retry-After (${ms} ms >= 900)"
run 429.json main.lua --json
is "$rc" 0 "429 with --json: exit 0"
like "$(event llm.retry)" '"attempt":1,"status":429,' "--json: an llm.retry event with the status"
like "$(event llm.retry)" '"retry_in_ms":1000' "--json: the retry waits 1000 ms"
[ "$ms" -ge 900 ]
ok $? "429 with --json: waited for Retry-After (${ms} ms >= 900)"

# ---- 500, 502, 503, 529, an error event mid-stream, then an answer ----
scenario 5xx.json <<'EOF'
{"replies": [
  {"status": 500, "body": {"type": "error", "error": {"type": "api_error", "message": "Internal server error"}}},
  {"status": 502, "body": "<html><body>Bad Gateway</body></html>",
   "headers": {"Content-Type": "text/html"}},
  {"status": 503, "body": "upstream busy"},
  {"status": 529, "body": {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}},
  {"status": 200, "headers": {"Content-Type": "text/event-stream"}, "chunks": [
    "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_x\",\"type\":\"message\",\"role\":\"assistant\",\"model\":\"claude-e2e\",\"content\":[],\"stop_reason\":null,\"usage\":{\"input_tokens\":5,\"output_tokens\":1}}}\n\n",
    "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"Overloaded mid-stream\"}}\n\n"]},
  {"text": "fine now"}
]}
EOF
cat >"$T/retry6.lua" <<'LUA'
return { goal = "x", tools = { "calc" },
         model = { provider = "anthropic", name = "claude-e2e",
                   retries = { attempts = 6, backoff = 0.05 } } }
LUA
run 5xx.json retry6.lua --json
is "$rc" 0 "500, 502, 503, 529, an error event, then an answer: exit 0"
like "$(event run.end)" '"answer":"fine now"' "5xx: the answer"
is "$(standin_count)" 6 "5xx: six requests"
is "$(event llm.retry | sed 's/.*"status":\([0-9]*\).*/\1/' | tr '\n' ' ')" \
    "500 502 503 529 200 " "5xx: one retry per failure, in order"
like "$(event llm.retry)" 'HTTP 500: error from endpoint: api_error: Internal server error' \
    "5xx: the JSON error body is quoted"
like "$(event llm.retry)" 'HTTP 529: error from endpoint: overloaded_error: Overloaded' \
    "529 (overloaded) is retried"
like "$(event llm.retry)" 'error from endpoint: overloaded_error: Overloaded mid-stream' \
    "an error event in the middle of a stream is retried"
like "$(event llm.response)" '"attempts":6' "5xx: six attempts"
is "$(body 6)" "$(body 1)" "5xx: every attempt sends the same body"

scenario 500.json <<'EOF'
{"replies": [{"status": 500, "body": {"type": "error", "error": {
  "type": "api_error", "message": "always broken"}}}],
 "repeat_last": true}
EOF
run 500.json retry.lua
is "$rc" 3 "persistent 500s: exit 3"
is "$(standin_count)" 5 "persistent 500s: five attempts (the default)"
like "$err" "agent: failed: model endpoint: HTTP 500: error from endpoint: api_error: always broken (gave up after 5 attempts)" \
    "persistent 500s: the message names the status and the attempts"

# ---- 401: no retry ----
scenario 401.json <<'EOF'
{"replies": [{"status": 401, "body": {"type": "error", "error": {
  "type": "authentication_error", "message": "invalid x-api-key"}}}],
 "repeat_last": true}
EOF
run 401.json main.lua
is "$rc" 3 "401: exit 3"
is "$(standin_count)" 1 "401: exactly one request (not retried)"
like "$err" "HTTP 401: error from endpoint: authentication_error: invalid x-api-key" \
    "401: the endpoint's message is shown"

# ---- nothing listening ----
standin_start || bail_out "the stand-in did not start"
dead=$STANDIN_URL
standin_stop
cat >"$T/refused.lua" <<'LUA'
return { goal = "x", tools = { "calc" },
         model = { provider = "anthropic", name = "claude-e2e",
                   retries = { attempts = 2, backoff = 0.05 } } }
LUA
err=$("$AGENT" run "$T/refused.lua" --base-url "$dead" 2>&1 >/dev/null)
rc=$?
printf '%s\n' "$err" >>"$T/seen"
is "$rc" 3 "connection refused: exit 3"
like "$err" "agent: failed: model endpoint: cannot reach endpoint: " \
    "connection refused: the message says the endpoint cannot be reached"
like "$err" "(gave up after 2 attempts)" "connection refused: retried first"

# ---- dropped, truncated and unfinished streams ----
scenario truncated.json <<'EOF'
{"replies": [
  {"tool_calls": [{"id": "toolu_T1", "name": "calc",
                   "arguments": {"expr": "1234 * 5678"}}],
   "args_pieces": 6, "truncate_after": 900},
  {"close": true},
  {"tool_calls": [{"id": "toolu_T2", "name": "calc",
                   "arguments": {"expr": "1234 * 5678"}}]},
  {"text": "done after retries"}
]}
EOF
run truncated.json retry.lua --json
is "$rc" 0 "truncated stream, dropped connection, then an answer: exit 0"
is "$(standin_count)" 4 "truncated: four requests"
like "$(event llm.retry | sed -n 1p)" '"error":"reply truncated: ' \
    "truncated: the first attempt is a truncated reply"
is "$(event tool.call | wc -l | tr -d ' ')" 1 "truncated: the cut tool call never ran"
like "$(event tool.call)" '"call_id":"toolu_T2"' "truncated: the whole call ran"
like "$(event run.end)" '"answer":"done after retries"' "truncated: the answer"

scenario nostop.json <<'EOF'
{"replies": [{"text": "no message_stop", "omit_done": true},
             {"text": "with message_stop"}]}
EOF
run nostop.json retry.lua --json
is "$rc" 0 "a stream without message_stop: exit 0 after a retry"
like "$(event llm.retry)" 'reply truncated: the stream ended before its final event' \
    "a stream without message_stop is treated as truncated"
like "$(event run.end)" '"answer":"with message_stop"' "... and the retry's answer is used"

# ---- replies that cannot be understood: no retry ----
scenario badjson.json <<'EOF'
{"replies": [{"status": 200, "headers": {"Content-Type": "application/json"},
              "body": "{\"id\":\"msg_1\",\"type\":\"message\",\"content\":[{\"type\":\"text\",\"text\":\"hi\"}"}],
 "repeat_last": true}
EOF
run badjson.json main.lua --no-stream
is "$rc" 3 "invalid JSON in a whole reply: exit 3 (no crash)"
like "$err" "agent: failed: model endpoint: malformed reply: invalid JSON in reply at byte" \
    "invalid JSON: the message names the malformed reply"
is "$(standin_count)" 1 "invalid JSON: not retried"

scenario badevent.json <<'EOF'
{"replies": [{"status": 200, "headers": {"Content-Type": "text/event-stream"},
  "chunks": ["event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"m\"\n\n",
             "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n"]}],
 "repeat_last": true}
EOF
run badevent.json main.lua
is "$rc" 3 "invalid JSON in a stream event: exit 3"
like "$err" "invalid JSON in reply at byte" "invalid JSON in an event is named"
is "$(standin_count)" 1 "invalid JSON in an event: not retried"

# ---- stalls and hangs (model.timeouts) ----
cat >"$T/stall.lua" <<'LUA'
return { goal = "x", tools = { "calc" },
         model = { provider = "anthropic", name = "claude-e2e",
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
         model = { provider = "anthropic", name = "claude-e2e",
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

# ---- invalid tool calls are answered to the model ----
scenario invalid.json <<'EOF'
{"replies": [
  {"tool_calls": [{"id": "t1", "name": "frobnicate", "arguments": {"x": 1}}]},
  {"tool_calls": [{"id": "t2", "name": "calc", "arguments": "{\"expr\": \"1+"}]},
  {"tool_calls": [{"id": "t3", "name": "calc", "arguments": {"expr": 7}}]},
  {"tool_calls": [{"id": "t4", "name": "calc", "arguments": {"expr": "1+1"}}]},
  {"text": "two"}
]}
EOF
run invalid.json main.lua --json
is "$rc" 0 "invalid tool calls: the run goes on to the answer"
is "$(standin_count)" 5 "invalid tool calls: five requests"
like "$(standin_request 2)" '{"type":"tool_result","tool_use_id":"t1","content":"error: unknown tool \"frobnicate\"; the tools are: calc, clock","is_error":true}' \
    "unknown tool: the model is told, as an error result"
like "$(standin_request 3)" '{"type":"tool_use","id":"t2","name":"calc","input":{}}' \
    "arguments that are not JSON: sent back as an empty input object"
like "$(standin_request 3)" '{"type":"tool_result","tool_use_id":"t2","content":"error: the arguments are not valid JSON. Call calc again with arguments that match this JSON schema: {\"additionalProperties\":false,' \
    "arguments that are not JSON: the model is told, with the schema"
like "$(standin_request 4)" '{"type":"tool_result","tool_use_id":"t3","content":"error: invalid arguments: $.expr: expected string, got integer. Call calc again with arguments that match this JSON schema: {\"additionalProperties\":false,' \
    "arguments that break the schema: the model is told why, with the schema"
like "$(standin_request 4)" '\"required\":[\"expr\"],\"type\":\"object\"}","is_error":true}' \
    "... the whole schema, as an error result"
like "$(standin_request 5)" '{"type":"tool_result","tool_use_id":"t4","content":"{\"expr\":\"1+1\",\"value\":2}"}' \
    "the corrected call runs (no is_error)"
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

cat >"$T/tokens.lua" <<'LUA'
return { goal = "x", model = "anthropic:claude-e2e", tools = { "calc" },
         limits = { tokens = 100 } }
LUA
run busy.json tokens.lua
is "$rc" 1 "limits.tokens: exit 1"
like "$err" "agent: failed: token limit reached (160 of 100)" "limits.tokens: the reason"
is "$(standin_count)" 2 "limits.tokens: stopped after the second reply"

cat >"$T/cost.lua" <<'LUA'
return { goal = "x", tools = { "calc" }, limits = { cost = 0.15 },
         model = { provider = "anthropic", name = "claude-e2e",
                   price = { input = 1000, output = 2000 } } }
LUA
run busy.json cost.lua --json
is "$rc" 1 "limits.cost with the task's price: exit 1"
like "$(event run.end)" '"outcome":"failed","reason":"cost limit reached ($0.2000 of $0.1500)"' \
    "limits.cost: the reason, priced per million tokens"

# ---- over all runs ----
unlike "$(cat "$T/seen")" "$KEY" "the key never appeared on stdout or stderr"
unlike "$(cat "$T/seen")" "AddressSanitizer" "no AddressSanitizer report"
unlike "$(cat "$T/seen")" "runtime error:" "no UndefinedBehaviorSanitizer report"
done_testing
