#!/bin/bash
# Resource metrics (issues 5 and 6): the kubelet's /metrics/resource
# scraped every --metric-resolution into metrics.k8s.io/v1beta1, read by
# `kubectl top node|pod` and by an HPA that scales a CPU-burning
# Deployment; `--disable metrics-server` serves no metrics API. One
# burner at a time (the machine may have two cores), deleted as soon as
# it has shown what it must.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_images.sh"

step "--metric-resolution wants a duration of at least 1s"
run "$KUBIT" server --data-dir "$E2E_TMP/bad" --metric-resolution 500ms
assert_rc 2
assert_contains "$ERR" 'invalid --metric-resolution "500ms"'
run "$KUBIT" server --data-dir "$E2E_TMP/bad" --metric-resolution fast
assert_rc 2

data=$E2E_TMP/data
mkdir -p "$data/agent/images"
make_busybox_oci_tar "$data/agent/images/busybox.tar" busybox:metrics
killall_at_exit "$data"
start_server "$data" --node-name metrics-node --metric-resolution 2s \
  --cluster-cidr 10.$((100 + RANDOM % 100)).0.0/16
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
k() { run kubectl "$@"; }

step "a Deployment burning a core (cpu request 100m), an idle pod, a pod elsewhere"
cat >pods.yaml <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: burn}
spec:
  replicas: 1
  selector: {matchLabels: {app: burn}}
  template:
    metadata: {labels: {app: burn}}
    spec:
      terminationGracePeriodSeconds: 0
      containers:
      - name: burner
        image: busybox:metrics
        command: [sh, -c, 'while :; do :; done']
        resources: {requests: {cpu: 100m}}
---
apiVersion: v1
kind: Pod
metadata: {name: idle, labels: {app: idle}}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: sleeper, image: busybox:metrics, command: [sleep, "3600"]}
---
apiVersion: v1
kind: Namespace
metadata: {name: metrics-other}
---
apiVersion: v1
kind: Pod
metadata: {name: quiet, namespace: metrics-other}
spec:
  terminationGracePeriodSeconds: 0
  containers:
  - {name: sleeper, image: busybox:metrics, command: [sleep, "3600"]}
YAML
k apply -f pods.yaml
assert_rc 0 "apply$(show_run)"

# top_has ARGS...: `kubectl top pod ARGS` lists the burner and the idle pod.
top_has() {
  out=$(kubectl top pod "$@" 2>&1) || return 1
  grep -q '^burn-' <<<"$out" && grep -q '^idle ' <<<"$out"
}
wait_until 40 "kubectl top pod to show both pods" top_has
step "kubectl top pod: the burner near a core, the idle pod low"
k top pod
assert_rc 0 "top pod$(show_run)"
assert_match "$OUT" '^NAME +CPU\(cores\) +MEMORY\(bytes\) *$'
burn_cpu=$(awk '/^burn-/ {print $2}' <<<"$OUT")
idle_cpu=$(awk '/^idle / {print $2}' <<<"$OUT")
millis() { case $1 in *m) echo "${1%m}" ;; *) echo $(($1 * 1000)) ;; esac; }
[ "$(millis "$burn_cpu")" -gt 500 ] || fail "the burner uses $burn_cpu, want > 500m$(show_run)"
[ "$(millis "$idle_cpu")" -lt 50 ] || fail "the idle pod uses $idle_cpu, want < 50m$(show_run)"
assert_match "$OUT" '^idle +[0-9]+m +[0-9]+Mi *$'
assert_no_match "$OUT" 'quiet'

step "kubectl top pod --containers, -l, -A"
k top pod --containers
assert_rc 0
assert_match "$OUT" '^POD +NAME +CPU\(cores\) +MEMORY\(bytes\) *$'
assert_match "$OUT" '^burn-[a-z0-9-]+ +burner +[0-9]+m +[0-9]+Mi *$'
assert_match "$OUT" '^idle +sleeper +[0-9]+m +[0-9]+Mi *$'
k top pod -l app=idle
assert_rc 0
assert_match "$OUT" '^idle '
assert_no_match "$OUT" '^burn-'
wait_until 20 "metrics of the pod in metrics-other" kubectl top pod -n metrics-other quiet
k top pod -A
assert_rc 0
assert_match "$OUT" '^NAMESPACE +NAME +CPU\(cores\) +MEMORY\(bytes\) *$'
assert_match "$OUT" '^metrics-other +quiet +[0-9]+m '
assert_match "$OUT" '^default +idle +[0-9]+m '

step "kubectl top node: CPU and memory with their share of allocatable"
k top node
assert_rc 0 "top node$(show_run)"
assert_match "$OUT" '^NAME +CPU\(cores\) +CPU(\(%\)|%) +MEMORY\(bytes\) +MEMORY(\(%\)|%) *$'
assert_match "$OUT" '^metrics-node +[0-9]+m +[0-9]+% +[0-9]+Mi +[0-9]+% *$'
k get --raw /apis/metrics.k8s.io/v1beta1/nodes
assert_rc 0
assert_contains "$OUT" '"kind":"NodeMetricsList"'
assert_contains "$OUT" '"name":"metrics-node"'
assert_match "$OUT" '"window":"[0-9.]+s"'

step "an HPA at 50% of the request scales the burner up"
k autoscale deployment burn --cpu-percent=50 --min=1 --max=3
assert_rc 0 "autoscale$(show_run)"
scaled() { [ "$(kubectl get deployment burn -o jsonpath='{.spec.replicas}')" -gt 1 ]; }
wait_until 40 "the HPA to scale burn up" scaled
k get hpa burn
assert_rc 0
assert_match "$OUT" '^NAME +REFERENCE +TARGETS +MINPODS +MAXPODS +REPLICAS +AGE *$'
assert_match "$OUT" '^burn +Deployment/burn +cpu: [0-9]+%/50% +1 +3 +[0-9]+ '
# No more burners than needed: the CPU is shared with whatever else runs.
k delete deployment burn --wait=false
assert_rc 0
k get events --field-selector reason=SuccessfulRescale -o jsonpath='{.items[*].message}'
assert_match "$OUT" 'New size: 3; reason: cpu resource utilization \(percentage of request\) above target'

step "--disable metrics-server: no metrics API"
data2=$E2E_TMP/data2
start_server "$data2" --disable-agent --disable metrics-server
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
k top node
assert_fails
assert_contains "$ERR" 'Metrics API not available'
k get --raw /apis/metrics.k8s.io/v1beta1/nodes
assert_fails
k api-versions
assert_no_match "$OUT" '^metrics\.k8s\.io/'
