#!/bin/bash
# kubit ctr images: import busybox images made here from Debian's
# busybox-static (an OCI layout and a docker save tarball), list and remove
# them; then pull from a real registry (Debian's docker-registry on
# 127.0.0.1, filled with skopeo) through a registries.yaml that makes it
# plain HTTP, directly and as a docker.io mirror with a rewrite, and an
# unknown tag's 404.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/lib_images.sh"

data="$E2E_TMP/data"
ctr() { run "$KUBIT" ctr --data-dir "$data" "$@"; }

step "build test images"
make_busybox_oci_tar "$E2E_TMP/busybox-oci.tar" busybox:1
oci_digest=$BUSYBOX_MANIFEST_DIGEST
config_digest=$BUSYBOX_CONFIG_DIGEST
make_busybox_docker_tar "$E2E_TMP/busybox-docker.tar" busybox:2
read -r arch variant <<<"$(busybox_platform)"
platform="linux/$arch${variant:+/$variant}"

step "help"
run "$KUBIT" ctr images --help
assert_rc 0 "ctr images --help"
assert_match "$OUT" "pull REF"
for c in pull import ls rm prune; do
  run "$KUBIT" ctr images "$c" --help
  assert_rc 0 "ctr images $c --help"
  assert_contains "$OUT" "kubit ctr images $c"
done

step "import an OCI layout and a docker save tarball"
ctr images import "$E2E_TMP/busybox-oci.tar"
assert_rc 0 "import OCI layout"
assert_eq "$OUT" "imported docker.io/library/busybox:1" "import output"
ctr i import "$E2E_TMP/busybox-docker.tar"
assert_rc 0 "import docker save"
assert_eq "$OUT" "imported docker.io/library/busybox:2" "import output"

step "ls"
ctr images ls
assert_rc 0 "ls"
assert_match "$OUT" "^REF +TYPE +DIGEST +SIZE +PLATFORMS +LABELS$" "ls header"
assert_match "$OUT" "^docker.io/library/busybox:1 +application/vnd.oci.image.manifest.v1\+json +$oci_digest +[0-9.]+ (KiB|MiB) +$platform " "busybox:1 row"
assert_match "$OUT" "^docker.io/library/busybox:2 .* $platform " "busybox:2 row"
ctr images ls -q
assert_eq "$OUT" "docker.io/library/busybox:1
docker.io/library/busybox:2" "ls -q"
# One layer, the same tar in both: unpacked once.
assert_eq "$(ls "$data/agent/snapshots" | wc -l)" 1 "snapshot count"
assert_file "$data/agent/snapshots/$(ls "$data/agent/snapshots")/bin/busybox" "busybox in the snapshot"
[ -L "$data/agent/snapshots/$(ls "$data/agent/snapshots")/bin/sh" ] || fail "bin/sh is not a symlink"

step "bad input"
ctr images import "$E2E_TMP/nothing.tar"
assert_fails "import of a missing file"
assert_contains "$ERR" "nothing.tar"
head -c 100000 "$E2E_TMP/busybox-oci.tar" >"$E2E_TMP/truncated.tar"
ctr images import "$E2E_TMP/truncated.tar"
assert_fails "import of a truncated tarball"
assert_contains "$ERR" "truncated"
ctr images pull "Not/A:Valid:Ref"
assert_fails "pull of a malformed reference"
assert_contains "$ERR" "invalid image reference"

step "rm"
ctr images rm busybox:2
assert_rc 0 "rm busybox:2"
ctr images ls -q
assert_eq "$OUT" "docker.io/library/busybox:1" "ls after rm"
assert_eq "$(ls "$data/agent/snapshots" | wc -l)" 1 "the shared layer stays"
ctr images rm busybox:2
assert_fails "rm of a removed image"
assert_contains "$ERR" "image not found: docker.io/library/busybox:2"

step "start a registry on 127.0.0.1"
start_registry "$E2E_TMP/registry"
reg=$REGISTRY
run skopeo copy --dest-tls-verify=false "oci-archive:$E2E_TMP/busybox-oci.tar" "docker://$reg/busybox:1"
assert_rc 0 "skopeo copy to the registry"
run skopeo copy --dest-tls-verify=false "oci-archive:$E2E_TMP/busybox-oci.tar" "docker://$reg/mirror/busybox:1"
assert_rc 0 "skopeo copy to the registry"

step "pull over plain HTTP"
cat >"$E2E_TMP/registries.yaml" <<YAML
mirrors:
  "$reg":
    endpoint: ["http://$reg"]
YAML
rm -rf "$data"
ctr --private-registry "$E2E_TMP/registries.yaml" images pull "$reg/busybox:1"
assert_rc 0 "pull"
assert_contains "$OUT" "unpacked $reg/busybox:1 (sha256:"
assert_match "$OUT" "^layer +sha256:[0-9a-f]{12}: done " "progress line per layer"
ctr images ls
assert_match "$OUT" "^$reg/busybox:1 .* $platform " "pulled image listed"
assert_file "$data/agent/snapshots/$(ls "$data/agent/snapshots")/bin/busybox" "busybox in the pulled snapshot"
ctr --private-registry "$E2E_TMP/registries.yaml" images pull "$reg/busybox:1"
assert_rc 0 "second pull"
assert_match "$OUT" "^layer +sha256:[0-9a-f]{12}: exists" "the layer is not fetched again"

