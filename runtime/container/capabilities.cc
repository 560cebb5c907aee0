#include "runtime/container/capabilities.h"

#include <fcntl.h>
#include <strings.h>
#include <unistd.h>

#include <cstdlib>

namespace kubit::runtime::container {
namespace {

// Indexed by capability number (include/uapi/linux/capability.h).
constexpr const char* kNames[] = {
    "CHOWN",           "DAC_OVERRIDE",     "DAC_READ_SEARCH", "FOWNER",        "FSETID",
    "KILL",            "SETGID",           "SETUID",          "SETPCAP",       "LINUX_IMMUTABLE",
    "NET_BIND_SERVICE", "NET_BROADCAST",   "NET_ADMIN",       "NET_RAW",       "IPC_LOCK",
    "IPC_OWNER",       "SYS_MODULE",       "SYS_RAWIO",       "SYS_CHROOT",    "SYS_PTRACE",
    "SYS_PACCT",       "SYS_ADMIN",        "SYS_BOOT",        "SYS_NICE",      "SYS_RESOURCE",
    "SYS_TIME",        "SYS_TTY_CONFIG",   "MKNOD",           "LEASE",         "AUDIT_WRITE",
    "AUDIT_CONTROL",   "SETFCAP",          "MAC_OVERRIDE",    "MAC_ADMIN",     "SYSLOG",
    "WAKE_ALARM",      "BLOCK_SUSPEND",    "AUDIT_READ",      "PERFMON",       "BPF",
    "CHECKPOINT_RESTORE",
};
constexpr int kNamed = sizeof(kNames) / sizeof(kNames[0]);

constexpr const char* kDockerDefault[] = {
    "CHOWN",  "DAC_OVERRIDE", "FSETID",  "FOWNER",           "MKNOD",      "NET_RAW", "SETGID",
    "SETUID", "SETFCAP",      "SETPCAP", "NET_BIND_SERVICE", "SYS_CHROOT", "KILL",    "AUDIT_WRITE",
};

}  // namespace

int CapabilityNumber(const std::string& name) {
  std::string n = name;
  if (n.size() > 4 && strncasecmp(n.c_str(), "CAP_", 4) == 0) n = n.substr(4);
  for (int i = 0; i < kNamed; i++)
    if (strcasecmp(n.c_str(), kNames[i]) == 0) return i;
  return -1;
}

std::string CapabilityName(int number) {
  if (number >= 0 && number < kNamed) return std::string("CAP_") + kNames[number];
  return "CAP_" + std::to_string(number);
}

CapSet DefaultCapabilities() {
  CapSet set = 0;
  for (const char* name : kDockerDefault) set |= CapSet{1} << CapabilityNumber(name);
  return set;
}

CapSet AllCapabilities(int last_cap) {
  if (last_cap >= 63) return ~CapSet{0};
  return (CapSet{1} << (last_cap + 1)) - 1;
}

bool ComputeCapabilities(bool privileged, const std::vector<std::string>& add,
                         const std::vector<std::string>& drop, int last_cap, CapSet* out,
                         std::string* error) {
  CapSet all = AllCapabilities(last_cap);
  CapSet set = privileged ? all : DefaultCapabilities();
  auto bits = [&](const std::string& name, CapSet* b) {
    if (strcasecmp(name.c_str(), "ALL") == 0) {
      *b = all;
      return true;
    }
    int n = CapabilityNumber(name);
    if (n < 0) {
      *error = "unknown capability \"" + name + "\"";
      return false;
    }
    *b = CapSet{1} << n;
    return true;
  };
  for (const auto& name : drop) {
    CapSet b;
    if (!bits(name, &b)) return false;
    set &= ~b;
  }
  for (const auto& name : add) {
    CapSet b;
    if (!bits(name, &b)) return false;
    set |= b;
  }
  // A capability the kernel does not have cannot be kept.
  *out = set & all;
  return true;
}

int KernelLastCap() {
  int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 40;
  char buf[16] = {};
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return 40;
  int v = atoi(buf);
  return v > 0 && v < 64 ? v : 40;
}

}  // namespace kubit::runtime::container
