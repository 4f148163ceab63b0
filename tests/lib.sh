# tests/lib.sh: shell helpers for the end-to-end tests (tests/e2e-*.sh).
#
# Source it, POSIX sh:   . "$SRCDIR/tests/lib.sh"
# The harness exports AGENT (the agent binary), STANDIN (the stand-in LLM
# endpoint, tests/standin), SRCDIR and BUILDDIR; run by hand, they default to
# the current build directory.
#
# TAP:      ok STATUS NAME       passes when STATUS is 0
#           is GOT WANT NAME     passes when the strings are equal
#           like GOT SUB NAME    passes when GOT contains SUB
#           unlike GOT SUB NAME  passes when GOT does not contain SUB
#           diag TEXT...         prints "# " lines (also used on failures)
#           skip_all REASON, bail_out REASON, done_testing (prints 1..N)
# Files:    $T, a temporary directory removed at exit (kept when KEEP_T=1);
#           scenario NAME <<'EOF' ... EOF writes $T/NAME.
# Stand-in: standin_start [ARGS...] runs "$STANDIN" --port 0 --port-file
#           $T/port --log $T/requests.jsonl ARGS in the background, waits
#           for the port, and sets STANDIN_PID, STANDIN_PORT, STANDIN_URL
#           (http://127.0.0.1:PORT/v1) and STANDIN_LOG. standin_stop ends it
#           and sets STANDIN_STATUS (0 on a clean exit). standin_request N
#           prints the N-th logged request (one JSON line), standin_count
#           prints how many requests were logged.

: "${BUILDDIR:=.}"
: "${SRCDIR:=.}"
: "${AGENT:=$BUILDDIR/bin/agent}"
: "${STANDIN:=$BUILDDIR/tests/standin}"

_tap_n=0
_tap_failed=0
STANDIN_PID=
STANDIN_STATUS=

T=$(mktemp -d "${TMPDIR:-/tmp}/agent-test.XXXXXX") || {
    echo "Bail out! cannot create a temporary directory"
    exit 99
}

diag() {
    printf '%s\n' "$@" | sed 's/^/# /'
}

_tap_result() { # STATUS NAME
    _tap_n=$((_tap_n + 1))
    if [ "$1" = 0 ]; then
        printf 'ok %d - %s\n' "$_tap_n" "$2"
        return 0
    fi
    printf 'not ok %d - %s\n' "$_tap_n" "$2"
    _tap_failed=$((_tap_failed + 1))
    return 1
}

ok() {
    _ok_status=$1
    shift
    _tap_result "$_ok_status" "$*" || diag "  exit status: '$_ok_status'"
}

is() {
    _is_got=$1 _is_want=$2
    shift 2
    [ "$_is_got" = "$_is_want" ]
    _tap_result $? "$*" || diag "       got: '$_is_got'" \
        "  expected: '$_is_want'"
}

like() {
    _like_got=$1 _like_sub=$2
    shift 2
    case $_like_got in *"$_like_sub"*) _like_r=0 ;; *) _like_r=1 ;; esac
    _tap_result $_like_r "$*" || diag "       got: '$_like_got'" \
        "  expected to contain: '$_like_sub'"
}

unlike() {
    _like_got=$1 _like_sub=$2
    shift 2
    case $_like_got in *"$_like_sub"*) _like_r=1 ;; *) _like_r=0 ;; esac
    _tap_result $_like_r "$*" || diag "       got: '$_like_got'" \
        "  expected not to contain: '$_like_sub'"
}

done_testing() {
    echo "1..$_tap_n"
    [ "$_tap_failed" = 0 ] || diag "failed $_tap_failed of $_tap_n"
    exit 0
}

skip_all() {
    echo "1..0 # SKIP $*"
    exit 0
}

bail_out() {
    echo "Bail out! $*"
    exit 99
}

scenario() {
    cat >"$T/$1"
}

standin_start() {
    [ -z "$STANDIN_PID" ] || standin_stop
    if [ ! -x "$STANDIN" ]; then
        diag "standin_start: no executable at '$STANDIN'"
        return 1
    fi
    STANDIN_LOG=$T/requests.jsonl
    rm -f "$T/port"
    : >"$STANDIN_LOG"
    "$STANDIN" --port 0 --port-file "$T/port" --log "$STANDIN_LOG" "$@" \
        >"$T/standin.out" 2>"$T/standin.err" &
    STANDIN_PID=$!
    _st_i=0
    while [ ! -s "$T/port" ]; do
        if ! kill -0 "$STANDIN_PID" 2>/dev/null; then
            wait "$STANDIN_PID"
            diag "standin_start: standin exited with status $?:"
            diag "$(cat "$T/standin.err")"
            STANDIN_PID=
            return 1
        fi
        _st_i=$((_st_i + 1))
        if [ "$_st_i" -gt 100 ]; then
            diag "standin_start: no port after 5 s"
            standin_stop
            return 1
        fi
        sleep 0.05
    done
    STANDIN_PORT=$(cat "$T/port")
    STANDIN_URL=http://127.0.0.1:$STANDIN_PORT/v1
    export STANDIN_PORT STANDIN_URL STANDIN_LOG
    return 0
}

standin_stop() {
    [ -n "$STANDIN_PID" ] || return 0
    kill "$STANDIN_PID" 2>/dev/null
    wait "$STANDIN_PID"
    STANDIN_STATUS=$?
    STANDIN_PID=
    if [ "$STANDIN_STATUS" != 0 ]; then
        diag "standin exited with status $STANDIN_STATUS:"
        diag "$(cat "$T/standin.err")"
    fi
    return 0
}

standin_request() {
    sed -n "${1}p" "$T/requests.jsonl"
}

standin_count() {
    wc -l <"$T/requests.jsonl" | tr -d ' '
}

_lib_exit() {
    _lib_rc=$?
    standin_stop
    if [ -n "${KEEP_T:-}" ]; then
        diag "kept $T"
    else
        rm -rf "$T"
    fi
    exit $_lib_rc
}
trap _lib_exit EXIT
trap 'exit 129' HUP
trap 'exit 130' INT
trap 'exit 143' TERM
