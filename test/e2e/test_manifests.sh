#!/bin/bash
# Auto-deploy manifests: files in <data-dir>/server/manifests are applied
# at start and when they change, tracked as Addons (k3s.cattle.io/v1) in
# kube-system; objects a file drops, or all of a removed file's, are
# deleted; a file that cannot be applied gets a Warning event on its
# Addon; "<file>.skip" keeps a file out; a CRD and its resources can share
# a file.
. "$(dirname "$0")/lib.sh"

data=$E2E_TMP/data
mkdir -p "$data/server/manifests"
m=$data/server/manifests
# Present before the start: applied by the first pass.
cat >"$m/app.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data: {color: blue}
---
apiVersion: v1
kind: Namespace
metadata: {name: demo}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: extra, namespace: demo}
data: {n: "1"}
YAML
cat >"$m/skipped.yaml" <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: skipped}
YAML
touch "$m/skipped.yaml.skip"

start_server "$data" --disable-agent
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
k() { run kubectl "$@"; }

step "a file present at start is applied, namespace first, default namespace for the rest"
wait_until 20 "app-config" kubectl get configmap app-config -n default
wait_until 10 "demo/extra" kubectl get configmap extra -n demo
k get configmap app-config -o 'jsonpath={.data.color}'
assert_eq "$OUT" blue "app-config's data"
k get configmap app-config -o 'jsonpath={.metadata.managedFields[0].manager}'
assert_eq "$OUT" kubit-deploy "the field manager"

step "the file is an Addon in kube-system with its source and checksum"
k get addons -n kube-system
assert_match "$OUT" '^NAME +SOURCE +CHECKSUM$'
k get addon app -n kube-system -o 'jsonpath={.spec.source} {.spec.checksum}'
assert_eq "$OUT" "$m/app.yaml $(checksum "$m/app.yaml")" "Addon app's spec"
k get events -n kube-system --field-selector involvedObject.name=app -o 'jsonpath={.items[*].reason}'
assert_contains "$OUT" AppliedManifest "Addon app's events"

step "a .skip file keeps its manifest out"
k get configmap skipped
assert_rc 1 "skipped.yaml is not applied"

step "a changed file is applied again; what it no longer holds is deleted"
cat >"$m/app.yaml.tmp" <<'YAML'
apiVersion: v1
kind: Namespace
metadata: {name: demo}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: app-config}
data: {color: green}
YAML
mv "$m/app.yaml.tmp" "$m/app.yaml"
wait_until 20 "app-config green" sh -c '[ "$(kubectl get configmap app-config -o jsonpath={.data.color})" = green ]'
wait_until 20 "demo/extra deleted" sh -c '! kubectl get configmap extra -n demo'
k get addon app -n kube-system -o 'jsonpath={.spec.checksum}'
assert_eq "$OUT" "$(checksum "$m/app.yaml")" "the new checksum"

step "a CRD and its custom resource in one file"
cat >"$m/crd.yaml" <<'YAML'
apiVersion: stable.example.com/v1
kind: Widget
metadata: {name: w1}
spec: {size: 3}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.stable.example.com}
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec: {type: object, properties: {size: {type: integer}}}
YAML
wait_until 30 "widget w1" kubectl get widget w1 -n default

step "a file that cannot be applied: a Warning event on its Addon, nothing else changes"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ok-one}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: bad}\nspec: {containers: [{name: c}]}\n' >"$m/bad.yaml"
wait_until 20 "ApplyManifestFailed on Addon bad" sh -c \
  'kubectl get events -n kube-system --field-selector involvedObject.name=bad,reason=ApplyManifestFailed -o name | grep -q .'
k get events -n kube-system --field-selector involvedObject.name=bad,reason=ApplyManifestFailed -o 'jsonpath={.items[0].message}'
assert_contains "$OUT" "Pod/bad" "the event names the object"
printf 'not: [yaml\n' >"$m/broken.yaml"
wait_until 20 "ApplyManifestFailed on Addon broken" sh -c \
  'kubectl get events -n kube-system --field-selector involvedObject.name=broken,reason=ApplyManifestFailed -o name | grep -q .'

step "a removed file: its objects and its Addon are deleted"
rm "$m/app.yaml"
wait_until 20 "app-config deleted" sh -c '! kubectl get configmap app-config'
wait_until 30 "namespace demo gone" sh -c '! kubectl get namespace demo'
k get addon app -n kube-system
assert_rc 1 "Addon app is deleted"

step "after a restart, unchanged files stay applied"
stop_server
start_server "$data" --disable-agent
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
wait_until 20 "widget w1 still there" kubectl get widget w1 -n default
k get addons -n kube-system -o name
assert_contains "$OUT" "addon.k3s.cattle.io/crd"

finish
