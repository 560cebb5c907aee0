#include "runtime/container/cgroup.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include "runtime/container/device_filter.h"

namespace kubit::runtime::container {
namespace {

// The v1 controllers kubit uses; cpu and cpuacct may be one mount (then
// both names lead to the same directory, and doing things twice is harmless).
constexpr const char* kV1Controllers[] = {"cpu", "cpuacct", "memory", "pids", "devices"};

bool WriteFile(const std::string& path, const std::string& value, std::string* error) {
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = "open " + path + ": " + strerror(errno);
    return false;
  }
  ssize_t n = write(fd, value.data(), value.size());
  int e = errno;
  close(fd);
  if (n != static_cast<ssize_t>(value.size())) {
    *error = "write \"" + value + "\" to " + path + ": " + strerror(n < 0 ? e : EIO);
    return false;
  }
  return true;
}

bool ReadFile(const std::string& path, std::string* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[4096];
  ssize_t n;
  out->clear();
  while ((n = read(fd, buf, sizeof(buf))) > 0) out->append(buf, n);
  close(fd);
  return n == 0;
}

// The value of "key N" in a flat keyed file (memory.stat, cpu.stat).
bool KeyedValue(const std::string& text, const std::string& key, uint64_t* out) {
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    if (text.compare(pos, key.size(), key) == 0 && pos + key.size() < nl &&
        text[pos + key.size()] == ' ') {
      *out = strtoull(text.c_str() + pos + key.size() + 1, nullptr, 10);
      return true;
    }
    pos = nl + 1;
  }
  return false;
}

bool MakeDirs(const std::string& path, std::string* error) {
  for (size_t i = 1; i <= path.size(); i++) {
    if (i != path.size() && path[i] != '/') continue;
    std::string p = path.substr(0, i);
    if (mkdir(p.c_str(), 0755) != 0 && errno != EEXIST) {
      *error = "mkdir " + p + ": " + strerror(errno);
      return false;
    }
  }
  return true;
}

uint64_t Fnv1a64(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

// Removes dir after everything below it; missing is fine.
bool RemoveTree(const std::string& dir, std::string* error) {
  if (DIR* d = opendir(dir.c_str())) {
    std::vector<std::string> subs;
    while (dirent* e = readdir(d))
      if (e->d_type == DT_DIR && strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
        subs.push_back(dir + "/" + e->d_name);
    closedir(d);
    for (const auto& s : subs)
      if (!RemoveTree(s, error)) return false;
  }
  // A container that just died may still be leaving the cgroup: the kernel
  // lets go of exiting tasks a little after their parent reaped them.
  for (int attempt = 0;; attempt++) {
    if (rmdir(dir.c_str()) == 0 || errno == ENOENT) return true;
    if (errno != EBUSY || attempt >= 200) break;
    timespec ts{0, 5 * 1000 * 1000};
    nanosleep(&ts, nullptr);
  }
  *error = "rmdir " + dir + ": " + strerror(errno);
  return false;
}

}  // namespace

std::string DataDirCgroup(const std::string& data_dir) {
  std::string d = data_dir;
  while (d.size() > 1 && d.back() == '/') d.pop_back();
  char hex[17];
  snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(Fnv1a64(d)));
  return "kubit/" + std::string(hex, 12);
}

std::string ContainerCgroup(const std::string& data_dir, const std::string& parent,
                            const std::string& id) {
  std::string name = DataDirCgroup(data_dir);
  if (!parent.empty()) name += "/" + parent;
  return name + "/" + id;
}

int64_t CpuSharesToWeight(int64_t shares) {
  if (shares <= 0) return 0;
  return 1 + ((shares - 2) * 9999) / 262142;
}

Cgroups::Cgroups(std::string root) : root_(std::move(root)) {
  v2_ = access((root_ + "/cgroup.controllers").c_str(), F_OK) == 0;
}

std::string Cgroups::Dir(const char* controller, const std::string& name) const {
  return v2_ ? root_ + "/" + name : root_ + "/" + controller + "/" + name;
}

std::vector<std::string> Cgroups::Dirs(const std::string& name) const {
  if (v2_) return {root_ + "/" + name};
  std::vector<std::string> out;
  for (const char* c : kV1Controllers) {
    if (access((root_ + "/" + c + "/cgroup.procs").c_str(), F_OK) != 0) continue;
    std::string d = Dir(c, name);
    if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(d);
  }
  return out;
}

