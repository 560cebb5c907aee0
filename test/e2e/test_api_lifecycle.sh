#!/bin/bash
# What the API server itself decides, as upstream's registries do:
# namespace termination and /finalize, graceful pod deletion, binding,
# eviction under a PodDisruptionBudget, Service ClusterIPs and NodePorts,
# the `kubernetes` Service, a Job's generated selector, a new pod's status.
. "$(dirname "$0")/lib.sh"

start_server "$E2E_TMP/data" --service-cidr 10.77.0.0/16 --disable-controller-manager
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
k() { run kubectl "$@"; }
jqr() { printf '%s' "$OUT" | jq -r "$1"; }

step "kubectl discovers everything in two requests (aggregated discovery)"
k api-resources --cache-dir "$E2E_TMP/cache" -v6
assert_rc 0
assert_eq "$(printf '%s\n' "$ERR" | grep -c 'GET https')" "2" "discovery requests"
assert_match "$OUT" '^deployments +deploy +apps/v1 +true +Deployment$'
assert_match "$OUT" '^horizontalpodautoscalers +hpa +autoscaling/v2 +true +HorizontalPodAutoscaler$'

step "the kubernetes Service names this server"
k get svc kubernetes -o json
assert_rc 0
assert_eq "$(jqr .spec.clusterIP)" "10.77.0.1" "kubernetes clusterIP"
k get endpoints kubernetes -o json
assert_match "$(jqr '.subsets[0].ports[0].port')" '^[0-9]+$' "endpoints port"
k get endpointslices kubernetes -o json
assert_eq "$(jqr .addressType)" "IPv4"

step "Services get ClusterIPs and NodePorts, unique, kept on update"
k create service clusterip web --tcp=80:8080
assert_rc 0
k get svc web -o json
ip=$(jqr .spec.clusterIP)
assert_match "$ip" '^10\.77\.[0-9]+\.[0-9]+$' "allocated clusterIP"
assert_eq "$(jqr '.spec.ipFamilies[0]')/$(jqr .spec.ipFamilyPolicy)" "IPv4/SingleStack"
k create service nodeport np --tcp=80:8080
k get svc np -o json
np=$(jqr '.spec.ports[0].nodePort')
[ "$np" -ge 30000 ] && [ "$np" -le 32767 ] || fail "nodePort $np outside 30000-32767"
cat >dup.yaml <<YAML
apiVersion: v1
kind: Service
metadata: {name: dup}
spec:
  clusterIP: $ip
  ports: [{port: 80}]
YAML
k apply -f dup.yaml
assert_fails
assert_contains "$ERR" "spec.clusterIPs: Invalid value: []string{\"$ip\"}: failed to allocate IP $ip: provided IP is already allocated"
cat >out.yaml <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: out}
spec:
  clusterIP: 10.99.0.5
  ports: [{port: 80}]
YAML
k apply -f out.yaml
assert_fails
assert_contains "$ERR" "The range of valid IPs is 10.77.0.0/16"
cat >np2.yaml <<YAML
apiVersion: v1
kind: Service
metadata: {name: np2}
spec:
  type: NodePort
  ports: [{port: 80, nodePort: $np}]
YAML
k apply -f np2.yaml
assert_fails
assert_contains "$ERR" "spec.ports[0].nodePort: Invalid value: $np: provided port is already allocated"
cat >headless.yaml <<'YAML'
apiVersion: v1
kind: Service
metadata: {name: headless}
spec:
  clusterIP: None
  selector: {app: x}
  ports: [{port: 80}]
YAML
k apply -f headless.yaml
k get svc headless -o jsonpath='{.spec.clusterIP}'
assert_eq "$OUT" "None"
# A replace that leaves the allocated fields out keeps them.
k get svc np -o json
printf '%s' "$OUT" | jq 'del(.spec.clusterIP, .spec.clusterIPs, .spec.ports[0].nodePort, .metadata.resourceVersion)' >np-replace.json
k replace -f np-replace.json
assert_rc 0 "kubectl replace without the allocated fields"
k get svc np -o json
assert_eq "$(jqr '.spec.ports[0].nodePort')" "$np" "nodePort after replace"

step "versions that share storage convert: autoscaling v1/v2, events.k8s.io/core"
cat >hpa.yaml <<'YAML'
apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: h}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  maxReplicas: 5
  targetCPUUtilizationPercentage: 60
YAML
k apply -f hpa.yaml
k apply -f hpa.yaml
assert_eq "$OUT" "horizontalpodautoscaler.autoscaling/h unchanged"
k get --raw /apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/h
assert_eq "$(jqr '.spec.metrics[0].resource.target.averageUtilization')" "60"
k get --raw /apis/autoscaling/v1/namespaces/default/horizontalpodautoscalers/h
assert_eq "$(jqr .spec.targetCPUUtilizationPercentage)/$(jqr .spec.minReplicas)" "60/1"
cat >event.yaml <<'YAML'
apiVersion: events.k8s.io/v1
kind: Event
metadata: {name: e1}
eventTime: "2026-01-01T00:00:00.000000Z"
reportingController: kubit.io/test
reportingInstance: n1
action: Testing
reason: Tested
type: Normal
note: hello there
regarding: {kind: Pod, name: p1, namespace: default}
YAML
k apply -f event.yaml
assert_rc 0
k get --raw /api/v1/namespaces/default/events/e1
assert_eq "$(jqr .message)/$(jqr .involvedObject.name)" "hello there/p1"
k get --raw /apis/events.k8s.io/v1/namespaces/default/events/e1
assert_eq "$(jqr .note)/$(jqr .regarding.name)/$(jqr .apiVersion)" "hello there/p1/events.k8s.io/v1"

