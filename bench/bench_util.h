// Helpers shared by the benchmark programs: percentiles and medians of
// samples, number formatting, the filesystem a directory is on, and the
// wall time of a command.
#pragma once

#include <sys/vfs.h>
#include <chrono>
#include <unistd.h>
#include <sys/wait.h>
#include <fcntl.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

namespace kubit::bench {

inline double PercentileMs(std::vector<int64_t> v, double p) {
  if (v.empty()) return 0;
  size_t i = static_cast<size_t>(p / 100.0 * (v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + i, v.end());
  return v[i] / 1e6;
}

inline double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

inline std::string Fmt(const char* fmt, double v) {
  char buf[64];
  snprintf(buf, sizeof(buf), fmt, v);
  return buf;
}

inline std::string FsType(const std::string& dir) {
  struct statfs s;
  if (statfs(dir.c_str(), &s) != 0) return "?";
  switch (static_cast<unsigned long>(s.f_type)) {
    case 0xEF53: return "ext4";
    case 0x01021994: return "tmpfs (fsync is free: durable figures are meaningless)";
    case 0x58465342: return "xfs";
    case 0x9123683E: return "btrfs";
    case 0x794c7630: return "overlayfs";
    default: return Fmt("fs 0x%lx", static_cast<double>(s.f_type));
  }
}

// Runs argv with stdio on /dev/null; returns the wall time in ms, or -1
// when it failed.
inline double TimeRun(const std::vector<std::string>& args, const std::string& cwd = "") {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  auto start = std::chrono::steady_clock::now();
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 0);
    dup2(null, 1);
    dup2(null, 2);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    execvp(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? ms : -1;
}

}  // namespace kubit::bench
