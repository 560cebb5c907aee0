# Test images for the e2e tests, made from Debian's busybox-static
# (/bin/busybox) with tar, gzip and sha256sum only: no registry, no docker.
# Source it after lib.sh:
#
#   . "$(dirname "$0")/lib_images.sh"
#   make_busybox_oci_tar "$E2E_TMP/busybox-oci.tar" busybox:1     # OCI image layout
#   make_busybox_docker_tar "$E2E_TMP/busybox-docker.tar" busybox:2  # docker save
#
# Both hold one gzip (OCI) or plain (docker) layer: /bin/busybox, a symlink
# per applet in /bin, /etc/passwd and /etc/group (root, nobody), /tmp; the
# config runs `sh` with PATH set. The layer bytes are the same every time
# (sorted names, owner 0, mtime 0), so two images made by these functions
# share their layer.

# busybox_platform: "ARCH VARIANT" of this machine as OCI names them.
busybox_platform() {
  case $(uname -m) in
    x86_64) echo "amd64 " ;;
    aarch64 | arm64) echo "arm64 " ;;
    armv7* | armv8l) echo "arm v7" ;;
    armv6*) echo "arm v6" ;;
    *) uname -m ;;
  esac
}

# make_busybox_rootfs DIR: the image's files. With BUSYBOX_PADDING_KB set,
# also /padding: that many KiB of random (incompressible) bytes, for tests
# and benchmarks that want a bigger image.
make_busybox_rootfs() {
  [ -x /bin/busybox ] || fail "/bin/busybox missing: install busybox-static (make deps)"
  mkdir -p "$1/bin" "$1/etc" "$1/tmp" || fail "mkdir $1"
  cp /bin/busybox "$1/bin/busybox" || fail "copy busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -sf busybox "$1/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$1/etc/passwd"
  printf 'root:x:0:\nnobody:x:65534:\n' >"$1/etc/group"
  chmod 1777 "$1/tmp"
  if [ -n "${BUSYBOX_PADDING_KB:-}" ]; then
    head -c "$((BUSYBOX_PADDING_KB * 1024))" /dev/urandom >"$1/padding" || fail "padding"
  fi
}

# _busybox_layer WORKDIR: WORKDIR/layer.tar from WORKDIR/rootfs; sets
# LAYER_DIFF_ID (hex sha256 of the tar).
_busybox_layer() {
  make_busybox_rootfs "$1/rootfs"
  tar --sort=name --owner=0 --group=0 --numeric-owner --mtime=@0 \
    -C "$1/rootfs" -cf "$1/layer.tar" . || fail "tar of the busybox layer"
  LAYER_DIFF_ID=$(sha256sum <"$1/layer.tar" | cut -d' ' -f1)
}

# _busybox_config FILE DIFF_ID: the image config.
_busybox_config() {
  read -r arch variant <<<"$(busybox_platform)"
  vfield=""
  [ -n "$variant" ] && vfield="\"variant\":\"$variant\","
  printf '{"architecture":"%s",%s"os":"linux","config":{"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],"Cmd":["sh"],"Labels":{"kubit.test":"busybox"}},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]},"history":[{"created_by":"kubit e2e lib_images.sh"}]}' \
    "$arch" "$vfield" "$2" >"$1"
}

_sha() { sha256sum <"$1" | cut -d' ' -f1; }
_size() { stat -c %s "$1"; }