bool Cgroups::Create(const std::string& name, const Resources& r, bool privileged,
                     std::string* error) const {
  if (v2_) {
    // Each level hands the controllers down to the next (the "no internal
    // processes" rule holds: kubit's levels never hold processes).
    std::string path = root_;
    size_t start = 0;
    while (true) {
      std::string available;
      ReadFile(path + "/cgroup.controllers", &available);
      std::string enable;
      for (const char* c : {"cpu", "memory", "pids"}) {
        std::string word = std::string(" ") + available + " ";
        for (char& ch : word)
          if (ch == '\n') ch = ' ';
        if (word.find(std::string(" ") + c + " ") != std::string::npos)
          enable += std::string(enable.empty() ? "+" : " +") + c;
      }
      if (!enable.empty() && !WriteFile(path + "/cgroup.subtree_control", enable, error))
        return false;
      size_t slash = name.find('/', start);
      path = root_ + "/" + name.substr(0, slash);
      bool made = mkdir(path.c_str(), 0755) == 0;
      if (!made && errno != EEXIST) {
        *error = "mkdir " + path + ": " + strerror(errno);
        return false;
      }
      if (slash == std::string::npos) {
        // v2 has no devices.allow: an eBPF filter on the container's own
        // cgroup, attached once, when the cgroup is made.
        if (made && !privileged) {
          std::vector<DeviceRule> rules;
          for (const auto& text : DefaultDeviceRules()) {
            DeviceRule rule;
            if (ParseDeviceRule(text, &rule)) rules.push_back(rule);
          }
          if (!AttachDeviceFilter(path, rules, error)) return false;
        }
        break;
      }
      start = slash + 1;
    }
    std::string dir = path;
    if (r.cpu_shares > 0 &&
        !WriteFile(dir + "/cpu.weight", std::to_string(CpuSharesToWeight(r.cpu_shares)), error))
      return false;
    if (r.cpu_quota_us > 0 || r.cpu_period_us > 0) {
      std::string quota = r.cpu_quota_us > 0 ? std::to_string(r.cpu_quota_us) : "max";
      std::string period = std::to_string(r.cpu_period_us > 0 ? r.cpu_period_us : 100000);
      if (!WriteFile(dir + "/cpu.max", quota + " " + period, error)) return false;
    }
    if (r.memory_limit > 0 &&
        !WriteFile(dir + "/memory.max", std::to_string(r.memory_limit), error))
      return false;
    if (r.pids_limit > 0 && !WriteFile(dir + "/pids.max", std::to_string(r.pids_limit), error))
      return false;
    return true;
  }

  for (const char* c : kV1Controllers) {
    if (access((root_ + "/" + c + "/cgroup.procs").c_str(), F_OK) != 0) {
      bool needed = (!strcmp(c, "memory") && r.memory_limit > 0) ||
                    (!strcmp(c, "pids") && r.pids_limit > 0) ||
                    (!strcmp(c, "cpu") && (r.cpu_shares > 0 || r.cpu_quota_us > 0));
      if (needed) {
        *error = std::string("cgroup controller ") + c + " is not mounted at " + root_ + "/" + c;
        return false;
      }
      continue;
    }
    std::string dir = Dir(c, name);
    if (!MakeDirs(dir, error)) return false;
    if (!strcmp(c, "cpu")) {
      if (r.cpu_shares > 0 && !WriteFile(dir + "/cpu.shares", std::to_string(r.cpu_shares), error))
        return false;
      // The period first: the kernel checks the quota against it.
      if (r.cpu_period_us > 0 &&
          !WriteFile(dir + "/cpu.cfs_period_us", std::to_string(r.cpu_period_us), error))
        return false;
      if (r.cpu_quota_us > 0 &&
          !WriteFile(dir + "/cpu.cfs_quota_us", std::to_string(r.cpu_quota_us), error))
        return false;
    } else if (!strcmp(c, "memory")) {
      if (r.memory_limit > 0 &&
          !WriteFile(dir + "/memory.limit_in_bytes", std::to_string(r.memory_limit), error))
        return false;
    } else if (!strcmp(c, "pids")) {
      if (r.pids_limit > 0 && !WriteFile(dir + "/pids.max", std::to_string(r.pids_limit), error))
        return false;
    } else if (!strcmp(c, "devices") && !privileged) {
      if (!WriteFile(dir + "/devices.deny", "a", error)) return false;
      // Docker's default allow-list (device_filter.h).
      for (const auto& rule : DefaultDeviceRules())
        if (!WriteFile(dir + "/devices.allow", rule, error)) return false;
    }
  }
  return true;
}

