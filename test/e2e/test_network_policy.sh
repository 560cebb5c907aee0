#!/bin/bash
# NetworkPolicy on one node, enforced in the kernel by the node's table
# kubitnp_<hash>: busybox httpd pods and busybox clients. Default allow; a
# default-deny ingress policy blocks (a pod's IP and its ClusterIP alike)
# but not the kubelet's probes;
# a podSelector rule lets one client in and not another, and only to the
# port it names (by name); a namespaceSelector admits a pod of a labelled
# namespace; an ipBlock with an except admits all but one address; an
# egress policy with a DNS exception cuts a client off but leaves it its
# cluster DNS, one without cuts the node-local DNS address too; deleting
# the policies restores traffic; k3s's --disable-network-policy turns it
# off, rules an earlier run left included.
# (kubit killall's removal of the table: test/unit/netpol_rules_test.cc.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_images.sh"

data="$E2E_TMP/data"
mkdir -p "$data/agent/images"
make_busybox_oci_tar "$data/agent/images/busybox.tar" busybox:e2e  # imported by the agent at start
# Ranges of its own, so that kubits of other tests keep theirs.
svc_net="10.$((150 + RANDOM % 50))"
cluster_net="10.$((100 + RANDOM % 50))"
killall_at_exit "$data"
net_flags=(--cluster-cidr "$cluster_net.0.0/16" --service-cidr "$svc_net.0.0/16" --cluster-dns "$svc_net.0.10")
start_server "$data" "${net_flags[@]}"
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
k() { run kubectl "$@"; }

step "namespaces np and np-friend; a web pod (ports http 8080, alt 9090), clients a and b, a friend"
client() {  # client NAMESPACE NAME ROLE
  cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $2, namespace: $1, labels: {role: $3}}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: c, image: busybox:e2e, command: [sleep, "3600"]}]
---
YAML
}
{
  cat <<YAML
apiVersion: v1
kind: Namespace
metadata: {name: np}
---
apiVersion: v1
kind: Namespace
metadata: {name: np-friend, labels: {team: friend}}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: np, labels: {app: web}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: httpd
    image: busybox:e2e
    command: [sh, -c, 'mkdir -p /www && echo hello-web > /www/index.html && httpd -p 9090 -h /www &&
      exec httpd -f -p 8080 -h /www']
    ports: [{name: http, containerPort: 8080}, {name: alt, containerPort: 9090}]
    readinessProbe: {httpGet: {path: /, port: http}, periodSeconds: 1, failureThreshold: 1}
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: np}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
---
YAML
  client np client-a allowed
  client np client-b other
  client np-friend friend friend
} >objects.yaml
k apply -f objects.yaml
assert_rc 0 "apply"
k wait --for=condition=Ready -n np pod/web pod/client-a pod/client-b --timeout=60s
assert_rc 0 "np pods Ready"
k wait --for=condition=Ready -n np-friend pod/friend --timeout=60s
assert_rc 0 "friend Ready"
pod_ip() { kubectl get pod -n "$1" "$2" -o jsonpath='{.status.podIP}'; }
web=$(pod_ip np web) a_ip=$(pod_ip np client-a)
vip=$(kubectl get service -n np web -o jsonpath='{.spec.clusterIP}')
# wget from a pod (no wget -T: the static busybox wget crashes on it; a
# dropped SYN is cut off by timeout).
reaches() {  # reaches NAMESPACE POD ADDR:PORT
  kubectl exec -n "$1" "$2" -- timeout 2 wget -q -O - "http://$3/" 2>&1 | grep -q hello-web
}
# Blocked: the SYN dropped, so timeout ends wget (busybox's timeout exits
# 143), not a refusal or a failed exec.
blocked() {
  _o=$(kubectl exec -n "$1" "$2" -- timeout 2 wget -q -O - "http://$3/" 2>&1)
  _rc=$?
  [ "$_rc" = 143 ] || { echo "exit $_rc: $_o"; return 1; }
}
# A policy takes a moment to reach the kernel: each expectation is waited for.
expect() {  # expect reaches|blocked NAMESPACE POD ADDR:PORT
  wait_until 15 "$3 -> $4 $1" "$@"
}

step "default allow: every client reaches web"
expect reaches np client-a "$web:8080"
expect reaches np client-b "$web:8080"
expect reaches np-friend friend "$web:9090"
expect reaches np client-b "$vip:80"

