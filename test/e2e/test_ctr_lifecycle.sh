#!/bin/bash
# Containers outlive the kubit that started them: a foreground `ctr run`
# killed with kill -9 leaves its container running under its shim; a new
# process re-adopts it (ps, exec, kill), the exit is recorded. Stop with a
# grace period, rm refusing a running container, the shim's size, and
# `kubit killall` cleaning one data dir (containers, shims, mounts, cgroups)
# and not another.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ctr.sh"
ctr_setup
R=(--rootfs "$CTR_ROOT")

step "kill -9 of the kubit that runs a container in the foreground"
"$KUBIT" ctr --data-dir "$CTR_DATA" run "${R[@]}" fg sh -c 'trap "exit 42" TERM; echo up; while :; do sleep 0.1; done' \
  >"$E2E_TMP/fg.out" 2>&1 &
fg_pid=$!
wait_for_log "$E2E_TMP/fg.out" '^up$' "$fg_pid" || fail "the container did not start: $(cat "$E2E_TMP/fg.out")"
kill -KILL "$fg_pid"
wait "$fg_pid" 2>/dev/null
assert_eq "$(ctr_status fg)" running "the container after kill -9 of its kubit"
shim=$(ctr_state fg shim_pid)
alive "$shim" || fail "the shim $shim is gone"
assert_match "$(tr '\0' ' ' <"/proc/$shim/cmdline")" '^kubit shim fg ' "the shim's command line"
rss=$(awk '/^VmRSS/ {print $2}' "/proc/$shim/status")
echo "shim RSS: $rss KiB"
# The 1.5 MiB target is measured by make bench-runtime; here only that the
# shim dropped kubit's start-up pages (without that it holds 3 MiB and more).
[ "$rss" -le 3072 ] || fail "shim RSS $rss KiB: the shim kept kubit's start-up pages"

step "a new kubit process re-adopts it: exec, kill; the exit is recorded"
ctr exec fg cat /proc/1/cmdline
assert_rc 0 "exec into the adopted container"
ctr kill fg
assert_rc 0 "kill (SIGTERM) of the adopted container"
wait_status fg 'exited' || fail "no exit recorded: $(ctr_status fg)"
assert_eq "$(ctr_status fg)" 'exited(42)' "status after SIGTERM"
assert_eq "$(ctr_state fg exit_code)" 42 "exit code in the state"
alive "$shim" && fail "the shim $shim outlived its container"
ctr kill fg
assert_fails "kill of an exited container"
assert_contains "$ERR" "not running"
ctr logs fg
assert_eq "$OUT" up "logs of the adopted container"

step "stop: SIGTERM, grace, SIGKILL"
ctr run -d "${R[@]}" st sleep 600
assert_rc 0
ctr stop --timeout 1 st
assert_rc 0 "stop of a container that ignores SIGTERM (pid 1)"
assert_eq "$(ctr_status st)" 'exited(137)' "status after the grace period"
assert_eq "$(ctr_state st signal)" 9 "signal in the state"

step "rm refuses a running container unless --force"
ctr run -d "${R[@]}" busy sleep 600
ctr rm busy
assert_fails "rm of a running container"
assert_contains "$ERR" "running"
assert_eq "$(ctr_status busy)" running
ctr rm --force busy
assert_rc 0 "rm --force"
ctr ps
assert_no_match "$OUT" '^busy ' "ps after rm --force"
ctr rm nosuch
assert_fails "rm of a missing container"
assert_contains "$ERR" "no such container"

step "a record whose shim is gone turns unknown"
ctr run -d "${R[@]}" orphan sleep 600
kill -KILL "$(ctr_state orphan shim_pid)"
sleep 0.1
assert_eq "$(ctr_status orphan)" unknown "status with the shim killed"
ctr rm orphan
assert_rc 0 "rm of an unknown container (its process is killed through its cgroup)"

step "killall stops one data dir's containers and shims, and nothing else's"
other="$E2E_TMP/other"
trap '"$KUBIT" killall --data-dir "$other" >/dev/null 2>&1; _ctr_cleanup' EXIT
run "$KUBIT" ctr --data-dir "$other" run -d "${R[@]}" keep sleep 600
assert_rc 0 "a container of another data dir"
ctr run -d "${R[@]}" k1 sleep 600
ctr run -d "${R[@]}" k2 sh -c 'sleep 600 & sleep 600'
# A mount under the data dir, as a sandbox's namespace file or a volume leaves.
mkdir -p "$CTR_DATA/agent/pods/p/volumes/v"
mount -t tmpfs kubit-e2e "$CTR_DATA/agent/pods/p/volumes/v" || fail "mount under the data dir"
cg=$(ls -d /sys/fs/cgroup/memory/kubit/*/k1 /sys/fs/cgroup/kubit/*/k1 2>/dev/null | head -1)
[ -n "$cg" ] || fail "no cgroup for k1"
run "$KUBIT" killall --data-dir "$CTR_DATA"
assert_rc 0 "killall"
assert_no_match "$(cut -d' ' -f5 /proc/self/mountinfo)" "^$CTR_DATA(/|$)" "mounts under the data dir"
assert_no_match "$(pgrep -af 'kubit shim')" "--dir $CTR_DATA/" "shims of the data dir"
[ -e "$cg" ] && fail "the cgroup $cg is left"
assert_match "$(ctr_status k1)" '^exited' "k1 after killall"
assert_match "$(ctr_status k2)" '^exited' "k2 after killall"
run "$KUBIT" ctr --data-dir "$other" ps
assert_match "$OUT" '^keep .* running$' "the other data dir's container"
run "$KUBIT" killall --data-dir "$CTR_DATA"
assert_rc 0 "killall again"
run "$KUBIT" killall --data-dir "$other"
assert_rc 0
run "$KUBIT" killall --help
assert_rc 0
assert_contains "$OUT" "--data-dir"

echo ok
