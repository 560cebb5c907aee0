# Helpers for the container e2e tests (test_ctr_*.sh); source after lib.sh.
#
#   . "$(dirname "$0")/lib_ctr.sh"
#   ctr_setup              # CTR_DATA (a data dir), CTR_ROOT (a busybox rootfs)
#   ctr run --rm --rootfs "$CTR_ROOT" c1 /bin/true   # kubit ctr on CTR_DATA (via run)
#
# Every container the test starts is stopped when it exits, however it
# exits: `kubit killall --data-dir CTR_DATA`.

. "$(dirname "$0")/lib_images.sh"

ctr_setup() {
  [ "$(id -u)" = 0 ] || fail "the container tests need root"
  CTR_DATA="$E2E_TMP/data"
  CTR_ROOT="$E2E_TMP/rootfs"
  make_busybox_rootfs "$CTR_ROOT"
  trap _ctr_cleanup EXIT
}

_ctr_cleanup() {
  "$KUBIT" killall --data-dir "$CTR_DATA" >/dev/null 2>&1
  _e2e_cleanup
}

# ctr ARGS...: `kubit ctr --data-dir CTR_DATA ARGS...` through `run`
# (sets RC, OUT, ERR).
ctr() { run "$KUBIT" ctr --data-dir "$CTR_DATA" "$@"; }

# ctr_status ID: the STATUS column of `kubit ctr ps` for ID.
ctr_status() {
  "$KUBIT" ctr --data-dir "$CTR_DATA" ps | awk -v id="$1" '$1 == id { print $4 }'
}

# ctr_state ID KEY: a field of the container's state file.
ctr_state() {
  sed -n "s/^$2=//p" "$CTR_DATA/agent/containers/$1/state"
}

# wait_status ID ERE: until ctr_status matches (0) or E2E_TIMEOUT passes (1).
wait_status() {
  deadline=$(($(date +%s) + E2E_TIMEOUT))
  while ! ctr_status "$1" | grep -Eq -- "$2"; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.05
  done
}
