#!/bin/bash
# kubectl port-forward through the API server and the agent's tunnel: a
# busybox httpd pod on a second board (`kubit agent`, which accepts no
# connection from the server), reached as pod/, svc/ and deploy/; two
# fetches at once and a 4 MB file byte for byte; kubectl's default
# (SPDY tunnelled in WebSocket) and its SPDY fallback
# (KUBECTL_PORT_FORWARD_WEBSOCKETS=false); a port nothing listens on gets
# upstream's error and the forward goes on. kubectl attach (output live,
# detach leaves the container running), attach -i through cat with
# stdinOnce, attach -it with the terminal's size, and kubectl run -i --rm,
# on the same board.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_images.sh"

data="$E2E_TMP/data"
agent_data="$E2E_TMP/agent"
mkdir -p "$data/agent/images" "$agent_data/agent/images"
make_busybox_oci_tar "$agent_data/agent/images/busybox.tar" busybox:e2e
start_server "$data" --disable-agent --cluster-cidr "10.$((100 + RANDOM % 100)).0.0/16"
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
server_url=$(sed -n 's/^ *server: //p' "$KUBECONFIG")
"$KUBIT" agent --server "$server_url" --token "$(cat "$data/server/token")" --data-dir "$agent_data" \
  --node-name pf-board >"$E2E_TMP/agent.log" 2>&1 &
_e2e_pids="$_e2e_pids $!"
killall_at_exit "$agent_data"
k() { run kubectl "$@"; }
fetch() { curl -sSf --max-time 20 -o "$2" "http://127.0.0.1:$1/$3"; }

wait_for() {  # wait_for SECONDS WHAT CMD...
  for _ in $(seq $(($1 * 5))); do
    "${@:3}" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  fail "timed out waiting for $2; pods:
$(kubectl get pods -o wide 2>&1)
agent: $(tail -20 "$E2E_TMP/agent.log")"
}

step "an httpd Deployment and Service on the agent's board"
cat >web.yaml <<'YAML'
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 1
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: httpd
        image: busybox:e2e
        command: [sh, -c, 'mkdir /www && echo hello from web >/www/index.html && head -c 4000000 /dev/urandom >/www/big && md5sum /www/big | cut -d" " -f1 >/www/big.md5 && exec httpd -f -p 8000 -h /www']
        ports: [{name: http, containerPort: 8000}]
---
apiVersion: v1
kind: Service
metadata: {name: web}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: http}]
YAML
k apply -f web.yaml
assert_rc 0
wait_for 60 "web running" sh -c "kubectl get pods -l app=web -o jsonpath='{.items[0].status.phase}' | grep -q Running"
pod=$(kubectl get pods -l app=web -o jsonpath='{.items[0].metadata.name}')

# forward NAME TARGET PORTS...: kubectl port-forward in the background,
# waited for until it listens; its output in pf-NAME.out.
forward() {
  name=$1
  kubectl port-forward "${@:2}" >"pf-$name.out" 2>&1 &
  _e2e_pids="$_e2e_pids $!"
  eval "pf_$name=$!"
  wait_for 20 "port-forward $name listening" grep -q '^Forwarding from 127.0.0.1' "pf-$name.out"
}

port=$((20000 + RANDOM % 20000))
step "kubectl port-forward pod/$pod (WebSocket tunnel)"
forward pod "pod/$pod" "$port:8000" -v=4
fetch "$port" a.html index.html || fail "fetch through the forward failed: $(cat pf-pod.out)"
assert_eq "$(cat a.html)" "hello from web"
# Two at once, one of them large.
fetch "$port" big1 big & p1=$!
fetch "$port" b.html index.html & p2=$!
wait $p1 || fail "large fetch failed: $(cat pf-pod.out)"
wait $p2 || fail "concurrent fetch failed: $(cat pf-pod.out)"
assert_eq "$(cat b.html)" "hello from web"
fetch "$port" big.md5 big.md5
assert_eq "$(md5sum <big1 | cut -d' ' -f1)" "$(cat big.md5)" "4 MB through the forward, byte for byte"
assert_eq "$(stat -c %s big1)" 4000000
assert_contains "$(cat pf-pod.out)" "negotiated protocol: portforward.k8s.io" "SPDY in WebSocket, no fallback"

