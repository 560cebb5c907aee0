// Device access of a container on cgroup v2: v2 has no devices.allow, so,
// as runc and crun do, an eBPF program of type CGROUP_DEVICE attached to
// the container's cgroup decides each open and mknod of a device node
// from an allow-list (Docker's defaults: mknod of anything, read/write of
// the standard character devices); everything else is EPERM.
#pragma once

#include <stdint.h>

#include <string>
#include <vector>

namespace kubit::runtime::container {

struct DeviceRule {
  char type = 'a';     // 'c', 'b' or 'a' (both)
  int64_t major = -1;  // -1: any
  int64_t minor = -1;
  std::string access;  // of "rwm"
};

// Docker's default allow-list, as devices.allow lines ("c 1:3 rwm").
const std::vector<std::string>& DefaultDeviceRules();
// "c 1:3 rwm", "b *:* m", "a" -> a rule; false for anything else.
bool ParseDeviceRule(const std::string& text, DeviceRule* out);

// The eBPF instructions (struct bpf_insn, 8 bytes each) of a program that
// allows exactly `rules`.
std::vector<uint64_t> DeviceFilterProgram(const std::vector<DeviceRule>& rules);

// Loads the program for `rules` and attaches it to the cgroup v2 directory
// (allow-multi, so a parent's filter still applies). False with *error
// naming the bpf(2) command that failed.
bool AttachDeviceFilter(const std::string& cgroup_dir, const std::vector<DeviceRule>& rules, std::string* error);

}  // namespace kubit::runtime::container