# make_busybox_oci_tar OUT.tar [REF]: an OCI image-layout tarball, as
# `skopeo copy ... oci-archive:OUT.tar:REF` writes one: index.json names
# the image REF (default busybox:latest) in org.opencontainers.image.ref.name.
make_busybox_oci_tar() {
  out=$1
  ref=${2:-busybox:latest}
  w=$(mktemp -d "$E2E_TMP/oci-XXXXXX")
  _busybox_layer "$w"
  mkdir -p "$w/layout/blobs/sha256"
  gzip -n -c "$w/layer.tar" >"$w/layer.tar.gz" || fail "gzip"
  layer=$(_sha "$w/layer.tar.gz")
  cp "$w/layer.tar.gz" "$w/layout/blobs/sha256/$layer"
  _busybox_config "$w/config.json" "$LAYER_DIFF_ID"
  config=$(_sha "$w/config.json")
  cp "$w/config.json" "$w/layout/blobs/sha256/$config"
  printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
    "$config" "$(_size "$w/config.json")" "$layer" "$(_size "$w/layer.tar.gz")" >"$w/manifest.json"
  manifest=$(_sha "$w/manifest.json")
  cp "$w/manifest.json" "$w/layout/blobs/sha256/$manifest"
  printf '{"imageLayoutVersion":"1.0.0"}' >"$w/layout/oci-layout"
  printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
    "$manifest" "$(_size "$w/manifest.json")" "$ref" >"$w/layout/index.json"
  tar --owner=0 --group=0 --numeric-owner -C "$w/layout" -cf "$out" oci-layout index.json blobs ||
    fail "tar of the OCI layout"
  BUSYBOX_MANIFEST_DIGEST="sha256:$manifest"
  BUSYBOX_CONFIG_DIGEST="sha256:$config"
  rm -rf "$w"
}

# make_busybox_docker_tar OUT.tar [REPO:TAG]: a `docker save` tarball
# (manifest.json, repositories, <id>.json, <id>/layer.tar), default
# busybox:latest.
make_busybox_docker_tar() {
  out=$1
  ref=${2:-busybox:latest}
  w=$(mktemp -d "$E2E_TMP/docker-XXXXXX")
  _busybox_layer "$w"
  mkdir -p "$w/save/$LAYER_DIFF_ID"
  cp "$w/layer.tar" "$w/save/$LAYER_DIFF_ID/layer.tar"
  printf '1.0' >"$w/save/$LAYER_DIFF_ID/VERSION"
  _busybox_config "$w/config.json" "$LAYER_DIFF_ID"
  config=$(_sha "$w/config.json")
  cp "$w/config.json" "$w/save/$config.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' \
    "$config" "$ref" "$LAYER_DIFF_ID" >"$w/save/manifest.json"
  printf '{"%s":{"%s":"%s"}}' "${ref%:*}" "${ref##*:}" "$LAYER_DIFF_ID" >"$w/save/repositories"
  tar --owner=0 --group=0 --numeric-owner -C "$w/save" -cf "$out" . || fail "tar of the docker save"
  BUSYBOX_CONFIG_DIGEST="sha256:$config"
  rm -rf "$w"
}

# start_registry DIR [USER:PASSWORD]: Debian's docker-registry on a free
# 127.0.0.1 port, plain HTTP, storage in DIR; with USER:PASSWORD it wants
# that basic auth (htpasswd). Killed when the test exits. Sets REGISTRY
# (host:port) and REGISTRY_PID.
start_registry() {
  dir=$1
  mkdir -p "$dir" || fail "mkdir $dir"
  auth=""
  if [ -n "${2:-}" ]; then
    # bcrypt at the lowest cost: the registry checks it on every request.
    hash=$(python3 -W ignore -c "import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))" "${2#*:}") ||
      fail "cannot make a bcrypt hash"
    printf '%s:%s\n' "${2%%:*}" "$hash" >"$dir/htpasswd"
    auth="auth: {htpasswd: {realm: kubit-e2e, path: $dir/htpasswd}}"
  fi
  for _attempt in 1 2 3 4 5; do
    port=$((20000 + RANDOM % 40000))
    printf 'version: 0.1\nlog: {level: error}\nstorage:\n  filesystem: {rootdirectory: %s/data}\nhttp:\n  addr: 127.0.0.1:%s\n%s\n' \
      "$dir" "$port" "$auth" >"$dir/config.yml"
    docker-registry serve "$dir/config.yml" >"$dir/registry.log" 2>&1 &
    REGISTRY_PID=$!
    _e2e_pids="$_e2e_pids $REGISTRY_PID"
    for _ in $(seq 100); do
      # Any HTTP answer (401 included) means it is up.
      code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/")
      [ "$code" = 200 ] || [ "$code" = 401 ] && {
        REGISTRY="127.0.0.1:$port"
        return 0
      }
      alive "$REGISTRY_PID" || break
      sleep 0.1
    done
    kill -KILL "$REGISTRY_PID" 2>/dev/null
  done
  fail "docker-registry did not start; its log:
$(cat "$dir/registry.log")"
}
