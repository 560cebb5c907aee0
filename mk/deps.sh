#!/bin/sh
# Installs what kubit's build and tests need, from Debian's packages only.
#   mk/deps.sh native        build + test dependencies for this machine
#   mk/deps.sh cross ARCH    cross toolchain (arm64|armhf) and a sysroot of
#                            that architecture's static libraries
# Idempotent: does nothing that is already done.
set -eu

BUILD=${BUILD:-build}
NATIVE_PKGS="g++ make pkg-config libsqlite3-dev libcpp-httplib-dev nlohmann-json3-dev \
libyaml-cpp-dev doctest-dev libssl-dev zlib1g-dev libzstd-dev dpkg-dev file clang \
libclang-rt-14-dev iproute2 procps libseccomp-dev busybox-static docker-registry skopeo runc hyperfine \
dnsperf dnsmasq-base"
# The -dev packages whose static libraries go into a cross sysroot, and the
# runtime packages that hold the libraries' shared objects they point to.
SYSROOT_PKGS="libsqlite3-dev libsqlite3-0 libssl-dev libssl3 zlib1g-dev zlib1g \
libzstd-dev libzstd1 libyaml-cpp-dev libyaml-cpp0.7 libseccomp-dev libseccomp2"

log() { echo "deps: $*" >&2; }

sudo_() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

apt_update_done=
apt_update() {
  [ -n "$apt_update_done" ] && return 0
  # A mirror can be mid-sync for one index; what was fetched is still used.
  for i in 1 2 3; do
    sudo_ apt-get update -qq -o Acquire::Retries=3 && break
    log "apt-get update failed (try $i); retrying"
    sleep 3
  done
  apt_update_done=1
}

missing_pkgs() {
  for p in "$@"; do
    dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
  done
}

install_pkgs() {
  need=$(missing_pkgs "$@")
  [ -z "$need" ] && return 0
  log "installing: $(echo $need)"
  apt_update
  sudo_ env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $need
}

# Debian's cpp-httplib is a split header plus a shared library; the static
# binary needs the single header, which is in the package's Debian source.
httplib_header() {
  dest=$BUILD/third_party/httplib.h
  [ -f "$dest" ] && return 0
  src=/etc/apt/sources.list.d/kubit-deb-src.sources
  if ! grep -rqs '^Types:.*deb-src' /etc/apt/sources.list.d/ && ! grep -qs '^deb-src' /etc/apt/sources.list; then
    log "adding Debian's deb-src (bookworm main) to $src"
    sudo_ sh -c "cat > $src" <<SRC
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: bookworm
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
    apt_update_done=
  fi
  apt_update
  tmp=$(mktemp -d)
  ver=$(dpkg-query -W -f='${Version}' libcpp-httplib-dev)
  log "fetching the source of cpp-httplib $ver"
  (cd "$tmp" && apt-get source -qq --download-only "cpp-httplib=$ver" >/dev/null 2>&1 ||
    apt-get source -qq --download-only cpp-httplib >/dev/null)
  (cd "$tmp" && dpkg-source -q --no-check -x ./*.dsc src >/dev/null)  # applies Debian's patches; apt checked the hashes
  mkdir -p "$BUILD/third_party"
  cp "$tmp/src/httplib.h" "$dest.tmp" && mv "$dest.tmp" "$dest"
  rm -rf "$tmp"
}

# A private apt state for a foreign architecture: its package lists and
# downloads live under $BUILD, and nothing is installed with dpkg, so the
# machine's own packages never have to match the foreign ones' versions.
sysroot() {
  arch=$1
  root=$BUILD/sysroot/$arch
  # .done holds the package list it was made from: a list that grew since
  # (libseccomp, zstd) fetches again.
  [ -f "$root/.done" ] && [ "$(cat "$root/.done")" = "$SYSROOT_PKGS" ] && return 0
  mkdir -p "$BUILD/apt-$arch/lists/partial" "$BUILD/apt-$arch/archives/partial" "$root"
  state=$(cd "$BUILD/apt-$arch" && pwd)
  opts="-o APT::Architecture=$arch -o APT::Architectures::=$arch \
-o Dir::State::Lists=$state/lists -o Dir::Cache::Archives=$state/archives \
-o Dir::State::Status=/dev/null -o Debug::NoLocking=1 -o Acquire::Retries=3 \
-o APT::Sandbox::User=root"
  log "fetching $arch package lists"
  apt-get $opts update -qq || log "some $arch package lists failed; going on with the rest"
  (cd "$state/archives" && apt-get $opts download $SYSROOT_PKGS)
  for deb in "$state"/archives/*.deb; do dpkg-deb -x "$deb" "$root"; done
  printf '%s' "$SYSROOT_PKGS" >"$root/.done"
}

case "${1:-native}" in
  native)
    install_pkgs $NATIVE_PKGS
    httplib_header
    ;;
  cross)
    arch=${2:?usage: deps.sh cross arm64|armhf}
    case $arch in
      arm64) triplet=aarch64-linux-gnu ;;
      armhf) triplet=arm-linux-gnueabihf ;;
      *) log "unknown architecture $arch (arm64 or armhf)"; exit 2 ;;
    esac
    install_pkgs $NATIVE_PKGS "g++-$triplet" qemu-user-static
    httplib_header
    sysroot "$arch"
    ;;
  *)
    log "usage: deps.sh native | cross ARCH"; exit 2 ;;
esac
