#!/bin/bash
# Autonomy (issue 5): an agent whose server is gone keeps its pods. It
# keeps the pods bound to it and the objects they read in agent/state.db:
# with the server killed, a container that exits is started again per its
# restart policy (with its ConfigMap and Secret as last seen); an agent
# restarted while the server is still away re-adopts the same containers
# (no duplicates, no restarts); when the server returns, the pod's status
# (restart count, Ready) is the node's again. A pod deleted while the
# agent was down is removed when it comes back.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_images.sh"

data=$E2E_TMP/server agent_dir=$E2E_TMP/agent
mkdir -p "$agent_dir/agent/images"
make_busybox_oci_tar "$agent_dir/agent/images/busybox.tar" busybox:auto
killall_at_exit "$agent_dir"
start_server "$data" --disable-agent --cluster-cidr 10.$((100 + RANDOM % 100)).0.0/16
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
server_url=$(sed -n 's/^ *server: //p' "$KUBECONFIG")
server_cmd=("${SERVER_CMD[@]}")
k() { run kubectl "$@"; }

start_agent() {
  "$KUBIT" agent --server "$server_url" --token "$(cat "$data/server/token")" --data-dir "$agent_dir" \
    --node-name edge1 >>"$E2E_TMP/agent.log" 2>&1 &
  agent_pid=$!
  _e2e_pids="$_e2e_pids $agent_pid"
}
stop_agent() {
  kill -TERM "$agent_pid"
  for _ in $(seq 150); do alive "$agent_pid" || break; sleep 0.1; done
  alive "$agent_pid" && fail "the agent did not stop within 15 s"
  wait "$agent_pid" 2>/dev/null
}
start_agent
node_ready() { [ "$(kubectl get node edge1 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
wait_until 30 "edge1 Ready" node_ready

step "a pod on the board, reading a ConfigMap and a Secret"
marker=$((100000 + RANDOM))
out=$E2E_TMP/starts
touch "$out"
k create configmap cfg --from-literal=greeting=hello-cm
k create secret generic sec --from-literal=word=s3cret
cat >pod.yaml <<YAML
apiVersion: v1
kind: Pod
metadata: {name: keeper}
spec:
  nodeName: edge1
  terminationGracePeriodSeconds: 1
  containers:
  - name: c
    image: busybox:auto
    command: [sh, -c, 'echo "start \$GREETING \$(cat /sec/word)" >> /out/starts; exec sleep $marker']
    env:
    - {name: GREETING, valueFrom: {configMapKeyRef: {name: cfg, key: greeting}}}
    volumeMounts:
    - {name: sec, mountPath: /sec}
    - {name: out, mountPath: /out}
    readinessProbe:
      exec: {command: ["true"]}
      periodSeconds: 1
  volumes:
  - {name: sec, secret: {secretName: sec}}
  - {name: out, hostPath: {path: $E2E_TMP, type: Directory}}
YAML
k apply -f pod.yaml
assert_rc 0 "apply"
ready() { [ "$(kubectl get pod keeper -o jsonpath='{.status.containerStatuses[0].ready}')" = true ]; }
wait_until 60 "keeper ready" ready
assert_eq "$(cat "$out")" "start hello-cm s3cret" "the first start"
assert_file "$agent_dir/agent/state.db" "the agent's state"
assert_mode "$agent_dir/agent/state.db" 600
pid_of() { pgrep -f "^sleep $marker\$"; }
first=$(pid_of)
[ -n "$first" ] || fail "no container process"

step "the server is killed; the container exits and the agent starts it again, with what it kept"
kill_server
kill -KILL "$first"  # the container's init ignores SIGTERM without a handler
restarted() { [ "$(grep -c start "$out")" = 2 ] && [ -n "$(pid_of)" ]; }
wait_until 40 "a second start without the server" restarted
assert_eq "$(tail -1 "$out")" "start hello-cm s3cret" "the second start's ConfigMap and Secret"
second=$(pid_of)

step "the agent restarts while the server is still away: the same container, adopted"
stop_agent
alive "$second" || fail "the container stopped with the agent"
start_agent
wait_for_log "$E2E_TMP/agent.log" 'kept in agent/state.db' "$agent_pid"
assert_eq "$?" 0 "the agent runs the kept pods"
sleep 3
assert_eq "$(pid_of)" "$second" "the container after the agent's restart"
assert_eq "$(grep -c start "$out")" 2 "starts after the agent's restart"

step "the server returns: the pod's status is the node's again"
"${server_cmd[@]}" >"$E2E_TMP/server-back.log" 2>&1 &
SERVER_PID=$!
_e2e_pids="$_e2e_pids $SERVER_PID"
wait_for_log "$E2E_TMP/server-back.log" 'server: ready' "$SERVER_PID"
assert_eq "$?" 0 "the server back"
restarts() { [ "$(kubectl get pod keeper -o jsonpath='{.status.containerStatuses[0].restartCount}')" = 1 ]; }
wait_until 40 "restartCount 1" restarts
wait_until 30 "keeper ready again" ready
assert_eq "$(pid_of)" "$second" "the container after the server's return"

step "a pod deleted while the agent is down is removed when it comes back"
stop_agent
k delete pod keeper --grace-period=0 --force
start_agent
gone() { [ -z "$(pid_of)" ]; }
wait_until 40 "the deleted pod's container gone" gone
sleep 6  # past the offline start: the kept copy must not come back
assert_eq "$(pid_of)" "" "no container of the deleted pod"
stop_agent
stop_server
finish
