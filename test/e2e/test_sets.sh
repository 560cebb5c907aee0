#!/bin/bash
# DaemonSets through kubectl against `kubit server` on nodes made by hand
# (no kubelet: --disable-agent): one pod per eligible node, pinned by node
# affinity, with the revision hash label and a ControllerRevision; a
# tainted node gets none.
. "$(dirname "$0")/lib.sh"

start_server "$E2E_TMP/data" --disable-agent
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
k() { run kubectl "$@"; }

# eventually CMD...: runs CMD (through `run`) until it exits 0, for at most 30 s.
eventually() {
  deadline=$(($(date +%s) + 30))
  while :; do
    "$@"
    [ "$RC" = 0 ] && return 0
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}

step "a DaemonSet on two nodes (a third one tainted)"
cat >nodes.yaml <<'YAML'
apiVersion: v1
kind: Node
metadata: {name: edge-1, labels: {kubernetes.io/hostname: edge-1}}
---
apiVersion: v1
kind: Node
metadata: {name: edge-2, labels: {kubernetes.io/hostname: edge-2}}
---
apiVersion: v1
kind: Node
metadata: {name: db-1, labels: {kubernetes.io/hostname: db-1}}
spec:
  taints: [{key: dedicated, value: db, effect: NoSchedule}]
YAML
k apply -f nodes.yaml
assert_rc 0
cat >ds.yaml <<'YAML'
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: busybox}]
YAML
k apply -f ds.yaml
assert_rc 0
pinned_nodes() {
  k get pods -l app=agent -o jsonpath='{range .items[*]}{.spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchFields[0].values[0]}{"\n"}{end}'
  [ "$RC" = 0 ] && [ "$(printf '%s\n' "$OUT" | sort | tr '\n' ' ')" = "edge-1 edge-2 " ] || RC=1
}
eventually pinned_nodes || fail "no pod pinned to each of edge-1 and edge-2$(show_run)"
k get pods -l app=agent -o jsonpath='{.items[0].metadata.labels.controller-revision-hash}'
hash=$OUT
[ -n "$hash" ] || fail "no controller-revision-hash label"
k get controllerrevision "agent-$hash" -o jsonpath='{.revision}'
assert_eq "$OUT" "1"
desired() { k get daemonset agent -o jsonpath='{.status.desiredNumberScheduled} {.status.currentNumberScheduled}'; [ "$OUT" = "2 2" ] || RC=1; }
eventually desired || fail "status desired/current not 2 2$(show_run)"

finish
