// The CRI container log format, as the kubelet reads it (k8s.io/cri-client
// pkg/logs): one record a line,
//
//   2024-05-01T12:00:00.123456789Z stdout F the line
//
// F marks the end of a line, P a part of a longer line: lines over 16 KiB
// are cut into P records, the last piece F. A stream that ends without a
// newline has its last piece written as F, as containerd does. The writer
// rotates by size: the live file `path`, then path.1 (newest) to
// path.<max_files-1>; the oldest is dropped.
#pragma once

#include <time.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace kubit::runtime::container {

enum class LogStream { kStdout = 0, kStderr = 1 };

inline constexpr size_t kCriMaxLine = 16 * 1024;

// Used by the shim: plain buffers, no allocation after Open.
class CriLogWriter {
 public:
  CriLogWriter() = default;
  ~CriLogWriter();
  CriLogWriter(const CriLogWriter&) = delete;
  CriLogWriter& operator=(const CriLogWriter&) = delete;

  // Opens `path` for appending (created 0640). max_files >= 1 counts the live file.
  bool Open(const char* path, int64_t max_bytes, int max_files, std::string* error);
  // Bytes read from one stream at time `now`.
  void Write(LogStream stream, const char* data, size_t n, const timespec& now);
  // The stream ended: flushes an unterminated line as an F record.
  void Close(LogStream stream, const timespec& now);

 private:
  void Emit(LogStream stream, bool partial, const char* data, size_t n, const timespec& now);
  void Rotate();
  int fd_ = -1;
  char path_[4096] = {};
  int64_t max_bytes_ = 0, size_ = 0;
  int max_files_ = 1;
  char pending_[2][kCriMaxLine];
  size_t pending_len_[2] = {0, 0};
  char record_[kCriMaxLine + 96];
};

// RFC3339 with nanoseconds, UTC, trailing zeros of the fraction dropped as
// Go's time.RFC3339Nano does: "2024-05-01T12:00:00.1234Z". Returns the length.
size_t FormatRfc3339Nano(const timespec& t, char* out /* >= 40 bytes */);

struct CriRecord {
  std::string time;
  LogStream stream = LogStream::kStdout;
  bool partial = false;
  std::string content;  // without the newline
};

// Parses one line of a CRI log (without its newline). False on a malformed line.
bool ParseCriLine(const std::string& line, CriRecord* out);

// The files of one log, oldest first: path.<n> ... path.1, path (those that exist).
std::vector<std::string> CriLogFiles(const std::string& path, int max_files);

}  // namespace kubit::runtime::container
