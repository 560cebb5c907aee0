#!/bin/bash
# ResourceQuota and LimitRange as kubectl sees them: a quota of two pods
# refuses a third with upstream's message and frees the slot when a pod
# is deleted (the resource quota controller gives it back), `kubectl get
# quota` and `kubectl describe quota` show Used/Hard, a LimitRange default
# gives a pod its limits and its max refuses a bigger one, and a
# Deployment beyond its quota shows FailedCreate on its ReplicaSet. No
# kubelet: quota counts pods whether they run or not.
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
# used_is QUOTA RESOURCE VALUE: status.used of the quota shows VALUE.
used_is() {
  k get quota "$1" -n quota -o "jsonpath={.status.used.$2}"
  [ "$RC" = 0 ] && [ "$OUT" = "$3" ] || RC=1
}

# pod NAME [RESOURCES]: creates a pod whose container "NAME" has RESOURCES
# (a YAML flow mapping such as "{requests: {memory: 64Mi}}").
pod() {
  cat >"pod-$1.yaml" <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1, namespace: quota}
spec:
  restartPolicy: Never
  containers:
  - {name: $1, image: busybox, command: [sleep, "1"], resources: ${2:-{\}}}
YAML
  k create -f "pod-$1.yaml"
}

k create namespace quota
assert_rc 0

step "a quota of two pods: the controller fills in its status"
k create quota pods --hard=pods=2,requests.memory=1Gi -n quota
assert_rc 0
eventually used_is pods pods 0 || fail "the quota's status.used was not filled in$(show_run)"
k get quota -n quota
assert_rc 0
assert_match "$OUT" '^NAME +AGE +REQUEST +LIMIT$' "kubectl get quota header"
assert_match "$OUT" '^pods +[0-9]+s +pods: 0/2, requests.memory: 0/1Gi +$' "kubectl get quota row"

step "two pods fit, a third is refused with upstream's message"
for p in one two; do
  pod "$p" '{requests: {memory: 64Mi}}'
  assert_rc 0 "kubectl run $p"
done
pod three '{requests: {memory: 64Mi}}'
assert_fails "a third pod"
assert_contains "$ERR" 'pods "three" is forbidden: exceeded quota: pods, requested: pods=1, used: pods=2, limited: pods=2'
pod bare
assert_fails "a pod without a memory request"
assert_contains "$ERR" 'pods "bare" is forbidden: failed quota: pods: must specify requests.memory for: bare'
k describe quota pods -n quota
assert_rc 0
assert_match "$OUT" '^pods +2 +2$' "describe quota: pods used/hard"
assert_match "$OUT" '^requests.memory +128Mi +1Gi$' "describe quota: memory used/hard"

step "deleting a pod frees its slot"
k delete pod one -n quota --wait=false
assert_rc 0
eventually used_is pods pods 1 || fail "the deleted pod's slot was not given back$(show_run)"
pod three '{requests: {memory: 64Mi}}'
assert_rc 0 "the third pod after a deletion"

step "a LimitRange default gives a pod its limits; its max refuses more"
k delete quota pods -n quota
assert_rc 0
cat >limits.yaml <<'YAML'
apiVersion: v1
kind: LimitRange
metadata: {name: limits, namespace: quota}
spec:
  limits:
  - type: Container
    max: {cpu: 500m}
    default: {cpu: 200m, memory: 32Mi}
    defaultRequest: {cpu: 100m}
YAML
k apply -f limits.yaml
assert_rc 0
pod defaulted
assert_rc 0
k get pod defaulted -n quota -o 'jsonpath={.spec.containers[0].resources.limits.cpu} {.spec.containers[0].resources.limits.memory} {.spec.containers[0].resources.requests.cpu} {.spec.containers[0].resources.requests.memory}'
assert_eq "$OUT" "200m 32Mi 100m 32Mi" "the defaulted limits and requests"
pod big '{limits: {cpu: "1"}}'
assert_fails "a pod above the LimitRange max"
assert_contains "$ERR" 'pods "big" is forbidden: maximum cpu usage per Container is 500m, but limit is 1'
k describe limitrange limits -n quota
assert_rc 0
assert_match "$OUT" '^ *Container +cpu +- +500m +100m +200m +-$' "describe limitrange"

step "a Deployment beyond its quota: FailedCreate on its ReplicaSet"
k delete limitrange limits -n quota
assert_rc 0
k delete pods --all -n quota --wait=false
assert_rc 0
k create quota three -n quota --hard=count/pods=3
assert_rc 0
eventually used_is three 'count/pods' 0 || fail "the quota did not see the pods go$(show_run)"
k create deployment web -n quota --image=busybox --replicas=5 -- sleep 3600
assert_rc 0
failed_create() {
  k get events -n quota --field-selector reason=FailedCreate,involvedObject.kind=ReplicaSet -o 'jsonpath={.items[*].message}'
  [ "$RC" = 0 ] && [ -n "$OUT" ] || RC=1
}
eventually failed_create || fail "no FailedCreate event on the ReplicaSet$(show_run)"
assert_match "$OUT" 'Error creating: pods "web-[a-z0-9]+-[a-z0-9]+" is forbidden: exceeded quota: three, requested: count/pods=1, used: count/pods=3, limited: count/pods=3'
k get pods -n quota -o name
assert_eq "$(printf '%s\n' "$OUT" | grep -c .)" 3 "pods of the Deployment"

finish
