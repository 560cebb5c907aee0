#!/bin/bash
# Image pulls for pods: a private registry (docker-registry with basic auth,
# plain HTTP through registries.yaml, which holds no credentials) serves an
# image that a pod pulls with its imagePullSecrets (Pulling and Pulled
# events); a pod without the secret gets ErrImagePull, then
# ImagePullBackOff; imagePullPolicy Never with an absent image gets
# ErrImageNeverPull.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_images.sh"
command -v skopeo >/dev/null && command -v docker-registry >/dev/null ||
  fail "skopeo and docker-registry are needed (make deps)"

make_busybox_oci_tar "$E2E_TMP/busybox-oci.tar" busybox:1
start_registry "$E2E_TMP/registry" alice:s3cret
reg=$REGISTRY
run skopeo copy --dest-tls-verify=false --dest-creds alice:s3cret "oci-archive:$E2E_TMP/busybox-oci.tar" \
  "docker://$reg/private/busybox:1"
assert_rc 0 "skopeo copy to the registry"
printf 'mirrors:\n  "%s":\n    endpoint: ["http://%s"]\n' "$reg" "$reg" >"$E2E_TMP/registries.yaml"

start_server "$E2E_TMP/data" --private-registry "$E2E_TMP/registries.yaml"
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
k() { run kubectl "$@"; }
jp() { kubectl get pod "$1" -o jsonpath="$2"; }
waiting_is() { [ "$(jp "$1" '{.status.containerStatuses[0].state.waiting.reason}')" = "$2" ]; }
wait_for() {  # wait_for SECONDS WHAT CMD...
  n=$(($1 * 5)); what=$2; shift 2
  for _ in $(seq "$n"); do "$@" >/dev/null 2>&1 && return 0; sleep 0.2; done
  fail "timed out waiting for $what; $(kubectl get pods 2>&1)"
}

k create secret docker-registry regcred --docker-server="$reg" --docker-username=alice --docker-password=s3cret
assert_rc 0 "create the pull secret"
cat >pods.yaml <<YAML
apiVersion: v1
kind: Pod
metadata: {name: with-secret}
spec:
  imagePullSecrets: [{name: regcred}]
  containers: [{name: main, image: $reg/private/busybox:1, imagePullPolicy: Always, command: [sleep, "1000"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: without-secret}
spec:
  containers: [{name: main, image: $reg/private/busybox:1, imagePullPolicy: Always, command: [sleep, "1000"]}]
---
apiVersion: v1
kind: Pod
metadata: {name: never}
spec:
  containers: [{name: main, image: absent:1, imagePullPolicy: Never, command: [sleep, "1000"]}]
YAML
k apply -f pods.yaml
assert_rc 0 "apply"

step "the pod with the secret pulls and runs"
k wait --for=condition=Ready pod/with-secret --timeout=30s
assert_rc 0 "with-secret Ready"
assert_match "$(jp with-secret '{.status.containerStatuses[0].imageID}')" "^$reg/private/busybox@sha256:" "imageID"
k get events --field-selector involvedObject.name=with-secret -o 'jsonpath={range .items[*]}{.reason}: {.message}{"\n"}{end}'
assert_contains "$OUT" "Pulling: Pulling image \"$reg/private/busybox:1\"" "events"
assert_match "$OUT" "^Pulled: Successfully pulled image \"$reg/private/busybox:1\" in " "events"

step "without the secret: ErrImagePull, then ImagePullBackOff"
wait_for 20 "ImagePullBackOff" waiting_is without-secret ImagePullBackOff
assert_eq "$(jp without-secret '{.status.phase}')" Pending "phase"

step "imagePullPolicy Never and no image: ErrImageNeverPull"
wait_for 20 "ErrImageNeverPull" waiting_is never ErrImageNeverPull
assert_eq "$(jp never '{.status.containerStatuses[0].state.waiting.message}')" \
  'Container image "absent:1" is not present with pull policy of Never' "message"

k delete pod --all --grace-period=0 --wait=true --timeout=30s
stop_server
"$KUBIT" killall --data-dir "$E2E_TMP/data" >/dev/null 2>&1
finish
