// The on-disk record of one container, agent/containers/<id>/state: the
// launcher writes it once the container's process runs, the shim rewrites
// it when that process has exited. Each write is a whole new file renamed
// over the old, so a reader (any kubit process, at any moment, after any
// crash) sees one complete record. Lines of key=value.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace kubit::runtime::container {

enum class ContainerStatus {
  kCreated,  // a directory without a state file: starting, or a start that failed
  kRunning,
  kExited,
  // The record says running but its shim is gone (a reboot, a kill -9 of
  // the shim): the exit status was never seen.
  kUnknown,
};
const char* StatusName(ContainerStatus s);

struct ContainerState {
  ContainerStatus status = ContainerStatus::kRunning;
  pid_t pid = 0;                // the container's first process, host pid namespace
  pid_t shim_pid = 0;
  uint64_t shim_start = 0;      // its start time in clock ticks (/proc/<pid>/stat), against pid reuse
  int64_t started_at_ns = 0;    // unix time
  int64_t finished_at_ns = 0;
  int exit_code = 0;            // 128 + signal when killed by one, as Docker and the CRI
  int signal = 0;
  bool oom_killed = false;
  // Completed (exit 0), Error, OOMKilled, Unknown: the CRI's reasons.
  const char* Reason() const;
};

// Writes path atomically (path.tmp, then rename). No allocation: the shim
// calls it.
bool WriteState(const char* path, const ContainerState& state, int* err);
bool ReadState(const std::string& path, ContainerState* out, std::string* error);

// The start time of a process (field 22 of /proc/<pid>/stat); 0 if there is
// no such process.
uint64_t ProcessStartTime(pid_t pid);
// The process exists, is not a zombie, and started at `start`.
bool ProcessAlive(pid_t pid, uint64_t start);

int64_t NowNs();

}  // namespace kubit::runtime::container
