# Helpers for the e2e tests (bash); each test sources this file:
#
#   . "$(dirname "$0")/lib.sh"
#
# run.sh gives every test KUBIT (the binary under test, an absolute path) and
# E2E_TMP (a fresh directory of its own, also the working directory). A test
# prints what it does with `step`, and stops at the first failed assertion
# with `fail`, which exits non-zero (or goes on past a failed `check`).
# Servers started with start_server are killed when the test exits, however
# it exits. A test can also be run alone:
#
#   KUBIT=$PWD/build/kubit bash test/e2e/test_cli.sh

set -u

: "${KUBIT:?KUBIT must name the kubit binary}"
: "${E2E_TMP:=$(mktemp -d "${TMPDIR:-/tmp}/kubit-e2e-XXXXXX")}"
E2E_TIMEOUT=${E2E_TIMEOUT:-15}  # seconds to wait for a server to get ready or stop

_e2e_pids=""
_e2e_logs=0

step() { printf '== %s\n' "$*"; }

fail() {
  printf 'FAIL: %s\n' "$*" >&2
  exit 1
}

# check CMD ARGS...: runs CMD (a function of assertions, say) in a subshell:
# a failure in it is reported and counted, and the test goes on, so that one
# broken case does not hide the next. `finish` fails the test if any did.
_e2e_failed_checks=0
check() {
  (
    _e2e_pids=""  # the servers of the check, not those of the test
    _e2e_killall_dirs=""  # nor the test's data dirs, whose pods live on
    _e2e_at_exit=()  # nor what the test set up to undo at its own end
    trap _e2e_cleanup EXIT
    "$@"
  ) || {
    _e2e_failed_checks=$((_e2e_failed_checks + 1))
    printf '(check failed: %s; going on)\n' "$*"
  }
}
finish() {
  [ "$_e2e_failed_checks" = 0 ] || fail "$_e2e_failed_checks check(s) failed"
  echo ok
}

# ---- running commands ----

# run CMD ARGS...: runs a command to completion (at most 60 s) and sets RC,
# OUT (its stdout) and ERR (its stderr).
run() {
  timeout -k 5 60 "$@" >"$E2E_TMP/.run.out" 2>"$E2E_TMP/.run.err"
  RC=$?
  OUT=$(cat "$E2E_TMP/.run.out")
  ERR=$(cat "$E2E_TMP/.run.err")
  printf '$ %s  -> exit %s\n' "$*" "$RC"
}

# show_run: what the last `run` printed, for a failure message.
show_run() {
  printf '\n--- stdout ---\n%s\n--- stderr ---\n%s\n---' "$OUT" "$ERR"
}

# assert_rc WANT [WHAT]: the last `run` exited with WANT.
assert_rc() {
  [ "$RC" = "$1" ] || fail "${2:-command} exited $RC, want $1$(show_run)"
}

# assert_fails [WHAT]: the last `run` exited non-zero (and was not killed by
# the timeout or a signal).
assert_fails() {
  if [ "$RC" = 0 ] || [ "$RC" -ge 124 ]; then
    fail "${1:-command} exited $RC, want a non-zero exit of its own$(show_run)"
  fi
}

assert_eq() {  # assert_eq GOT WANT [WHAT]
  [ "$1" = "$2" ] || fail "${3:-value}: got \"$1\", want \"$2\""
}

assert_match() {  # assert_match TEXT ERE [WHAT]: some line of TEXT matches ERE
  printf '%s\n' "$1" | grep -Eq -- "$2" ||
    fail "${3:-output} does not match /$2/:
$1"
}

assert_no_match() {  # assert_no_match TEXT ERE [WHAT]
  if printf '%s\n' "$1" | grep -Eq -- "$2"; then
    fail "${3:-output} matches /$2/ but should not:
$1"
  fi
}

assert_contains() {  # assert_contains TEXT STRING [WHAT]: STRING literally
  case "$1" in
    *"$2"*) ;;
    *) fail "${3:-output} does not contain \"$2\":
$1" ;;
  esac
}

assert_file() { [ -f "$1" ] || fail "${2:-file} $1 does not exist"; }
assert_no_file() { [ ! -e "$1" ] || fail "${2:-file} $1 exists but should not"; }

