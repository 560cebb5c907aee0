// Unit tests of the container's security settings: capability names and
// sets (runtime/container/capabilities.h), the seccomp deny table and
// signal names.
#include <doctest/doctest.h>
#include <linux/capability.h>
#include <signal.h>

#include <set>
#include <string>

#include "runtime/container/capabilities.h"
#include "runtime/container/seccomp_profile.h"
#include "runtime/container/signal_name.h"

using namespace kubit::runtime::container;

TEST_CASE("container caps: names in every spelling") {
  CHECK(CapabilityNumber("NET_ADMIN") == CAP_NET_ADMIN);
  CHECK(CapabilityNumber("CAP_NET_ADMIN") == CAP_NET_ADMIN);
  CHECK(CapabilityNumber("cap_sys_admin") == CAP_SYS_ADMIN);
  CHECK(CapabilityNumber("CHECKPOINT_RESTORE") == 40);
  CHECK(CapabilityNumber("NET_WIZARD") == -1);
  CHECK(CapabilityNumber("CAP_") == -1);
  CHECK(CapabilityName(CAP_CHOWN) == "CAP_CHOWN");
  CHECK(CapabilityName(55) == "CAP_55");
}

TEST_CASE("container caps: Docker's default set is 0xa80425fb") {
  // The CapEff a default `docker run` shows in /proc/self/status.
  CHECK(DefaultCapabilities() == 0xa80425fbull);
}

TEST_CASE("container caps: add, drop, ALL and privileged") {
  CapSet caps;
  std::string error;
  REQUIRE(ComputeCapabilities(false, {"NET_ADMIN"}, {"CHOWN", "CAP_KILL"}, 40, &caps, &error));
  CHECK(((caps >> CAP_NET_ADMIN) & 1) == 1);
  CHECK(((caps >> CAP_CHOWN) & 1) == 0);
  CHECK(((caps >> CAP_KILL) & 1) == 0);
  CHECK(((caps >> CAP_SETUID) & 1) == 1);
  REQUIRE(ComputeCapabilities(false, {"NET_BIND_SERVICE"}, {"ALL"}, 40, &caps, &error));
  CHECK(caps == (CapSet{1} << CAP_NET_BIND_SERVICE));
  REQUIRE(ComputeCapabilities(true, {}, {}, 40, &caps, &error));
  CHECK(caps == AllCapabilities(40));
  CHECK(AllCapabilities(40) == (CapSet{1} << 41) - 1);
  // A kernel that stops at 37 cannot grant 40.
  REQUIRE(ComputeCapabilities(false, {"CHECKPOINT_RESTORE"}, {}, 37, &caps, &error));
  CHECK(((caps >> 40) & 1) == 0);
  CHECK_FALSE(ComputeCapabilities(false, {"NET_WIZARD"}, {}, 40, &caps, &error));
  CHECK(error.find("NET_WIZARD") != std::string::npos);
}

TEST_CASE("container seccomp: the deny table names each call once") {
  int n = 0;
  const SeccompRule* rules = DefaultSeccompRules(&n);
  REQUIRE(n > 40);
  std::set<std::string> names;
  for (int i = 0; i < n; i++) {
    CHECK(names.insert(rules[i].syscall).second);
    CHECK(rules[i].allowed_by_cap >= -1);
    CHECK(rules[i].allowed_by_cap <= 40);
  }
  // The calls that matter most: escaping mounts, modules, keyrings, kexec.
  for (const char* must : {"mount", "umount2", "pivot_root", "init_module", "keyctl",
                           "kexec_load", "unshare", "setns", "bpf", "open_by_handle_at"})
    CHECK_MESSAGE(names.count(must) == 1, must);
  // ptrace stays allowed, as in moby on kernels >= 4.8.
  CHECK(names.count("ptrace") == 0);
}

TEST_CASE("container signals: names and numbers") {
  CHECK(ParseSignal("SIGTERM") == SIGTERM);
  CHECK(ParseSignal("term") == SIGTERM);
  CHECK(ParseSignal("KILL") == SIGKILL);
  CHECK(ParseSignal("9") == 9);
  CHECK(ParseSignal("SIGWINCH") == SIGWINCH);
  CHECK(ParseSignal("") == -1);
  CHECK(ParseSignal("0") == -1);
  CHECK(ParseSignal("99") == -1);
  CHECK(ParseSignal("SIGNOPE") == -1);
  CHECK(ParseSignal("15x") == -1);
}