bool Cgroups::AddProcess(const std::string& name, pid_t pid, std::string* error) const {
  std::string p = std::to_string(pid);
  for (const auto& dir : Dirs(name))
    if (!WriteFile(dir + "/cgroup.procs", p, error)) return false;
  return true;
}

std::string Cgroups::OomEventsFile(const std::string& name) const {
  return v2_ ? Dir("", name) + "/memory.events" : Dir("memory", name) + "/memory.oom_control";
}

bool Cgroups::Stats(const std::string& name, CgroupStats* out, std::string* error) const {
  std::string text, stat;
  uint64_t v = 0;
  if (v2_) {
    std::string dir = Dir("", name);
    if (!ReadFile(dir + "/cpu.stat", &text)) {
      *error = "read " + dir + "/cpu.stat: " + strerror(errno);
      return false;
    }
    if (KeyedValue(text, "usage_usec", &v)) out->cpu_usage_ns = v * 1000;
    if (ReadFile(dir + "/memory.current", &text)) out->memory_usage = strtoull(text.c_str(), 0, 10);
    ReadFile(dir + "/memory.stat", &stat);
    if (!KeyedValue(stat, "inactive_file", &v)) v = 0;
    if (ReadFile(dir + "/pids.current", &text)) out->pids = strtoull(text.c_str(), 0, 10);
  } else {
    std::string cpu = Dir("cpuacct", name) + "/cpuacct.usage";
    if (!ReadFile(cpu, &text)) {
      *error = "read " + cpu + ": " + strerror(errno);
      return false;
    }
    out->cpu_usage_ns = strtoull(text.c_str(), nullptr, 10);
    std::string mem = Dir("memory", name);
    if (ReadFile(mem + "/memory.usage_in_bytes", &text))
      out->memory_usage = strtoull(text.c_str(), 0, 10);
    ReadFile(mem + "/memory.stat", &stat);
    if (!KeyedValue(stat, "total_inactive_file", &v)) v = 0;
    if (ReadFile(Dir("pids", name) + "/pids.current", &text))
      out->pids = strtoull(text.c_str(), 0, 10);
  }
  out->memory_working_set = out->memory_usage > v ? out->memory_usage - v : 0;
  return true;
}

std::vector<pid_t> Cgroups::Processes(const std::string& name) const {
  std::vector<pid_t> out;
  std::vector<std::string> pending = Dirs(name);
  while (!pending.empty()) {
    std::string dir = pending.back();
    pending.pop_back();
    std::string text;
    if (ReadFile(dir + "/cgroup.procs", &text)) {
      for (const char* p = text.c_str(); *p;) {
        char* end;
        long pid = strtol(p, &end, 10);
        if (end == p) break;
        if (pid > 0 && std::find(out.begin(), out.end(), pid) == out.end()) out.push_back(pid);
        p = end;
        while (*p == '\n') p++;
      }
    }
    if (DIR* d = opendir(dir.c_str())) {
      while (dirent* e = readdir(d))
        if (e->d_type == DT_DIR && strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
          pending.push_back(dir + "/" + e->d_name);
      closedir(d);
    }
  }
  return out;
}

bool Cgroups::Remove(const std::string& name, std::string* error) const {
  for (const auto& dir : Dirs(name))
    if (!RemoveTree(dir, error)) return false;
  return true;
}

int64_t ReadOomKillCount(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  char buf[1024];
  ssize_t n = read(fd, buf, sizeof(buf) - 1);
  close(fd);
  if (n <= 0) return 0;
  buf[n] = 0;
  for (char* line = buf; line && *line;) {
    if (strncmp(line, "oom_kill ", 9) == 0) return strtoll(line + 9, nullptr, 10);
    line = strchr(line, '\n');
    if (line) line++;
  }
  return 0;
}

}  // namespace kubit::runtime::container