step "a default-deny ingress policy in np blocks web, by its IP and by its ClusterIP"
kubectl apply -f - <<YAML
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: np}
spec:
  podSelector: {}
YAML
assert_rc 0 "default-deny"
expect blocked np client-a "$web:8080"
blocked np client-b "$vip:80" || fail "the ClusterIP still leads to web"
blocked np-friend friend "$web:9090" || fail "friend still reaches web"
# The node's own traffic passes: the kubelet's probes (every second, one
# failure enough) keep web Ready.
k get pod -n np web -o 'jsonpath={.status.conditions[?(@.type=="Ready")].status}'
assert_eq "$OUT" True "web's readiness under default-deny"

step "podSelector role=allowed to port http (by name): client-a in on 8080 only, client-b still out"
kubectl apply -f - <<YAML
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-a, namespace: np}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{podSelector: {matchLabels: {role: allowed}}}]
    ports: [{protocol: TCP, port: http}]
YAML
assert_rc 0 "allow-a"
expect reaches np client-a "$web:8080"
blocked np client-a "$web:9090" || fail "client-a reaches a port its rule does not name"
blocked np client-b "$web:8080" || fail "client-b reaches web"
# Replies and the policy's ClusterIP path: client-a through the Service.
expect reaches np client-a "$vip:80"

step "namespaceSelector team=friend: the friend pod in"
kubectl apply -f - <<YAML
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-friends, namespace: np}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {team: friend}}}]
YAML
assert_rc 0 "allow-friends"
expect reaches np-friend friend "$web:9090"
blocked np client-b "$web:8080" || fail "client-b reaches web"

step "ipBlock: the cluster CIDR except client-a's address"
kubectl delete networkpolicy -n np allow-a allow-friends >/dev/null
kubectl apply -f - <<YAML
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow-block, namespace: np}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{ipBlock: {cidr: $cluster_net.0.0/16, except: [$a_ip/32]}}]
YAML
assert_rc 0 "allow-block"
expect reaches np client-b "$web:8080"
expect blocked np client-a "$web:8080"

step "egress: client-a may only ask DNS; its cluster DNS still answers"
kubectl delete networkpolicy -n np default-deny allow-block >/dev/null
expect reaches np client-a "$web:8080"
kubectl apply -f - <<YAML
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-dns-only, namespace: np}
spec:
  podSelector: {matchLabels: {role: allowed}}
  policyTypes: [Egress]
  egress:
  - ports: [{protocol: UDP, port: 53}, {protocol: TCP, port: 53}]
YAML
assert_rc 0 "egress-dns-only"
expect blocked np client-a "$web:8080"
reaches np client-b "$web:8080" || fail "client-b lost web to client-a's egress policy"
wait_until 15 "client-a's DNS" sh -c "kubectl exec -n np client-a -- nslookup web.np.svc.cluster.local | grep -q '$vip'"
# Without the exception the node-local DNS address is cut off too: what
# pods send the node itself passes their egress rules.
kubectl apply -f - <<YAML
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress-none, namespace: np}
spec:
  podSelector: {matchLabels: {role: other}}
  policyTypes: [Egress]
YAML
assert_rc 0 "egress-none"
expect blocked np client-b "$web:8080"
run kubectl exec -n np client-b -- timeout 3 nslookup web.np.svc.cluster.local
# (Ended by timeout, 143, or by nslookup giving up itself: no answer either way.)
[ "$RC" != 0 ] || fail "client-b's DNS query answered without an egress exception: $OUT"
assert_no_match "$OUT" "$vip" "client-b's DNS answer"

step "no policy left: traffic is back"
k delete networkpolicy -n np egress-dns-only egress-none
assert_rc 0 "delete"
expect reaches np client-a "$web:8080"
expect reaches np client-a "$vip:80"
expect reaches np client-b "$web:8080"

step "--disable-network-policy (k3s's flag): a restarted node drops the rules it had"
for cmd in server agent; do
  run "$KUBIT" "$cmd" --help
  assert_contains "$OUT$ERR" "--disable-network-policy" "kubit $cmd --help"
done
kubectl apply -f - <<YAML
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: np}
spec:
  podSelector: {}
YAML
assert_rc 0 "default-deny again"
expect blocked np client-a "$web:8080"
stop_server
start_server "$data" "${net_flags[@]}" --disable-network-policy
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
expect reaches np client-a "$web:8080"
finish
