#!/bin/bash
# The API server as kubectl v1.32 sees it: discovery, apply (created /
# unchanged / configured), get/-o yaml, label, annotate, patch of each type,
# replace with a stale object (conflict), edit, dry-run, watch, delete,
# RBAC with --as and tokens, and bad input answered with upstream's errors.
. "$(dirname "$0")/lib.sh"

start_server "$E2E_TMP/data"
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
k() { run kubectl "$@"; }

step "the generated files are private"
assert_mode "$KUBECONFIG" 600
assert_mode "$E2E_TMP/data/server/token" 600
assert_mode "$E2E_TMP/data/server/tls/server-ca.key" 600
assert_match "$(cat "$E2E_TMP/data/server/token")" '^K10[0-9a-f]{64}::server:[0-9a-f]+$' "the join token"

step "discovery and the default namespaces"
k api-resources
assert_rc 0 "kubectl api-resources"
assert_match "$OUT" '^deployments +deploy +apps/v1 +true +Deployment$'
assert_match "$OUT" '^namespaces +ns +v1 +false +Namespace$'
k get namespaces
assert_match "$OUT" '^default +Active'
assert_match "$OUT" '^kube-system +Active'

step "apply: created, unchanged, configured"
cat >cm.yaml <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata:
  name: demo
  labels: {app: demo}
data:
  a: "1"
YAML
k apply -f cm.yaml
assert_eq "$OUT" "configmap/demo created"
k apply -f cm.yaml
assert_eq "$OUT" "configmap/demo unchanged"
sed -i 's/"1"/"2"/' cm.yaml
k apply -f cm.yaml
assert_eq "$OUT" "configmap/demo configured"
k get configmap demo -o jsonpath='{.data.a}'
assert_eq "$OUT" "2"
k get cm
assert_match "$OUT" '^NAME +DATA +AGE$'
assert_match "$OUT" '^demo +1 +[0-9]+s$'

step "label, annotate and the three patch types"
k label cm demo tier=web
assert_eq "$OUT" "configmap/demo labeled"
k annotate cm demo note=hello
assert_eq "$OUT" "configmap/demo annotated"
k patch cm demo --type=merge -p '{"data":{"b":"3"}}'
assert_eq "$OUT" "configmap/demo patched"
k patch cm demo --type=json -p '[{"op":"remove","path":"/data/a"}]'
assert_eq "$OUT" "configmap/demo patched"
k patch cm demo --type=strategic -p '{"metadata":{"labels":{"tier":null}}}'
assert_eq "$OUT" "configmap/demo patched"
k get cm demo -o yaml
assert_match "$OUT" '^  b: "3"$'
assert_no_match "$OUT" '^  a: '
assert_match "$OUT" '^    note: hello$'
assert_no_match "$OUT" 'tier: web'
k get cm -l app=demo -o name
assert_eq "$OUT" "configmap/demo"
k get cm -l 'app in (other)' -o name
assert_eq "$OUT" ""

step "replace with a stale object is a conflict"
k get cm demo -o json
printf '%s' "$OUT" >stale.json
k patch cm demo --type=merge -p '{"data":{"c":"4"}}'
k replace -f stale.json
assert_fails "replace of a stale object"
assert_contains "$ERR" 'the object has been modified; please apply your changes to the latest version and try again'

step "edit with an EDITOR script"
cat >editor.sh <<'SH'
#!/bin/sh
sed -i 's/^  b: "3"$/  b: "edited"/' "$1"
SH
chmod +x editor.sh
EDITOR="$E2E_TMP/editor.sh" k edit cm demo
assert_rc 0 "kubectl edit"
k get cm demo -o jsonpath='{.data.b}'
assert_eq "$OUT" "edited"

step "server-side dry run writes nothing"
cat >cm2.yaml <<'YAML'
apiVersion: v1
kind: ConfigMap
metadata: {name: ghost}
data: {x: "1"}
YAML
k apply --dry-run=server -f cm2.yaml
assert_rc 0 "apply --dry-run=server"
k get cm ghost
assert_fails "get of a dry-run object"
assert_contains "$ERR" 'configmaps "ghost" not found'

