#!/bin/bash
# Pods on the server's own node, through kubectl: a busybox pod runs and
# logs to its CRI log, restart policies and exit codes (CrashLoopBackOff,
# Failed/Error, Succeeded/Completed, OOMKilled), init containers, env from
# a ConfigMap, a Secret and fieldRefs, configMap and secret volumes (an
# update reaches the running pod), an emptyDir shared by two containers,
# readiness and liveness exec probes, a graceful delete running preStop,
# and a pod that survives kill -9 of the server with its container
# re-adopted, and runs again after `kubit killall` and a start. One server; the pods all start at once and are checked in turn.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_images.sh"

data="$E2E_TMP/data"
mkdir -p "$data/agent/images"
make_busybox_oci_tar "$data/agent/images/busybox.tar" busybox:e2e  # imported by the agent at start
make_busybox_oci_tar "$data/agent/images/busybox2.tar" busybox:e2e2
mkdir -p "$data/agent/pod-manifests"
cat >"$data/agent/pod-manifests/static.yaml" <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: static}
spec:
  containers:
  - {name: main, image: busybox:e2e, command: [sleep, "1000"]}
YAML
# A pod range of its own, so that a test beside this one (another
# kubit's bridge on 10.42.0.0/24) does not take its routes.
cidr_flags=()
"$KUBIT" server --help 2>/dev/null | grep -q -- '--cluster-cidr' && cidr_flags=(--cluster-cidr 10.$((100 + RANDOM % 100)).0.0/16)
killall_at_exit "$data"
start_server "$data" ${cidr_flags[@]+"${cidr_flags[@]}"}
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
k() { run kubectl "$@"; }

# wait_for SECONDS WHAT CMD...: retries CMD every 0.2 s.
wait_for() {
  n=$(($1 * 5))
  what=$2
  shift 2
  for _ in $(seq "$n"); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  fail "timed out waiting for $what; pods:
$(kubectl get pods -o wide 2>&1)
$(kubectl get events 2>&1 | tail -20)"
}
jp() { kubectl get pod "$1" -o jsonpath="$2"; }
phase_is() { [ "$(jp "$1" '{.status.phase}')" = "$2" ]; }
field_is() { [ "$(jp "$1" "$2")" = "$3" ]; }
uid_of() { jp "$1" '{.metadata.uid}'; }
log_file() { printf '%s/agent/logs/default_%s_%s/%s/%s.log' "$data" "$1" "$(uid_of "$1")" "$2" "${3:-0}"; }
log_has() { grep -q -- "$3" "$(log_file "$1" "$2")"; }

step "objects the pods use"
k create configmap cfg --from-literal=color=blue --from-literal=size=L
assert_rc 0 "create configmap"
k create secret generic creds --from-literal=password=s3cr3t
assert_rc 0 "create secret"
hostdir="$E2E_TMP/host"
mkdir -p "$hostdir"

step "all pods at once"
cat >pods.yaml <<YAML
apiVersion: v1
kind: Pod
metadata: {name: hello, labels: {app: hello}}
spec:
  containers:
  - name: main
    image: busybox:e2e
    command: [sh, -c, 'echo "hello from \$(POD_NAME) in \$(POD_NS)"; echo to stderr >&2; exec sleep 1000']
    env:
    - {name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}
    - {name: POD_NS, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}
---
apiVersion: v1
kind: Pod
metadata: {name: crash}
spec:
  containers:
  - {name: main, image: busybox:e2e, command: [sh, -c, 'echo crashing; exit 3']}
---
apiVersion: v1
kind: Pod
metadata: {name: never}
spec:
  restartPolicy: Never
  containers:
  - {name: main, image: busybox:e2e, command: [sh, -c, 'echo bad news > /dev/termination-log; exit 2']}
---
apiVersion: v1
kind: Pod
metadata: {name: onfailure}
spec:
  restartPolicy: OnFailure
  containers:
  - {name: main, image: busybox:e2e, command: [sh, -c, 'exit 0']}
