#!/bin/bash
# DaemonSets through kubectl against `kubit server` on nodes made by hand
# (no kubelet: --disable-agent): one pod per eligible node, pinned by node
# affinity, with the revision hash label and a ControllerRevision; a
# tainted node gets none. A StatefulSet makes web-0 and its claim, and
# web-1 only once web-0 is Running and Ready (the test plays the kubelet
# through the status subresource). A node whose Lease (made here by hand)
# is not renewed for --node-monitor-grace-period goes Unknown and is
# tainted unreachable.
. "$(dirname "$0")/lib.sh"

start_server "$E2E_TMP/data" --disable-agent --node-monitor-grace-period 3s
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

step "a StatefulSet: web-0, then web-1 once web-0 is Ready, each with its claim"
cat >sts.yaml <<'YAML'
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: web}
spec:
  replicas: 2
  serviceName: web
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      schedulerName: e2e-none
      containers: [{name: web, image: busybox}]
  volumeClaimTemplates:
  - metadata: {name: www}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 1Gi}}
YAML
k apply -f sts.yaml
assert_rc 0
eventually k get pod web-0 -o jsonpath='{.spec.hostname}.{.spec.subdomain} {.spec.volumes[0].persistentVolumeClaim.claimName}' ||
  fail "no web-0$(show_run)"
assert_eq "$OUT" "web-0.web www-web-0"
k get pvc www-web-0 -o name
assert_eq "$OUT" "persistentvolumeclaim/www-web-0"
k get pod web-1
assert_fails "web-1 before web-0 is Ready"
k patch pod web-0 --subresource=status --type=merge -p '{"status":{"phase":"Running","conditions":[{"type":"Ready","status":"True"}]}}'
assert_rc 0
eventually k get pod web-1 -o name || fail "no web-1 after web-0 became Ready$(show_run)"
k get pvc www-web-1 -o name
assert_eq "$OUT" "persistentvolumeclaim/www-web-1"

step "a node whose Lease stops being renewed goes Unknown and is tainted"
cat >lost.yaml <<'YAML'
apiVersion: v1
kind: Node
metadata: {name: lost-1}
---
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: {name: lost-1, namespace: kube-node-lease}
spec: {holderIdentity: lost-1, leaseDurationSeconds: 40, renewTime: "2026-01-01T00:00:00.000000Z"}
YAML
k apply -f lost.yaml
assert_rc 0
k patch node lost-1 --subresource=status --type=merge -p '{"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","message":"kubelet is posting ready status"}]}}'
assert_rc 0
unknown() { k get node lost-1 -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}'; [ "$OUT" = Unknown ] || RC=1; }
eventually unknown || fail "lost-1 not Unknown$(show_run)"
k get node lost-1 -o jsonpath='{.status.conditions[?(@.type=="Ready")].message}'
assert_eq "$OUT" "Kubelet stopped posting node status."
tainted() {
  k get node lost-1 -o jsonpath='{range .spec.taints[*]}{.key}:{.effect}{"\n"}{end}'
  [ "$(printf '%s\n' "$OUT" | sort | tr '\n' ' ')" = "node.kubernetes.io/unreachable:NoExecute node.kubernetes.io/unreachable:NoSchedule " ] || RC=1
}
eventually tainted || fail "lost-1 not tainted unreachable$(show_run)"

finish