step "watch sees changes"
kubectl get cm demo -w -o name >watch.out 2>&1 &
watcher=$!
sleep 1
k label cm demo watched=yes
sleep 1
kill $watcher 2>/dev/null; wait $watcher 2>/dev/null
assert_match "$(cat watch.out)" '^configmap/demo$'
[ "$(grep -c 'configmap/demo' watch.out)" -ge 2 ] || fail "watch did not see the change: $(cat watch.out)"

step "bad input: invalid names (422), malformed JSON (400), oversized bodies (413)"
printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"Bad_Name"}}' >bad.json
k create -f bad.json
assert_fails "create with an invalid name"
assert_contains "$ERR" 'ConfigMap "Bad_Name" is invalid: metadata.name: Invalid value: "Bad_Name"'
k get --raw /api/v1/namespaces/default/configmaps/demo
rv_before=$(printf '%s' "$OUT" | sed 's/.*"resourceVersion":"\([0-9]*\)".*/\1/')
head -c 4000000 /dev/zero | tr '\0' 'a' | sed 's/^/{"a":"/;s/$/"}/' >big.json
k create --raw /api/v1/namespaces/default/configmaps -f big.json
assert_fails "an oversized body"
assert_match "$ERR" 'larger than the limit|Request Entity Too Large|413'
printf '{"apiVersion":"v1",' >broken.json
k create --raw /api/v1/namespaces/default/configmaps -f broken.json
assert_fails "a malformed body"
assert_contains "$ERR" 'BadRequest'
k get --raw /api/v1/namespaces/default/configmaps/demo
assert_contains "$OUT" "\"resourceVersion\":\"$rv_before\""

step "kubectl's strict field validation is done by the server"
printf 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: typo}\ndatta: {a: "1"}\n' >typo.yaml
k apply -f typo.yaml
assert_fails "apply with an unknown field"
assert_contains "$ERR" 'strict decoding error: unknown field "datta"'
k get cm typo
assert_fails "nothing was created"
k explain configmap.data
assert_rc 0 "kubectl explain"
assert_contains "$OUT" 'FIELD: data <map[string]string>'

step "per-kind defaults and validation"
k create deployment defaulted --image=nginx
assert_rc 0 "create deployment"
k get deployment defaulted -o jsonpath='{.spec.strategy.rollingUpdate.maxSurge} {.spec.revisionHistoryLimit} {.spec.template.spec.restartPolicy} {.spec.template.spec.containers[0].terminationMessagePath}'
assert_eq "$OUT" "25% 10 Always /dev/termination-log"
cat >nopod.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: empty}
spec: {containers: []}
YAML
k apply -f nopod.yaml
assert_fails "a pod without containers"
assert_contains "$ERR" 'spec.containers: Required value'
cat >mismatch.yaml <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: mismatch}
spec:
  selector: {matchLabels: {app: a}}
  template:
    metadata: {labels: {app: b}}
    spec: {containers: [{name: c, image: nginx}]}
YAML
k apply -f mismatch.yaml
assert_fails "a deployment whose selector does not match its template"
assert_contains "$ERR" '`selector` does not match template `labels`'

step "namespaces must exist"
printf '{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x","namespace":"nowhere"}}' >nons.json
k create -f nons.json
assert_fails "create in a missing namespace"
assert_contains "$ERR" 'namespaces "nowhere" not found'

