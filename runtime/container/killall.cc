#include "runtime/container/killall.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <vector>

#include "runtime/container/cgroup.h"
#include "runtime/container/layout.h"
#include "runtime/container/process_setup.h"
#include "runtime/container/state.h"

namespace kubit::runtime::container {
namespace {

void SleepMs(int ms) {
  timespec ts{ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, nullptr);
}

// Shims of this data dir: processes whose argv is "kubit shim <id> --dir
// <data_dir>/agent/containers/<id> ...".
std::vector<pid_t> FindShims(const std::string& containers_dir) {
  std::vector<pid_t> out;
  DIR* d = opendir("/proc");
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    char* end;
    long pid = strtol(e->d_name, &end, 10);
    if (*end || pid <= 0 || pid == getpid()) continue;
    std::string path = std::string("/proc/") + e->d_name + "/cmdline";
    int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) continue;
    char buf[4096];
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0) continue;
    buf[n] = 0;
    std::vector<std::string> argv;
    for (ssize_t i = 0; i < n; i += strlen(buf + i) + 1) argv.push_back(buf + i);
    if (argv.size() < 5 || argv[1] != "shim" || argv[3] != "--dir") continue;
    if (argv[4].rfind(containers_dir + "/", 0) == 0) out.push_back(static_cast<pid_t>(pid));
  }
  closedir(d);
  return out;
}

// Mount points at or under dir, from /proc/self/mountinfo (octal escapes
// decoded), deepest first.
std::vector<std::string> MountsUnder(const std::string& dir) {
  std::vector<std::string> out;
  FILE* f = fopen("/proc/self/mountinfo", "re");
  if (!f) return out;
  char line[8192];
  while (fgets(line, sizeof(line), f)) {
    char point[PATH_MAX];
    if (sscanf(line, "%*s %*s %*s %*s %4095s", point) != 1) continue;
    std::string p;
    for (size_t i = 0; point[i]; i++) {
      if (point[i] == '\\' && point[i + 1] && point[i + 2] && point[i + 3]) {
        p += static_cast<char>(strtol(std::string(point + i + 1, 3).c_str(), nullptr, 8));
        i += 3;
      } else {
        p += point[i];
      }
    }
    if (p == dir || p.rfind(dir + "/", 0) == 0) out.push_back(p);
  }
  fclose(f);
  std::sort(out.begin(), out.end(),
            [](const std::string& a, const std::string& b) { return a.size() > b.size(); });
  return out;
}

}  // namespace

bool Killall(const std::string& data_dir_in, const std::string& cgroup_root,
             KillallReport* report, std::string* error) {
  char real[PATH_MAX];
  // A data dir that does not exist has nothing running.
  std::string data_dir = realpath(data_dir_in.c_str(), real) ? real : data_dir_in;
  Cgroups cgroups(cgroup_root);
  std::string tree = DataDirCgroup(data_dir);

  // Containers first, so that their shims record the exits and leave.
  for (int round = 0; round < 100; round++) {
    std::vector<pid_t> procs = cgroups.Processes(tree);
    if (procs.empty()) break;
    for (pid_t p : procs)
      if (kill(p, SIGKILL) == 0 && round == 0) report->processes_killed++;
    SleepMs(20);
  }
  std::string containers = ContainersDir(data_dir);
  for (int round = 0; round < 100; round++) {
    std::vector<pid_t> shims = FindShims(containers);
    if (shims.empty()) break;
    // A shim gets a moment to write the exit it just saw.
    if (round >= 25)
      for (pid_t p : shims)
        if (kill(p, SIGKILL) == 0) report->shims_killed++;
    SleepMs(20);
  }
  if (!FindShims(containers).empty()) {
    *error = "shims of " + data_dir + " still running after SIGKILL";
    return false;
  }
  for (const auto& m : MountsUnder(data_dir)) {
    if (umount2(m.c_str(), MNT_DETACH) == 0) report->unmounted++;
    else if (errno != EINVAL && errno != ENOENT) {
      *error = Errno("umount " + m);
      return false;
    }
  }
  if (!cgroups.Remove(tree, error)) return false;
  return true;
}

}  // namespace kubit::runtime::container
