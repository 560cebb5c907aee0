// Cgroups of containers, v1 (one hierarchy per controller, as on this
// hybrid machine) or v2 (the unified tree, /sys/fs/cgroup/cgroup.controllers
// present). Every container of a data dir lives under
// kubit/<12 hex digits of a hash of the data dir's path>/, so two kubits
// with different data dirs never share a cgroup and killall can sweep one
// data dir's tree whole.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "runtime/container/spec.h"

namespace kubit::runtime::container {

// "kubit/3fa9c2d01b7e": the cgroup of everything a data dir runs. The data
// dir should be absolute (the caller makes it so).
std::string DataDirCgroup(const std::string& data_dir);
// "kubit/<hash>/<parent>/<id>", without the parent when it is empty.
std::string ContainerCgroup(const std::string& data_dir, const std::string& parent,
                            const std::string& id);

struct CgroupStats {
  uint64_t cpu_usage_ns = 0;
  uint64_t memory_usage = 0;
  uint64_t memory_working_set = 0;  // usage - inactive_file, as the kubelet reports it
  uint64_t pids = 0;
};

class Cgroups {
 public:
  // Looks at root (normally /sys/fs/cgroup) to tell v1 from v2.
  explicit Cgroups(std::string root = "/sys/fs/cgroup");

  bool v2() const { return v2_; }
  const std::string& root() const { return root_; }

  // Creates the cgroup `name` (relative to the root) in every hierarchy kubit
  // uses and writes the limits; the devices allow-list too on v1 (all
  // devices for privileged). Existing directories are reused.
  bool Create(const std::string& name, const Resources& resources, bool privileged,
              std::string* error) const;
  // Moves pid into `name` in every hierarchy.
  bool AddProcess(const std::string& name, pid_t pid, std::string* error) const;
  // The file whose "oom_kill N" line counts OOM kills in `name`.
  std::string OomEventsFile(const std::string& name) const;
  bool Stats(const std::string& name, CgroupStats* out, std::string* error) const;
  // Pids in `name` and every cgroup below it (any hierarchy that has them).
  std::vector<pid_t> Processes(const std::string& name) const;
  // Removes `name` and everything below it, deepest first. Missing is fine;
  // a cgroup that still has processes is an error (EBUSY) after a short retry.
  bool Remove(const std::string& name, std::string* error) const;

  // The directories of `name`: one per v1 controller kubit uses (those
  // mounted), or the single v2 one.
  std::vector<std::string> Dirs(const std::string& name) const;

 private:
  std::string Dir(const char* controller, const std::string& name) const;
  std::string root_;
  bool v2_ = false;
};

// "oom_kill N" from memory.oom_control (v1) or memory.events (v2); 0 when
// absent or unreadable. Kept free of allocation: the shim calls it.
int64_t ReadOomKillCount(const char* path);

// cgroup v2 cpu.weight for v1 cpu shares (runc's mapping: 2..262144 onto 1..10000).
int64_t CpuSharesToWeight(int64_t shares);

}  // namespace kubit::runtime::container