step "RBAC: impersonation, can-i, ServiceAccount tokens"
k get configmaps --as=bob
assert_fails "bob lists configmaps"
assert_contains "$ERR" 'configmaps is forbidden: User "bob" cannot list resource "configmaps" in API group "" in the namespace "default"'
printf '{"apiVersion":"v1","kind":"ServiceAccount","metadata":{"name":"robot"}}' >sa.json
k create -f sa.json
assert_rc 0 "create serviceaccount"
printf '{"apiVersion":"authentication.k8s.io/v1","kind":"TokenRequest","spec":{}}' >tr.json
k create --raw /api/v1/namespaces/default/serviceaccounts/robot/token -f tr.json
assert_rc 0 "token request"
token=$(printf '%s' "$OUT" | sed 's/.*"token":"\([^"]*\)".*/\1/')
k get cm --token="$token" --kubeconfig=/dev/null --server="$(grep server: "$KUBECONFIG" | awk '{print $2}')" --insecure-skip-tls-verify
assert_fails "the robot lists configmaps before any binding"
assert_contains "$ERR" 'User "system:serviceaccount:default:robot" cannot list'
cat >rb.json <<'JSON'
{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"robot-view"},
 "roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"view"},
 "subjects":[{"kind":"ServiceAccount","name":"robot","namespace":"default"}]}
JSON
k create -f rb.json
assert_rc 0 "create rolebinding"
sleep 0.5
k get cm demo -o name --token="$token" --kubeconfig=/dev/null --server="$(grep server: "$KUBECONFIG" | awk '{print $2}')" --insecure-skip-tls-verify
assert_eq "$OUT" "configmap/demo" "the robot lists configmaps with view"

step "typed kubectl commands (protobuf bodies) and the scale subresource"
k create deployment web --image=nginx --replicas=2
assert_eq "$OUT" "deployment.apps/web created"
k scale deployment web --replicas=4
assert_eq "$OUT" "deployment.apps/web scaled"
k get deployment web -o jsonpath='{.spec.replicas} {.metadata.generation}'
assert_eq "$OUT" "4 2"
k create secret generic creds --from-literal=password=s3cret
assert_eq "$OUT" "secret/creds created"
k get secret creds -o jsonpath='{.data.password}'
assert_eq "$OUT" "czNjcmV0"
k auth can-i create deployments
assert_eq "$OUT" "yes"
k auth can-i create deployments --as=bob
assert_eq "$OUT" "no"
k auth whoami -o jsonpath='{.status.userInfo.username}'
assert_eq "$OUT" "system:admin"
k create token robot
assert_match "$OUT" '^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' "a ServiceAccount token"

step "server-side apply: field managers, conflicts, --force-conflicts"
cat >ssa.yaml <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: ssa}
spec:
  replicas: 2
  selector: {matchLabels: {app: ssa}}
  template:
    metadata: {labels: {app: ssa}}
    spec: {containers: [{name: c, image: nginx}]}
YAML
k apply --server-side -f ssa.yaml
assert_eq "$OUT" "deployment.apps/ssa serverside-applied"
k patch deployment ssa --type=merge -p '{"spec":{"replicas":3}}' --field-manager=tuner
assert_rc 0 "a second manager changes replicas"
sed -i 's/replicas: 2/replicas: 5/' ssa.yaml
k apply --server-side -f ssa.yaml
assert_fails "apply over another manager's field"
assert_contains "$ERR" 'Apply failed with 1 conflict: conflict with "tuner"'
assert_contains "$ERR" '.spec.replicas'
k apply --server-side --force-conflicts -f ssa.yaml
assert_eq "$OUT" "deployment.apps/ssa serverside-applied"
k get deployment ssa -o jsonpath='{.spec.replicas}'
assert_eq "$OUT" "5"
k get deployment ssa -o jsonpath='{.metadata.managedFields[*].manager}' --show-managed-fields
assert_contains "$OUT" "kubectl"

step "anonymous requests get 401"
port=$(grep server: "$KUBECONFIG" | sed 's/.*://')
run curl -sk "https://127.0.0.1:$port/api/v1/namespaces"
assert_contains "$OUT" '"code":401'

step "delete"
k delete cm demo
assert_eq "$OUT" 'configmap "demo" deleted'
k get cm demo
assert_fails "get after delete"
finish
