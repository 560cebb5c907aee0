#include "runtime/container/state.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>

namespace kubit::runtime::container {
namespace {

// The fields of /proc/<pid>/stat after the command name; the name is in
// parentheses and may itself hold spaces and parentheses.
bool StatFields(pid_t pid, char* state, uint64_t* start) {
  char path[32], buf[1024];
  snprintf(path, sizeof(path), "/proc/%d/stat", static_cast<int>(pid));
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return false;
  buf[n] = 0;
  char* p = strrchr(buf, ')');
  if (!p || p[1] != ' ') return false;
  p += 2;
  *state = *p;
  // Field 3 is the state; the start time is field 22.
  for (int field = 3; field < 22; field++) {
    p = strchr(p, ' ');
    if (!p) return false;
    p++;
  }
  *start = strtoull(p, nullptr, 10);
  return true;
}

}  // namespace

const char* StatusName(ContainerStatus s) {
  switch (s) {
    case ContainerStatus::kCreated: return "created";
    case ContainerStatus::kRunning: return "running";
    case ContainerStatus::kExited: return "exited";
    case ContainerStatus::kUnknown: return "unknown";
  }
  return "unknown";
}

const char* ContainerState::Reason() const {
  if (status == ContainerStatus::kRunning || status == ContainerStatus::kCreated) return "";
  if (status == ContainerStatus::kUnknown) return "Unknown";
  if (oom_killed) return "OOMKilled";
  return exit_code == 0 ? "Completed" : "Error";
}

bool WriteState(const char* path, const ContainerState& s, int* err) {
  char tmp[4200], buf[512];
  int len = snprintf(buf, sizeof(buf),
                     "status=%s\npid=%d\nshim_pid=%d\nshim_start=%llu\nstarted_at=%lld\n"
                     "finished_at=%lld\nexit_code=%d\nsignal=%d\noom_killed=%d\n",
                     StatusName(s.status), static_cast<int>(s.pid), static_cast<int>(s.shim_pid),
                     static_cast<unsigned long long>(s.shim_start),
                     static_cast<long long>(s.started_at_ns),
                     static_cast<long long>(s.finished_at_ns), s.exit_code, s.signal,
                     s.oom_killed ? 1 : 0);
  if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= static_cast<int>(sizeof(tmp))) {
    *err = ENAMETOOLONG;
    return false;
  }
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    *err = errno;
    return false;
  }
  bool ok = write(fd, buf, len) == len;
  *err = errno;
  close(fd);
  if (!ok || rename(tmp, path) != 0) {
    if (ok) *err = errno;
    unlink(tmp);
    return false;
  }
  return true;
}

bool ReadState(const std::string& path, ContainerState* out, std::string* error) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = "open " + path + ": " + strerror(errno);
    return false;
  }
  char buf[1024];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) {
    *error = "read " + path + ": " + (n < 0 ? strerror(errno) : "empty file");
    return false;
  }
  buf[n] = 0;
  ContainerState s;
  bool has_status = false;
  for (char* line = buf; *line;) {
    char* nl = strchr(line, '\n');
    if (nl) *nl = 0;
    char* eq = strchr(line, '=');
    if (eq) {
      *eq = 0;
      const char* v = eq + 1;
      if (!strcmp(line, "status")) {
        has_status = true;
        if (!strcmp(v, "running")) s.status = ContainerStatus::kRunning;
        else if (!strcmp(v, "exited")) s.status = ContainerStatus::kExited;
        else s.status = ContainerStatus::kUnknown;
      } else if (!strcmp(line, "pid")) s.pid = atoi(v);
      else if (!strcmp(line, "shim_pid")) s.shim_pid = atoi(v);
      else if (!strcmp(line, "shim_start")) s.shim_start = strtoull(v, nullptr, 10);
      else if (!strcmp(line, "started_at")) s.started_at_ns = strtoll(v, nullptr, 10);
      else if (!strcmp(line, "finished_at")) s.finished_at_ns = strtoll(v, nullptr, 10);
      else if (!strcmp(line, "exit_code")) s.exit_code = atoi(v);
      else if (!strcmp(line, "signal")) s.signal = atoi(v);
      else if (!strcmp(line, "oom_killed")) s.oom_killed = atoi(v) != 0;
    }
    if (!nl) break;
    line = nl + 1;
  }
  if (!has_status) {
    *error = path + ": no status line";
    return false;
  }
  *out = s;
  return true;
}

uint64_t ProcessStartTime(pid_t pid) {
  char state;
  uint64_t start;
  return StatFields(pid, &state, &start) ? start : 0;
}

bool ProcessAlive(pid_t pid, uint64_t start) {
  char state;
  uint64_t got;
  if (pid <= 0 || !StatFields(pid, &state, &got)) return false;
  return got == start && state != 'Z' && state != 'X';
}

int64_t NowNs() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

}  // namespace kubit::runtime::container
