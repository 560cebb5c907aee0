#!/bin/bash
# Cluster DNS on one node: the server publishes kube-system/kube-dns at
# --cluster-dns and its node answers on that address itself. From a
# busybox pod: a Service by short name and FQDN, a headless Service's
# ready pods (and one by its hostname), SRV records, an ExternalName's
# CNAME completed upstream, pod records, NXDOMAIN, and an outside name
# forwarded to the node's resolver (a dnsmasq on a loopback address,
# named by --resolv-conf). Pods' resolv.conf for ClusterFirst and Default;
# the node itself asks the same address; killall takes the address away.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_images.sh"

command -v dnsmasq >/dev/null || [ -x /usr/sbin/dnsmasq ] || fail "dnsmasq is not installed (make deps)"
dnsmasq_bin=$(command -v dnsmasq || echo /usr/sbin/dnsmasq)

data="$E2E_TMP/data"
mkdir -p "$data/agent/images"
make_busybox_oci_tar "$data/agent/images/busybox.tar" busybox:e2e
# Ranges of its own, so that tests beside this one keep theirs.
svc_net="10.$((200 + RANDOM % 50))"
dns_ip="$svc_net.0.10"
net_flags=(--cluster-cidr "10.$((100 + RANDOM % 100)).0.0/16" --service-cidr "$svc_net.0.0/16" --cluster-dns "$dns_ip")

step "an upstream resolver for the node: dnsmasq on a loopback address"
upstream="127.0.53.$((2 + RANDOM % 250))"
"$dnsmasq_bin" --keep-in-foreground --no-resolv --no-hosts --bind-interfaces --listen-address="$upstream" \
  --port=53 --local=/test/ --host-record=outside.test,192.0.2.55 --pid-file="$E2E_TMP/dnsmasq.pid" \
  --user=root --log-facility="$E2E_TMP/dnsmasq.log" &
dnsmasq_pid=$!
at_exit "kill $dnsmasq_pid"
wait_until 10 "dnsmasq to answer" busybox nslookup outside.test "$upstream"
printf 'nameserver %s\n' "$upstream" >"$E2E_TMP/resolv.conf"

killall_at_exit "$data"
start_server "$data" "${net_flags[@]}" --resolv-conf "$E2E_TMP/resolv.conf"
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
k() { run kubectl "$@"; }

step "the bundled kube-dns Service at --cluster-dns, node-local"
wait_until 20 "Service kube-dns" kubectl get service kube-dns -n kube-system
k get service kube-dns -n kube-system -o \
  'jsonpath={.spec.clusterIP} {.metadata.labels.k8s-app} {.metadata.annotations.kubit\.io/node-local} {.spec.ports[*].name}'
assert_eq "$OUT" "$dns_ip kube-dns true dns dns-tcp" "kube-dns Service"

step "backends, a headless Service, an ExternalName, a client"
cat >apps.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: web, labels: {app: web}}
spec:
  containers:
  - {name: httpd, image: busybox:e2e, command: [sh, -c, 'echo web > /index.html && exec httpd -f -p 8080 -h /']}
