// Unit tests of runtime/container/cgroup.h against fake cgroup trees in a
// temporary directory: naming per data dir, the files v1 and v2 limits go
// to, stats and OOM counts. (Real cgroups are exercised by the e2e tests.)
#include <doctest/doctest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "runtime/container/cgroup.h"
#include "test/unit/temp_dir.h"

using namespace kubit::runtime::container;
using kubit::test::TempDir;

namespace {

std::string Read(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}
void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace

TEST_CASE("container cgroup: names per data dir") {
  std::string a = DataDirCgroup("/var/lib/kubit");
  CHECK(a.rfind("kubit/", 0) == 0);
  CHECK(a.size() == 6 + 12);
  CHECK(DataDirCgroup("/var/lib/kubit/") == a);
  CHECK(DataDirCgroup("/srv/kubit") != a);
  CHECK(ContainerCgroup("/var/lib/kubit", "", "web") == a + "/web");
  CHECK(ContainerCgroup("/var/lib/kubit", "pod42", "web") == a + "/pod42/web");
}

TEST_CASE("container cgroup: cpu shares to v2 weight as runc") {
  CHECK(CpuSharesToWeight(2) == 1);
  CHECK(CpuSharesToWeight(1024) == 39);
  CHECK(CpuSharesToWeight(262144) == 10000);
}

TEST_CASE("container cgroup: v1 limits go to each controller's files") {
  TempDir root;
  for (const char* c : {"cpu", "cpuacct", "memory", "pids", "devices"}) {
    mkdir(root.File(c).c_str(), 0755);
    Write(root.File(c) + "/cgroup.procs", "");
  }
  Cgroups cg(root.path());
  CHECK_FALSE(cg.v2());
  // The fake tree has no kernel to create the files; make them up front.
  std::string name = "kubit/abc/c1";
  for (const char* c : {"cpu", "cpuacct", "memory", "pids", "devices"}) {
    std::string dir = root.File(c) + "/kubit/abc/c1";
    std::filesystem::create_directories(dir);
    for (const char* f : {"cpu.shares", "cpu.cfs_period_us", "cpu.cfs_quota_us",
                          "memory.limit_in_bytes", "pids.max", "devices.deny", "devices.allow",
                          "cgroup.procs"})
      Write(dir + "/" + f, "");
  }
  Resources r;
  r.cpu_shares = 512;
  r.cpu_quota_us = 50000;
  r.cpu_period_us = 100000;
  r.memory_limit = 64 << 20;
  r.pids_limit = 100;
  std::string error;
  REQUIRE(cg.Create(name, r, false, &error));
  CHECK(Read(root.File("cpu/kubit/abc/c1/cpu.shares")) == "512");
  CHECK(Read(root.File("cpu/kubit/abc/c1/cpu.cfs_quota_us")) == "50000");
  CHECK(Read(root.File("memory/kubit/abc/c1/memory.limit_in_bytes")) == std::to_string(64 << 20));
  CHECK(Read(root.File("pids/kubit/abc/c1/pids.max")) == "100");
  CHECK(Read(root.File("devices/kubit/abc/c1/devices.deny")) == "a");
  CHECK(cg.Dirs(name).size() == 5);
  CHECK(cg.OomEventsFile(name) == root.File("memory/kubit/abc/c1/memory.oom_control"));

  Write(root.File("cpuacct/kubit/abc/c1/cpuacct.usage"), "123456789\n");
  Write(root.File("memory/kubit/abc/c1/memory.usage_in_bytes"), "10000\n");
  Write(root.File("memory/kubit/abc/c1/memory.stat"), "cache 1\ntotal_inactive_file 4000\n");
  CgroupStats s;
  REQUIRE(cg.Stats(name, &s, &error));
  CHECK(s.cpu_usage_ns == 123456789);
  CHECK(s.memory_usage == 10000);
  CHECK(s.memory_working_set == 6000);
}

TEST_CASE("container cgroup: v2 limits, controllers handed down, stats") {
  TempDir root;
  Write(root.File("cgroup.controllers"), "cpuset cpu io memory pids\n");
  Write(root.File("cgroup.subtree_control"), "");
  Cgroups cg(root.path());
  REQUIRE(cg.v2());
  std::string name = "kubit/abc/c1", error;
  // Directories made ahead with the files the kernel would provide.
  for (const char* d : {"kubit", "kubit/abc", "kubit/abc/c1"}) {
    std::filesystem::create_directories(root.File(d));
    Write(root.File(d) + "/cgroup.controllers", "cpu memory pids\n");
    Write(root.File(d) + "/cgroup.subtree_control", "");
  }
  for (const char* f : {"cpu.weight", "cpu.max", "memory.max", "pids.max"})
    Write(root.File("kubit/abc/c1/") + f, "");
  Resources r;
  r.cpu_shares = 1024;
  r.cpu_quota_us = 25000;
  r.memory_limit = 32 << 20;
  r.pids_limit = 7;
  REQUIRE(cg.Create(name, r, false, &error));
  CHECK(Read(root.File("cgroup.subtree_control")) == "+cpu +memory +pids");
  CHECK(Read(root.File("kubit/abc/cgroup.subtree_control")) == "+cpu +memory +pids");
  // The leaf holds processes: it hands nothing down.
  CHECK(Read(root.File("kubit/abc/c1/cgroup.subtree_control")) == "");
  CHECK(Read(root.File("kubit/abc/c1/cpu.weight")) == "39");
  CHECK(Read(root.File("kubit/abc/c1/cpu.max")) == "25000 100000");
  CHECK(Read(root.File("kubit/abc/c1/memory.max")) == std::to_string(32 << 20));
  CHECK(Read(root.File("kubit/abc/c1/pids.max")) == "7");

  Write(root.File("kubit/abc/c1/cpu.stat"), "usage_usec 1500\nuser_usec 1000\n");
  Write(root.File("kubit/abc/c1/memory.current"), "9000\n");
  Write(root.File("kubit/abc/c1/memory.stat"), "anon 1\ninactive_file 2000\n");
  CgroupStats s;
  REQUIRE(cg.Stats(name, &s, &error));
  CHECK(s.cpu_usage_ns == 1500000);
  CHECK(s.memory_working_set == 7000);

  Write(root.File("kubit/abc/c1/memory.events"), "low 0\nhigh 0\nmax 3\noom 1\noom_kill 2\n");
  CHECK(ReadOomKillCount(cg.OomEventsFile(name).c_str()) == 2);
  CHECK(ReadOomKillCount(root.File("missing").c_str()) == 0);
}

TEST_CASE("container cgroup: a missing v1 controller a limit needs is an error") {
  TempDir root;
  mkdir(root.File("cpu").c_str(), 0755);
  Write(root.File("cpu") + "/cgroup.procs", "");
  Cgroups cg(root.path());
  Resources r;
  r.memory_limit = 16 << 20;
  std::string error;
  CHECK_FALSE(cg.Create("kubit/abc/c1", r, false, &error));
  CHECK(error.find("memory is not mounted") != std::string::npos);
}
