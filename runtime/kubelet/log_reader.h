// Reads a container's CRI log file the way the kubelet serves `kubectl
// logs` (k8s.io/cri-client pkg/logs): the live file only (rotated files are
// history, as upstream), stdout and stderr merged in the order written,
// partial (P) records joined into their line, then tailLines, sinceTime,
// timestamps and limitBytes applied. With follow it keeps reading, across
// rotations, until the container has exited and the file is drained.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace kubit::kubelet {

struct LogOptions {
  bool follow = false;
  bool timestamps = false;   // each line prefixed with its time (RFC3339, 9 fraction digits)
  int64_t tail_lines = -1;   // the last N lines only; -1: all
  int64_t since_ns = 0;      // lines written at or after this unix time; 0: all
  int64_t limit_bytes = -1;  // stop after this many bytes; -1: no limit
};

struct LogSink {
  // Takes bytes for the reader; false when the reader has gone away.
  std::function<bool(const std::string&)> write;
  // While following an idle file: the reader has gone away.
  std::function<bool()> gone;
  // While following: the container still runs (more may come).
  std::function<bool()> running;
};

// False with *error when the file cannot be opened; ending early because
// the sink went away is not an error.
bool ReadContainerLog(const std::string& path, const LogOptions& options, const LogSink& sink,
                      std::string* error);

// "2024-05-01T12:00:00.5Z" (or with a +hh:mm offset) to unix nanoseconds.
bool ParseRfc3339(const std::string& s, int64_t* ns);

}  // namespace kubit::kubelet