# ---- files ----

file_mode() { stat -c '%a' "$1"; }
checksum() { sha256sum <"$1" | cut -d' ' -f1; }

assert_mode() {  # assert_mode PATH MODE (octal, as stat prints it)
  [ -e "$1" ] || fail "$1 does not exist"
  m=$(file_mode "$1")
  [ "$m" = "$2" ] || fail "$1 has mode $m, want $2"
}

assert_same_file() {  # assert_same_file A B [WHAT]: byte for byte
  cmp -s "$1" "$2" || fail "${3:-$1 and $2} differ"
}

assert_checksum() {  # assert_checksum PATH SUM [WHAT]
  [ -f "$1" ] || fail "${3:-$1} is gone"
  got=$(checksum "$1")
  [ "$got" = "$2" ] || fail "${3:-$1} changed (sha256 $got, was $2)"
}

# db_path DATA_DIR: where kubit keeps its database in a data dir.
db_path() { printf '%s/server/db/state.db' "$1"; }

# have_sqlite3: whether the sqlite3 shell is installed (tests use it to look
# inside databases when they can, and do without it otherwise; E2E_NO_SQLITE3=1
# tries the without).
have_sqlite3() { [ "${E2E_NO_SQLITE3:-0}" != 1 ] && command -v sqlite3 >/dev/null 2>&1; }

# ---- servers ----

# alive PID: the process runs (a zombie that has exited does not count).
alive() {
  [ -r "/proc/$1/stat" ] || return 1
  state=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null | cut -d' ' -f1)
  [ -n "$state" ] && [ "$state" != Z ] && [ "$state" != X ]
}

# wait_for_log FILE ERE PID: waits until FILE has a line matching ERE (0),
# the process PID ends first (1) or E2E_TIMEOUT passes (2).
wait_for_log() {
  deadline=$(($(date +%s) + E2E_TIMEOUT))
  while :; do
    grep -Eq -- "$2" "$1" 2>/dev/null && return 0
    alive "$3" || {
      grep -Eq -- "$2" "$1" 2>/dev/null && return 0
      return 1
    }
    [ "$(date +%s)" -lt "$deadline" ] || return 2
    sleep 0.05
  done
}

# wait_until SECONDS WHAT CMD...: runs CMD every 0.2 s until it succeeds;
# fails the test with WHAT and CMD's last output after SECONDS.
wait_until() {
  _n=$(($1 * 5)); _what=$2; shift 2
  for _ in $(seq "$_n"); do
    _out=$("$@" 2>&1) && return 0
    sleep 0.2
  done
  fail "timed out after ${_n}x0.2s waiting for $_what; last output: $_out"
}

# The flags start_server adds so that tests touch nothing outside E2E_TMP and
# can run side by side: each listed only if this kubit has it.
_e2e_server_flags() {
  if [ -z "${_e2e_server_help+x}" ]; then
    _e2e_server_help=$("$KUBIT" server --help 2>/dev/null)
  fi
  _has() { printf '%s\n' "$_e2e_server_help" | grep -q -- "^  --$1 "; }
  _e2e_extra=()
  _has bind-address && _e2e_extra+=(--bind-address 127.0.0.1)
  _has https-listen-port && _e2e_extra+=(--https-listen-port "$((20000 + RANDOM % 40000))")
  _has write-kubeconfig && _e2e_extra+=(--write-kubeconfig "$E2E_TMP/kubeconfig-$_e2e_logs.yaml")
  # The ingress proxy's ports: not 80/443, which servers of tests running
  # side by side would fight over (a test that needs them reads the
  # ports from the log line "ingress: proxy listening on ...").
  _p=$((20000 + RANDOM % 40000))
  _has ingress-http-port && _e2e_extra+=(--ingress-http-port "$_p" --ingress-https-port "$((_p + 1))")
}

# server_cmd DATA_DIR [FLAGS...]: sets SERVER_CMD to the command line of a
# server on DATA_DIR, with the flags of _e2e_server_flags, for tests that
# run a server in the foreground.
server_cmd() {
  _e2e_logs=$((_e2e_logs + 1))
  _e2e_server_flags
  SERVER_CMD=("$KUBIT" server --data-dir "$1" ${_e2e_extra[@]+"${_e2e_extra[@]}"} "${@:2}")
}

