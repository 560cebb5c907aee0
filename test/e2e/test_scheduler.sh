#!/bin/bash
# The scheduler inside `kubit server`, seen through kubectl: three Node
# objects (no kubelet behind them: the scheduler only reads them), pods
# placed by requests, nodeSelector, taints and tolerations, anti-affinity
# and topology spread; a pod too big for any node gets PodScheduled=False
# with upstream's message and a FailedScheduling event; a pod of higher
# priority preempts a lower one.
. "$(dirname "$0")/lib.sh"

flags=()
"$KUBIT" server --help 2>/dev/null | grep -q -- '--disable-agent' && flags+=(--disable-agent)
start_server "$E2E_TMP/data" ${flags[@]+"${flags[@]}"}
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
k() { run kubectl "$@"; }

# wait_for WHAT CMD...: retries CMD (a function of the state) for up to 15 s.
wait_for() {
  what=$1
  shift
  for _ in $(seq 150); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "timed out waiting for $what"
}
node_of() { kubectl get pod "$1" -o jsonpath='{.spec.nodeName}'; }
bound() { [ -n "$(node_of "$1")" ]; }
unschedulable() {
  [ "$(kubectl get pod "$1" -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].reason}')" = Unschedulable ]
}

step "three nodes: two workers in zones a and b, a tainted control plane"
node() {  # node NAME ZONE CPU [TAINT]
  taints=""
  [ -n "${4:-}" ] && taints="taints: [{key: $4, effect: NoSchedule}]"
  cat >"node-$1.yaml" <<YAML
apiVersion: v1
kind: Node
metadata:
  name: $1
  labels: {kubernetes.io/hostname: $1, topology.kubernetes.io/zone: $2}
spec: {$taints}
YAML
  k create -f "node-$1.yaml"
  assert_rc 0 "create node $1"
  k patch node "$1" --subresource=status --type=merge \
    -p "{\"status\":{\"capacity\":{\"cpu\":\"$3\",\"memory\":\"4Gi\",\"pods\":\"20\"},\"allocatable\":{\"cpu\":\"$3\",\"memory\":\"4Gi\",\"pods\":\"20\"}}}"
  assert_rc 0 "status of node $1"
}
node n1 a 2
node n2 b 2
node n3 c 4 node-role.kubernetes.io/control-plane

pod() {  # pod NAME YAML-SPEC-LINES...: a pod with the given extra spec lines
  name=$1
  shift
  {
    printf 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: %s\n  labels: {app: %s}\nspec:\n' "$name" "${APP:-$name}"
    printf '  terminationGracePeriodSeconds: 0\n'
    printf '  containers: [{name: c, image: busybox, resources: {requests: {cpu: "%s"}}}]\n' "${CPU:-0}"
    for line in "$@"; do printf '  %s\n' "$line"; done
  } >"pod-$name.yaml"
  k create -f "pod-$name.yaml"
  assert_rc 0 "create pod $name"
}

step "a pod with requests lands on a worker, never on the tainted node"
CPU=500m pod small
wait_for "small to be bound" bound small
assert_match "$(node_of small)" '^n[12]$' "node of small"
assert_eq "$(kubectl get pod small -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].status}')" True
k get events --field-selector involvedObject.name=small -o jsonpath='{range .items[*]}{.reason}|{.message}|{.source.component}{"\n"}{end}'
assert_contains "$OUT" "Scheduled|Successfully assigned default/small to $(node_of small)|default-scheduler"

step "nodeSelector and a toleration"
pod zoned "nodeSelector: {topology.kubernetes.io/zone: b}"
pod tolerant "nodeSelector: {kubernetes.io/hostname: n3}" \
  "tolerations: [{key: node-role.kubernetes.io/control-plane, operator: Exists, effect: NoSchedule}]"
wait_for "zoned to be bound" bound zoned
wait_for "tolerant to be bound" bound tolerant
assert_eq "$(node_of zoned)" n2 "node of zoned"
assert_eq "$(node_of tolerant)" n3 "node of tolerant"

step "required anti-affinity: one per node, the third fits nowhere"
anti="affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{labelSelector: {matchLabels: {app: anti}}, topologyKey: kubernetes.io/hostname}]}}"
APP=anti pod anti-1 "$anti"
APP=anti pod anti-2 "$anti"
wait_for "anti-1 to be bound" bound anti-1
wait_for "anti-2 to be bound" bound anti-2
[ "$(node_of anti-1)" != "$(node_of anti-2)" ] || fail "anti-1 and anti-2 share node $(node_of anti-1)"
APP=anti pod anti-3 "$anti"
wait_for "anti-3 to be unschedulable" unschedulable anti-3
assert_eq "$(kubectl get pod anti-3 -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].message}')" \
  "0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 node(s) didn't match pod anti-affinity rules. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."

step "topology spread over zones (tainted nodes left out: nodeTaintsPolicy Honor)"
spread="topologySpreadConstraints: [{maxSkew: 1, topologyKey: topology.kubernetes.io/zone, whenUnsatisfiable: DoNotSchedule, nodeTaintsPolicy: Honor, labelSelector: {matchLabels: {app: ts}}}]"
APP=ts pod ts-1 "$spread"
wait_for "ts-1 to be bound" bound ts-1
APP=ts pod ts-2 "$spread"
wait_for "ts-2 to be bound" bound ts-2
[ "$(node_of ts-1)" != "$(node_of ts-2)" ] || fail "ts-1 and ts-2 share zone ($(node_of ts-1))"

step "a pod too big for any node: PodScheduled=False, Unschedulable, upstream's message and event"
CPU=64 pod big
wait_for "big to be unschedulable" unschedulable big
msg="0/3 nodes are available: 1 node(s) had untolerated taint {node-role.kubernetes.io/control-plane: }, 2 Insufficient cpu. preemption: 0/3 nodes are available: 1 Preemption is not helpful for scheduling, 2 No preemption victims found for incoming pod."
assert_eq "$(kubectl get pod big -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].status}')" False
assert_eq "$(kubectl get pod big -o jsonpath='{.status.conditions[?(@.type=="PodScheduled")].message}')" "$msg"
k describe pod big
assert_rc 0
assert_match "$OUT" "Warning +FailedScheduling +.*default-scheduler +0/3 nodes are available: 1 node\(s\) had untolerated taint"
k get pods big
assert_match "$OUT" '^big +0/1 +Pending'

step "a higher-priority pod preempts a lower one"
CPU=1500m pod victim "nodeSelector: {kubernetes.io/hostname: n1}"
wait_for "victim to be bound" bound victim
k create priorityclass high --value=1000
assert_rc 0
CPU=2 pod vip "nodeSelector: {kubernetes.io/hostname: n1}" "priorityClassName: high"
wait_for "vip to be bound" bound vip
assert_eq "$(node_of vip)" n1 "node of vip"
k get pod victim
assert_fails "the victim is gone"
k get events --field-selector involvedObject.name=victim -o jsonpath='{range .items[*]}{.reason}|{.message}{"\n"}{end}'
assert_match "$OUT" "^Preempted\|Preempted by pod $(kubectl get pod vip -o jsonpath='{.metadata.uid}') on node n1$"
k get events --field-selector involvedObject.name=vip -o jsonpath='{range .items[*]}{.reason}|{.message}{"\n"}{end}'
assert_match "$OUT" '^FailedScheduling\|0/3 nodes are available: .*Insufficient cpu'
assert_match "$OUT" '^Scheduled\|Successfully assigned default/vip to n1$'

finish