step "status: none on create; an apply to /status is its manager's, with subresource status"
cat >deploy.yaml <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: d1}
spec:
  selector: {matchLabels: {app: d}}
  template:
    metadata: {labels: {app: d}}
    spec: {containers: [{name: c, image: busybox}]}
status: {replicas: 5}
YAML
k apply --server-side -f deploy.yaml
k get deploy d1 -o jsonpath='{.status}'
assert_eq "$OUT" "{}" "status after create"
k apply --server-side --subresource=status --field-manager=statusmgr -f deploy.yaml
assert_rc 0
k get deploy d1 -o json --show-managed-fields
assert_eq "$(jqr .status.replicas)" "5"
assert_eq "$(jqr '.metadata.managedFields[] | select(.manager=="statusmgr") | .subresource + " " + .operation')" "status Apply"
k scale deploy d1 --replicas=3
sed -i 's/^spec:$/spec:\n  replicas: 7/' deploy.yaml
k apply --server-side -f deploy.yaml
assert_fails "an apply that conflicts with kubectl scale"
assert_contains "$ERR" 'conflict with "kubectl" with subresource "scale" using apps/v1: .spec.replicas'

step "a Job's selector is generated from its uid"
k create job j --image=busybox
k get job j -o json
uid=$(jqr .metadata.uid)
assert_eq "$(jqr '.spec.selector.matchLabels["batch.kubernetes.io/controller-uid"]')" "$uid"
assert_eq "$(jqr '.spec.template.metadata.labels["job-name"]')" "j"

step "a new pod is Pending with its QoS class"
# Pods of another scheduler: the default one (running in the server) must
# leave them to this test.
unscheduled='{"spec":{"schedulerName":"e2e-none"}}'
k run bare --image=busybox --overrides="$unscheduled"
k get pod bare -o json
assert_eq "$(jqr .status.phase)/$(jqr .status.qosClass)" "Pending/BestEffort"
k delete pod bare --wait=false
k get pod bare
assert_fails "an unscheduled pod is deleted at once"

step "binding assigns a pod to a node once"
k run p --image=busybox --labels=app=p --overrides="$unscheduled"
echo '{"apiVersion":"v1","kind":"Binding","metadata":{"name":"p"},"target":{"kind":"Node","name":"n1"}}' >bind.json
k create --raw /api/v1/namespaces/default/pods/p/binding -f bind.json
assert_rc 0
k get pod p -o json
assert_eq "$(jqr .spec.nodeName)" "n1"
assert_eq "$(jqr '.status.conditions[] | select(.type=="PodScheduled") | .status')" "True"
k create --raw /api/v1/namespaces/default/pods/p/binding -f bind.json
assert_fails
assert_contains "$ERR" 'pod p is already assigned to node "n1"'

step "eviction respects a PodDisruptionBudget"
k create pdb budget --selector=app=p --min-available=1
echo '{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"p"}}' >evict.json
# Pending pods are not protected: make this one Running first.
k get pod p -o json
printf '%s' "$OUT" | jq '.status.phase="Running"' >running.json
k replace --subresource=status -f running.json
assert_rc 0
k create --raw /api/v1/namespaces/default/pods/p/eviction -f evict.json
assert_fails
assert_contains "$ERR" "Cannot evict pod as it would violate the pod's disruption budget."
k delete pdb budget
k create --raw /api/v1/namespaces/default/pods/p/eviction -f evict.json
assert_rc 0 "eviction without a budget"

step "a bound pod is deleted gracefully; --force removes it"
k get pod p -o json
assert_eq "$(jqr .metadata.deletionGracePeriodSeconds)" "30"
k delete pod p --grace-period=5 --wait=false
k get pod p -o json
assert_eq "$(jqr .metadata.deletionGracePeriodSeconds)" "5" "a shorter grace period"
k delete pod p --grace-period=0 --force
k get pod p
assert_fails "force-deleted pod"

step "a namespace terminates until finalized"
k create namespace gone
k create configmap -n gone c1
k delete namespace gone --wait=false
k get namespace gone -o json
assert_eq "$(jqr .status.phase)" "Terminating"
assert_eq "$(jqr '.spec.finalizers[0]')" "kubernetes"
k create configmap -n gone c2
assert_fails
assert_contains "$ERR" 'configmaps "c2" is forbidden: unable to create new content in namespace gone because it is being terminated'
k delete namespace gone --wait=false
assert_fails
assert_contains "$ERR" "The system is ensuring all content is removed from this namespace."
k get namespace gone -o json
printf '%s' "$OUT" | jq '.spec.finalizers=[]' >finalize.json
k replace --raw /api/v1/namespaces/gone/finalize -f finalize.json
assert_rc 0
k delete namespace gone --wait=false
assert_rc 0
k get namespace gone
assert_fails "the finalized namespace is gone"
finish
