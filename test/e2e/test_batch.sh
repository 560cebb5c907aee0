#!/bin/bash
# Jobs and CronJobs through kubectl against `kubit server`: a Job of three
# completions, two at a time, completes (`kubectl wait --for=condition=complete`)
# as its pods succeed; a Job whose pod fails past backoffLimit is Failed with
# BackoffLimitExceeded; `kubectl create cronjob` is accepted and
# `kubectl create job --from=cronjob/x` makes a Job from its template (cron
# minutes are too slow for e2e: the schedule logic is unit-tested). The pods
# are never scheduled (schedulerName
# e2e-none): the test plays the kubelet through the status subresource.
. "$(dirname "$0")/lib.sh"

start_server "$E2E_TMP/data" --disable-agent
export KUBECONFIG="$E2E_TMP/kubeconfig-$_e2e_logs.yaml"
k() { run kubectl "$@"; }

# eventually CMD...: runs CMD (through `run`) until it exits 0, for at most 30 s.
eventually() {
  deadline=$(($(date +%s) + 30))
  while :; do
    "$@"
    [ "$RC" = 0 ] && return 0
    [ "$(date +%s)" -ge "$deadline" ] && return 1
    sleep 0.2
  done
}

# job NAME COMPLETIONS PARALLELISM BACKOFF_LIMIT
job() {
  cat >"$1.yaml" <<YAML
apiVersion: batch/v1
kind: Job
metadata: {name: $1}
spec:
  completions: $2
  parallelism: $3
  backoffLimit: $4
  template:
    spec:
      schedulerName: e2e-none
      restartPolicy: Never
      containers: [{name: main, image: busybox}]
YAML
  k apply -f "$1.yaml"
  assert_rc 0
}

# running_pods JOB N: the Job has exactly N pods that are not finished; their
# names in PODS.
running_pods() {
  k get pods -l "batch.kubernetes.io/job-name=$1" --field-selector=status.phase!=Succeeded,status.phase!=Failed \
    -o jsonpath='{range .items[*]}{.metadata.name}{"\n"}{end}'
  PODS=$OUT
  [ "$RC" = 0 ] && [ "$(printf '%s' "$OUT" | grep -c .)" = "$2" ] || RC=1
}

set_phase() {  # set_phase POD PHASE
  k patch pod "$1" --subresource=status --type=merge -p "{\"status\":{\"phase\":\"$2\"}}"
  assert_rc 0 "marking $1 $2"
}

step "a Job of 3 completions, 2 at a time, completes"
job pi 3 2 6
eventually running_pods pi 2 || fail "no 2 pods for the Job$(show_run)"
k get pod "$(printf '%s' "$PODS" | head -1)" -o jsonpath='{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {.metadata.finalizers}'
assert_eq "$OUT" 'Job/pi ["batch.kubernetes.io/job-tracking"]'
for pod in $PODS; do set_phase "$pod" Succeeded; done
eventually running_pods pi 1 || fail "no third pod$(show_run)"
set_phase "$PODS" Succeeded
k wait --for=condition=complete --timeout=20s job/pi
assert_rc 0 "kubectl wait for complete"
k get job pi -o jsonpath='{.status.succeeded} {.status.active} {.status.failed}'
assert_eq "$OUT" "3 0 0"
k get job pi
assert_match "$OUT" '^pi +Complete +3/3 '
k get events --field-selector involvedObject.name=pi -o jsonpath='{range .items[*]}{.reason}{"\n"}{end}'
assert_match "$OUT" '^SuccessfulCreate$'
assert_match "$OUT" '^Completed$'

step "a failing pod past backoffLimit fails the Job"
job boom 1 1 0
eventually running_pods boom 1 || fail "no pod for the Job$(show_run)"
set_phase "$PODS" Failed
k wait --for=condition=failed --timeout=20s job/boom
assert_rc 0 "kubectl wait for failed"
k get job boom -o jsonpath='{.status.conditions[?(@.type=="Failed")].reason} {.status.failed}'
assert_eq "$OUT" "BackoffLimitExceeded 1"

step "kubectl create cronjob, and a Job from it"
k create cronjob nightly --image=busybox --schedule="0 3 * * *" -- echo hi
assert_rc 0
k get cronjob nightly -o jsonpath='{.spec.schedule} {.spec.concurrencyPolicy} {.spec.suspend}'
assert_eq "$OUT" "0 3 * * * Allow false"
k create cronjob bad --image=busybox --schedule="61 * * * *" -- echo hi
assert_fails "a minute out of range"
assert_contains "$ERR" "end of range (61) above maximum (59)"
k create job manual --from=cronjob/nightly
assert_rc 0
k get job manual -o jsonpath='{.metadata.ownerReferences[0].kind}/{.metadata.ownerReferences[0].name} {.metadata.annotations.cronjob\.kubernetes\.io/instantiate}'
assert_eq "$OUT" "CronJob/nightly manual"
eventually running_pods manual 1 || fail "no pod for the Job made from the CronJob$(show_run)"
k get cronjob nightly -o jsonpath='{.status.active}'
assert_eq "$OUT" "" "a Job made by hand is not the CronJob's active run"

finish
