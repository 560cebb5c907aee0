// The cgroup v2 device filter: rules parsed as devices.allow lines, and a
// real eBPF program on a real cgroup v2 directory (the unified hierarchy of
// this hybrid machine, or the root of a pure v2 one): a process in the
// cgroup may use /dev/null and mknod device nodes, but opening a block
// device or a character device off the list fails with EPERM.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/container/cgroup.h"
#include "runtime/container/device_filter.h"
#include "test/unit/temp_dir.h"

namespace kubit::runtime::container {
namespace {

TEST_CASE("container device filter: rules as devices.allow writes them") {
  DeviceRule r;
  REQUIRE(ParseDeviceRule("c 1:3 rwm", &r));
  CHECK(r.type == 'c');
  CHECK(r.major == 1);
  CHECK(r.minor == 3);
  CHECK(r.access == "rwm");
  REQUIRE(ParseDeviceRule("b *:* m", &r));
  CHECK(r.type == 'b');
  CHECK(r.major == -1);
  CHECK(r.minor == -1);
  REQUIRE(ParseDeviceRule("c 136:* rw", &r));
  CHECK(r.minor == -1);
  REQUIRE(ParseDeviceRule("a", &r));
  CHECK(r.type == 'a');
  CHECK_FALSE(ParseDeviceRule("x 1:3 rwm", &r));
  CHECK_FALSE(ParseDeviceRule("c 1:3 rwz", &r));
  CHECK_FALSE(ParseDeviceRule("c 1 rwm", &r));
  for (const auto& line : DefaultDeviceRules()) CHECK(ParseDeviceRule(line, &r));
}

TEST_CASE("container device filter: each rule is a block of checks ending in allow, then deny") {
  std::vector<DeviceRule> rules(1);
  REQUIRE(ParseDeviceRule("c 1:3 rwm", &rules[0]));
  // 6 to unpack the context; 8 for the rule (type, access: 3, major,
  // minor, allow: 2); 2 to deny.
  std::vector<uint64_t> prog = DeviceFilterProgram(rules);
  CHECK(prog.size() == 6 + 8 + 2);
  CHECK(DeviceFilterProgram({}).size() == 6 + 2);
}

std::string CgroupV2Root() {
  if (access("/sys/fs/cgroup/cgroup.controllers", F_OK) == 0) return "/sys/fs/cgroup";
  if (access("/sys/fs/cgroup/unified/cgroup.controllers", F_OK) == 0) return "/sys/fs/cgroup/unified";
  return "";
}

TEST_CASE("container device filter: a process in the cgroup gets only the allowed devices") {
  std::string root = CgroupV2Root();
  REQUIRE_MESSAGE(!root.empty(), "no cgroup v2 hierarchy on this machine");
  Cgroups cgroups(root);
  REQUIRE(cgroups.v2());
  std::string name = "kubit-devtest-" + std::to_string(getpid());
  std::string error;
  REQUIRE_MESSAGE(cgroups.Create(name, {}, false, &error), error);
  test::TempDir tmp("kubit-dev");
  std::string block = tmp.File("loop");
  pid_t child = fork();
  if (child == 0) {
    // Bits of the exit code: 1 /dev/null failed, 2 mknod failed, 4 the block
    // device opened, 8 /dev/kmsg opened.
    int bits = 0;
    if (!cgroups.AddProcess(name, getpid(), &error)) _exit(100);
    int fd = open("/dev/null", O_RDWR);
    if (fd < 0) bits |= 1;
    else close(fd);
    if (mknod(block.c_str(), S_IFBLK | 0600, makedev(7, 0)) != 0) bits |= 2;
    fd = open(block.c_str(), O_RDONLY);
    if (fd >= 0 || errno != EPERM) bits |= 4;
    if (fd >= 0) close(fd);
    fd = open("/dev/kmsg", O_RDONLY);
    if (fd >= 0 || errno != EPERM) bits |= 8;
    if (fd >= 0) close(fd);
    _exit(bits);
  }
  int status = 0;
  REQUIRE(waitpid(child, &status, 0) == child);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
  CHECK_MESSAGE(cgroups.Remove(name, &error), error);
}

}  // namespace
}  // namespace kubit::runtime::container
