#!/bin/bash
# Custom resources: a CRD is served right after it is established
# (discovery, CRUD, watch, tables from additionalPrinterColumns), objects
# are checked against the openAPIV3Schema (422 with the field path, unknown
# fields pruned), the status subresource keeps status out of ordinary
# updates, and deleting the CRD removes its objects.
. "$(dirname "$0")/lib.sh"

start_server "$E2E_TMP/data"
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
k() { run kubectl "$@"; }

step "a CRD becomes established"
cat >crd.yaml <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: crontabs.stable.example.com
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: crontabs, singular: crontab, kind: CronTab, shortNames: [ct]}
  versions:
  - name: v1
    served: true
    storage: true
    subresources: {status: {}}
    additionalPrinterColumns:
    - {name: Spec, type: string, jsonPath: .spec.cronSpec}
    - {name: Replicas, type: integer, jsonPath: .spec.replicas}
    - {name: Age, type: date, jsonPath: .metadata.creationTimestamp}
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            required: [cronSpec]
            properties:
              cronSpec: {type: string}
              image: {type: string}
              replicas: {type: integer, minimum: 1, default: 1}
          status:
            type: object
            properties:
              phase: {type: string}
YAML
k apply -f crd.yaml
assert_eq "$OUT" "customresourcedefinition.apiextensions.k8s.io/crontabs.stable.example.com created"
k wait --for condition=established --timeout=10s crd/crontabs.stable.example.com
assert_rc 0 "kubectl wait for established"
k api-resources --api-group=stable.example.com
assert_match "$OUT" '^crontabs +ct +stable.example.com/v1 +true +CronTab$'

step "custom objects: create, defaults, table, get"
cat >ct.yaml <<'YAML'
apiVersion: stable.example.com/v1
kind: CronTab
metadata: {name: nightly}
spec: {cronSpec: "0 3 * * *", image: backup, bogus: drop-me}
YAML
k apply -f ct.yaml
assert_fails "strict validation of an unknown field"
assert_contains "$ERR" 'strict decoding error: unknown field "spec.bogus"'
k apply --validate=false -f ct.yaml
assert_eq "$OUT" "crontab.stable.example.com/nightly created"
k get crontabs
assert_match "$OUT" '^NAME +SPEC +REPLICAS +AGE$'
assert_match "$OUT" '^nightly +0 3 \* \* \* +1 +[0-9]+s$'
k get ct nightly -o jsonpath='{.spec.replicas} {.spec.bogus}'
assert_eq "$OUT" "1 " "the default applied and the unknown field pruned"
sed -i 's/, bogus: drop-me//' ct.yaml
k apply -f ct.yaml
assert_eq "$OUT" "crontab.stable.example.com/nightly configured" "the pruned field left the manifest"
k apply -f ct.yaml
assert_eq "$OUT" "crontab.stable.example.com/nightly unchanged"

step "schema validation answers 422 with the field path"
cat >bad.yaml <<'YAML'
apiVersion: stable.example.com/v1
kind: CronTab
metadata: {name: bad}
spec: {replicas: "three"}
YAML
k create -f bad.yaml
assert_fails "an invalid custom object"
assert_contains "$ERR" 'The CronTab "bad" is invalid'
assert_contains "$ERR" 'spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"'
assert_contains "$ERR" 'spec.cronSpec: Required value'

step "merge patch works; strategic merge patch is refused as upstream"
k patch ct nightly --type=merge -p '{"spec":{"replicas":3}}'
assert_eq "$OUT" "crontab.stable.example.com/nightly patched"
k patch ct nightly --type=strategic -p '{"spec":{"replicas":4}}'
assert_fails "strategic merge patch of a custom object"
k get ct nightly -o jsonpath='{.spec.replicas}'
assert_eq "$OUT" "3"

step "status goes through the status subresource only"
k patch ct nightly --type=merge -p '{"status":{"phase":"ignored"}}'
k get ct nightly -o jsonpath='{.status.phase}'
assert_eq "$OUT" "" "status changed through the main resource"
k patch ct nightly --subresource=status --type=merge -p '{"status":{"phase":"Ready"}}'
k get ct nightly -o jsonpath='{.status.phase}'
assert_eq "$OUT" "Ready"

step "a CRD with two versions serves each object in both (conversion None)"
cat >widgets.yaml <<'YAML'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.stable.example.com}
spec:
  group: stable.example.com
  scope: Namespaced
  names: {plural: widgets, singular: widget, kind: Widget}
  versions:
  - {name: v1, served: true, storage: true, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
  - {name: v2, served: true, storage: false, schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}}
YAML
k apply -f widgets.yaml
k wait --for condition=established --timeout=10s crd/widgets.stable.example.com
cat >w.yaml <<'YAML'
apiVersion: stable.example.com/v2
kind: Widget
metadata: {name: w1}
spec: {size: 3}
YAML
k apply -f w.yaml
assert_rc 0 "create through v2"
k get --raw /apis/stable.example.com/v1/namespaces/default/widgets/w1
assert_contains "$OUT" '"apiVersion":"stable.example.com/v1"'
assert_contains "$OUT" '"size":3'
k get --raw /apis/stable.example.com/v2/namespaces/default/widgets/w1
assert_contains "$OUT" '"apiVersion":"stable.example.com/v2"'
k get --raw /apis/stable.example.com/v1/namespaces/default/widgets
assert_eq "$(printf '%s' "$OUT" | jq -r '.kind + " " + .apiVersion + " " + .items[0].metadata.name')" \
  "WidgetList stable.example.com/v1 w1"
k apply -f w.yaml
assert_eq "$OUT" "widget.stable.example.com/w1 unchanged"

step "deleting the CRD removes its objects"
k delete crd crontabs.stable.example.com
assert_rc 0 "delete crd"
for i in $(seq 50); do
  run kubectl get crd crontabs.stable.example.com
  [ "$RC" != 0 ] && break
  sleep 0.1
done
assert_fails "the CRD is gone"
k get --raw /apis/stable.example.com/v1/namespaces/default/crontabs/nightly
assert_fails "its objects are gone"
finish
