#!/bin/bash
# Ingress on one node: the server ensures IngressClass kubit (the default
# class) and its node runs the ingress proxy. Two busybox httpd pods behind
# Services; Ingresses route by Host header (backend port by number and by
# name) and by path (Prefix by path elements, Exact), TLS from a Secret by
# SNI (curl --resolve) with X-Forwarded-* headers reaching the backend (a
# CGI script), 404 for unknown hosts and paths, a large download streamed
# through whole, and status.loadBalancer with the node's address.
# --disable traefik removes the class and the proxy with it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_images.sh"

data="$E2E_TMP/data"
mkdir -p "$data/agent/images"
make_busybox_oci_tar "$data/agent/images/busybox.tar" busybox:e2e  # imported by the agent at start
# Ranges of its own, so that tests beside this one keep theirs.
net_flags=(--cluster-cidr "10.$((100 + RANDOM % 100)).0.0/16")
svc_net="10.$((200 + RANDOM % 50))"
"$KUBIT" server --help 2>/dev/null | grep -q -- '--service-cidr' &&
  net_flags+=(--service-cidr "$svc_net.0.0/16" --cluster-dns "$svc_net.0.10")
killall_at_exit "$data"
start_server "$data" "${net_flags[@]}"
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
k() { run kubectl "$@"; }

step "the bundled IngressClass kubit is the default class, and the node's proxy listens"
k get ingressclass kubit -o jsonpath='{.spec.controller} {.metadata.annotations.ingressclass\.kubernetes\.io/is-default-class}'
assert_rc 0 "get ingressclass"
assert_eq "$OUT" "kubit.io/ingress true" "IngressClass kubit"
wait_until 30 "the ingress proxy to listen" grep -q 'ingress: proxy listening' "$SERVER_LOG"
read -r http https <<<"$(sed -n 's/.*ingress: proxy listening on .* ports \([0-9]*\) (http) and \([0-9]*\) (https).*/\1 \2/p' "$SERVER_LOG" | tail -1)"
[ -n "$http" ] && [ -n "$https" ] || fail "no ports in the proxy's log line: $(grep 'ingress:' "$SERVER_LOG")"

step "two httpd backends behind Services"
cat >apps.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: alpha, labels: {app: alpha}}
spec:
  containers:
  - name: httpd
    image: busybox:e2e
    command: [sh, -c, 'mkdir -p /www/app && echo alpha root > /www/index.html && echo alpha app > /www/app/index.html &&
      head -c 6000000 /dev/urandom > /www/big && sha256sum /www/big > /www/big.sum && exec httpd -f -p 8080 -h /www']
    ports: [{containerPort: 8080}]
    readinessProbe: {httpGet: {path: /big.sum, port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: beta, labels: {app: beta}}
spec:
  containers:
  - name: httpd
    image: busybox:e2e
    command: [sh, -c, 'mkdir -p /www/cgi-bin && echo beta root > /www/index.html && echo beta exact > /www/exact &&
      printf "#!/bin/sh\necho Content-Type: text/plain\necho\necho for=\$HTTP_X_FORWARDED_FOR proto=\$HTTP_X_FORWARDED_PROTO host=\$HTTP_X_FORWARDED_HOST\n" > /www/cgi-bin/fwd &&
      chmod +x /www/cgi-bin/fwd && exec httpd -f -p 9090 -h /www']
    ports: [{containerPort: 9090}]
    readinessProbe: {httpGet: {path: /index.html, port: 9090}, periodSeconds: 1}
---
apiVersion: v1
kind: Service
metadata: {name: alpha}
spec:
  selector: {app: alpha}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: beta}
spec:
  selector: {app: beta}
  ports: [{name: http, port: 8000, targetPort: 9090}]
YAML
k apply -f apps.yaml
assert_rc 0 "apply backends"

step "Ingresses by host, by path, and with TLS"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=secure.example.com \
  -addext subjectAltName=DNS:secure.example.com -keyout tls.key -out tls.crt 2>/dev/null || fail "openssl"
k create secret tls secure-tls --cert=tls.crt --key=tls.key
assert_rc 0 "create TLS secret"
cat >ingresses.yaml <<'YAML'
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: by-host}
spec:
  ingressClassName: kubit
  rules:
  - host: alpha.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: alpha, port: {number: 80}}}}]}
  - host: "*.beta.example.com"
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: beta, port: {name: http}}}}]}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: by-path}
spec:
  rules:
  - http:
      paths:
      - {path: /app, pathType: Prefix, backend: {service: {name: alpha, port: {number: 80}}}}
      - {path: /exact, pathType: Exact, backend: {service: {name: beta, port: {number: 8000}}}}
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: secure}
spec:
  ingressClassName: kubit
  tls: [{hosts: [secure.example.com], secretName: secure-tls}]
  rules:
  - host: secure.example.com
    http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: beta, port: {number: 8000}}}}]}
