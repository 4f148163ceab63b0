#!/bin/sh
# bench/run.sh: runs the benchmarks and prints their figures (`make bench`).
#
# Needs AGENT, STANDIN, SRCDIR and BUILDDIR in the environment (the Makefile
# sets them). Starts each stand-in endpoint itself, as a sibling of the bench
# programs, never as their child: bench-task counts the CPU of its children.
# Knobs: RUNS (5), TASKS (2000), AGENTS (10000), DELAY_MS (50), and
# STARTUP_RUNS (21: one start-up is short and noisy, so it gets more runs),
# SIM_RUNS (3: the town's two game days).
# Figures are printed, never checked: the exit status is non-zero only when
# a bench could not run or an agent did not end with the expected answer.

: "${AGENT:?}" "${STANDIN:?}" "${SRCDIR:?}" "${BUILDDIR:?}"
RUNS=${RUNS:-5}
TASKS=${TASKS:-2000}
AGENTS=${AGENTS:-10000}
DELAY_MS=${DELAY_MS:-50}
STARTUP_RUNS=${STARTUP_RUNS:-21}
SIM_RUNS=${SIM_RUNS:-3}
BENCH_TASK="$BUILDDIR/bench/bench-task"
BENCH_STARTUP="$BUILDDIR/bench/bench-startup"
# bench/bench-audit is run from $BUILDDIR too (figure d)
export SRCDIR

tmp=$(mktemp -d "${TMPDIR:-/tmp}/agent-bench.XXXXXX") || exit 1
standin_pid=
status=0

stop_standin() {
    if [ -n "$standin_pid" ]; then
        kill "$standin_pid" 2>/dev/null
        wait "$standin_pid" 2>/dev/null
        standin_pid=
    fi
}
trap 'stop_standin; rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

# start_standin DELAY_MS: sets standin_pid and url.
start_standin() {
    rm -f "$tmp/port"
    "$STANDIN" --mode bench --port 0 --port-file "$tmp/port" \
        --delay-ms "$1" >/dev/null 2>"$tmp/standin.err" &
    standin_pid=$!
    i=0
    while [ ! -s "$tmp/port" ]; do
        i=$((i + 1))
        if [ $i -gt 500 ] || ! kill -0 "$standin_pid" 2>/dev/null; then
            echo "bench: the stand-in did not start:" >&2
            cat "$tmp/standin.err" >&2
            exit 1
        fi
        sleep 0.01
    done
    url="http://127.0.0.1:$(cat "$tmp/port")/v1"
}

# CPU seconds (user + system) used so far by process $1.
cpu_of() {
    awk -v hz="$(getconf CLK_TCK)" '{ print ($14 + $15) / hz }' \
        "/proc/$1/stat" 2>/dev/null || echo 0
}

echo "agent benchmarks · $(date -u '+%Y-%m-%d %H:%M UTC') · $(nproc) CPUs" \
    "($(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1))" \
    "· Linux $(uname -r)"
echo "stand-in endpoint: tests/standin --mode bench (a full task: two model" \
    "calls, one calc tool call)"
echo

# ---- (a) CPU and wall time per task, sequential, zero endpoint latency ----
start_standin 0
timeout 600 "$BENCH_TASK" --url "$url" --tasks "$TASKS" --runs "$RUNS" ||
    status=1
stop_standin

# ---- (b) many agents at once, one process per run ----
start_standin "$DELAY_MS"
: >"$tmp/many"
: >"$tmp/cpu-standin"
: >"$tmp/fail"
i=0
while [ $i -lt "$RUNS" ]; do
    i=$((i + 1))
    before=$(cpu_of "$standin_pid")
    timeout 600 "$BENCH_TASK" --url "$url" --agents "$AGENTS" >"$tmp/out" ||
        status=1
    after=$(cpu_of "$standin_pid")
    echo "$before $after" | awk '{ print $2 - $1 }' >>"$tmp/cpu-standin"
    grep '^many ' "$tmp/out" >>"$tmp/many"
    grep -v '^many ' "$tmp/out" >>"$tmp/fail"
    grep -q '^many ' "$tmp/out" || echo "run $i: no record" >>"$tmp/fail"
done
stop_standin

