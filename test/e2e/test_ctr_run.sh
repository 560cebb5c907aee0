#!/bin/bash
# kubit ctr run: real containers from a busybox rootfs and from an imported
# image. Exit codes, env, working dir, users, read-only rootfs, masked and
# read-only /proc paths, capabilities, seccomp, mounts, CRI logs, exec,
# memory (OOMKilled) and pids limits, and bad input refused clearly.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_ctr.sh"
ctr_setup
R=(--rootfs "$CTR_ROOT")

step "exit codes propagate; stdout and stderr reach the caller"
ctr run --rm "${R[@]}" c1 sh -c 'echo out; echo err >&2; exit 7'
assert_rc 7 "a container exiting 7"
assert_eq "$OUT" out "stdout"
assert_eq "$ERR" err "stderr"
ctr run --rm "${R[@]}" c1 /bin/true
assert_rc 0 "/bin/true"
# (pid 1 of a pid namespace ignores its own SIGKILL: a child takes it.)
ctr run --rm "${R[@]}" c1 sh -c 'sh -c "kill -KILL \$\$"; exit $?'
assert_rc 137 "a container whose command was killed by SIGKILL"
ctr ps
assert_no_match "$OUT" '^c1 ' "ps after --rm"

step "the command's own flags are its own; the image store is asked without --rootfs"
ctr run --rm "${R[@]}" c2 sh -c 'echo "$0 $1"' -t -d
assert_rc 0
assert_eq "$OUT" "-t -d" "arguments after the id"
ctr run --rm busybox:none c2 true
assert_fails "run of an image that is not there"
assert_contains "$ERR" "not found"

step "env, working dir, hostname, user by name and by number"
ctr run --rm "${R[@]}" --env FOO=bar --env 'SP=a b' --cwd /srv/app --hostname box c3 \
  sh -c 'echo "$FOO|$SP|$(pwd)|$(hostname)|$HOME|$PATH"'
assert_rc 0
assert_eq "$OUT" "bar|a b|/srv/app|box|/root|/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
ctr run --rm "${R[@]}" --user nobody c3 id
assert_eq "$OUT" "uid=65534(nobody) gid=65534(nobody)" "user nobody"
ctr run --rm "${R[@]}" --user 1234:4321 c3 sh -c 'id -u; id -g; grep CapEff /proc/self/status'
assert_eq "$(printf '%s' "$OUT" | head -2 | tr '\n' ' ')" "1234 4321 " "numeric user"
assert_match "$OUT" 'CapEff:\s+0000000000000000' "a non-root user's effective capabilities"
ctr run --rm "${R[@]}" --user ghost c3 true
assert_fails "an unknown user"
assert_contains "$ERR" "unable to find user ghost"

step "Docker's default capabilities; add, drop, privileged"
ctr run --rm "${R[@]}" c4 grep CapEff /proc/self/status
assert_match "$OUT" 'CapEff:\s+00000000a80425fb' "default CapEff"
ctr run --rm "${R[@]}" --cap-add NET_ADMIN --cap-drop CHOWN c4 grep CapEff /proc/self/status
assert_match "$OUT" 'CapEff:\s+00000000a80435fa' "NET_ADMIN added, CHOWN dropped"
ctr run --rm "${R[@]}" --cap-add NET_WIZARD c4 true
assert_fails "an unknown capability"
assert_contains "$ERR" NET_WIZARD

