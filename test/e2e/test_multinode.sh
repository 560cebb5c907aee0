#!/bin/bash
# Two boards: the server and an agent, each in a network namespace of its
# own joined by a veth pair (as two boards on one LAN), so that nothing of
# this test meets the host's or another test's network. Each node gets a
# podCIDR; each publishes its vxlan tunnel end in flannel's annotations;
# pods on one board reach pods on the other, unmasqueraded (the receiving
# pod sees the sender's pod IP): through the kernel's vxlan devices, and
# again with host-gw's plain routes. With vxlan, a NetworkPolicy on the
# agent's pod applies to traffic from the server's board.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_images.sh"

command -v ip >/dev/null || fail "ip (iproute2) is needed to make the test's network namespaces"
real_kubit=$KUBIT
tag=$$$RANDOM
ns_a=kbta$tag ns_b=kbtb$tag
sub=$((RANDOM % 200 + 20))
ip_a=10.251.$sub.1 ip_b=10.251.$sub.2
at_exit "ip netns del $ns_a"
at_exit "ip netns del $ns_b"
ip netns add "$ns_a" && ip netns add "$ns_b" || fail "ip netns add"
ip -n "$ns_a" link add eth0 type veth peer name eth0 netns "$ns_b" || fail "veth between the boards"
ip -n "$ns_a" addr add "$ip_a/24" dev eth0 && ip -n "$ns_b" addr add "$ip_b/24" dev eth0 || fail "addresses"
for ns in "$ns_a" "$ns_b"; do
  ip -n "$ns" link set lo up && ip -n "$ns" link set eth0 up || fail "links up in $ns"
done
# Each board's kubit runs in its namespace; so do kubit killall and kubectl.
# nsenter, not `ip netns exec`: that one also mounts a sysfs of its own,
# without the cgroup hierarchies the containers need.
for side in a b; do
  ns_var=ns_$side
  printf '#!/bin/sh\nexec nsenter --net=/run/netns/%s %s "$@"\n' "${!ns_var}" "$real_kubit" >"$E2E_TMP/kubit-$side"
  chmod +x "$E2E_TMP/kubit-$side"
done
KUBIT=$E2E_TMP/kubit-a
printf '#!/bin/sh\nexec nsenter --net=/run/netns/%s kubectl "$@"\n' "$ns_a" >"$E2E_TMP/kc"
chmod +x "$E2E_TMP/kc"
kc() { "$E2E_TMP/kc" "$@"; }
k() { run "$E2E_TMP/kc" "$@"; }

# One cluster per backend, in turn, on the same two boards.
cluster() {
backend=$1
data_a=$E2E_TMP/$backend-a data_b=$E2E_TMP/$backend-b
for d in "$data_a" "$data_b"; do
  mkdir -p "$d/agent/images"
  make_busybox_oci_tar "$d/agent/images/busybox.tar" busybox:mn
done
killall_at_exit "$data_a"
killall_at_exit "$data_b"
cidr=10.$((100 + RANDOM % 100)).0.0/16
start_server "$data_a" --bind-address 0.0.0.0 --node-ip "$ip_a" --node-name board1 --cluster-cidr "$cidr" \
  --flannel-backend "$backend"
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
port=$(sed -n 's/^ *server: https:\/\/[^:]*://p' "$KUBECONFIG")

step "$backend: an agent on the second board joins"
"$E2E_TMP/kubit-b" agent --server "https://$ip_a:$port" --token "$(cat "$data_a/server/token")" \
  --data-dir "$data_b" --node-name board2 --node-ip "$ip_b" >"$E2E_TMP/agent-$backend.log" 2>&1 &
agent_pid=$!
_e2e_pids="$_e2e_pids $agent_pid"
node_ready() { [ "$(kc get node "$1" -o jsonpath='{.status.conditions[?(@.type=="Ready")].status}')" = True ]; }
wait_until 30 "board2 Ready" node_ready board2
wait_until 30 "board1 Ready" node_ready board1

step "$backend: each node has its podCIDR and publishes its end in flannel's annotations"
for n in board1 board2; do
  wait_until 20 "$n's $backend annotations" sh -c "$E2E_TMP/kc get node $n -o jsonpath='{.metadata.annotations.flannel\\.alpha\\.coreos\\.com/backend-type}' | grep -qx $backend"
done
k get node board2 -o 'jsonpath={.spec.podCIDR} {.metadata.annotations.flannel\.alpha\.coreos\.com/public-ip}'
assert_match "$OUT" "^10\\.[0-9]+\\.[0-9]+\\.0/24 $ip_b\$" "board2's podCIDR and public IP"
k get node board1 -o 'jsonpath={.metadata.annotations.flannel\.alpha\.coreos\.com/backend-data}'
if [ "$backend" = vxlan ]; then
  assert_match "$OUT" '^\{"VNI":1,"VtepMAC":"02(:[0-9a-f]{2}){5}"\}$' "board1's backend data"
else
  assert_eq "$OUT" null "board1's backend data"
fi

step "$backend: a pod on each board"
cat >pods.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: web1, labels: {app: web1}}
spec:
  nodeName: board1
  terminationGracePeriodSeconds: 1
  containers:
  - {name: web, image: busybox:mn, command: [sh, -c, 'mkdir -p /www && echo hello-from-board1 > /www/index.html && exec httpd -f -p 8080 -h /www']}