# start_server DATA_DIR [FLAGS...]: starts `kubit server` in the background
# and waits until it logs that it is ready. Sets SERVER_PID and SERVER_LOG.
# A port some other program took is retried with another. The data dir is
# `kubit killall`ed when the test exits (its node's pods and mounts).
start_server() {
  for _attempt in 1 2 3 4 5; do
    server_cmd "$@"
    SERVER_LOG="$E2E_TMP/server-$_e2e_logs.log"
    "${SERVER_CMD[@]}" >"$SERVER_LOG" 2>&1 &
    SERVER_PID=$!
    _e2e_pids="$_e2e_pids $SERVER_PID"
    printf '$ %s &  -> pid %s, log %s\n' "${SERVER_CMD[*]}" "$SERVER_PID" "$(basename "$SERVER_LOG")"
    wait_for_log "$SERVER_LOG" 'server: ready' "$SERVER_PID"
    case $? in
      0) killall_at_exit "$1"  # its own node's pods, sandboxes and mounts
         return 0 ;;
      1) wait "$SERVER_PID"
         _rc=$?
         grep -q 'cannot listen on .*in use' "$SERVER_LOG" && continue
         fail "server $SERVER_PID exited ($_rc) before it was ready; its log:
$(cat "$SERVER_LOG")" ;;
      *) fail "server $SERVER_PID not ready after ${E2E_TIMEOUT}s; its log:
$(cat "$SERVER_LOG")" ;;
    esac
  done
  fail "no free port found for the server"
}

# stop_server [PID]: SIGTERM, then waits for the exit and checks it is 0.
# Defaults to SERVER_PID. Sets STOP_RC.
stop_server() {
  pid=${1:-$SERVER_PID}
  kill -TERM "$pid" 2>/dev/null || fail "server $pid is not running"
  deadline=$(($(date +%s) + E2E_TIMEOUT))
  while alive "$pid"; do
    if [ "$(date +%s)" -ge "$deadline" ]; then
      kill -KILL "$pid" 2>/dev/null
      wait "$pid" 2>/dev/null
      fail "server $pid did not stop within ${E2E_TIMEOUT}s of SIGTERM"
    fi
    sleep 0.05
  done
  wait "$pid"
  STOP_RC=$?
  printf 'stopped server %s: exit %s\n' "$pid" "$STOP_RC"
  [ "$STOP_RC" = 0 ] || fail "server $pid exited $STOP_RC on SIGTERM, want 0"
}

# kill_server [PID]: SIGKILL, as a crash would.
kill_server() {
  pid=${1:-$SERVER_PID}
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  printf 'killed server %s\n' "$pid"
}

assert_running() {  # assert_running [PID]
  alive "${1:-$SERVER_PID}" || fail "server ${1:-$SERVER_PID} is no longer running"
}

_e2e_cleanup() {
  for p in $_e2e_pids; do
    if alive "$p"; then
      printf 'cleanup: killing leftover server %s\n' "$p"
      kill -KILL "$p" 2>/dev/null
      wait "$p" 2>/dev/null
    fi
  done
  # Containers, shims, mounts and pod networks outlive their kubit: a test
  # that fails half way must not leave them to the tests after it.
  for d in $_e2e_killall_dirs; do
    "$KUBIT" killall --data-dir "$d" >/dev/null 2>&1
  done
  for c in "${_e2e_at_exit[@]}"; do eval "$c" >/dev/null 2>&1; done
}
# killall_at_exit DATA_DIR: `kubit killall` that data dir when the test exits.
_e2e_killall_dirs=""
killall_at_exit() { _e2e_killall_dirs="$_e2e_killall_dirs $1"; }
# at_exit COMMAND: run (eval) when the test exits, after the kills above:
# what a test set up outside E2E_TMP (network namespaces, links).
_e2e_at_exit=()
at_exit() { _e2e_at_exit+=("$1"); }
trap _e2e_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
