// What a node says of itself in Node.status: capacity and nodeInfo, read
// from the kernel (/proc, /sys, uname, statfs) at each report.
#pragma once

#include <cstdint>
#include <string>

namespace kubit::kubelet {

struct HostInfo {
  int64_t cpus = 0;              // online CPUs
  int64_t memory_bytes = 0;      // MemTotal
  int64_t storage_bytes = 0;     // size of the filesystem holding the data dir
  int64_t storage_free_bytes = 0;
  int64_t memory_available_bytes = 0;  // MemAvailable
  std::string machine_id, system_uuid, boot_id;
  std::string kernel_version, os_image;
  std::string architecture;  // GOARCH spelling: amd64, arm64, arm
  std::string hostname;
};

// Reads the facts; fields it cannot read stay empty or zero.
HostInfo ReadHostInfo(const std::string& data_dir);

// The architecture this binary was built for, as Go names it.
const char* GoArch();

}  // namespace kubit::kubelet