step "a port nothing listens on: upstream's error, the forward goes on"
bad=$((port + 1))
forward bad "pod/$pod" "$bad:81"
fetch "$bad" x index.html
wait_for 10 "the error reported" grep -q 'error forwarding port 81 to pod' pf-bad.out
assert_contains "$(cat pf-bad.out)" "failed to connect to localhost:81 inside namespace"
kill "$pf_bad" 2>/dev/null

step "svc/web and deploy/web, over kubectl's SPDY fallback"
svc=$((port + 2))
KUBECTL_PORT_FORWARD_WEBSOCKETS=false forward svc svc/web "$svc:80"
fetch "$svc" c.html index.html
assert_eq "$(cat c.html)" "hello from web"
fetch "$svc" big2 big
assert_eq "$(md5sum <big2 | cut -d' ' -f1)" "$(cat big.md5)" "SPDY: 4 MB byte for byte"
dep=$((port + 3))
forward dep deploy/web "$dep:8000"
fetch "$dep" d.html index.html
assert_eq "$(cat d.html)" "hello from web"

step "forwards of a pod that is not there"
k port-forward pod/nope "$((port + 4)):80"
assert_fails
assert_contains "$ERR" 'pods "nope" not found'

kill "$pf_pod" "$pf_svc" "$pf_dep" 2>/dev/null

step "kubectl attach to a pod that prints"
cat >attach.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: ticker}
spec:
  containers:
  - name: main
    image: busybox:e2e
    command: [sh, -c, 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.2; done']
---
apiVersion: v1
kind: Pod
metadata: {name: echo}
spec:
  restartPolicy: Never
  containers:
  - name: cat
    image: busybox:e2e
    command: [sh, -c, 'cat; echo "stdin ended"']
    stdin: true
    stdinOnce: true
YAML
k apply -f attach.yaml
assert_rc 0
wait_for 60 "ticker and echo running" sh -c "[ \"\$(kubectl get pod ticker echo -o jsonpath='{.items[*].status.phase}')\" = 'Running Running' ]"
run timeout 3 kubectl attach ticker
assert_rc 124 "attach streams until the client goes"
assert_match "$OUT" '^tick [0-9]+$'
k get pod ticker -o jsonpath='{.status.containerStatuses[0].restartCount} {.status.phase}'
assert_eq "$OUT" "0 Running" "detaching leaves the container running"

step "kubectl attach -i: stdin through cat, stdinOnce ends it"
run sh -c 'printf "one\ntwo\n" | kubectl attach -i echo'
assert_rc 0
assert_eq "$OUT" "one
two
stdin ended"
wait_for 20 "echo Succeeded" sh -c "kubectl get pod echo -o jsonpath='{.status.phase}' | grep -q Succeeded"

step "kubectl attach -it: the pod's tty, its size from kubectl's terminal"
cat >tty.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: tty}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox:e2e
    command: [sh, -c, 'read l; stty size; echo "got $l"']
    stdin: true
    stdinOnce: true
    tty: true
YAML
k apply -f tty.yaml
assert_rc 0
wait_for 60 "tty running" sh -c "kubectl get pod tty -o jsonpath='{.status.phase}' | grep -q Running"
# script gives kubectl a terminal (of 33x77); the line is typed after a
# moment, as a user would, into that terminal.
run sh -c '(sleep 1; printf "hello\r") | script -qec "stty rows 33 cols 77; kubectl attach -it tty" /dev/null'
assert_rc 0
assert_match "$OUT" '^33 77'
assert_match "$OUT" '^got hello'

step "kubectl run -i --rm: attached, then deleted"
run sh -c 'echo hi | kubectl run said -i --rm --restart=Never --image=busybox:e2e -- sh -c "read l; echo got \$l"'
assert_rc 0
assert_contains "$OUT" "got hi"
assert_contains "$OUT" 'pod "said" deleted'

finish
