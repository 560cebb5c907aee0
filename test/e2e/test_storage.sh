#!/bin/bash
# PersistentVolumes on the server's own node, through kubectl: the
# bundled local-path StorageClass is the default; a claim without a class
# gets it and waits for its first consumer; a StatefulSet of 1 with a
# volumeClaimTemplate gets its claim bound to a volume the local-path
# provisioner made under <data-dir>/storage on the scheduler's node (node
# affinity to it); data the pod wrote is there after the pod is deleted
# and made again; a claim in use is kept until its pod is gone
# (pvc-protection), then its volume and directory go (reclaim Delete); a
# pod waits unscheduled for a claim made after it; a hand-made Retain
# volume binds to a matching claim and is Released when the claim goes;
# `--disable local-storage` removes the class.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_images.sh"

data="$E2E_TMP/data"
mkdir -p "$data/agent/images"
make_busybox_oci_tar "$data/agent/images/busybox.tar" busybox:e2e  # imported by the agent at start
cidr_flags=()
"$KUBIT" server --help 2>/dev/null | grep -q -- '--cluster-cidr' && cidr_flags=(--cluster-cidr 10.$((100 + RANDOM % 100)).0.0/16)
start_server "$data" ${cidr_flags[@]+"${cidr_flags[@]}"}
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
k() { run kubectl "$@"; }
jp() { kubectl get "$1" "$2" -o jsonpath="$3"; }
is() { [ "$(jp "$1" "$2" "$3")" = "$4" ]; }
diag() { printf '\n%s\n%s\n%s' "$(kubectl get pods,pvc,pv -o wide 2>&1)" "$(kubectl get events 2>&1 | tail -15)" "$(grep -iE 'local-path|persistentvolume|binding volumes' "$SERVER_LOG" | tail -10)"; }
wait_for() {  # wait_for SECONDS WHAT CMD...
  n=$(($1 * 5)); what=$2; shift 2
  for _ in $(seq "$n"); do
    "$@" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  fail "timed out waiting for $what$(diag)"
}

step "the bundled local-path StorageClass is the default"
wait_for 20 "StorageClass local-path" kubectl get storageclass local-path
k get storageclass local-path -o jsonpath='{.provisioner} {.volumeBindingMode} {.reclaimPolicy}'
assert_eq "$OUT" "rancher.io/local-path WaitForFirstConsumer Delete"
k get storageclass
assert_match "$OUT" '^local-path \(default\) +rancher.io/local-path +Delete +WaitForFirstConsumer'
node=$(kubectl get nodes -o jsonpath='{.items[0].metadata.name}')
wait_for 20 "the node's storage directory annotation" is node "$node" '{.metadata.annotations.kubit\.io/local-path-dir}' "$data/storage"

step "a claim without a class gets the default one and waits for its first consumer"
cat >lone.yaml <<'YAML'
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: lone}
spec:
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 64Mi}}
YAML
k apply -f lone.yaml
assert_rc 0
wait_for 20 "lone to get the default class" is pvc lone '{.spec.storageClassName}' local-path
waiting() { kubectl get events --field-selector involvedObject.name=lone -o jsonpath='{range .items[*]}{.reason}: {.message}{"\n"}{end}' | grep -q '^WaitForFirstConsumer: waiting for first consumer to be created before binding$'; }
wait_for 20 "the WaitForFirstConsumer event" waiting
k get pvc lone -o jsonpath='{.status.phase} [{.spec.volumeName}] {.metadata.finalizers}'
assert_eq "$OUT" 'Pending [] ["kubernetes.io/pvc-protection"]'
k get pvc lone
assert_match "$OUT" '^lone +Pending +local-path'

step "a StatefulSet of 1: its claim binds to a provisioned volume on the node, and the pod writes there"
cat >sts.yaml <<'YAML'
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db}
spec:
  replicas: 1
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: db
        image: busybox:e2e
        command: [sh, -c, '[ -f /data/first ] || hostname >/data/first; exec sleep 3600']
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      resources: {requests: {storage: 128Mi}}
YAML
k apply -f sts.yaml
assert_rc 0
wait_for 40 "db-0 Running" is pod db-0 '{.status.phase}' Running
k get pvc data-db-0 -o jsonpath='{.status.phase} {.spec.storageClassName} {.metadata.annotations.pv\.kubernetes\.io/bind-completed} {.metadata.annotations.volume\.kubernetes\.io/selected-node} {.metadata.annotations.volume\.kubernetes\.io/storage-provisioner} {.status.capacity.storage}'
assert_eq "$OUT" "Bound local-path yes $node rancher.io/local-path 128Mi"
claim_uid=$(jp pvc data-db-0 '{.metadata.uid}')
pv=$(jp pvc data-db-0 '{.spec.volumeName}')
assert_eq "$pv" "pvc-$claim_uid" "the provisioned volume's name"
dir="$data/storage/pvc-${claim_uid}_default_data-db-0"
k get pv "$pv" -o jsonpath='{.status.phase} {.spec.hostPath.path} {.spec.hostPath.type} {.spec.persistentVolumeReclaimPolicy} {.spec.claimRef.name} {.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].key}={.spec.nodeAffinity.required.nodeSelectorTerms[0].matchExpressions[0].values[0]} {.metadata.annotations.pv\.kubernetes\.io/provisioned-by}'
assert_eq "$OUT" "Bound $dir DirectoryOrCreate Delete data-db-0 kubernetes.io/hostname=$node rancher.io/local-path"
k get pv "$pv" -o jsonpath='{.metadata.finalizers}'
assert_eq "$OUT" '["kubernetes.io/pv-protection"]'
wait_for 10 "the pod's file on the node" test -s "$dir/first"
assert_eq "$(cat "$dir/first")" "db-0" "what db-0 wrote, read on the node"
k exec db-0 -- sh -c 'echo kept >/data/marker && cat /data/first'
assert_eq "$OUT" "db-0"
k get events --field-selector involvedObject.name=data-db-0 -o jsonpath='{range .items[*]}{.reason}{"\n"}{end}'
assert_match "$OUT" '^ProvisioningSucceeded$'

