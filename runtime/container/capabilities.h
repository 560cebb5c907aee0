// Linux capabilities by name: the set a container's process keeps, from
// Docker's default set (moby oci/caps/defaults.go) with adds and drops, or
// every capability for a privileged container.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kubit::runtime::container {

// A set of capabilities as a bit mask (bit n = capability number n).
using CapSet = uint64_t;

// "NET_ADMIN", "CAP_NET_ADMIN" or "net_admin": its number; -1 if unknown.
int CapabilityNumber(const std::string& name);
// "CAP_NET_ADMIN" for 12; "CAP_<n>" for numbers this table does not name.
std::string CapabilityName(int number);

// CHOWN, DAC_OVERRIDE, FSETID, FOWNER, MKNOD, NET_RAW, SETGID, SETUID,
// SETFCAP, SETPCAP, NET_BIND_SERVICE, SYS_CHROOT, KILL, AUDIT_WRITE.
CapSet DefaultCapabilities();
// Every capability this kernel has (numbers up to last_cap).
CapSet AllCapabilities(int last_cap);

// The container's set: default (or all when privileged), minus drop, plus
// add, in the order Kubernetes applies them: "ALL" in drop empties the set
// before the adds. An unknown name is an error naming it.
bool ComputeCapabilities(bool privileged, const std::vector<std::string>& add,
                         const std::vector<std::string>& drop, int last_cap, CapSet* out,
                         std::string* error);

// The highest capability number the running kernel knows
// (/proc/sys/kernel/cap_last_cap; 40 when unreadable).
int KernelLastCap();

}  // namespace kubit::runtime::container
