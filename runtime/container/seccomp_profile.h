// The runtime's default seccomp profile: moby's default.json behaviour in
// its effect on a Docker-default container, as a deny list. Syscalls that
// reach past a container (kernel modules, kexec, the clock, mounts,
// namespaces, keyrings, ptrace of others...) fail with EPERM unless the
// container holds the capability that moby lets enable them; clone with
// namespace flags fails the same way and clone3 with ENOSYS (so libcs fall
// back to clone, which can be inspected). The table is in seccomp_profile.cc.
#pragma once

#include <linux/filter.h>

#include <string>
#include <vector>

#include "runtime/container/capabilities.h"

namespace kubit::runtime::container {

struct SeccompRule {
  const char* syscall;
  int allowed_by_cap;  // capability number that lifts the rule; -1: none does
};

// The deny table, for tests and documentation: the rules and their count.
const SeccompRule* DefaultSeccompRules(int* count);

// The default profile for a container with capability set `caps`, as the
// BPF program the kernel runs (libseccomp builds it: a few ms, so the
// container's init builds it while it waits for its cgroup).
bool DefaultSeccompProgram(CapSet caps, std::vector<sock_filter>* out, std::string* error);

// Loads a program into the calling thread (inherited across exec). Needs
// no_new_privs or CAP_SYS_ADMIN at the time of the call; sets neither
// (as runc: no_new_privs is the container's allowPrivilegeEscalation).
bool LoadSeccompProgram(const std::vector<sock_filter>& program, std::string* error);

// DefaultSeccompProgram, then LoadSeccompProgram.
bool ApplyDefaultSeccomp(CapSet caps, std::string* error);

}  // namespace kubit::runtime::container
