#!/bin/bash
# Services on one node, through the kernel's rules that the node's service
# proxy programs (kube-proxy's nftables mode): two busybox httpd backends
# behind a ClusterIP answer a client pod in turn; a second port by a named
# targetPort; NodePort and LoadBalancer (ServiceLB: the node's address in
# status.loadBalancer) reached from the host; an unready backend gets no
# traffic; a Service without endpoints refuses; a pod reaches itself
# through its Service (hairpin); sessionAffinity ClientIP sticks.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_images.sh"

data="$E2E_TMP/data"
mkdir -p "$data/agent/images"
make_busybox_oci_tar "$data/agent/images/busybox.tar" busybox:e2e  # imported by the agent at start
# Ranges and ports of its own, so that kubits of other tests keep theirs.
svc_net="10.$((150 + RANDOM % 50))"
node_port=$((30000 + RANDOM % 2700))
lb_port=$((20000 + RANDOM % 10000))
killall_at_exit "$data"
net_flags=(--cluster-cidr "10.$((100 + RANDOM % 50)).0.0/16" --service-cidr "$svc_net.0.0/16" --cluster-dns "$svc_net.0.10")
start_server "$data" "${net_flags[@]}"
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
k() { run kubectl "$@"; }

step "two backends (ports http and alt by name), a client, and the Services"
backend() {  # backend NAME EXTRA-LABEL
  cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: $1, labels: {app: web, $2: "yes"}}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: httpd
    image: busybox:e2e
    command: [sh, -c, 'mkdir -p /www /alt && hostname > /www/index.html && echo alt \$(hostname) > /alt/index.html &&
      touch /www/ready && httpd -p 9090 -h /alt && exec httpd -f -p 8080 -h /www']
    ports: [{name: http, containerPort: 8080}, {name: alt, containerPort: 9090}]
    readinessProbe: {httpGet: {path: /ready, port: http}, periodSeconds: 1, failureThreshold: 1}
---
YAML
}
{
  backend web-1 first
  backend web-2 second
  cat <<YAML
apiVersion: v1
kind: Pod
metadata: {name: client}
spec:
  terminationGracePeriodSeconds: 1
  containers: [{name: c, image: busybox:e2e, command: [sleep, "3600"]}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: http}, {name: alt, port: 81, targetPort: alt}]
---
apiVersion: v1
kind: Service
metadata: {name: web-np}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080, nodePort: $node_port}]
---
apiVersion: v1
kind: Service
metadata: {name: web-lb}
spec:
  type: LoadBalancer
  selector: {app: web}
  ports: [{port: $lb_port, targetPort: http}]
---
apiVersion: v1
kind: Service
metadata: {name: nobody}
spec:
  selector: {app: nothing-has-this}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: first}
spec:
  selector: {first: "yes"}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: sticky}
spec:
  selector: {app: web}
  sessionAffinity: ClientIP
  ports: [{port: 80, targetPort: http}]
YAML
} >objects.yaml
k apply -f objects.yaml
assert_rc 0 "apply"
k wait --for=condition=Ready pod/web-1 pod/web-2 pod/client --timeout=60s
assert_rc 0 "pods Ready"
vip() { kubectl get service "$1" -o jsonpath='{.spec.clusterIP}'; }
web=$(vip web) nobody=$(vip nobody) first=$(vip first) sticky=$(vip sticky)
node_ip=$(kubectl get nodes -o jsonpath='{.items[0].status.addresses[?(@.type=="InternalIP")].address}')
# wget from a pod: the body, or the error wget printed (no wget -T: the
# static busybox wget crashes on it).
get_from() { kubectl exec "$1" -- timeout 5 wget -q -O - "http://$2/" 2>&1; }
wait_until 30 "the ClusterIP to answer" sh -c "kubectl exec client -- timeout 3 wget -q -O - http://$web/ | grep -q web-"

step "ClusterIP: both backends answer the client"
seen=""
for _ in $(seq 30); do
  seen="$seen $(get_from client "$web")"
  case $seen in *web-1*web-2* | *web-2*web-1*) break ;; esac
done
assert_match "$seen" 'web-1' "answers through the ClusterIP"
assert_match "$seen" 'web-2' "answers through the ClusterIP"

step "a second port of the Service, by a named targetPort"
assert_match "$(get_from client "$web:81")" '^alt web-[12]$' "port 81 (targetPort alt)"

step "NodePort and LoadBalancer from the host"
run curl -s -m 5 "http://$node_ip:$node_port/"
assert_match "$OUT" '^web-[12]$' "NodePort $node_port on $node_ip"
lb_ip() { [ "$(kubectl get service web-lb -o jsonpath='{.status.loadBalancer.ingress[*].ip}')" = "$node_ip" ]; }
wait_until 30 "ServiceLB to publish the node's address" lb_ip
k get service web-lb -o jsonpath='{.status.loadBalancer.ingress[0].ipMode}'
assert_eq "$OUT" "VIP" "ipMode"
wait_until 10 "the LoadBalancer port" sh -c "curl -s -m 3 http://$node_ip:$lb_port/ | grep -q '^web-'"
k get service web-lb
assert_match "$OUT" "web-lb +LoadBalancer +$svc_net\.[0-9.]+ +$node_ip +$lb_port:[0-9]+/TCP" "kubectl get service"

step "a Service without endpoints refuses at once"
out=$(get_from client "$nobody")
assert_contains "$out" "Connection refused" "wget to the Service without endpoints"
run curl -s -m 5 "http://$nobody/"
assert_rc 7 "curl from the host to the Service without endpoints (7: could not connect)"

step "hairpin: a pod reaches itself through its Service"
assert_eq "$(get_from web-1 "$first")" "web-1" "web-1 through Service first"

step "sessionAffinity ClientIP: the client sticks to one backend"
one=$(get_from client "$sticky")
assert_match "$one" '^web-[12]$' "first answer of sticky"
for _ in 1 2 3 4 5 6; do assert_eq "$(get_from client "$sticky")" "$one" "sticky answer"; done

step "an unready backend gets no traffic, and gets it back when ready"
k exec web-2 -- rm /www/ready
assert_rc 0
wait_until 30 "web-2 to be unready in the slice" sh -c "kubectl get endpointslices -l kubernetes.io/service-name=web \
  -o jsonpath='{range .items[*].endpoints[*]}{.targetRef.name}={.conditions.ready} {end}' | grep -q 'web-2=false'"
# The proxy syncs at most once a second after a change.
wait_until 10 "the proxy to drop web-2" sh -c "for i in 1 2 3 4 5 6; do
  [ \"\$(kubectl exec client -- timeout 3 wget -q -O - http://$web/)\" = web-1 ] || exit 1; done"
for _ in 1 2 3 4 5 6 7 8; do assert_eq "$(get_from client "$web")" "web-1" "answer while web-2 is unready"; done
k exec web-2 -- touch /www/ready
assert_rc 0
seen=""
for _ in $(seq 40); do
  seen="$seen $(get_from client "$web")"
  case $seen in *web-2*) break ;; esac
  sleep 0.2
done
assert_match "$seen" 'web-2' "web-2 answers again once ready"

step "--disable-kube-proxy: the rules an earlier run left go"
stop_server
start_server "$data" "${net_flags[@]}" --disable-kube-proxy
run curl -s -m 5 "http://$node_ip:$node_port/"
assert_rc 7 "curl to the NodePort once the node runs without the proxy (7: could not connect)"
finish
