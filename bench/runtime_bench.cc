// runtime_bench: how fast kubit starts a container, against runc and the
// bare kernel, on this machine, in one run.
//
//   make bench-runtime   (runs build/bench/runtime_bench /abs/path/build/kubit)
//
// The root filesystem is a busybox-static tree made here (/bin/busybox and
// its applet links). Three ways to run /bin/true in it, interleaved round by
// round so that they share the machine's noise:
//   kubit:   kubit ctr --data-dir D run --rm --rootfs ROOT bench-N /bin/true
//            (overlay, every namespace, cgroups, caps, seccomp, shim, log,
//            state, removal)
//   runc:    runc --root D/runc run --bundle B bench-N, the bundle's
//            config.json from `runc spec` (Docker-like defaults, no tty)
//   floor:   unshare -m -p -f -u -i -n chroot ROOT /bin/true: the kernel's
//            cost of the namespaces and one exec, nothing else
// Each figure is the wall time from fork to the exit of the command, the
// median of the rounds. Then the RSS of a shim holding a running container.
// Exit status: 0 when the run completed (targets missed or not).
#include <fcntl.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench_util.h"

extern char** environ;

namespace {

using kubit::bench::Fmt;
using kubit::bench::Median;
using kubit::bench::TimeRun;
namespace fs = std::filesystem;

constexpr int kRounds = 25;


bool Sh(const std::string& cmd) { return system(cmd.c_str()) == 0; }

void MakeRootfs(const std::string& root) {
  fs::create_directories(root + "/bin");
  fs::create_directories(root + "/etc");
  fs::create_directories(root + "/proc");
  fs::create_directories(root + "/dev");
  fs::create_directories(root + "/sys");
  fs::copy_file("/bin/busybox", root + "/bin/busybox", fs::copy_options::overwrite_existing);
  for (const char* applet : {"true", "sh", "sleep"})
    fs::create_symlink("busybox", root + "/bin/" + applet);
  std::ofstream(root + "/etc/passwd") << "root:x:0:0:root:/root:/bin/sh\n";
  std::ofstream(root + "/etc/group") << "root:x:0:\n";
}

long ShimRss(const std::string& kubit, const std::string& data, const std::string& root) {
  if (TimeRun({kubit, "ctr", "--data-dir", data, "run", "-d", "--rootfs", root, "rss", "sleep", "60"}) < 0)
    return -1;
  // `run -d` returns once the container runs, a moment before the shim has
  // exec'd and settled: measure it settled.
  usleep(300 * 1000);
  std::ifstream state(data + "/agent/containers/rss/state");
  std::string line, pid;
  while (std::getline(state, line))
    if (line.rfind("shim_pid=", 0) == 0) pid = line.substr(9);
  std::ifstream status("/proc/" + pid + "/status");
  long rss = -1;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) rss = atol(line.c_str() + 6);
  TimeRun({kubit, "ctr", "--data-dir", data, "rm", "--force", "rss"});
  return rss;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || argv[1][0] != '/') {
    fprintf(stderr, "usage: runtime_bench /abs/path/to/kubit\n");
    return 2;
  }
  std::string kubit = argv[1];
  if (geteuid() != 0) {
    fprintf(stderr, "runtime_bench: needs root (namespaces, cgroups, mounts)\n");
    return 1;
  }
  char tmpl[] = "/var/tmp/kubit-runtime-bench-XXXXXX";
  if (!mkdtemp(tmpl)) {
    perror("mkdtemp");
    return 1;
  }
  std::string dir = tmpl, data = dir + "/data", root = dir + "/rootfs", bundle = dir + "/bundle";
  MakeRootfs(root);
  fs::create_directories(bundle);
  Sh("cp -a " + root + " " + bundle + "/rootfs");
  bool have_runc = Sh("cd " + bundle + " && runc spec >/dev/null 2>&1");
  if (have_runc) {
    std::ifstream in(bundle + "/config.json");
    nlohmann::json spec = nlohmann::json::parse(in);
    spec["process"]["terminal"] = false;
    spec["process"]["args"] = {"/bin/true"};
    std::ofstream(bundle + "/config.json") << spec.dump(2);
  }
  bool have_unshare = access("/usr/bin/unshare", X_OK) == 0;
  printf("runtime_bench: %d rounds, rootfs on %s, %s\n", kRounds, kubit::bench::FsType(dir).c_str(),
         have_runc ? "runc found" : "runc not found (make deps)");

  std::vector<double> k, r, u;
  int failures = 0;
  // One unmeasured round first: page cache, cgroup parents.
  for (int i = -1; i < kRounds; i++) {
    std::string id = "bench-" + std::to_string(i + 1);
    double tk = TimeRun({kubit, "ctr", "--data-dir", data, "run", "--rm", "--rootfs", root, id, "/bin/true"});
    double tr = have_runc ? TimeRun({"runc", "--root", dir + "/runc", "run", "--bundle", bundle, id}) : 0;
    double tu = have_unshare
                    ? TimeRun({"unshare", "-m", "-p", "-f", "-u", "-i", "-n", "chroot", root, "/bin/true"})
                    : 0;
    if (tk < 0 || tr < 0 || tu < 0) failures++;
    if (i < 0) continue;
    if (tk >= 0) k.push_back(tk);
    if (have_runc && tr >= 0) r.push_back(tr);
    if (have_unshare && tu >= 0) u.push_back(tu);
  }
  long rss = ShimRss(kubit, data, root);
  Sh("'" + kubit + "' killall --data-dir " + data + " >/dev/null 2>&1");
  fs::remove_all(dir);

  double mk = Median(k), mr = Median(r), mu = Median(u);
  printf("\n%-44s %10s %10s\n", "figure", "value", "target");
  printf("%-44s %10s %10s\n", "kubit ctr run --rm /bin/true, median ms", Fmt("%.2f", mk).c_str(), "<= 10");
  if (have_runc) printf("%-44s %10s\n", "runc run /bin/true, median ms", Fmt("%.2f", mr).c_str());
  if (have_unshare)
    printf("%-44s %10s\n", "unshare + chroot /bin/true (floor), median ms", Fmt("%.2f", mu).c_str());
  if (have_runc && mr > 0)
    printf("%-44s %10s %10s\n", "ratio kubit / runc", Fmt("%.2f", mk / mr).c_str(), "<= 0.25");
  if (have_unshare && mu > 0)
    printf("%-44s %10s\n", "ratio kubit / floor", Fmt("%.2f", mk / mu).c_str());
  printf("%-44s %10s %10s\n", "shim RSS, KiB", rss < 0 ? "?" : std::to_string(rss).c_str(), "<= 1536");
  if (failures) printf("\n%d runs failed\n", failures);
  return failures ? 1 : 0;
}