step "seccomp and missing capabilities refuse mount, unshare and sethostname; privileged may"
ctr run --rm "${R[@]}" c5 sh -c 'unshare -n true 2>&1; echo "u=$?"; mount -t tmpfs t /tmp 2>&1; echo "m=$?"'
assert_match "$OUT" 'Operation not permitted' "unshare in a default container"
assert_match "$OUT" '^u=1$'
assert_match "$OUT" '^m=[1-9]'
ctr run --rm "${R[@]}" --privileged c5 sh -c 'unshare -n true && mount -t tmpfs t /tmp && echo ok'
assert_rc 0 "privileged container"
assert_eq "$OUT" ok
# The filter is on (mode 2); no_new_privs only when asked for, as Docker.
ctr run --rm "${R[@]}" c5 grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status
assert_eq "$(echo "$OUT" | tr -s ' \t' ' ' | tr '\n' ' ')" "NoNewPrivs: 0 Seccomp: 2 " "a default container's seccomp and no_new_privs"
ctr run --rm "${R[@]}" --no-new-privileges c5 grep -E '^(Seccomp|NoNewPrivs):' /proc/self/status
assert_eq "$(echo "$OUT" | tr -s ' \t' ' ' | tr '\n' ' ')" "NoNewPrivs: 1 Seccomp: 2 " "with --no-new-privileges"

step "masked and read-only /proc paths, read-only /sys"
ctr run --rm "${R[@]}" c6 sh -c 'wc -c </proc/keys; ls /sys/firmware | wc -l;
  echo 1 >/proc/sys/kernel/domainname 2>/dev/null; echo "sys=$?";
  echo 1 >/proc/sysrq-trigger 2>/dev/null; echo "sysrq=$?";
  touch /sys/x 2>/dev/null; echo "sysfs=$?"'
assert_rc 0
assert_eq "$(echo "$OUT" | tr '\n' ' ')" "0 0 sys=1 sysrq=1 sysfs=1 " "masked and read-only paths"
ctr run --rm "${R[@]}" c6 sh -c 'grep -E " /(proc/sys|proc/bus|proc/fs|proc/irq) " /proc/self/mounts | grep -c " ro,"'
assert_eq "$OUT" 4 "read-only /proc mounts"

step "/dev: the standard devices only, pts with its own ptmx"
ctr run --rm "${R[@]}" c7 sh -c 'ls /dev | tr "\n" " "; echo; echo x >/dev/null && head -c 4 /dev/zero | wc -c'
assert_rc 0
assert_eq "$(echo "$OUT" | head -1)" "core fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero " "/dev"
assert_eq "$(echo "$OUT" | tail -1)" 4 "/dev/zero"

step "read-only rootfs; mounts (bind read-only, tmpfs)"
mkdir -p "$E2E_TMP/share" && echo shared >"$E2E_TMP/share/f"
ctr run --rm "${R[@]}" --read-only --mount "type=bind,src=$E2E_TMP/share,dst=/share,options=rbind:ro" \
  --mount type=tmpfs,dst=/scratch c8 sh -c 'touch /x 2>/dev/null; echo "root=$?"; cat /share/f;
  touch /share/g 2>/dev/null; echo "share=$?"; touch /scratch/y && echo scratch=0'
assert_rc 0
assert_eq "$(echo "$OUT" | tr '\n' ' ')" "root=1 shared share=1 scratch=0 " "read-only rootfs and mounts"
assert_no_file "$E2E_TMP/share/g" "a file written through a read-only bind mount"
ctr run --rm "${R[@]}" --mount type=bind,src=/nonexistent,dst=/x c8 true
assert_fails "a bind mount of a missing source"
assert_contains "$ERR" "/nonexistent"

step "a symlink in the image cannot aim a mount outside the rootfs"
mkdir -p "$E2E_TMP/evil" && cp -a "$CTR_ROOT/." "$E2E_TMP/evil/"
ln -s "$E2E_TMP/outside" "$E2E_TMP/evil/escape"
ctr run --rm --rootfs "$E2E_TMP/evil" --mount type=tmpfs,dst=/escape/t c9 sh -c 'ls -d /escape/t'
assert_rc 0 "a mount through a symlink"
assert_no_file "$E2E_TMP/outside" "the symlink's target outside the rootfs"

