#!/bin/sh
# via-agent.sh: feeds one rendered prompt of each simulation kind to the real
# script provider of `agent` (agent/llm-script.c, with agent's own json
# module), as the goal of a one-step task, and checks that every answer is
# a JSON object. Not wired into make check.
#
#   tests/data/sim/via-agent.sh [AGENT] [SRCDIR]
set -eu
AGENT=${1:-agent}
SRC=$(cd "${2:-.}" && pwd)
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
lua5.4 "$SRC/tests/data/sim/check.lua" "$SRC" --quiet --no-run --dump "$TMP"
cat > "$TMP/is-object.lua" <<'LUA'
package.path = arg[1] .. "/tests/data/sim/?.lua;" .. package.path
local json = require("json")
local v = json.decode(io.read("a"))
os.exit(type(v) == "table" and next(v) ~= nil and 0 or 1)
LUA
fail=0
for p in "$TMP"/*.prompt; do
  kind=$(basename "$p" .prompt)
  {
    printf 'return {\n  name = "sim-%s",\n' "$kind"
    printf '  model = { provider = "script", file = "%s" },\n' \
      "$SRC/examples/sim/town-model.lua"
    printf '  goal = [==========[\n'
    cat "$p"
    printf ']==========],\n  limits = { steps = 1 },\n}\n'
  } > "$TMP/$kind.lua"
  if ! out=$("$AGENT" run -q "$TMP/$kind.lua" 2>"$TMP/$kind.err"); then
    echo "FAIL $kind: agent run failed:"; cat "$TMP/$kind.err"; fail=1; continue
  fi
  if printf '%s' "$out" | lua5.4 "$TMP/is-object.lua" "$SRC"; then
    echo "ok $kind: $out" | cut -c1-160
  else
    echo "FAIL $kind: not a JSON object: $out"; fail=1
  fi
done
exit $fail