---
apiVersion: v1
kind: Pod
metadata: {name: web2, labels: {app: web2}}
spec:
  nodeName: board2
  terminationGracePeriodSeconds: 1
  containers:
  - {name: web, image: busybox:mn, command: [sh, -c, 'mkdir -p /www && echo hello-from-board2 > /www/index.html && exec httpd -f -vv -p 8080 -h /www']}
YAML
k apply -f pods.yaml
assert_rc 0 "apply"
pod_ip() { kc get pod "$1" -o jsonpath='{.status.podIP}'; }
running() { [ "$(kc get pod "$1" -o jsonpath='{.status.phase}')" = Running ] && [ -n "$(pod_ip "$1")" ]; }
wait_until 60 "web1 running" running web1
wait_until 60 "web2 running" running web2
ip1=$(pod_ip web1) ip2=$(pod_ip web2)

step "$backend: pods reach each other across the boards, by their own addresses"
# (No wget -T: Debian's static busybox wget crashes on it; kubectl's
# exec and wait_until bound the wait instead.)
fetch() { kc exec "$1" -- wget -qO- "http://$2:8080/"; }
wait_until 30 "web1 -> web2" fetch web1 "$ip2"
k exec web1 -- wget -qO- "http://$ip2:8080/"
assert_eq "$OUT" hello-from-board2 "web1 fetching from web2"
k exec web2 -- wget -qO- "http://$ip1:8080/"
assert_eq "$OUT" hello-from-board1 "web2 fetching from web1"
# web2's httpd logs its clients: web1's pod IP, not a node address.
k logs web2
assert_contains "$OUT$ERR" "$ip1" "web2's access log names web1's pod IP"

step "$backend: Services by name from both boards (each board's DNS and service proxy)"
kc apply -f - <<'YAML' >/dev/null
apiVersion: v1
kind: Service
metadata: {name: web1}
spec: {selector: {app: web1}, ports: [{port: 80, targetPort: 8080}]}
---
apiVersion: v1
kind: Service
metadata: {name: web2}
spec: {selector: {app: web2}, ports: [{port: 80, targetPort: 8080}]}
YAML
by_name() { [ "$(kc exec "$1" -- wget -qO- "http://$2/" 2>/dev/null)" = "$3" ]; }
wait_until 30 "web2 -> Service web1 by its short name" by_name web2 web1 hello-from-board1
k exec web2 -- wget -qO- http://web1.default.svc.cluster.local/
assert_eq "$OUT" hello-from-board1 "board2's pod to board1's by the Service's FQDN"
wait_until 30 "web1 -> Service web2 by its short name" by_name web1 web2 hello-from-board2

if [ "$backend" = vxlan ]; then
  step "$backend: a NetworkPolicy on board2's pod applies to traffic from board1"
  kc apply -f - <<'YAML'
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web2-from-clients}
spec:
  podSelector: {matchLabels: {app: web2}}
  ingress:
  - from: [{podSelector: {matchLabels: {mn-client: "yes"}}}]
YAML
  # Blocked: the SYN dropped, so timeout ends wget (busybox's timeout exits 143).
  blocked() { kc exec web1 -- timeout 2 wget -qO- "http://$ip2:8080/" >/dev/null 2>&1; [ $? = 143 ]; }
  wait_until 20 "board2 to drop web1's traffic" blocked
  # Peers are pods of any node: web1's new label lets it in.
  k label pod web1 mn-client=yes
  assert_rc 0 "label web1"
  wait_until 20 "web1 -> web2 allowed by its label" fetch web1 "$ip2"
  k delete networkpolicy web2-from-clients
  assert_rc 0 "delete the policy"
fi

step "$backend: the routes follow the nodes: a node deleted takes its route with it"
cidr_b=$(kc get node board2 -o jsonpath='{.spec.podCIDR}')
run ip -n "$ns_a" route show "$cidr_b"
if [ "$backend" = vxlan ]; then
  dev=$(ip -n "$ns_a" -o link show type vxlan | sed -n 's/^[0-9]*: \([^:@]*\).*/\1/p' | head -1)
  [ -n "$dev" ] || fail "no vxlan device on board1"
  assert_match "$OUT" "dev $dev .*onlink" "board1's route to board2's pods"
else
  assert_contains "$OUT" "via $ip_b dev eth0" "board1's route to board2's pods"
fi
kill "$agent_pid"
k delete node board2 --wait=false
wait_until 20 "board1 drops the route" sh -c "! ip -n $ns_a route show $cidr_b | grep -q ."
stop_server
"$E2E_TMP/kubit-a" killall --data-dir "$data_a" >/dev/null 2>&1
"$E2E_TMP/kubit-b" killall --data-dir "$data_b" >/dev/null 2>&1

}

cluster vxlan
cluster host-gw
finish
