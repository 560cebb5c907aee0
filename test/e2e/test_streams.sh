#!/bin/bash
# Streams through the API server: kubectl logs (-f, --tail, --timestamps,
# --since, --limit-bytes, --previous, -c, errors as upstream's), kubectl
# exec (exit codes, -i with stdin, -t) and kubectl cp both ways (tar over
# exec) for a pod on the server's own node
# and for one on a second board (`kubit agent`, its own data dir). The
# server never dials a node: both go through the agent-initiated tunnel.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_images.sh"

data="$E2E_TMP/data"
agent_data="$E2E_TMP/agent"
mkdir -p "$data/agent/images" "$agent_data/agent/images"
make_busybox_oci_tar "$data/agent/images/busybox.tar" busybox:e2e
cp "$data/agent/images/busybox.tar" "$agent_data/agent/images/busybox.tar"
start_server "$data" --node-name srv
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
server_url=$(sed -n 's/^ *server: //p' "$KUBECONFIG")
"$KUBIT" agent --server "$server_url" --token "$(cat "$data/server/token")" --data-dir "$agent_data" \
  --node-name board1 >"$E2E_TMP/agent.log" 2>&1 &
_e2e_pids="$_e2e_pids $!"
# Containers outlive kubit: stop them and their mounts whatever happens.
streams_cleanup() {
  _e2e_cleanup
  "$KUBIT" killall --data-dir "$data" >/dev/null 2>&1
  "$KUBIT" killall --data-dir "$agent_data" >/dev/null 2>&1
}
trap streams_cleanup EXIT
k() { run kubectl "$@"; }