step "the pod is deleted and made again: the data is still there"
old_uid=$(jp pod db-0 '{.metadata.uid}')
k delete pod db-0
assert_rc 0
recreated() { [ "$(jp pod db-0 '{.metadata.uid}')" != "$old_uid" ] && is pod db-0 '{.status.phase}' Running; }
wait_for 40 "db-0 made again and Running" recreated
k exec db-0 -- cat /data/marker /data/first
assert_eq "$OUT" "kept
db-0"
assert_eq "$(jp pvc data-db-0 '{.metadata.uid}')" "$claim_uid" "the claim kept across the pod's deletion"

step "a claim in use is kept until its pod is gone; then its volume and directory go"
k delete pvc data-db-0 --wait=false
assert_rc 0
k get pvc data-db-0 -o jsonpath='{.status.phase} {.metadata.finalizers}'
assert_eq "$OUT" 'Bound ["kubernetes.io/pvc-protection"]'
[ -n "$(jp pvc data-db-0 '{.metadata.deletionTimestamp}')" ] || fail "data-db-0 not being deleted"
k scale statefulset db --replicas=0
assert_rc 0
wait_for 30 "data-db-0 to go" sh -c "! kubectl get pvc data-db-0"
wait_for 30 "volume $pv to go" sh -c "! kubectl get pv $pv"
wait_for 30 "the node to remove $dir" test ! -e "$dir"
assert_contains "$(cat "$SERVER_LOG")" "removed $dir of deleted volume $pv"

step "a pod whose claim does not exist yet waits unscheduled, and runs once the claim is made"
cat >late-pod.yaml <<'YAML'
apiVersion: v1
kind: Pod
metadata: {name: late}
spec:
  terminationGracePeriodSeconds: 1
  containers:
  - {name: c, image: busybox:e2e, command: [sh, -c, 'echo ok >/data/ok; exec sleep 3600'], volumeMounts: [{name: d, mountPath: /data}]}
  volumes: [{name: d, persistentVolumeClaim: {claimName: late-claim}}]
YAML
k apply -f late-pod.yaml
assert_rc 0
unschedulable() { kubectl get events --field-selector involvedObject.name=late -o jsonpath='{range .items[*]}{.reason}: {.message}{"\n"}{end}' | grep -q '^FailedScheduling: 0/1 nodes are available: 1 persistentvolumeclaim "late-claim" not found'; }
wait_for 20 "late's FailedScheduling event" unschedulable
sed 's/name: lone/name: late-claim/' lone.yaml >late-claim.yaml
k apply -f late-claim.yaml
assert_rc 0
wait_for 40 "late Running" is pod late '{.status.phase}' Running
k get pvc late-claim -o jsonpath='{.status.phase} {.metadata.annotations.volume\.kubernetes\.io/selected-node}'
assert_eq "$OUT" "Bound $node"
k delete pod late --wait=false
assert_rc 0

step "a Retain volume binds to a matching claim and is Released when the claim goes"
cat >retain.yaml <<YAML
apiVersion: v1
kind: PersistentVolume
metadata: {name: keep-pv, labels: {disk: slow}}
spec:
  capacity: {storage: 32Mi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: manual
  hostPath: {path: $E2E_TMP/keep, type: DirectoryOrCreate}
---
apiVersion: v1
kind: PersistentVolume
metadata: {name: big-pv, labels: {disk: slow}}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  storageClassName: manual
  hostPath: {path: $E2E_TMP/big}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: keep}
spec:
  storageClassName: manual
  accessModes: [ReadWriteOnce]
  selector: {matchLabels: {disk: slow}}
  resources: {requests: {storage: 16Mi}}
YAML
k apply -f retain.yaml
assert_rc 0
wait_for 20 "keep Bound" is pvc keep '{.status.phase}' Bound
k get pvc keep -o jsonpath='{.spec.volumeName} {.metadata.annotations.pv\.kubernetes\.io/bound-by-controller} {.status.capacity.storage}'
assert_eq "$OUT" "keep-pv yes 32Mi" "the smallest matching volume"
wait_for 10 "keep-pv Bound" is pv keep-pv '{.status.phase}' Bound
assert_eq "$(jp pv big-pv '{.status.phase}')" "Available"
k delete pvc keep
assert_rc 0
wait_for 20 "keep-pv Released" is pv keep-pv '{.status.phase}' Released
k get pv keep-pv -o jsonpath='{.spec.claimRef.name} {.spec.persistentVolumeReclaimPolicy}'
assert_eq "$OUT" "keep Retain"
k get pv keep-pv
assert_match "$OUT" '^keep-pv +32Mi +RWO +Retain +Released +default/keep +manual'

step "--disable local-storage: the class goes with its manifest"
stop_server
start_server "$data" ${cidr_flags[@]+"${cidr_flags[@]}"} --disable local-storage
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
assert_no_file "$data/server/manifests/local-storage.yaml" "the bundled local-storage manifest"
wait_for 20 "StorageClass local-path to go" sh -c "! kubectl get storageclass local-path"
k get pv keep-pv -o jsonpath='{.status.phase}'
assert_eq "$OUT" "Released" "a volume of another class, kept"

finish