YAML
k apply -f ingresses.yaml
assert_rc 0 "apply ingresses"
k wait --for=condition=Ready pod/alpha pod/beta --timeout=60s
assert_rc 0 "backends Ready"

get() {  # get HOST PATH: "STATUS BODY" through the proxy's HTTP port
  curl -s -m 10 -H "Host: $1" -w ' %{http_code}' "http://127.0.0.1:$http$2"
}
wait_until 30 "alpha by host" sh -c "[ \"\$(curl -s -m 5 -H 'Host: alpha.example.com' http://127.0.0.1:$http/)\" = 'alpha root' ]"

check_routes() {
  assert_eq "$(get alpha.example.com /)" "alpha root
 200" "alpha.example.com /"
  assert_eq "$(get x.beta.example.com /)" "beta root
 200" "wildcard host, port by name"
  assert_eq "$(get a.b.beta.example.com /index.html | tail -c 3)" "404" "the wildcard spans one label"
  assert_eq "$(get other.example.com /app/)" "alpha app
 200" "Prefix /app"
  assert_eq "$(get other.example.com /app | tail -c 3)" "302" "Prefix /app matches /app itself (httpd redirects to the folder)"
  assert_eq "$(get other.example.com /application | tail -c 3)" "404" "Prefix /app does not match /application"
  assert_eq "$(get other.example.com /exact)" "beta exact
 200" "Exact /exact"
  assert_eq "$(get other.example.com /exact/more | tail -c 3)" "404" "Exact /exact does not match /exact/more"
  assert_eq "$(get nobody.example.com /)" "404 page not found
 404" "unknown host"
}
step "routing by Host header and by path"
check check_routes

step "TLS by SNI with the Secret's certificate"
tls_get() {
  curl -s -m 10 --cacert tls.crt --resolve "secure.example.com:$https:127.0.0.1" "https://secure.example.com:$https/"
}
tls_ok() { [ "$(tls_get)" = "beta root" ]; }
wait_until 30 "HTTPS for secure.example.com" tls_ok
assert_eq "$(tls_get)" "beta root" "HTTPS secure.example.com"
run curl -s -m 10 --cacert tls.crt --resolve "secure.example.com:$https:127.0.0.1" "https://secure.example.com:$https/cgi-bin/fwd"
assert_eq "$OUT" "for=127.0.0.1 proto=https host=secure.example.com:$https" "X-Forwarded-* headers the backend saw"

step "a large download streams through whole"
curl -s -m 30 -H 'Host: alpha.example.com' "http://127.0.0.1:$http/big" -o big || fail "download big"
want=$(curl -s -m 10 -H 'Host: alpha.example.com' "http://127.0.0.1:$http/big.sum" | cut -d' ' -f1)
assert_eq "$(sha256sum <big | cut -d' ' -f1)" "$want" "sha256 of /big through the proxy"

step "status.loadBalancer holds the node's address"
node_ip=$(kubectl get nodes -o jsonpath='{.items[0].status.addresses[?(@.type=="InternalIP")].address}')
lb_ip() { [ "$(kubectl get ingress "$1" -o jsonpath='{.status.loadBalancer.ingress[*].ip}')" = "$node_ip" ]; }
wait_until 30 "by-host's status" lb_ip by-host
wait_until 10 "by-path's status (no class: kubit is the default)" lb_ip by-path
k get ingress by-host
assert_match "$OUT" "by-host +kubit +alpha.example.com,\*.beta.example.com +$node_ip +80" "kubectl get ingress"

step "--disable traefik removes the class, and the proxy stops"
stop_server
start_server "$data" "${net_flags[@]}" --disable traefik
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
k get ingressclass kubit
assert_fails "get ingressclass kubit after --disable traefik"
assert_contains "$ERR" 'ingressclasses.networking.k8s.io "kubit" not found'
wait_until 30 "the node to see no class" grep -q 'ingress: no IngressClass kubit; the proxy is off' "$SERVER_LOG"
assert_no_match "$(cat "$SERVER_LOG")" 'ingress: proxy listening' "the log of the server with --disable traefik"
finish