wait_for() {  # wait_for SECONDS WHAT CMD...
  n=$(($1 * 5))
  what=$2
  shift 2
  for _ in $(seq "$n"); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  fail "timed out waiting for $what; pods:
$(kubectl get pods -o wide 2>&1)
$(kubectl get events 2>&1 | tail -20)
agent: $(tail -20 "$E2E_TMP/agent.log")"
}
jp() { kubectl get pod "$1" -o jsonpath="$2"; }
restarted() { [ "$(jp "$1" '{.status.containerStatuses[?(@.name=="'"$2"'")].restartCount}')" -ge 1 ]; }
node_ready() { [ "$(kubectl get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }

wait_for 30 "node board1" node_ready board1

step "pods on both nodes"
for node in srv board1; do
  cat >"pod-$node.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: talk-$node}
spec:
  nodeName: $node
  restartPolicy: Always
  containers:
  - name: main
    image: busybox:e2e
    command: [sh, -c, 'for i in 1 2 3 4 5; do echo "line \$i"; done; echo oops >&2; exec sleep 1000']
  - name: counter
    image: busybox:e2e
    command: [sh, -c, 'echo "run at \$(cat /proc/uptime)"; i=0; while [ \$i -lt 3 ]; do i=\$((i+1)); echo "tick \$i"; sleep 0.3; done; exit 3']
YAML
  k apply -f "pod-$node.yaml"
  assert_rc 0 "create pod on $node"
done

for node in srv board1; do
  pod=talk-$node
  step "kubectl logs, pod on $node"
  wait_for 60 "$pod main logged" sh -c "kubectl logs $pod -c main | grep -q oops"
  k logs "$pod" -c main
  assert_eq "$OUT" "line 1
line 2
line 3
line 4
line 5
oops"
  k logs "$pod" -c main --tail 2
  assert_eq "$OUT" "line 5
oops"
  k logs "$pod" -c main --tail 1 --timestamps
  assert_match "$OUT" '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z oops$'
  k logs "$pod" -c main --limit-bytes 9
  assert_eq "$OUT" "line 1
li"
  k logs "$pod" -c main --since 1h
  assert_contains "$OUT" "line 3"
  k logs "$pod"
  assert_contains "$ERR" 'Defaulted container "main" out of: main, counter' "kubectl defaults the container"
  k get --raw "/api/v1/namespaces/default/pods/$pod/log"
  assert_fails "no container named for a pod of two"
  assert_contains "$ERR" "a container name must be specified for pod $pod, choose one of: [main counter]"
  k logs "$pod" --all-containers --tail 1
  assert_contains "$OUT" "oops" "--all-containers"
  k logs "$pod" -c nope
  assert_fails
  assert_contains "$ERR" "container nope is not valid for pod $pod"

  step "kubectl logs --previous and -f, pod on $node"
  wait_for 60 "$pod counter restarted" restarted "$pod" counter
  k logs "$pod" -c counter --previous
  assert_contains "$OUT" "tick 3"
  k logs "$pod" -c main --previous
  assert_fails
  assert_contains "$ERR" "previous terminated container \"main\" in pod \"$pod\" not found"
  # -f on a container that ends: the stream ends with it, every line there.
  run kubectl logs -f "$pod" -c counter
  assert_rc 0 "logs -f ends when the container exits"
  assert_contains "$OUT" "tick 3"

  # -f of a running container streams until the client goes.
  run timeout 3 kubectl logs -f "$pod" -c main
  assert_rc 124 "logs -f of a running container keeps streaming"
  assert_contains "$OUT" "oops"

  step "kubectl exec, pod on $node"
  k exec "$pod" -c main -- sh -c 'echo out; echo err >&2; hostname'
  assert_rc 0
  assert_eq "$OUT" "out
$pod"
  assert_eq "$ERR" "err"
  k exec "$pod" -c main -- sh -c 'exit 7'
  assert_rc 7 "the exit code propagates"
  run sh -c "printf 'a\\nb\\n' | kubectl exec -i $pod -c main -- sh -c 'wc -l; cat /proc/self/status >/dev/null'"
  assert_rc 0 "exec -i"
  assert_eq "$(echo $OUT)" "2"
  printf 'echo $((6*7))\nexit 3\n' >script.sh
  run sh -c "kubectl exec -i $pod -c main -- sh <script.sh"
  assert_rc 3 "exec -i of a shell reading its commands"
  assert_eq "$OUT" "42"
  # -t: a terminal in the container, of kubectl's size (script gives
  # kubectl a terminal; its size goes over the resize channel).
  run script -qec "stty cols 91 rows 17; kubectl exec -it $pod -c main -- sh -c '[ -t 0 ] && echo in-tty; stty size'" /dev/null
  assert_rc 0 "exec -t"
  assert_contains "$OUT" "in-tty"
  assert_contains "$OUT" "17 91" "the terminal's size"
  # Much more than a pipe holds, both ways at once.
  head -c 3000000 /dev/urandom >big.bin
  run sh -c "kubectl exec -i $pod -c main -- cat <big.bin >big.out"
  assert_rc 0 "exec -i of cat with 3 MB"
  assert_same_file big.bin big.out "what cat gave back"

  step "kubectl cp both ways (tar over exec), pod on $node"
  head -c 300000 /dev/urandom >payload.bin
  k cp payload.bin "$pod:/tmp/payload.bin" -c main
  assert_rc 0 "cp into the pod"
  k cp "$pod:/tmp/payload.bin" back.bin -c main
  assert_rc 0 "cp out of the pod"
  assert_same_file payload.bin back.bin "the file after a round trip"

  k exec "$pod" -c main -- no-such-command
  assert_fails "a command that does not exist"
  assert_contains "$ERR" "no-such-command"
done

step "errors"
k logs no-such-pod
assert_fails
assert_contains "$ERR" 'pods "no-such-pod" not found'
cat >unbound.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: unbound}
spec:
  schedulerName: e2e-none
  containers: [{name: c, image: busybox:e2e}]
YAML
k apply -f unbound.yaml
k logs unbound
assert_fails
assert_contains "$ERR" "pod unbound does not have a host assigned"

finish