---
apiVersion: v1
kind: Pod
metadata: {name: db-0, labels: {app: db}}
spec:
  hostname: db-0
  subdomain: db
  containers: [{name: c, image: busybox:e2e, command: [sleep, "3600"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: db-1, labels: {app: db}}
spec:
  containers: [{name: c, image: busybox:e2e, command: [sleep, "3600"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  containers: [{name: c, image: busybox:e2e, command: [sleep, "3600"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: host-dns}
spec:
  dnsPolicy: Default
  containers: [{name: c, image: busybox:e2e, command: [sleep, "3600"]}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: db}
spec:
  clusterIP: None
  selector: {app: db}
  ports: [{name: pg, port: 5432}]
---
apiVersion: v1
kind: Service
metadata: {name: ext}
spec:
  type: ExternalName
  externalName: outside.test
YAML
k apply -f apps.yaml
assert_rc 0 "apply"
k wait --for=condition=Ready pod/web pod/db-0 pod/db-1 pod/client pod/host-dns --timeout=60s
assert_rc 0 "pods Ready"
web_ip=$(kubectl get service web -o 'jsonpath={.spec.clusterIP}')
web_pod=$(kubectl get pod web -o 'jsonpath={.status.podIP}')
db0=$(kubectl get pod db-0 -o 'jsonpath={.status.podIP}')
db1=$(kubectl get pod db-1 -o 'jsonpath={.status.podIP}')
wait_until 20 "the node to serve its pods" grep -q "dns: serving $dns_ip to the pods" "$SERVER_LOG"

# lookup ARGS...: nslookup in the client pod. busybox's asks every search
# domain (and A and AAAA) whatever the first answers, and exits 1 if any
# failed: the output tells, not the exit code.
lookup() {
  run kubectl exec client -- nslookup "$@"
}

step "pods' resolv.conf: ClusterFirst points at the cluster DNS, Default at the node's resolver"
k exec client -- cat /etc/resolv.conf
assert_eq "$OUT" "search default.svc.cluster.local svc.cluster.local cluster.local
nameserver $dns_ip
options ndots:5" "ClusterFirst resolv.conf"
k exec host-dns -- cat /etc/resolv.conf
assert_eq "$OUT" "nameserver $upstream" "Default resolv.conf"

step "a Service by short name and by FQDN"
wait_until 20 "web to resolve" kubectl exec client -- nslookup web.default.svc.cluster.local
lookup web
assert_match "$OUT" "^Name:[[:space:]]+web\.default\.svc\.cluster\.local$" "short name"
assert_match "$OUT" "^Address: $web_ip$" "short name"
lookup web.default.svc.cluster.local
assert_match "$OUT" "^Address: $web_ip$" "FQDN"

step "a headless Service: its ready pods, and a pod by hostname"
wait_until 20 "db's endpoints" sh -c "kubectl exec client -- nslookup db | grep -c '^Address: 10' | grep -qx 2"
lookup db
assert_match "$OUT" "^Address: $db0$" "headless"
assert_match "$OUT" "^Address: $db1$" "headless"
assert_no_match "$OUT" "^Address: $web_ip$" "headless"
lookup db-0.db.default.svc.cluster.local
assert_match "$OUT" "^Address: $db0$" "hostname record"
assert_no_match "$OUT" "^Address: $db1$" "hostname record"

step "SRV records for named ports"
lookup -type=srv _http._tcp.web.default.svc.cluster.local
assert_match "$OUT" "service = 0 100 80 web\.default\.svc\.cluster\.local" "ClusterIP SRV"
lookup -type=srv _pg._tcp.db.default.svc.cluster.local
assert_match "$OUT" "service = 0 50 5432 db-0\.db\.default\.svc\.cluster\.local" "headless SRV"
assert_match "$OUT" "service = 0 50 5432 ${db1//./-}\.db\.default\.svc\.cluster\.local" "headless SRV"

step "ExternalName: the CNAME, and its target's address from upstream"
lookup ext.default.svc.cluster.local
assert_match "$OUT" "canonical name = outside\.test" "CNAME"
assert_match "$OUT" "^Address: 192\.0\.2\.55$" "CNAME target"

step "pod records, NXDOMAIN, an outside name forwarded"
lookup "${web_pod//./-}.default.pod.cluster.local"
assert_match "$OUT" "^Address: $web_pod$" "pod record"
lookup nope.default.svc.cluster.local
assert_fails "nslookup of a missing Service"
assert_contains "$OUT$ERR" "NXDOMAIN" "missing Service"
lookup outside.test
assert_match "$OUT" "^Address: 192\.0\.2\.55$" "forwarded"
lookup nothing.test
assert_contains "$OUT$ERR" "NXDOMAIN" "forwarded NXDOMAIN"

step "the node itself asks the cluster DNS address"
run busybox nslookup web.default.svc.cluster.local "$dns_ip"
assert_rc 0 "from the node"
assert_match "$OUT" "^Address: $web_ip$" "from the node"

step "a Service made later resolves, one deleted stops"
k create service clusterip late --tcp=80
assert_rc 0 "create late"
wait_until 20 "late to resolve" kubectl exec client -- nslookup late.default.svc.cluster.local
k delete service late
wait_until 20 "late to be gone" sh -c "! kubectl exec client -- nslookup late.default.svc.cluster.local"

step "killall takes the address off the node with the bridge"
ip -4 -o addr show | grep -q " $dns_ip/32 " || fail "$dns_ip/32 is not on the node"
stop_server
run "$KUBIT" killall --data-dir "$data"
assert_rc 0 "killall"
if ip -4 -o addr show | grep -q " $dns_ip/32 "; then fail "$dns_ip/32 is still on the node after killall"; fi

finish
