#!/bin/sh
# e2e-standin-lua.sh: the stand-in's Lua mode (tests/standin --lua FILE),
# which plays a scripted stand-in model over HTTP, as the simulation's tests
# use it with examples/sim/town-model.lua. Real requests are sent with curl:
# simulation prompts (an importance prompt written here, and one prompt of
# every kind when lua5.4 can render them with tests/data/sim/check.lua),
# OpenAI and Anthropic, streamed and whole; the answers must be JSON of the
# kind's shape and the very text that `agent run` gets from the same model
# in process (the script provider), and `agent run` through the stand-in
# must get it too. Then a model's ctx and tool calls, a Lua error (500
# naming the file and line, and the server carries on), the faults of
# --faults in order (429 with Retry-After, a dropped connection, a cut and a
# stalled stream) and with "every", /v1/embeddings (the same vectors as in
# script mode), and start-up errors.
. "$SRCDIR/tests/lib.sh"

command -v curl >/dev/null 2>&1 || skip_all "curl is not installed"
command -v python3 >/dev/null 2>&1 || skip_all "python3 is not installed"
PY=$(python3 -c 'import sys; print(sys.executable)') # not a slow shim

MODEL=$SRCDIR/examples/sim/town-model.lua
JSONLUA=$SRCDIR/tests/data/sim/json.lua
unset OPENAI_BASE_URL ANTHROPIC_BASE_URL AGENT_MODEL
OPENAI_API_KEY=sk-e2e-standin-lua
export OPENAI_API_KEY

# wire.py: builds request bodies and reads responses, so that the shell
# does not have to parse JSON.
cat >"$T/wire.py" <<'PY'
import json, sys

def sse(raw):
    for event in raw.replace("\r\n", "\n").split("\n\n"):
        for line in event.split("\n"):
            if line.startswith("data: "):
                yield line[6:]

def answer(api, raw):
    """(text, input tokens, output tokens, complete) of a response."""
    try:
        return read_answer(api, raw)
    except (ValueError, KeyError, IndexError, TypeError):
        return "", None, None, False

def read_answer(api, raw):
    if raw.lstrip().startswith("{"):
        v = json.loads(raw)
        if api == "openai":
            u = v["usage"]
            return (v["choices"][0]["message"]["content"],
                    u["prompt_tokens"], u["completion_tokens"], True)
        text = "".join(b["text"] for b in v["content"] if b["type"] == "text")
        u = v["usage"]
        return text, u["input_tokens"], u["output_tokens"], True
    text, tin, tout, done = "", None, None, False
    for data in sse(raw):
        if data == "[DONE]":
            done = True
            continue
        v = json.loads(data)
        if api == "openai":
            for c in v.get("choices") or []:
                text += c["delta"].get("content") or ""
            if v.get("usage"):
                tin = v["usage"]["prompt_tokens"]
                tout = v["usage"]["completion_tokens"]
        elif v["type"] == "message_start":
            tin = v["message"]["usage"]["input_tokens"]
        elif v["type"] == "content_block_delta":
            text += v["delta"].get("text", "")
        elif v["type"] == "message_delta":
            tout = v["usage"]["output_tokens"]
        elif v["type"] == "message_stop":
            done = True
    return text, tin, tout, done

SHAPES = {"importance": ["importance"], "chat": ["say", "end"],
          "chat_summary": ["summary", "facts"], "day_plan": ["plan"],
          "decompose": ["actions"], "hourly": ["blocks"],
          "insights": ["insights"], "interview": ["answer", "facts"],
          "questions": ["questions"], "react": ["react"]}

cmd, args = sys.argv[1], sys.argv[2:]
if cmd == "req":  # req API whole|stream PROMPT_FILE
    api, stream, prompt = args[0], args[1] == "stream", open(args[2]).read()
    body = {"model": "town", "messages": [{"role": "user", "content": prompt}]}
    if api == "anthropic":
        body["max_tokens"] = 1024
    if stream:
        body["stream"] = True
        if api == "openai":
            body["stream_options"] = {"include_usage": True}
    print(json.dumps(body))
