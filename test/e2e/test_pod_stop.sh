#!/bin/bash
# A pod's stop does not hold its node (issue 2): a container that ignores
# SIGTERM gets its grace period without blocking the pod's worker, so a
# server stopped meanwhile exits at once; started again, it keeps the
# same deadline (the pod's deletionTimestamp), the pod stays Terminating
# until the container is gone (SIGKILL at the deadline), then goes; no
# second container is ever started for it. Exits are noticed without
# polling: a container that exits is restarted at once.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_images.sh"

data=$E2E_TMP/data
mkdir -p "$data/agent/images"
make_busybox_oci_tar "$data/agent/images/busybox.tar" busybox:stop
killall_at_exit "$data"
start_server "$data" --cluster-cidr 10.$((100 + RANDOM % 100)).0.0/16
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
k() { run kubectl "$@"; }
marker=$((100000 + RANDOM))
out=$E2E_TMP/starts
touch "$out"

step "a container that exits is seen at once and restarted"
cat >quick.yaml <<YAML
apiVersion: v1
kind: Pod
metadata: {name: quick}
spec:
  containers:
  - name: c
    image: busybox:stop
    command: [sh, -c, 'echo run >> /out/quick; sleep 2']
    volumeMounts: [{name: out, mountPath: /out}]
  volumes:
  - {name: out, hostPath: {path: $E2E_TMP, type: Directory}}
YAML
k apply -f quick.yaml
assert_rc 0 "apply quick"
twice() { [ "$(grep -c run "$E2E_TMP/quick" 2>/dev/null)" -ge 2 ]; }
# The first restart comes after the exit and a 10 s back-off: within
# 16 s only if the exit was noticed within a few seconds.
wait_until 16 "a second run of quick" twice
k delete pod quick --grace-period=0 --force

step "a container that ignores SIGTERM: the delete does not block the node"
cat >stubborn.yaml <<YAML
apiVersion: v1
kind: Pod
metadata: {name: stubborn}
spec:
  terminationGracePeriodSeconds: 8
  containers:
  - name: c
    image: busybox:stop
    command: [sh, -c, 'trap "" TERM; echo start >> /out/starts; while :; do sleep $marker; done']
    volumeMounts: [{name: out, mountPath: /out}]
  volumes:
  - {name: out, hostPath: {path: $E2E_TMP, type: Directory}}
YAML
k apply -f stubborn.yaml
assert_rc 0 "apply"
running() { [ "$(kubectl get pod stubborn -o jsonpath='{.status.phase}')" = Running ]; }
wait_until 30 "stubborn running" running
pid_of() { pgrep -f "^sleep $marker\$"; }
first=$(pid_of)
[ -n "$first" ] || fail "no container process"
k delete pod stubborn --wait=false
assert_rc 0 "delete"
deleted_at=$(date +%s)
sleep 1
kubectl get pod stubborn >/dev/null 2>&1 || fail "the pod went before its grace period"
alive "$first" || fail "the container stopped on SIGTERM, which it ignores"

step "the server stops at once, and the container keeps its grace period"
stop_server
took=$(($(date +%s) - deleted_at))
[ "$took" -le 5 ] || fail "the server took until ${took}s after the delete to stop (grace 8 s)"
alive "$first" || fail "the container stopped with the server"

step "started again: Terminating until the deadline, then gone; never a second container"
"${SERVER_CMD[@]}" >"$E2E_TMP/server-again.log" 2>&1 &
SERVER_PID=$!
_e2e_pids="$_e2e_pids $SERVER_PID"
wait_for_log "$E2E_TMP/server-again.log" 'server: ready' "$SERVER_PID"
assert_eq "$?" 0 "the server again"
gone() { ! kubectl get pod stubborn >/dev/null 2>&1; }
wait_until 30 "the pod gone" gone
ended=$(($(date +%s) - deleted_at))
[ "$ended" -ge 7 ] || fail "the pod went ${ended}s after the delete, before its 8 s grace period"
alive "$first" && fail "the container still runs"
assert_eq "$(grep -c start "$out")" 1 "container starts"
stop_server
finish