step "a Docker schema2 manifest (skopeo's choice for a docker save source)"
run skopeo copy --dest-tls-verify=false "docker-archive:$E2E_TMP/busybox-docker.tar" "docker://$reg/busybox:v2s2"
assert_rc 0 "skopeo copy of the docker save tarball"
ctr --private-registry "$E2E_TMP/registries.yaml" images pull "$reg/busybox:v2s2"
assert_rc 0 "pull of a schema2 image"
ctr images ls
assert_match "$OUT" "^$reg/busybox:v2s2 +application/vnd.docker.distribution.manifest.v2\+json " "schema2 row"

step "a docker.io mirror with a rewrite"
cat >"$E2E_TMP/mirror.yaml" <<YAML
mirrors:
  docker.io:
    endpoint: ["http://$reg"]
    rewrite:
      "^library/(.*)": "mirror/\$1"
YAML
ctr --private-registry "$E2E_TMP/mirror.yaml" images pull busybox:1
assert_rc 0 "pull through the mirror"
assert_contains "$OUT" "unpacked docker.io/library/busybox:1"

step "unknown tag"
ctr --private-registry "$E2E_TMP/registries.yaml" images pull "$reg/busybox:nope"
assert_fails "pull of an unknown tag"
assert_contains "$ERR" "registry $reg returned 404 (not found) for manifest busybox:nope: MANIFEST_UNKNOWN"

step "basic auth (htpasswd)"
start_registry "$E2E_TMP/registry-auth" alice:s3cret
areg=$REGISTRY
run skopeo copy --dest-tls-verify=false --dest-creds alice:s3cret "oci-archive:$E2E_TMP/busybox-oci.tar" \
  "docker://$areg/private/busybox:1"
assert_rc 0 "skopeo copy to the registry with auth"
auth_yaml() {  # auth_yaml AUTH-LINES: registries.yaml for the auth registry
  printf 'mirrors:\n  "%s":\n    endpoint: ["http://%s"]\nconfigs:\n  "%s":\n    auth:\n%s\n' \
    "$areg" "$areg" "$areg" "$1" >"$E2E_TMP/auth.yaml"
}
auth_yaml "      username: alice
      password: s3cret"
ctr --private-registry "$E2E_TMP/auth.yaml" images pull "$areg/private/busybox:1"
assert_rc 0 "pull with username and password"
auth_yaml "      auth: $(printf alice:s3cret | base64)"
ctr --private-registry "$E2E_TMP/auth.yaml" images pull "$areg/private/busybox:1"
assert_rc 0 "pull with auth (base64)"
auth_yaml "      username: alice
      password: wrong"
ctr --private-registry "$E2E_TMP/auth.yaml" images pull "$areg/private/busybox:1"
assert_fails "pull with a wrong password"
assert_contains "$ERR" "registry $areg returned 401 (unauthorized: check configs.<host>.auth) for manifest private/busybox:1"
ctr images rm "$areg/private/busybox:1"
assert_rc 0 "rm"

step "kill -9 during import and pull leaves a store that opens"
for i in 1 2 3 4; do
  "$KUBIT" ctr --data-dir "$data" images import "$E2E_TMP/busybox-docker.tar" >/dev/null 2>&1 &
  p1=$!
  "$KUBIT" ctr --data-dir "$data" --private-registry "$E2E_TMP/registries.yaml" images pull "$reg/busybox:1" \
    >/dev/null 2>&1 &
  p2=$!
  sleep "0.0$((RANDOM % 6))"
  kill -KILL "$p1" "$p2" 2>/dev/null
  wait "$p1" "$p2" 2>/dev/null
  ctr images ls
  assert_rc 0 "ls after kill -9 number $i"
done
ctr images rm "$reg/busybox:1" docker.io/library/busybox:2
ctr --private-registry "$E2E_TMP/registries.yaml" images pull "$reg/busybox:1"
assert_rc 0 "pull after the kills"
ctr images import "$E2E_TMP/busybox-docker.tar"
assert_rc 0 "import after the kills"
assert_no_match "$(ls -a "$data/agent/snapshots" "$data/agent/content/ingest")" '^(\.tmp-|tmp-)' \
  "leftovers of killed processes"

step "prune"
ctr images prune
assert_rc 2 "prune without --all"
ctr images prune --all
assert_rc 0 "prune --all"
assert_match "$OUT" "^docker.io/library/busybox:1$"
assert_match "$OUT" "^$reg/busybox:1$"
assert_match "$OUT" "^$reg/busybox:v2s2$"
assert_match "$OUT" "^docker.io/library/busybox:2$"
ctr images ls -q
assert_eq "$OUT" "" "ls after prune"
assert_eq "$(ls "$data/agent/snapshots" "$data/agent/content/sha256" | grep -c .)" 2 "nothing left but the two folder names"
finish
