#!/bin/bash
# kubectl drain on the server's own node with real pods: the node is
# cordoned, a DaemonSet's pod stays (--ignore-daemonsets), a bare pod is
# refused without --force, and a PodDisruptionBudget holds the last pod of
# a Deployment (429 from the eviction API, retried by kubectl until its
# timeout); without the budget the drain finishes, and uncordon makes the
# node schedulable again.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_images.sh"

data="$E2E_TMP/data"
mkdir -p "$data/agent/images"
make_busybox_oci_tar "$data/agent/images/busybox.tar" busybox:drain
cidr_flags=()
"$KUBIT" server --help 2>/dev/null | grep -q -- '--cluster-cidr' && cidr_flags=(--cluster-cidr 10.$((100 + RANDOM % 100)).0.0/16)
killall_at_exit "$data"
start_server "$data" ${cidr_flags[@]+"${cidr_flags[@]}"}
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
k() { run kubectl "$@"; }
node=$(kubectl get nodes -o jsonpath='{.items[0].metadata.name}')
ready_pods() { kubectl get pods -l "$1" -o jsonpath='{range .items[*]}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}' | grep -c True; }

step "a Deployment of two, its budget, a DaemonSet and a bare pod, all running"
cat >objects.yaml <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: main, image: busybox:drain, command: [sleep, "1000"]}]
---
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata: {name: web}
spec:
  minAvailable: 1
  selector: {matchLabels: {app: web}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      terminationGracePeriodSeconds: 1
      containers: [{name: main, image: busybox:drain, command: [sleep, "1000"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: bare, labels: {app: bare}}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: main, image: busybox:drain, command: [sleep, "1000"]}]
YAML
k apply -f objects.yaml
assert_rc 0 "apply"
wait_until 60 "two web pods Ready" sh -c "[ \$(kubectl get pods -l app=web -o jsonpath='{range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}' | grep -c True) = 2 ]"
wait_until 30 "the DaemonSet's pod Ready" sh -c "kubectl get pods -l app=agent -o jsonpath='{.items[0].status.conditions[?(@.type==\"Ready\")].status}' | grep -q True"
wait_until 30 "the budget allows one disruption" sh -c "[ \"\$(kubectl get pdb web -o jsonpath='{.status.disruptionsAllowed}')\" = 1 ]"

step "without --force, a bare pod stops the drain before anything is evicted (the node is cordoned)"
k drain "$node" --ignore-daemonsets --timeout=10s
assert_fails "drain with a bare pod"
assert_contains "$ERR" "cannot delete Pods that declare no controller" "drain's refusal"
k get node "$node" -o 'jsonpath={.spec.unschedulable}'
assert_eq "$OUT" true "the node is cordoned"
assert_eq "$(ready_pods app=web)" 2 "web pods still running"

step "with --force: the bare pod goes, one web pod is evicted, the budget holds the other"
k drain "$node" --ignore-daemonsets --force --timeout=8s
assert_fails "drain held by the budget"
assert_contains "$OUT$ERR" "disruption budget" "drain's report"
k get pod bare
assert_rc 1 "the bare pod is gone"
# The replacement cannot be scheduled on the cordoned node: one web pod
# runs, the budget allows nothing more.
wait_until 20 "one web pod running" sh -c "[ \$(kubectl get pods -l app=web --field-selector status.phase=Running -o name | wc -l) = 1 ]"
k get pdb web -o 'jsonpath={.status.disruptionsAllowed}'
assert_eq "$OUT" 0 "disruptions allowed"
k get pods -l app=agent -o name
assert_match "$OUT" '^pod/agent-' "the DaemonSet's pod stays"
k get events --field-selector reason=FailedScheduling -o jsonpath='{.items[*].message}'
assert_contains "$OUT" "unschedulable" "the replacement's scheduling failure"

step "without the budget the drain finishes"
k delete pdb web
assert_rc 0 "delete pdb"
k drain "$node" --ignore-daemonsets --force --timeout=30s
assert_rc 0 "drain"
assert_contains "$OUT" "drained" "drain's report"

step "uncordon: the Deployment's pods run again"
k uncordon "$node"
assert_rc 0 "uncordon"
wait_until 60 "two web pods Ready again" sh -c "[ \$(kubectl get pods -l app=web -o jsonpath='{range .items[*]}{.status.conditions[?(@.type==\"Ready\")].status}{\"\\n\"}{end}' | grep -c True) = 2 ]"

finish