---
apiVersion: v1
kind: Pod
metadata: {name: oom}
spec:
  restartPolicy: Never
  containers:
  - name: main
    image: busybox:e2e
    command: [sh, -c, 'x=a; while true; do x="\$x\$x"; done']
    resources: {limits: {memory: 16Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: init}
spec:
  initContainers:
  - {name: first, image: busybox:e2e, command: [sh, -c, 'echo one > /work/order'], volumeMounts: [{name: work, mountPath: /work}]}
  - {name: second, image: busybox:e2e, command: [sh, -c, 'echo two >> /work/order'], volumeMounts: [{name: work, mountPath: /work}]}
  containers:
  - {name: main, image: busybox:e2e, command: [sh, -c, 'cat /work/order; exec sleep 1000'], volumeMounts: [{name: work, mountPath: /work}]}
  volumes: [{name: work, emptyDir: {}}]
---
apiVersion: v1
kind: Pod
metadata: {name: env}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - name: main
    image: busybox:e2e
    command: [sh, -c, 'echo "color=\$COLOR pw=\$PW cfg_size=\$CFG_size node=\$NODE"; exec sleep 1000']
    env:
    - {name: COLOR, valueFrom: {configMapKeyRef: {name: cfg, key: color}}}
    - {name: PW, valueFrom: {secretKeyRef: {name: creds, key: password}}}
    - {name: NODE, valueFrom: {fieldRef: {fieldPath: spec.nodeName}}}
    envFrom: [{configMapRef: {name: cfg}, prefix: CFG_}]
---
apiVersion: v1
kind: Pod
metadata: {name: missingkey}
spec:
  containers:
  - name: main
    image: busybox:e2e
    command: [sleep, "1000"]
    env: [{name: X, valueFrom: {configMapKeyRef: {name: cfg, key: nope}}}]
---
apiVersion: v1
kind: Pod
metadata: {name: volumes}
spec:
  containers:
  - name: writer
    image: busybox:e2e
    command: [sh, -c, 'echo shared > /scratch/file; exec sleep 1000']
    volumeMounts: [{name: scratch, mountPath: /scratch}]
  - name: reader
    image: busybox:e2e
    command: [sleep, "1000"]
    volumeMounts:
    - {name: scratch, mountPath: /scratch}
    - {name: cfg, mountPath: /etc/cfg}
    - {name: creds, mountPath: /etc/creds}
  volumes:
  - {name: scratch, emptyDir: {}}
  - {name: cfg, configMap: {name: cfg}}
  - {name: creds, secret: {secretName: creds}}
---
apiVersion: v1
kind: Pod
metadata: {name: probes}
spec:
  # The live container's sleep ignores SIGTERM: its liveness restart would
  # otherwise wait out the default 30 s grace period.
  terminationGracePeriodSeconds: 1
  containers:
  - name: ready
    image: busybox:e2e
    command: [sleep, "1000"]
    readinessProbe: {exec: {command: [cat, /tmp/ready]}, periodSeconds: 1, failureThreshold: 1}
  - name: live
    image: busybox:e2e
    command: [sh, -c, 'touch /tmp/alive; sleep 2; rm /tmp/alive; exec sleep 1000']
    livenessProbe: {exec: {command: [cat, /tmp/alive]}, periodSeconds: 1, failureThreshold: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: sidecar}
spec:
  initContainers:
  - {name: proxy, image: busybox:e2e, restartPolicy: Always, command: [sh, -c, 'echo proxy up; exec sleep 1000']}
  containers:
  - {name: main, image: busybox:e2e, command: [sleep, "1000"]}
---
apiVersion: v1
kind: Pod
metadata: {name: deadline}
spec:
  activeDeadlineSeconds: 2
  terminationGracePeriodSeconds: 1
  containers:
  - {name: main, image: busybox:e2e, command: [sleep, "1000"]}
---
apiVersion: v1
kind: Pod
metadata: {name: web}
spec:
  containers:
  - name: httpd
    image: busybox:e2e
    command: [sh, -c, 'mkdir -p /www && echo it works > /www/index.html && exec httpd -f -p 8080 -h /www']
    ports: [{containerPort: 8080, name: http}]
    readinessProbe: {httpGet: {path: /index.html, port: http}, periodSeconds: 1}
    livenessProbe: {tcpSocket: {port: 8080}, periodSeconds: 1}
---
apiVersion: v1
kind: Pod
metadata: {name: graceful}
spec:
  terminationGracePeriodSeconds: 20
  containers:
  - name: main
    image: busybox:e2e
    command: [sh, -c, 'trap "echo got TERM >> /host/trace; exit 0" TERM; while true; do sleep 0.2; done']
    lifecycle: {preStop: {exec: {command: [sh, -c, 'echo prestop >> /host/trace']}}}
    volumeMounts: [{name: host, mountPath: /host}]
  volumes: [{name: host, hostPath: {path: $hostdir, type: Directory}}]
YAML
k apply -f pods.yaml
assert_rc 0 "apply pods"

step "a busybox pod runs, Ready, with its output in the CRI log"
k wait --for=condition=Ready pod/hello --timeout=30s
assert_rc 0 "kubectl wait Ready"
wait_for 10 "hello's log" log_has hello main 'stdout F hello from hello in default'
assert_match "$(cat "$(log_file hello main)")" '^[0-9T:.-]+Z stderr F to stderr$' "CRI log"
field_is hello '{.status.containerStatuses[0].state.running.startedAt}' "" && fail "no startedAt"
assert_match "$(jp hello '{.status.containerStatuses[0].containerID}')" '^kubit://k8s_' "containerID"
assert_eq "$(jp hello '{.status.qosClass}')" BestEffort "qosClass"
assert_eq "$(jp hello '{.status.hostIP}')" "$(kubectl get node -o jsonpath='{.items[0].status.addresses[0].address}')" "hostIP"
k get events --field-selector involvedObject.name=hello -o 'jsonpath={range .items[*]}{.reason}:{.source.component}{"\n"}{end}'
for r in Pulled:kubelet Created:kubelet Started:kubelet; do assert_contains "$OUT" "$r" "hello's events"; done
hello_id=$(jp hello '{.status.containerStatuses[0].containerID}')

step "pod IPs from the node's podCIDR; httpGet and tcpSocket probes; pod to pod"
k wait --for=condition=Ready pod/web --timeout=60s
if [ "$RC" != 0 ]; then
  # What the kubelet saw, for the log of a failure.
  kubectl describe pod web 2>&1 | tail -30
  ip route
fi
assert_rc 0 "web Ready (httpGet readiness probe)"
web_ip=$(jp web '{.status.podIP}')
assert_match "$web_ip" '^10\.[0-9]+\.0\.[0-9]+$' "web's podIP"
assert_eq "$(jp web '{.status.podIPs[0].ip}')" "$web_ip" "podIPs"
hello_cid=$(jp hello '{.status.containerStatuses[0].containerID}')
run "$KUBIT" ctr --data-dir "$data" exec "${hello_cid#kubit://}" wget -q -O - "http://$web_ip:8080/index.html"
assert_eq "$OUT" "it works" "hello fetching from web"
run "$KUBIT" ctr --data-dir "$data" exec "${hello_cid#kubit://}" cat /etc/hosts /etc/resolv.conf
assert_match "$OUT" "^$(jp hello '{.status.podIP}')"$'\t'"hello$" "/etc/hosts"
assert_contains "$OUT" "search default.svc.cluster.local svc.cluster.local cluster.local" "resolv.conf"
assert_contains "$OUT" "nameserver 10.43.0.10" "resolv.conf"

step "the service account token, CA and namespace at /var/run/secrets/kubernetes.io/serviceaccount"
sa=/var/run/secrets/kubernetes.io/serviceaccount
run "$KUBIT" ctr --data-dir "$data" exec "${hello_cid#kubit://}" cat $sa/namespace
assert_eq "$OUT" default "namespace file"
run "$KUBIT" ctr --data-dir "$data" exec "${hello_cid#kubit://}" cat $sa/token
assert_match "$OUT" '^eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' "token file"
token=$OUT
run "$KUBIT" ctr --data-dir "$data" exec "${hello_cid#kubit://}" cat $sa/ca.crt
assert_contains "$OUT" "BEGIN CERTIFICATE" "ca.crt"
url=$(kubectl config view -o 'jsonpath={.clusters[0].cluster.server}')
KUBECONFIG=/dev/null run kubectl --server "$url" --insecure-skip-tls-verify --token "$token" \
  auth whoami -o 'jsonpath={.status.userInfo.username}'
assert_eq "$OUT" system:serviceaccount:default:default "the token's identity"

step "restartPolicy Never: Failed with reason Error and the termination message"
wait_for 20 "never Failed" phase_is never Failed
assert_eq "$(jp never '{.status.containerStatuses[0].state.terminated.reason}')" Error "reason"
assert_eq "$(jp never '{.status.containerStatuses[0].state.terminated.exitCode}')" 2 "exit code"
assert_eq "$(jp never '{.status.containerStatuses[0].state.terminated.message}')" "bad news" "termination message"

step "restartPolicy OnFailure, exit 0: Succeeded, Completed"
wait_for 20 "onfailure Succeeded" phase_is onfailure Succeeded
assert_eq "$(jp onfailure '{.status.containerStatuses[0].state.terminated.reason}')" Completed "reason"
assert_eq "$(jp onfailure '{.status.containerStatuses[0].restartCount}')" 0 "restarts"

step "a memory hog is OOMKilled"
wait_for 30 "oom Failed" phase_is oom Failed
assert_eq "$(jp oom '{.status.containerStatuses[0].state.terminated.reason}')" OOMKilled "reason"

step "init containers run in order before the app container"
wait_for 20 "init Running" phase_is init Running
wait_for 10 "init's log" log_has init main two
assert_eq "$(grep -c 'stdout F' "$(log_file init main)")" 2 "lines of init's log"
assert_match "$(cat "$(log_file init main)")" 'stdout F one' "init order"
assert_eq "$(jp init '{.status.initContainerStatuses[*].state.terminated.reason}')" "Completed Completed" "init statuses"

step "a sidecar (init container with restartPolicy Always) keeps running beside the app"
k wait --for=condition=Ready pod/sidecar --timeout=20s
assert_rc 0 "sidecar pod Ready"
assert_eq "$(jp sidecar '{.status.initContainerStatuses[0].started}')" true "sidecar started"
assert_match "$(jp sidecar '{.status.initContainerStatuses[0].state}')" running "sidecar state"

step "a static pod from agent/pod-manifests runs, mirrored in the API"
static=static-$(kubectl get node -o jsonpath='{.items[0].metadata.name}')
wait_for 20 "the mirror pod Running" phase_is "$static" Running
assert_match "$(jp "$static" '{.metadata.annotations}')" 'kubernetes.io/config.mirror' "mirror annotation"
k delete pod "$static" --wait=false
wait_for 20 "the mirror pod back" phase_is "$static" Running
rm "$data/agent/pod-manifests/static.yaml"
static_gone() { ! kubectl get pod "$static" >/dev/null 2>&1; }
wait_for 20 "the static pod gone with its file" static_gone

step "env from a ConfigMap, a Secret, envFrom with prefix and fieldRef"
wait_for 20 "env's log" log_has env main 'color=blue pw=s3cr3t cfg_size=L node='
step "a new image restarts the container"
k set image pod/env main=busybox:e2e2
assert_rc 0 "set image"
new_image() { [ "$(jp env '{.status.containerStatuses[0].restartCount}')" = 1 ] && [ "$(jp env '{.status.containerStatuses[0].image}')" = busybox:e2e2 ] && phase_is env Running; }
wait_for 20 "env running busybox:e2e2" new_image

step "activeDeadlineSeconds: Failed, DeadlineExceeded"
wait_for 20 "deadline Failed" phase_is deadline Failed
assert_eq "$(jp deadline '{.status.reason}')" DeadlineExceeded "reason"

step "a missing configMap key: CreateContainerConfigError"
wait_for 20 "missingkey waiting" field_is missingkey '{.status.containerStatuses[0].state.waiting.reason}' CreateContainerConfigError
assert_eq "$(jp missingkey '{.status.containerStatuses[0].state.waiting.message}')" "couldn't find key nope in ConfigMap default/cfg" "message"

step "an emptyDir shared by two containers; configMap and secret volumes"
wait_for 20 "volumes Running" phase_is volumes Running
reader=$(jp volumes '{.status.containerStatuses[?(@.name=="reader")].containerID}')
reader=${reader#kubit://}
cexec() { run "$KUBIT" ctr --data-dir "$data" exec "$@"; }
wait_for 10 "shared file" cexec "$reader" grep -q shared /scratch/file
cexec "$reader" cat /etc/cfg/color /etc/creds/password
assert_eq "$OUT" "blues3cr3t" "volume files"
step "a configMap change reaches the running pod"
k patch configmap cfg --type=merge -p '{"data":{"color":"green"}}'
assert_rc 0 "patch configmap"
color_is() { cexec "$reader" cat /etc/cfg/color; [ "$OUT" = green ]; }
wait_for 25 "the new color in the volume" color_is

step "an exec readiness probe flips Ready; a failing liveness probe restarts"
ready_id=$(jp probes '{.status.containerStatuses[?(@.name=="ready")].containerID}')
wait_for 20 "probes Running" phase_is probes Running
field_is probes '{.status.conditions[?(@.type=="Ready")].status}' False || fail "probes Ready before the file"
ready_id=$(jp probes '{.status.containerStatuses[?(@.name=="ready")].containerID}')
cexec "${ready_id#kubit://}" touch /tmp/ready
assert_rc 0 "touch /tmp/ready"
wait_for 15 "the ready container ready" field_is probes '{.status.containerStatuses[?(@.name=="ready")].ready}' true
cexec "${ready_id#kubit://}" rm /tmp/ready
wait_for 15 "the ready container unready" field_is probes '{.status.containerStatuses[?(@.name=="ready")].ready}' false
restarted() { [ "$(jp probes '{.status.containerStatuses[?(@.name=="live")].restartCount}')" -ge 1 ]; }
wait_for 20 "a liveness restart" restarted
k get events --field-selector involvedObject.name=probes -o 'jsonpath={range .items[*]}{.reason}: {.message}{"\n"}{end}'
assert_contains "$OUT" "Unhealthy: Liveness probe failed" "probe events"
assert_contains "$OUT" "Killing: Container live failed liveness probe, will be restarted" "probe events"

step "a crashing container reaches CrashLoopBackOff with restarts"
crashlooping() {
  [ "$(jp crash '{.status.containerStatuses[0].state.waiting.reason}')" = CrashLoopBackOff ] &&
    [ "$(jp crash '{.status.containerStatuses[0].restartCount}')" -ge 2 ]
}
wait_for 40 "CrashLoopBackOff" crashlooping
assert_eq "$(jp crash '{.status.containerStatuses[0].lastState.terminated.exitCode}')" 3 "last exit code"
assert_eq "$(jp crash '{.status.phase}')" Running "phase"
assert_file "$(log_file crash main 1)" "the second attempt's log"

step "a graceful delete runs preStop, then SIGTERM, and finishes the deletion"
k delete pod graceful --wait=true --timeout=30s
assert_rc 0 "delete graceful"
assert_eq "$(cat "$hostdir/trace")" "prestop
got TERM" "preStop then TERM"
k get pod graceful
assert_fails "pod gone"

step "kill -9 of the server: the pod keeps running and is re-adopted"
restarts=$(jp hello '{.status.containerStatuses[0].restartCount}')
kill_server
start_server "$data" ${cidr_flags[@]+"${cidr_flags[@]}"}
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
k wait --for=condition=Ready pod/hello --timeout=20s
assert_rc 0 "hello Ready after the restart"
sleep 2
assert_eq "$(jp hello '{.status.containerStatuses[0].containerID}')" "$hello_id" "same container"
assert_eq "$(jp hello '{.status.containerStatuses[0].restartCount}')" "$restarts" "restartCount"
assert_eq "$(grep -c 'hello from' "$(log_file hello main)")" 1 "hello started once"

step "kubit killall with the server down: after the start the pod runs again, in a new sandbox"
stop_server
"$KUBIT" killall --data-dir "$data" >/dev/null 2>&1
start_server "$data" ${cidr_flags[@]+"${cidr_flags[@]}"}
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
wait_for 30 "hello running again" field_is hello '{.status.containerStatuses[0].ready}' true
assert_eq "$(jp hello '{.status.containerStatuses[0].restartCount}')" "$((restarts + 1))" "restartCount after killall"

step "deleting pods removes their containers, sandboxes and files"
k delete pod --all --grace-period=1 --wait=true --timeout=40s
assert_rc 0 "delete all"
left() { [ -z "$(ls "$data/agent/containers" "$data/agent/sandboxes" "$data/agent/pods" 2>/dev/null | grep -v ':$' | grep .)" ]; }
wait_for 10 "containers, sandboxes and pod dirs removed" left
stop_server
"$KUBIT" killall --data-dir "$data" >/dev/null 2>&1
finish
