#!/bin/bash
# The controllers `kubit server` runs: every namespace gets the "default"
# ServiceAccount and the kube-root-ca.crt ConfigMap (made again when
# deleted), and `kubectl delete namespace` empties a namespace (built-in
# kinds and custom resources) and removes it. The controllers and the
# scheduler hold their Leases in kube-system, and a server killed and
# started again takes them back at once.
. "$(dirname "$0")/lib.sh"

start_server "$E2E_TMP/data"
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
k() { run kubectl "$@"; }

# eventually CMD...: runs CMD (through `run`) until it exits 0, for at most
# 30 s.
eventually() {
  deadline=$(($(date +%s) + 30))
  while :; do
    "$@"
    [ "$RC" = 0 ] && return 0
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}

step "a new namespace gets the default ServiceAccount and kube-root-ca.crt"
k create namespace team
assert_rc 0
eventually k get serviceaccount default -n team -o name || fail "no default ServiceAccount$(show_run)"
assert_eq "$OUT" "serviceaccount/default"
eventually k get configmap kube-root-ca.crt -n team -o jsonpath='{.data.ca\.crt}' ||
  fail "no kube-root-ca.crt$(show_run)"
ca=$(grep certificate-authority-data "$KUBECONFIG" | awk '{print $2}' | base64 -d)
assert_eq "$OUT" "$ca" "the published CA"
# The namespaces that were there before the controllers started too.
k get serviceaccount default -n kube-system -o name
assert_rc 0

step "deleted, they come back"
k get serviceaccount default -n team -o jsonpath='{.metadata.uid}'
old_uid=$OUT
k delete serviceaccount default -n team
assert_rc 0
same_sa() { k get serviceaccount default -n team -o jsonpath='{.metadata.uid}'; [ "$RC" = 0 ] && [ "$OUT" != "$old_uid" ] || RC=1; }
eventually same_sa || fail "the default ServiceAccount was not made again"
k delete configmap kube-root-ca.crt -n team
assert_rc 0
eventually k get configmap kube-root-ca.crt -n team -o name || fail "kube-root-ca.crt was not made again"

step "kubectl delete namespace with configmaps, secrets and custom resources inside"
cat >crd.yaml <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: gadgets.example.com
spec:
  group: example.com
  scope: Namespaced
  names: {plural: gadgets, singular: gadget, kind: Gadget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}
YAML
k apply -f crd.yaml
assert_rc 0
k wait --for condition=established --timeout=10s crd/gadgets.example.com
assert_rc 0
k create namespace x
assert_rc 0
k create configmap c1 -n x --from-literal=a=b
assert_rc 0
k create secret generic s1 -n x --from-literal=p=q
assert_rc 0
cat >gadget.yaml <<'YAML'
apiVersion: example.com/v1
kind: Gadget
metadata: {name: g1, namespace: x}
spec: {size: 3}
YAML
k apply -f gadget.yaml
assert_rc 0
k create configmap keep -n team --from-literal=a=b
assert_rc 0
k delete namespace x --timeout=60s
assert_rc 0 "kubectl delete namespace"
assert_eq "$OUT" 'namespace "x" deleted'
k get namespace x
assert_fails "the namespace is gone"
assert_contains "$ERR" 'namespaces "x" not found'
for path in api/v1/namespaces/x/configmaps api/v1/namespaces/x/secrets \
  api/v1/namespaces/x/serviceaccounts apis/example.com/v1/namespaces/x/gadgets; do
  k get --raw "/$path"
  assert_rc 0
  assert_eq "$(printf '%s' "$OUT" | jq '.items | length')" "0" "objects left in /$path"
done
k get configmap keep -n team -o name
assert_eq "$OUT" "configmap/keep" "other namespaces keep their content"

step "the controllers and the scheduler hold their Leases; after a kill -9 the server takes them back"
id=$(cat "$E2E_TMP/data/server/leader-identity")
assert_match "$id" "^$(hostname)_[0-9a-f-]{36}\$" "the leader identity"
for lease in kube-controller-manager kube-scheduler; do
  k get lease -n kube-system "$lease" -o 'jsonpath={.spec.holderIdentity} {.spec.leaseDurationSeconds}'
  assert_eq "$OUT" "$id 15" "lease $lease"
done
kill_server
start_server "$E2E_TMP/data"
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
# Controllers run again at once (not after the 15 s lease): a new
# namespace gets its ServiceAccount.
k create namespace after-restart
eventually k get serviceaccount default -n after-restart || fail "no default ServiceAccount after the restart"
k get lease -n kube-system kube-controller-manager -o 'jsonpath={.spec.leaseTransitions}'
assert_eq "$OUT" 0 "lease transitions (the same holder)"

finish
