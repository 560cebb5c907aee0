// Unit tests of the container spec: validation, `--mount` parsing, the
// spec.json round trip, and SecureJoin (mount targets confined to the rootfs).
#include <doctest/doctest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "runtime/container/secure_join.h"
#include "runtime/container/spec.h"
#include "runtime/container/spec_json.h"
#include "test/unit/temp_dir.h"

using namespace kubit::runtime::container;
using kubit::test::TempDir;

namespace {

ContainerSpec Good() {
  ContainerSpec s;
  s.id = "web-1";
  s.layers = {"/var/lib/kubit/agent/snapshots/a", "/var/lib/kubit/agent/snapshots/b"};
  s.args = {"/bin/sh", "-c", "true"};
  return s;
}

bool Invalid(const ContainerSpec& s, const std::string& want) {
  std::string error;
  bool ok = ValidateSpec(s, &error);
  if (ok) return false;
  if (error.find(want) == std::string::npos) {
    MESSAGE("error: " << error);
    return false;
  }
  return true;
}

}  // namespace

TEST_CASE("container spec: a good spec passes; each bad field is named") {
  std::string error;
  CHECK(ValidateSpec(Good(), &error));
  ContainerSpec s = Good();
  s.id = "-x";
  CHECK(Invalid(s, "invalid container id"));
  s.id = "a/b";
  CHECK(Invalid(s, "invalid container id"));
  s.id = std::string(129, 'a');
  CHECK(Invalid(s, "invalid container id"));
  s = Good();
  s.layers = {};
  CHECK(Invalid(s, "no rootfs layers"));
  s.layers = {"relative/dir"};
  CHECK(Invalid(s, "absolute"));
  s.layers = {"/a:b"};
  CHECK(Invalid(s, "without ':'"));
  s = Good();
  s.args = {};
  CHECK(Invalid(s, "no command"));
  s = Good();
  s.env = {"NOVALUE"};
  CHECK(Invalid(s, "KEY=VALUE"));
  s = Good();
  s.working_dir = "work";
  CHECK(Invalid(s, "not absolute"));
  s = Good();
  s.mounts = {{"nfs", "/a", "/b"}};
  CHECK(Invalid(s, "unknown type"));
  s.mounts = {{"bind", "rel", "/b"}};
  CHECK(Invalid(s, "source"));
  s = Good();
  s.namespaces.network = "sandbox";
  CHECK(Invalid(s, "network namespace"));
  s = Good();
  s.namespaces.uts = "/proc/1/ns/uts";
  s.hostname = "x";
  CHECK(Invalid(s, "hostname"));
  s = Good();
  s.resources.cpu_shares = 1;
  CHECK(Invalid(s, "cpu shares"));
  s = Good();
  s.resources.memory_limit = 1000;
  CHECK(Invalid(s, "under 1 MiB"));
  s = Good();
  s.security.cap_add = {"NET_WIZARD"};
  CHECK(Invalid(s, "NET_WIZARD"));
  s = Good();
  s.cgroup_parent = "../escape";
  CHECK(Invalid(s, "cgroup parent"));
}

TEST_CASE("container spec: --mount values as containerd's ctr") {
  Mount m;
  std::string error;
  REQUIRE(ParseMountFlag("type=bind,src=/data,dst=/mnt/data,options=rbind:ro", &m, &error));
  CHECK(m.type == "bind");
  CHECK(m.source == "/data");
  CHECK(m.destination == "/mnt/data");
  CHECK(m.read_only);
  CHECK(m.recursive);
  REQUIRE(ParseMountFlag("src=/a,dst=/b,options=bind:nosuid", &m, &error));
  CHECK(m.type == "bind");
  CHECK_FALSE(m.recursive);
  CHECK(m.options == std::vector<std::string>{"nosuid"});
  REQUIRE(ParseMountFlag("type=tmpfs,dst=/scratch,options=size=1m:mode=1777", &m, &error));
  CHECK(m.type == "tmpfs");
  CHECK(m.options == std::vector<std::string>{"size=1m", "mode=1777"});
  CHECK_FALSE(ParseMountFlag("type=bind,src=/a", &m, &error));
  CHECK(error.find("no dst") != std::string::npos);
  CHECK_FALSE(ParseMountFlag("type=bind,color=red,dst=/a", &m, &error));
  CHECK_FALSE(ParseMountFlag("justtext", &m, &error));
}

TEST_CASE("container spec: spec.json round trip") {
  ContainerSpec s = Good();
  s.image = "docker.io/library/busybox:latest";
  s.env = {"A=1", "B=two words"};
  s.working_dir = "/srv";
  s.user = "app:staff";
  s.additional_gids = {7, 8};
  s.tty = true;
  s.hostname = "h";
  s.mounts = {{"bind", "/host", "/c", true, false, {"nosuid"}}, {"tmpfs", "tmpfs", "/t"}};
  s.namespaces.network = "/var/lib/kubit/agent/sandboxes/p/net";
  s.namespaces.pid = kHostNamespace;
  s.resources = {512, 50000, 100000, 64 << 20, 10};
  s.security.privileged = false;
  s.security.cap_add = {"NET_ADMIN"};
  s.security.cap_drop = {"ALL"};
  s.security.no_new_privs = true;
  s.security.seccomp = SeccompMode::kUnconfined;
  s.security.read_only_rootfs = true;
  s.cgroup_parent = "pod1";
  s.log_path = "/var/log/x.log";
  s.log_max_bytes = 5000;
  s.log_max_files = 2;
  ContainerSpec back;
  std::string error;
  REQUIRE(SpecFromJson(SpecToJson(s), &back, &error));
  CHECK(SpecToJson(back) == SpecToJson(s));
  CHECK(back.mounts[0].read_only);
  CHECK_FALSE(back.mounts[0].recursive);
  CHECK(back.security.seccomp == SeccompMode::kUnconfined);
  CHECK(back.resources.memory_limit == (64 << 20));
  CHECK_FALSE(SpecFromJson("{\"id\": 3}", &back, &error));
  CHECK_FALSE(SpecFromJson("not json", &back, &error));
}

TEST_CASE("container spec: SecureJoin keeps symlinks inside the root") {
  TempDir dir;
  std::string root = dir.File("root");
  mkdir(root.c_str(), 0755);
  mkdir((root + "/etc").c_str(), 0755);
  mkdir((root + "/real").c_str(), 0755);
  REQUIRE(symlink("/etc", (root + "/abs").c_str()) == 0);           // absolute: the root's /etc
  REQUIRE(symlink("../../../../etc", (root + "/up").c_str()) == 0); // ".." stops at the root
  REQUIRE(symlink("real", (root + "/rel").c_str()) == 0);
  REQUIRE(symlink("loop2", (root + "/loop1").c_str()) == 0);
  REQUIRE(symlink("loop1", (root + "/loop2").c_str()) == 0);
  std::string out, error;
  REQUIRE(SecureJoin(root, "/abs/passwd", &out, &error));
  CHECK(out == root + "/etc/passwd");
  REQUIRE(SecureJoin(root, "/up/shadow", &out, &error));
  CHECK(out == root + "/etc/shadow");
  REQUIRE(SecureJoin(root, "/rel/x/../y", &out, &error));
  CHECK(out == root + "/real/y");
  REQUIRE(SecureJoin(root, "/../../proc", &out, &error));
  CHECK(out == root + "/proc");
  CHECK_FALSE(SecureJoin(root, "/loop1/x", &out, &error));
  CHECK(error.find("too many levels") != std::string::npos);
}
