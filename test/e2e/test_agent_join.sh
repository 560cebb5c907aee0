#!/bin/bash
# Nodes: the server registers its own node (control-plane), and an agent
# joins with the K10 token: it checks the server's CA against the token
# before sending a secret, gets its own client certificate, registers its
# Node (labels, taints) and renews its Lease. Wrong tokens, a stolen node
# name and a malformed token are refused with errors that say why; the
# agent learns the cluster's network settings (/v1-kubit/config); an agent
# that already joined starts again while the server is away.
. "$(dirname "$0")/lib.sh"

start_server "$E2E_TMP/data" --node-name srv
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
server_url=$(sed -n 's/^ *server: //p' "$KUBECONFIG")
token=$(cat "$E2E_TMP/data/server/token")
k() { run kubectl "$@"; }

wait_node() {  # wait_node NAME: until the Node exists and is Ready
  for _ in $(seq 100); do
    run kubectl get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}'
    [ "$OUT" = True ] && return 0
    sleep 0.1
  done
  fail "node $1 did not become Ready: $OUT $ERR"
}

step "the server's own node"
wait_node srv
k get node srv -o json
assert_contains "$OUT" '"node-role.kubernetes.io/control-plane": "true"'
assert_contains "$OUT" '"kubeletVersion": "v1.32.0+kubit-'
k get lease -n kube-node-lease srv -o jsonpath='{.spec.holderIdentity}'
assert_eq "$OUT" "srv"

step "an agent joins with the token"
"$KUBIT" agent --server "$server_url" --token "$token" --data-dir "$E2E_TMP/agent" \
  --node-name board1 --node-label zone=lab --node-taint dedicated=edge:NoSchedule >"$E2E_TMP/agent.log" 2>&1 &
agent=$!
_e2e_pids="$_e2e_pids $agent"
wait_node board1
assert_mode "$E2E_TMP/agent/agent/kubelet.kubeconfig" 600
assert_mode "$E2E_TMP/agent/agent/node-password" 600
k get node board1 -o jsonpath='{.metadata.labels.zone} {.spec.taints[0].key}={.spec.taints[0].value}:{.spec.taints[0].effect}'
assert_eq "$OUT" "lab dedicated=edge:NoSchedule"
k get lease -n kube-node-lease board1 -o jsonpath='{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name}'
assert_eq "$OUT" "Node/board1"
run kubectl --kubeconfig "$E2E_TMP/agent/agent/kubelet.kubeconfig" auth whoami -o jsonpath='{.status.userInfo.username}'
assert_eq "$OUT" "system:node:board1" "the agent's identity"
# The cluster's network settings, from the server's flags, kept for
# starting while the server is away.
assert_file "$E2E_TMP/agent/agent/cluster-network.json"
assert_contains "$(cat "$E2E_TMP/agent/agent/cluster-network.json")" '"clusterCIDR":"10.42.0.0/16"'
run curl -sk -o /dev/null -w '%{http_code}' "$server_url/v1-kubit/config"
assert_eq "$OUT" 401 "/v1-kubit/config without the token"

step "a node may touch only what its own pods use (Node authorizer)"
nk() { run kubectl --kubeconfig "$E2E_TMP/agent/agent/kubelet.kubeconfig" "$@"; }
k create configmap used --from-literal=a=1
k create configmap unused --from-literal=a=1
k create secret generic s1 --from-literal=p=x
cat >pod.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: onboard1}
spec:
  nodeName: board1
  schedulerName: e2e-none
  containers:
  - name: c
    image: busybox
    envFrom: [{configMapRef: {name: used}}]
    env: [{name: P, valueFrom: {secretKeyRef: {name: s1, key: p}}}]
YAML
k apply -f pod.yaml
nk get configmap used -o jsonpath='{.data.a}'
assert_eq "$OUT" "1" "a configmap its pod uses"
nk get secret s1 -o jsonpath='{.data.p}'
assert_rc 0 "a secret its pod uses"
nk get configmap unused
assert_fails
assert_contains "$ERR" 'User "system:node:board1" cannot get resource "configmaps"'
nk get secrets -A
assert_fails "listing every secret"
nk label node srv stolen=yes
assert_fails "labelling another node"
nk label node board1 mine=yes
assert_rc 0 "labelling its own node"
nk auth can-i update pods/status -n default
assert_eq "$OUT" "no" "can-i of a node for pods in general"
nk delete pod onboard1 --wait=false
assert_rc 0 "deleting its own pod"

step "wrong tokens are refused before anything is sent or done"
bad_ca="K10$(printf '%064d' 0)::server:${token##*::server:}"
run "$KUBIT" agent --server "$server_url" --token "$bad_ca" --data-dir "$E2E_TMP/other" --node-name board2
assert_fails
assert_contains "$ERR" "the server's CA does not match the token"
run "$KUBIT" agent --server "$server_url" --token "${token%%::server:*}::server:wrong" --data-dir "$E2E_TMP/other" --node-name board2
assert_fails
assert_contains "$ERR" 'the server refused to let node "board2" join (401)'
run "$KUBIT" agent --server "$server_url" --token secret-only --data-dir "$E2E_TMP/other"
assert_fails
assert_contains "$ERR" "the token must be the full K10"
run kubectl get node board2
assert_fails "no node board2"

step "another board cannot take a joined node's name"
run "$KUBIT" agent --server "$server_url" --token "$token" --data-dir "$E2E_TMP/thief" --node-name board1
assert_fails
assert_contains "$ERR" 'node password rejected for "board1"'

step "a joined agent starts again while the server is away"
kill "$agent"; wait "$agent" 2>/dev/null
stop_server
"$KUBIT" agent --server "$server_url" --token "$token" --data-dir "$E2E_TMP/agent" \
  --node-name board1 >"$E2E_TMP/agent2.log" 2>&1 &
agent=$!
_e2e_pids="$_e2e_pids $agent"
wait_for_log "$E2E_TMP/agent2.log" 'agent: ready' "$agent" || fail "the agent did not start offline: $(cat "$E2E_TMP/agent2.log")"
wait_for_log "$E2E_TMP/agent2.log" 'cannot update node board1' "$agent" || fail "no log of the unreachable server"
alive "$agent" || fail "the agent exited while the server was away"
finish
