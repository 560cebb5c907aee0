#!/bin/bash
# The e2e suite: runs every test/e2e/test_*.sh against the real binary.
#
#   KUBIT=/abs/path/build/kubit test/e2e/run.sh [NAME...]
#
# Each test runs in a fresh temporary directory of its own (E2E_TMP, also its
# working directory), with at most E2E_TEST_TIMEOUT seconds (default 120).
# One line per test: PASS or FAIL and the time it took; the log of each
# failed test follows. Exits non-zero if any test failed. NAME picks tests
# (test_cli or cli); E2E_KEEP=1 keeps the directories of failed tests.
set -u

here=$(cd "$(dirname "$0")" && pwd)
KUBIT=${KUBIT:-$here/../../build/kubit}
case $KUBIT in /*) ;; *) KUBIT=$(pwd)/$KUBIT ;; esac
if [ ! -x "$KUBIT" ]; then
  echo "run.sh: KUBIT=$KUBIT is not an executable; build it with make" >&2
  exit 2
fi
export KUBIT
timeout_s=${E2E_TEST_TIMEOUT:-120}

tests=()
if [ $# -gt 0 ]; then
  for name in "$@"; do
    name=${name%.sh}
    name=test_${name#test_}
    [ -f "$here/$name.sh" ] || { echo "run.sh: no test $name" >&2; exit 2; }
    tests+=("$here/$name.sh")
  done
else
  for t in "$here"/test_*.sh; do
    [ -f "$t" ] && tests+=("$t")
  done
fi
if [ ${#tests[@]} -eq 0 ]; then
  echo "run.sh: no tests in $here" >&2
  exit 2
fi

now_ms() { date +%s%3N; }

echo "e2e: ${#tests[@]} tests against $("$KUBIT" --version 2>&1 | head -n1)"
pass=0
failed=()
suite_start=$(now_ms)
for t in "${tests[@]}"; do
  name=$(basename "$t" .sh)
  dir=$(mktemp -d "${TMPDIR:-/tmp}/kubit-e2e-$name-XXXXXX")
  log="$dir/test.log"
  start=$(now_ms)
  # timeout runs the test in a process group of its own and signals the whole
  # group, servers the test started included.
  (cd "$dir" && E2E_TMP="$dir" exec timeout -k 5 "$timeout_s" bash "$t") >"$log" 2>&1
  rc=$?
  took=$(( $(now_ms) - start ))
  secs=$(printf '%d.%02ds' $((took / 1000)) $((took % 1000 / 10)))
  if [ $rc -eq 0 ]; then
    printf 'PASS  %-28s %8s\n' "$name" "$secs"
    pass=$((pass + 1))
    rm -rf "$dir"
  else
    why="exit $rc"
    [ $rc -eq 124 ] && why="timed out after ${timeout_s}s"
    printf 'FAIL  %-28s %8s  (%s)\n' "$name" "$secs" "$why"
    failed+=("$name")
    sed 's/^/    | /' "$log"
    # The logs of the servers it ran, and anything else it left as *.log.
    for f in "$dir"/*.log; do
      [ -f "$f" ] && [ "$f" != "$log" ] || continue
      echo "    | --- $(basename "$f") ---"
      sed 's/^/    | /' "$f"
    done
    if [ "${E2E_KEEP:-0}" = 1 ]; then
      echo "    (kept $dir)"
    else
      rm -rf "$dir"
    fi
  fi
done
took=$(( $(now_ms) - suite_start ))
printf 'e2e: %d passed, %d failed in %d.%02ds\n' "$pass" "${#failed[@]}" \
  $((took / 1000)) $((took % 1000 / 10))
if [ ${#failed[@]} -gt 0 ]; then
  echo "e2e: failed: ${failed[*]}"
  exit 1
fi
exit 0