step "logs in the CRI format, with partial lines, decoded by ctr logs"
ctr run "${R[@]}" l1 sh -c 'echo first; echo oops >&2; head -c 20000 /dev/zero | tr "\0" x; echo; printf tail'
assert_rc 0
log="$CTR_DATA/agent/containers/l1/container.log"
assert_file "$log"
lines=$(cat "$log")
assert_match "$lines" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z stdout F first$' "log"
assert_match "$lines" '^[0-9T:.Z-]+ stderr F oops$' "log"
assert_match "$lines" '^[0-9T:.Z-]+ stdout P x{16384}$' "log (partial)"
assert_match "$lines" '^[0-9T:.Z-]+ stdout F x{3616}$' "log (end of the long line)"
assert_match "$lines" '^[0-9T:.Z-]+ stdout F tail$' "log (unterminated last line)"
ctr logs l1
assert_rc 0
assert_eq "$(printf '%s' "$OUT" | head -1)" first "ctr logs"
assert_eq "$(printf '%s' "$OUT" | sed -n 2p | wc -c)" 20001 "ctr logs joins partial lines"
assert_eq "$ERR" oops "ctr logs stderr"
ctr rm l1
assert_rc 0

step "an imported image runs with its config"
make_busybox_docker_tar "$E2E_TMP/busybox.tar" e2e/busybox:1
run "$KUBIT" ctr --data-dir "$CTR_DATA" images import "$E2E_TMP/busybox.tar"
assert_rc 0 "images import"
ctr run --rm e2e/busybox:1 img1 sh -c 'echo "$PATH"; ls /bin/busybox'
assert_rc 0 "a container from an image"
assert_eq "$(echo "$OUT" | tr '\n' ' ')" "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin /bin/busybox " "image env"

step "a memory limit: the OOM killer's kill shows as OOMKilled"
ctr run "${R[@]}" --memory-limit 8388608 oom sh -c 'head -c 64m /dev/zero | tail >/dev/null'
assert_rc 137 "a container over its memory limit (its tail killed)"
assert_contains "$ERR" "OOM-killed"
assert_eq "$(ctr_state oom oom_killed)" 1 "oom_killed in the state"
assert_match "$(ctr_status oom)" 'OOMKilled' "ctr ps"
ctr rm oom
assert_rc 0

step "a pids limit"
ctr run --rm "${R[@]}" --pids-limit 4 pids sh -c 'for i in 1 2 3 4 5 6; do sleep 1 & done; wait'
assert_match "$ERR" "can't fork" "a container past its pids limit"

step "exec: same namespaces, user, caps; exit status; errors"
ctr run -d "${R[@]}" --user nobody e1 sleep 60
assert_rc 0 "run -d"
ctr exec e1 sh -c 'id -u; tr "\0" " " </proc/1/cmdline; echo; hostname; exit 5'
assert_rc 5 "exec exit status"
assert_eq "$(echo "$OUT" | tr '\n' '|')" "65534|sleep 60 |e1|" "exec sees the container"
ctr exec --user root e1 grep CapEff /proc/self/status
assert_match "$OUT" 'CapEff:\s+00000000a80425fb' "exec as root"
ctr exec e1 nosuchcmd
assert_fails "exec of a missing command"
assert_contains "$ERR" "executable file not found"
ctr stats e1
assert_rc 0 "stats"
assert_match "$OUT" '^memory_working_set_bytes [0-9]+$'
assert_match "$OUT" '^pids 1$'
ctr exec nosuch true
assert_fails "exec in a missing container"

step "bad input gets a clear error"
ctr run --rm "${R[@]}" 'bad/id' true
assert_fails
assert_contains "$ERR" "invalid container id"
ctr run --rm "${R[@]}" --mount type=nfs,dst=/x c10 true
assert_fails
assert_contains "$ERR" "unknown type"
ctr run "${R[@]}" e1 true
assert_fails "a second container with the same id"
assert_contains "$ERR" "already exists"
ctr run --rm "${R[@]}" c11 /no/such/binary
assert_fails
assert_contains "$ERR" "/no/such/binary"
ctr ps
assert_no_match "$OUT" '^c11 ' "a container that failed to start"
ctr run --help
assert_rc 0
assert_contains "$OUT" "--memory-limit"

echo ok
