#!/bin/bash
# Deployments, ReplicaSets, the garbage collector and Endpoints through
# kubectl against the real binary. The server runs without its node
# agent, so nothing runs the pods: the test plays kubelet and marks them
# Running and Ready (with a pod IP) through the status subresource.
. "$(dirname "$0")/lib.sh"

start_server "$E2E_TMP/data" --disable-agent
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
k() { run kubectl "$@"; }

eventually() {
  deadline=$(($(date +%s) + 30))
  while :; do
    "$@"
    [ "$RC" = 0 ] && return 0
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}

# ready_all SELECTOR: every pod not yet Running becomes Running and Ready
# with an IP of its own.
ip=0
ready_all() {
  for pod in $(kubectl get pods -l "$1" -o jsonpath='{range .items[?(@.status.phase!="Running")]}{.metadata.name}{" "}{end}'); do
    ip=$((ip + 1))
    kubectl patch pod "$pod" --subresource=status --type=merge -p \
      "{\"status\":{\"phase\":\"Running\",\"podIP\":\"10.42.0.$ip\",\"conditions\":[{\"type\":\"Ready\",\"status\":\"True\"}]}}" >/dev/null 2>&1
  done
}
# rolled_out NAME: drives readiness once, then asks `kubectl rollout status`.
rolled_out() {
  ready_all "app=$1"
  k rollout status "deployment/$1" --timeout=1s
}
count() { # count KIND SELECTOR: objects not being deleted
  run kubectl get "$1" -l "$2" -o jsonpath='{range .items[*]}[{.metadata.deletionTimestamp}]{end}'
  OUT=$(echo "$OUT" | grep -o '\[\]' | wc -l)
}
pods_are() { count pods "$1"; [ "$OUT" = "$2" ] && RC=0 || RC=1; }

step "kubectl create deployment: a ReplicaSet and 3 pods, owned in a chain"
k create deployment web --image=nginx:1.25 --replicas=3
assert_rc 0
eventually pods_are app=web 3 || fail "no 3 pods$(show_run)"
k get rs -l app=web -o jsonpath='{.items[0].metadata.ownerReferences[0].kind}/{.items[0].metadata.ownerReferences[0].name}/{.items[0].metadata.ownerReferences[0].controller}'
assert_eq "$OUT" "Deployment/web/true"
k get rs -l app=web -o jsonpath='{.items[0].metadata.name}'
rs1=$OUT
k get pods -l app=web -o jsonpath='{.items[0].metadata.ownerReferences[0].kind}/{.items[0].metadata.ownerReferences[0].name}'
assert_eq "$OUT" "ReplicaSet/$rs1"
eventually rolled_out web || fail "rollout did not finish$(show_run)"
assert_contains "$OUT" 'successfully rolled out'

step "kubectl set image: a new ReplicaSet takes over; rollout undo goes back"
k set image deployment/web nginx=nginx:1.26
assert_rc 0
eventually rolled_out web || fail "the update did not roll out$(show_run)"
count rs app=web
assert_eq "$OUT" 2
k get rs "$rs1" -o jsonpath='{.spec.replicas}'
assert_eq "$OUT" 0
k rollout undo deployment/web
assert_rc 0
eventually rolled_out web || fail "the undo did not roll out$(show_run)"
k get deployment web -o jsonpath='{.spec.template.spec.containers[0].image} {.metadata.annotations.deployment\.kubernetes\.io/revision}'
assert_eq "$OUT" "nginx:1.25 3"
k get rs "$rs1" -o jsonpath='{.spec.replicas}'
assert_eq "$OUT" 3
k rollout history deployment/web
assert_contains "$OUT" "3 "

step "kubectl scale"
k scale deployment/web --replicas=5
assert_rc 0
eventually rolled_out web || fail "the scale-up did not finish$(show_run)"
count pods app=web
assert_eq "$OUT" 5

step "a Service gets Endpoints and EndpointSlices with the ready pods' IPs"
k expose deployment web --port=80
assert_rc 0
has_ips() {
  run kubectl get endpoints web -o jsonpath='{range .subsets[*].addresses[*]}{.ip}{" "}{end}'
  [ "$(echo "$OUT" | wc -w)" = 5 ] && RC=0 || RC=1
}
eventually has_ips || fail "no 5 endpoint addresses$(show_run)"
assert_contains "$OUT" "10.42.0."
slice_ips() {
  run kubectl get endpointslices -l kubernetes.io/service-name=web -o jsonpath='{range .items[*].endpoints[*]}{.addresses[0]}{" "}{end}'
  [ "$(echo "$OUT" | wc -w)" = 5 ] && RC=0 || RC=1
}
eventually slice_ips || fail "no 5 slice endpoints$(show_run)"
k get endpointslices -l kubernetes.io/service-name=web -o jsonpath='{.items[0].metadata.labels.endpointslice\.kubernetes\.io/managed-by}'
assert_eq "$OUT" "endpointslice-controller.k8s.io"

step "kubectl delete deployment: its ReplicaSets and pods go too"
k delete deployment web
assert_rc 0
rs_gone() { count rs app=web; [ "$OUT" = 0 ] && RC=0 || RC=1; }
eventually rs_gone || fail "ReplicaSets left$(show_run)"
eventually pods_are app=web 0 || fail "pods left$(show_run)"

step "kubectl delete rs --cascade=orphan leaves the pods, without owners"
cat >rs.yaml <<'YAML'
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: solo}
spec:
  replicas: 2
  selector: {matchLabels: {app: solo}}
  template:
    metadata: {labels: {app: solo}}
    spec: {containers: [{name: c, image: nginx}]}
YAML
k apply -f rs.yaml
assert_rc 0
eventually pods_are app=solo 2 || fail "no 2 solo pods$(show_run)"
k delete rs solo --cascade=orphan
assert_rc 0
rs_solo_gone() { run kubectl get rs solo; [ "$RC" != 0 ] && RC=0 || RC=1; }
eventually rs_solo_gone || fail "the ReplicaSet stayed$(show_run)"
k get pods -l app=solo -o jsonpath='{range .items[*]}{.metadata.name}={.metadata.ownerReferences}{" "}{end}'
assert_eq "$(echo "$OUT" | wc -w)" 2
case "$OUT" in *uid*) fail "pods still owned: $OUT" ;; esac

finish