# one record per run: "many agents=N done=N failed=N wall_s=S ..."
if [ -s "$tmp/many" ]; then
    awk -v agents="$AGENTS" -v delay="$DELAY_MS" -v cpus="$(nproc)" \
        -v standin_file="$tmp/cpu-standin" '
    function median(a, n,    i, j, t) {
        for (i = 2; i <= n; i++)   # insertion sort: n is small
            for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
                t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
            }
        lo = a[1]; hi = a[n]
        return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    {
        n++
        for (i = 2; i <= NF; i++) {
            split($i, kv, "=")
            v[kv[1], n] = kv[2]
        }
        done += v["done", n]; failed += v["failed", n]
    }
    function col(key,    i, a) {
        for (i = 1; i <= n; i++) a[i] = v[key, i]
        return median(a, n)
    }
    END {
        m = col("wall_s")
        printf "all done, %d agents at once, endpoint answering after %d ms: ", agents, delay
        printf "median %.3f s (min %.3f, max %.3f) over %d runs\n", m, lo, hi, n
        printf "  half of them done: median %.3f s\n", col("half_s")
        m = col("peak_kb")
        printf "peak rss: median %.1f MiB (min %.1f, max %.1f)", m / 1024, lo / 1024, hi / 1024
        printf "; before the agents: median %.1f MiB\n", col("base_kb") / 1024
        m = col("per_agent_b")
        printf "bytes per waiting agent: median %.0f (%.1f KiB; min %.0f, max %.0f)", m, m / 1024, lo, hi
        printf " = (peak - before) / %d\n", agents
        if (failed == 0)
            printf "  every agent ended DONE with the expected answer (%d of %d)\n", done, n * agents
        else
            printf "  FAILED: %d of %d agents did not end DONE with the expected answer\n", failed, n * agents
        k = 0
        while ((getline line < standin_file) > 0) s[++k] = line
        printf "  cpu per run: agent process %.2f s, zygote and workers %.2f s, ", col("cpu_self_s"), col("cpu_children_s")
        printf "stand-in %.2f s (medians, %d CPUs)\n", k ? median(s, k) : 0, cpus
        exit (failed > 0)
    }' "$tmp/many" || status=1
fi
if [ -s "$tmp/fail" ]; then
    sed 's/^/  /' "$tmp/fail" | sort -u | head -n 5
    status=1
fi

# ---- (c) start-up: `agent run` to the first model request ----
timeout 600 "$BENCH_STARTUP" --agent "$AGENT" --standin "$STANDIN" \
    --runs "$STARTUP_RUNS" || status=1

# ---- (e) the sandbox: a trivial tool call's round trip ----
timeout 600 "$BUILDDIR/bench/bench-tool" || status=1

# ---- (d) the audit log: records appended per second, chain included ----
timeout 600 "$BUILDDIR/bench/bench-audit" --runs "$RUNS" --dir "$tmp" ||
    status=1

# ---- (f) the simulation: the 25-person town for two game days ----
timeout 900 "$BUILDDIR/bench/bench-sim" --days 2 --runs "$SIM_RUNS" \
    --out "$tmp/sim" || status=1

# ---- (g) one million light agents: bytes per agent, agent-events per second ----
timeout 600 "$BUILDDIR/bench/bench-sim-light" --agents 1000000 \
    --runs "$RUNS" || status=1

# ---- (h) the view: a page of 25 agents and thousands of events ----
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ] && command -v python3 >/dev/null 2>&1; then
    python3 "$SRCDIR/tests/data/sim-view/big-run.py" "$tmp/big" &&
        "$AGENT" sim view "$tmp/big" -o "$tmp/big.html" 2>/dev/null ||
        status=1
    : >"$tmp/view.txt"
    for i in $(seq "$RUNS"); do
        HOME=$tmp XDG_CONFIG_HOME=$tmp/xdg XDG_CACHE_HOME=$tmp/xdg \
            timeout 60 "$CHROMIUM" --headless --no-sandbox --disable-gpu \
            --no-first-run --disable-background-networking \
            --disable-component-update --disable-sync \
            --user-data-dir="$tmp/chrome" --virtual-time-budget=3000 \
            --dump-dom "file://$tmp/big.html#bench" 2>/dev/null |
            sed -n 's/.*<body[^>]* data-ms="\([0-9.]*\)".* data-frame-ms="\([0-9.]*\)".*/\1 \2/p;
                    s/.*<body[^>]* data-frame-ms="\([0-9.]*\)".* data-ms="\([0-9.]*\)".*/\2 \1/p' |
            head -1 >>"$tmp/view.txt"
    done
    python3 - "$tmp/view.txt" "$(wc -l <"$tmp/big/timeline.jsonl")" <<'PY' || status=1
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
if not rows:
    sys.exit("view: Chromium gave no figures")
ms = [float(r[0]) for r in rows]
fr = [float(r[1]) for r in rows]
print("view: 25 agents, %s events in headless Chromium: set-up median %.0f ms "
      "(min %.0f, max %.0f), a rendered game minute median %.2f ms (min %.2f, "
      "max %.2f) over %d runs" % (sys.argv[2].strip(), statistics.median(ms),
      min(ms), max(ms), statistics.median(fr), min(fr), max(fr), len(rows)))
PY
else
    echo "view: skipped (no Chromium at $CHROMIUM)"
fi

exit $status