elif cmd == "text":  # text API RESPONSE: the answer; fails if incomplete
    text, tin, tout, done = answer(args[0], open(args[1]).read())
    sys.stdout.write(text)
    sys.exit(0 if done and tin and tout else 1)
elif cmd == "usage":  # usage API RESPONSE: "IN OUT"
    text, tin, tout, done = answer(args[0], open(args[1]).read())
    print(tin, tout)
elif cmd == "estimate":  # estimate PROMPT_FILE: bytes / 4 + 1
    print(len(open(args[0], "rb").read()) // 4 + 1)
elif cmd == "shape":  # shape KIND TEXT: "ok" or what is wrong
    v = json.loads(sys.stdin.read() if args[1] == "-" else args[1])
    if not isinstance(v, dict):
        print("not an object")
    elif any(k not in v for k in SHAPES[args[0]]):
        print("keys %s, want %s" % (sorted(v), SHAPES[args[0]]))
    elif args[0] == "importance" and not (
            isinstance(v["importance"], int) and 1 <= v["importance"] <= 10):
        print("importance %r is not an integer from 1 to 10" % v["importance"])
    else:
        print("ok")
elif cmd == "get":  # get FILE KEY...: a value (strings raw, others as JSON)
    v = json.load(open(args[0]))
    for k in args[1:]:
        v = v[int(k)] if isinstance(v, list) else v[k]
    print(v if isinstance(v, str) else json.dumps(v, sort_keys=True))
PY
wire() {
    "$PY" "$T/wire.py" "$@"
}

# post PATH BODY_FILE: POSTs to the stand-in; sets code (the HTTP status,
# 000 for none) and curl_rc, and leaves the body in $T/resp and the head in
# $T/head.
post() {
    code=$(curl -s -o "$T/resp" -D "$T/head" -w '%{http_code}' \
        -H 'Content-Type: application/json' --data-binary @"$2" \
        "http://127.0.0.1:$STANDIN_PORT$1")
    curl_rc=$?
}

# ask API whole|stream PROMPT_FILE: sends the prompt; sets code and text.
ask() {
    wire req "$1" "$2" "$3" >"$T/body"
    if [ "$1" = openai ]; then post /v1/chat/completions "$T/body"; else
        post /v1/messages "$T/body"
    fi
    text=$(wire text "$1" "$T/resp") || text="(incomplete: $(head -c 300 "$T/resp"))"
}

# in_process PROMPT_FILE: what `agent run` answers with the script provider
# playing the model in process.
in_process() {
    {
        printf 'return {\n  name = "sim-prompt",\n'
        printf '  model = { provider = "script", file = "%s" },\n' "$MODEL"
        printf '  goal = [==========[\n'
        cat "$1"
        printf ']==========],\n  limits = { steps = 1 },\n}\n'
    } >"$T/inproc.lua"
    "$AGENT" run -q "$T/inproc.lua" 2>"$T/inproc.err"
}

# over_http PROMPT_FILE [ARGS...]: what `agent run` answers through the
# stand-in (openai provider).
over_http() {
    _p=$1
    shift
    {
        printf 'return {\n  name = "sim-prompt",\n'
        printf '  model = { provider = "openai", name = "town" },\n'
        printf '  goal = [==========[\n'
        cat "$_p"
        printf ']==========],\n  limits = { steps = 1 },\n}\n'
    } >"$T/http.lua"
    "$AGENT" run -q "$T/http.lua" --base-url "$STANDIN_URL" "$@" \
        2>"$T/http.err"
}

cat >"$T/importance.prompt" <<'EOF'
### kind: importance
### agent: Rosa Delgado
### facts: {"agent":"Rosa Delgado","memory":"Marta Kowalski invited Rosa Delgado to the Valentine's Day party at Juniper Cafe on 2023-02-14 from 17:00 to 19:00","memory_kind":"chat","now":"2023-02-13 10:05","persona":"Rosa Delgado (34): warm, curious. Rosa Delgado runs Juniper Cafe."}
### answer: {"importance": <integer 1-10>}

Rate how much a memory matters to the person who holds it, on a scale from 1 to 10.
Answer with the JSON object shown on the answer line and nothing else.

Person: Rosa Delgado
Memory (chat): Marta Kowalski invited Rosa Delgado to the Valentine's Day party at Juniper Cafe on 2023-02-14 from 17:00 to 19:00
EOF

# ---- the town model: an importance prompt, both APIs, streamed or not ----
standin_start --lua "$MODEL" --lua-json "$JSONLUA" ||
    bail_out "the stand-in did not start in Lua mode"
is "$(cat "$T/standin.out")" "port $STANDIN_PORT" \
    "Lua mode prints the port line as the other modes do"
want=$(in_process "$T/importance.prompt")
ok $? "agent run answers the importance prompt in process"
is "$(printf '%s' "$want" | wire shape importance -)" ok \
    "in process: the answer is {\"importance\": 1-10}: $want"
ask openai whole "$T/importance.prompt"
is "$code" 200 "OpenAI, whole: 200"
is "$(wire shape importance "$text")" ok "OpenAI, whole: the answer's shape"
is "$text" "$want" "OpenAI, whole: the same answer as in process"
is "$(wire usage openai "$T/resp")" \
    "$(wire estimate "$T/importance.prompt") $((${#want} / 4 + 1))" \
    "OpenAI, whole: usage estimated as bytes / 4 + 1, as agent does"
ask openai stream "$T/importance.prompt"
is "$code" 200 "OpenAI, streamed: 200"
like "$(cat "$T/head")" "text/event-stream" "OpenAI, streamed: an SSE stream"
is "$text" "$want" "OpenAI, streamed: the same answer, and [DONE] and usage"
ask anthropic whole "$T/importance.prompt"
is "$code" 200 "Anthropic, whole: 200"
is "$text" "$want" "Anthropic, whole: the same answer"
ask anthropic stream "$T/importance.prompt"
is "$code" 200 "Anthropic, streamed: 200"
is "$text" "$want" "Anthropic, streamed: the same answer, and message_stop"
got=$(over_http "$T/importance.prompt")
is "$got" "$want" "agent run through the stand-in (streamed) gets it too"
got=$(over_http "$T/importance.prompt" --no-stream)
is "$got" "$want" "agent run through the stand-in (whole) gets it too"

# ---- one prompt of every kind, rendered by check.lua ----
if command -v lua5.4 >/dev/null 2>&1; then
    mkdir "$T/prompts"
    lua5.4 "$SRCDIR/tests/data/sim/check.lua" "$SRCDIR" --quiet --no-run \
        --dump "$T/prompts" >"$T/check.out" 2>&1
    ok $? "check.lua: the worlds, the templates and every kind's answer shape" ||
        diag "$(tail -20 "$T/check.out")"
    for p in "$T"/prompts/*.prompt; do
        kind=$(basename "$p" .prompt)
        want=$(in_process "$p")
        ask openai whole "$p"
        is "$code $(wire shape "$kind" "$text")" "200 ok" \
            "$kind: 200 and the kind's shape"
        is "$text" "$want" "$kind: the same answer as in process"
        ask openai stream "$p"
        is "$text" "$want" "$kind: streamed, the same answer"
    done
else
    ok 0 "every kind # SKIP lua5.4 cannot render the prompts"
fi
standin_stop
is "$STANDIN_STATUS" 0 "the stand-in stops cleanly on SIGTERM"

# ---- the json global from the default path ----
standin_start --lua "$MODEL" || bail_out "the stand-in did not start"
ask openai whole "$T/importance.prompt"
is "$code $(wire shape importance "$text")" "200 ok" \
    "without --lua-json, the source tree's json.lua is the json global"
standin_stop

# ---- ctx, tool calls, usage, and errors, with a model written here ----
cat >"$T/echo.lua" <<'LUA'
-- Answers with what it was given; "boom" raises, "number" returns 42,
-- "tools" calls tools.
return { reply = function(ctx)
  local last = ctx.messages[#ctx.messages]
  if last.content == "boom" then
    error("kaboom")
  elseif last.content == "number" then
    return 42
  elseif last.content == "tools" then
    return { text = "calling", usage = { input = 7, output = 3 },
             tool_calls = { { name = "calc", arguments = { expr = "6*7" } },
                            { id = "c2", name = "clock", arguments = '{"tz":' } } }
  end
  local msgs = {}
  for i, m in ipairs(ctx.messages) do
    msgs[i] = { role = m.role, content = m.content, name = m.name,
                tool_call_id = m.tool_call_id, is_error = m.is_error,
                calls = m.tool_calls and #m.tool_calls or nil,
                args = m.tool_calls and m.tool_calls[1].arguments or nil }
  end
  return json.encode({ messages = msgs, tools = ctx.tools, step = ctx.step,
                       model = ctx.model, api = ctx.api, stream = ctx.stream,
                       request = ctx.request })
end }
LUA
standin_start --lua "$T/echo.lua" --lua-json "$JSONLUA" ||
    bail_out "the stand-in did not start with echo.lua"
cat >"$T/conv.json" <<'EOF'
{"model": "m1", "messages": [
  {"role": "system", "content": "Be brief."},
  {"role": "user", "content": "What is 6*7?"},
  {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1",
   "type": "function", "function": {"name": "calc",
   "arguments": "{\"expr\":\"6*7\"}"}}]},
  {"role": "tool", "tool_call_id": "call_1", "content": "42"}],
 "tools": [{"type": "function", "function": {"name": "calc",
   "description": "Evaluate.", "parameters": {"type": "object"}}}]}
EOF
post /v1/chat/completions "$T/conv.json"
wire get "$T/resp" choices 0 message content >"$T/ctx.json"
is "$(wire get "$T/ctx.json" messages)" \
    '[{"content": "Be brief.", "role": "system"}, {"content": "What is 6*7?", "role": "user"}, {"args": {"expr": "6*7"}, "calls": 1, "role": "assistant"}, {"content": "42", "is_error": false, "name": "calc", "role": "tool", "tool_call_id": "call_1"}]' \
    "OpenAI: ctx.messages as agent's script provider gives them"
is "$(wire get "$T/ctx.json" tools) $(wire get "$T/ctx.json" step) $(wire get "$T/ctx.json" model) $(wire get "$T/ctx.json" api) $(wire get "$T/ctx.json" request)" \
    '["calc"] 2 m1 openai 1' "OpenAI: ctx.tools, step, model, api, request"
cat >"$T/conv-an.json" <<'EOF'
{"model": "m2", "max_tokens": 100, "stream": true, "system": "Be brief.",
 "messages": [
  {"role": "user", "content": "What is 6*7?"},
  {"role": "assistant", "content": [{"type": "text", "text": "Let me see."},
   {"type": "tool_use", "id": "toolu_1", "name": "calc",
    "input": {"expr": "6*7"}}]},
  {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
   "content": "42", "is_error": true}, {"type": "text", "text": "Go on."}]}],
 "tools": [{"name": "calc", "description": "Evaluate.",
   "input_schema": {"type": "object"}}]}
EOF
post /v1/messages "$T/conv-an.json"
wire text anthropic "$T/resp" >"$T/ctx.json"
is "$(wire get "$T/ctx.json" messages)" \
    '[{"content": "Be brief.", "role": "system"}, {"content": "What is 6*7?", "role": "user"}, {"args": {"expr": "6*7"}, "calls": 1, "content": "Let me see.", "role": "assistant"}, {"content": "42", "is_error": true, "name": "calc", "role": "tool", "tool_call_id": "toolu_1"}, {"content": "Go on.", "role": "user"}]' \
    "Anthropic: system first, tool_result blocks as tool messages"
is "$(wire get "$T/ctx.json" stream) $(wire get "$T/ctx.json" api) $(wire get "$T/ctx.json" step)" \
    'true anthropic 2' "Anthropic: ctx.stream, api, step"
printf '%s' '{"messages": [{"role": "user", "content": "tools"}]}' >"$T/tools.json"
post /v1/chat/completions "$T/tools.json"
is "$(wire get "$T/resp" choices 0 message tool_calls)" \
    '[{"function": {"arguments": "{\"expr\":\"6*7\"}", "name": "calc"}, "id": "call_standin_3_1", "type": "function"}, {"function": {"arguments": "{\"tz\":", "name": "clock"}, "id": "c2", "type": "function"}]' \
    "tool calls: arguments encoded with json.encode or sent as written"
is "$(wire get "$T/resp" choices 0 finish_reason) $(wire usage openai "$T/resp")" \
    "tool_calls 7 3" "tool calls: finish_reason, and the model's own usage"
printf '%s' '{"messages": [{"role": "user", "content": "boom"}]}' >"$T/boom.json"
post /v1/chat/completions "$T/boom.json"
is "$code" 500 "a Lua error answers 500"
like "$(wire get "$T/resp" error message)" "echo.lua:6: kaboom" \
    "the error names the file and line"
like "$(cat "$T/standin.err")" "stack traceback:" \
    "the traceback goes to standard error"
post /v1/messages "$T/boom.json"
is "$code $(wire get "$T/resp" error type)" "500 api_error" \
    "Anthropic: a Lua error is a 500 api_error"
printf '%s' '{"messages": [{"role": "user", "content": "number"}]}' >"$T/num.json"
post /v1/chat/completions "$T/num.json"
like "$code $(wire get "$T/resp" error message)" \
    "500 stand-in Lua model: $T/echo.lua: the model returned number" \
    "a reply of the wrong type answers 500 and says why"
post /v1/chat/completions "$T/conv.json"
is "$code" 200 "the server still answers after the errors"
is "$(standin_count)" 7 "every request was logged"
standin_stop
is "$STANDIN_STATUS" 0 "the stand-in stops cleanly"

# ---- faults, in order, then the model ----
cat >"$T/faults.json" <<'EOF'
[{"status": 429, "headers": {"Retry-After": "1"},
  "body": {"error": {"message": "slow down", "type": "rate_limit"}}},
 {"close": true},
 {"truncate_after": 200},
 {"stall_ms": 400, "text_pieces": 4},
 {}]
EOF
standin_start --lua "$MODEL" --lua-json "$JSONLUA" --faults "$T/faults.json" ||
    bail_out "the stand-in did not start with faults"
want=$(in_process "$T/importance.prompt")
ask openai whole "$T/importance.prompt"
is "$code $(wire get "$T/resp" error message)" "429 slow down" \
    "fault 1: 429 with its body"
like "$(cat "$T/head")" "Retry-After: 1" "fault 1: with Retry-After"
printf '%s' '{"input": "the party at Juniper Cafe"}' >"$T/embed.json"
post /v1/embeddings "$T/embed.json"
is "$code" 200 "embeddings between faults answer and take no fault"
wire get "$T/resp" data 0 embedding >"$T/vec.lua-mode"
ask openai whole "$T/importance.prompt"
is "$code $curl_rc" "000 52" "fault 2: the connection is dropped"
wire req openai stream "$T/importance.prompt" >"$T/body"
post /v1/chat/completions "$T/body"
ok "$(test "$curl_rc" != 0 && test -s "$T/resp"; echo $?)" \
    "fault 3: the stream is cut (curl exit $curl_rc)"
unlike "$(cat "$T/resp")" "[DONE]" "fault 3: before its end"
_t0=$(date +%s%N)
ask openai stream "$T/importance.prompt"
ms=$((($(date +%s%N) - _t0) / 1000000))
is "$code $text" "200 $want" "fault 4: the model's answer, stalled"
ok "$(test "$ms" -ge 400; echo $?)" "fault 4: after a stall of 400 ms ($ms ms)"
ask openai stream "$T/importance.prompt"
is "$code $text" "200 $want" "fault 5 ({}): the model answers as usual"
ask openai whole "$T/importance.prompt"
is "$code $text" "200 $want" "after the faults, the model answers"
standin_stop
is "$STANDIN_STATUS" 0 "the stand-in stops cleanly after the faults"

# ---- faults every k-th chat request ----
cat >"$T/every.json" <<'EOF'
{"faults": [{"status": 503, "body": "busy"}, {"status": 529, "body": "over"}],
 "every": 3}
EOF
standin_start --lua "$MODEL" --faults "$T/every.json" ||
    bail_out "the stand-in did not start with every"
codes=
for i in 1 2 3 4 5 6 7 8 9; do
    ask openai whole "$T/importance.prompt"
    codes="$codes $code"
done
is "$codes" " 200 200 503 200 200 529 200 200 503" \
    "\"every\": 3 plays the faults on every third chat request, cycling"
standin_stop

# ---- embeddings: the same vectors as in script mode ----
echo '{"replies": []}' >"$T/empty.json"
standin_start --script "$T/empty.json" || bail_out "the stand-in did not start"
post /v1/embeddings "$T/embed.json"
wire get "$T/resp" data 0 embedding >"$T/vec.script-mode"
standin_stop
is "$(cat "$T/vec.lua-mode")" "$(cat "$T/vec.script-mode")" \
    "embeddings in Lua mode are the vectors of script mode"
is "$(wire get "$T/resp" data 0 embedding | tr ',' '\n' | wc -l | tr -d ' ')" \
    64 "64 dimensions"

# ---- start-up errors ----
# start ARGS...: runs the stand-in, which must fail at once; sets rc, err.
start() {
    "$STANDIN" --port 0 "$@" >"$T/start.out" 2>"$T/start.err"
    rc=$?
    err=$(cat "$T/start.err")
}
start --lua "$T/missing.lua"
is "$rc" 2 "a missing model: exit 2"
like "$err" "cannot open $T/missing.lua" "a missing model: says so"
echo 'return function(ctx) return "x" end end' >"$T/syntax.lua"
start --lua "$T/syntax.lua"
like "$rc $err" "2 standin: $T/syntax.lua:1:" "a syntax error: file and line"
echo 'return 42' >"$T/notfn.lua"
start --lua "$T/notfn.lua"
like "$rc $err" "2 standin: $T/notfn.lua: a script model must return a function" \
    "a model that returns no function"
start --lua "$MODEL" --lua-json "$T/missing.lua"
like "$rc $err" "2 standin: json for the Lua model: cannot open" \
    "a missing json.lua"
echo '[{"text": "canned"}]' >"$T/bad-faults.json"
start --lua "$MODEL" --faults "$T/bad-faults.json"
like "$rc $err" "2 standin: $T/bad-faults.json: fault 1: a fault takes no text" \
    "a fault with an answer is refused: the model answers"
echo '{"faults": [], "every": 0}' >"$T/bad-every.json"
start --lua "$MODEL" --faults "$T/bad-every.json"
like "$rc $err" "\"every\" must be a whole number from 1" "every must be >= 1"
start --lua "$MODEL" --script "$T/empty.json"
like "$rc $err" "2 standin: --lua does not go with --script" \
    "--lua and --script do not mix"
start --faults "$T/faults.json"
like "$rc $err" "2 standin: --lua-json and --faults go with --lua" \
    "--faults needs --lua"

done_testing
