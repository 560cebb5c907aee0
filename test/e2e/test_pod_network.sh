#!/bin/bash
# Pod CIDRs: the server's node IPAM controller gives every Node its own /24
# of --cluster-cidr in spec.podCIDR and spec.podCIDRs: the server's own
# node, a joined agent, and a Node made with kubectl; a deleted node's
# range is not handed out again at once. A malformed --cluster-cidr is
# refused. (The pod network itself is tested with real namespaces in the
# unit tests test/unit/podnet_bridge_test.cc.)
. "$(dirname "$0")/lib.sh"

step "a malformed --cluster-cidr is refused"
run "$KUBIT" server --data-dir "$E2E_TMP/bad" --cluster-cidr 10.77.0.1/16
assert_rc 2
assert_contains "$ERR" 'invalid --cluster-cidr "10.77.0.1/16"'
run "$KUBIT" server --data-dir "$E2E_TMP/bad" --cluster-cidr 10.77.0.0/26
assert_rc 2

start_server "$E2E_TMP/data" --node-name srv --cluster-cidr 10.77.0.0/16
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
server_url=$(sed -n 's/^ *server: //p' "$KUBECONFIG")
token=$(cat "$E2E_TMP/data/server/token")

pod_cidr() {  # pod_cidr NODE: waits for its podCIDR; OUT is "podCIDR podCIDRs[0]"
  for _ in $(seq 100); do
    run kubectl get node "$1" -o jsonpath='{.spec.podCIDR} {.spec.podCIDRs[0]}'
    [ "$OUT" != " " ] && [ -n "$OUT" ] && return 0
    sleep 0.1
  done
  fail "node $1 got no podCIDR: $OUT $ERR"
}

step "the server's node, an agent's and a node made by hand get their own /24"
"$KUBIT" agent --server "$server_url" --token "$token" --data-dir "$E2E_TMP/agent" \
  --node-name board1 >"$E2E_TMP/agent.log" 2>&1 &
_e2e_pids="$_e2e_pids $!"
run kubectl create -f - <<'YAML'
apiVersion: v1
kind: Node
metadata: {name: byhand}
YAML
assert_rc 0
declare -A cidr
for n in srv board1 byhand; do
  pod_cidr "$n"
  assert_match "$OUT" '^10\.77\.[0-9]+\.0/24 10\.77\.[0-9]+\.0/24$' "node $n's podCIDR"
  read -r a b <<<"$OUT"
  assert_eq "$a" "$b" "podCIDR and podCIDRs[0] of $n"
  cidr[$n]=$a
done
run kubectl get nodes -o jsonpath='{range .items[*]}{.spec.podCIDR}{"\n"}{end}'
assert_eq "$(sort <<<"$OUT" | uniq -d)" "" "no range given twice"

step "a deleted node's range is not given at once to the next node"
run kubectl delete node byhand
assert_rc 0
run kubectl create -f - <<'YAML'
apiVersion: v1
kind: Node
metadata: {name: next}
YAML
pod_cidr next
read -r a _ <<<"$OUT"
for n in srv board1 byhand; do
  [ "$a" != "${cidr[$n]}" ] || fail "node next got $a, the range of $n"
done

step "kubit killall removes the data dir's pod network and nothing else"
run "$KUBIT" killall --data-dir "$E2E_TMP/unused"
assert_rc 0
assert_contains "$ERR" "removed the pod network (bridge kb"
finish
