// runtime_pull_bench: how fast kubit pulls an image from a registry on this
// machine, beside skopeo (Debian's, a Go client of the same registry API)
// in the same run.
//
//   make build/bench/runtime_pull_bench build/kubit
//   build/bench/runtime_pull_bench /abs/path/build/kubit
//
// The image is busybox-static plus 4 MiB of random bytes (~5 MB of gzip
// layer), made by test/e2e/lib_images.sh and pushed with skopeo into
// Debian's docker-registry on 127.0.0.1 (plain HTTP). Each round, into
// empty directories, interleaved so that both see the same noise:
//   kubit:   kubit ctr images pull (fetch, verify and unpack the layer)
//   skopeo:  skopeo copy docker://... oci:DIR (fetch and verify; no unpack)
// Figures are medians of the rounds. Run from the repository root.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"

namespace {

using kubit::bench::Fmt;
using kubit::bench::TimeRun;
using kubit::bench::Median;
namespace fs = std::filesystem;

constexpr int kRounds = 9;


bool Sh(const std::string& cmd) { return system(cmd.c_str()) == 0; }

pid_t StartRegistry(const std::string& dir, int port) {
  std::ofstream(dir + "/registry.yml") << "version: 0.1\nlog: {level: error}\nstorage:\n  filesystem: {rootdirectory: "
                                       << dir << "/registry}\nhttp:\n  addr: 127.0.0.1:" << port << "\n";
  pid_t pid = fork();
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    dup2(null, 1);
    dup2(null, 2);
    execlp("docker-registry", "docker-registry", "serve", (dir + "/registry.yml").c_str(), nullptr);
    _exit(127);
  }
  std::string probe = "curl -fs -o /dev/null http://127.0.0.1:" + std::to_string(port) + "/v2/";
  for (int i = 0; i < 100; i++) {
    if (Sh(probe)) return pid;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  return -1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || argv[1][0] != '/') {
    fprintf(stderr, "usage: runtime_pull_bench /abs/path/to/kubit (from the repository root)\n");
    return 2;
  }
  std::string kubit = argv[1];
  if (access("test/e2e/lib_images.sh", R_OK) != 0) {
    fprintf(stderr, "runtime_pull_bench: run it from the repository root (needs test/e2e/lib_images.sh)\n");
    return 2;
  }
  char tmpl[] = "/var/tmp/kubit-pull-bench-XXXXXX";
  if (!mkdtemp(tmpl)) {
    perror("mkdtemp");
    return 1;
  }
  std::string dir = tmpl;
  std::string make_image = "E2E_TMP=" + dir + " BUSYBOX_PADDING_KB=4096 bash -c '" +
                           "fail() { echo \"$*\" >&2; exit 1; }; . test/e2e/lib_images.sh; "
                           "make_busybox_oci_tar " + dir + "/image.tar bench:1'";
  if (!Sh(make_image)) {
    fprintf(stderr, "runtime_pull_bench: cannot make the test image\n");
    return 1;
  }
  int port = 20000 + getpid() % 40000;
  pid_t registry = StartRegistry(dir, port);
  if (registry < 0) {
    fprintf(stderr, "runtime_pull_bench: docker-registry did not start (make deps)\n");
    return 1;
  }
  std::string reg = "127.0.0.1:" + std::to_string(port);
  std::string ref = reg + "/bench:1";
  std::ofstream(dir + "/registries.yaml") << "mirrors:\n  \"" << reg << "\":\n    endpoint: [\"http://" << reg
                                          << "\"]\n";
  int failures = 0;
  if (TimeRun({"skopeo", "copy", "--dest-tls-verify=false", "oci-archive:" + dir + "/image.tar", "docker://" + ref}) <
      0) {
    fprintf(stderr, "runtime_pull_bench: skopeo could not push the image\n");
    failures++;
  }
  double layer_mb = static_cast<double>(fs::file_size(dir + "/image.tar")) / 1e6;
  printf("runtime_pull_bench: %d rounds, image %.1f MB, data on %s\n", kRounds, layer_mb,
         kubit::bench::FsType(dir).c_str());

  std::vector<double> k, s;
  for (int i = -1; i < kRounds && !failures; i++) {  // round -1: warm-up, not counted
    fs::remove_all(dir + "/data");
    fs::remove_all(dir + "/oci");
    double tk = TimeRun({kubit, "ctr", "--data-dir", dir + "/data", "--private-registry", dir + "/registries.yaml",
                         "images", "pull", ref});
    double ts = TimeRun({"skopeo", "copy", "--src-tls-verify=false", "docker://" + ref, "oci:" + dir + "/oci:bench"});
    if (tk < 0 || ts < 0) failures++;
    if (i < 0) continue;
    k.push_back(tk);
    s.push_back(ts);
  }
  kill(registry, SIGTERM);
  waitpid(registry, nullptr, 0);
  fs::remove_all(dir);

  double mk = Median(k), ms = Median(s);
  printf("\n%-50s %10s\n", "figure", "value");
  printf("%-50s %10s\n", "kubit ctr images pull (with unpack), median ms", Fmt("%.1f", mk).c_str());
  printf("%-50s %10s\n", "skopeo copy docker:// -> oci: (no unpack), median ms", Fmt("%.1f", ms).c_str());
  if (ms > 0) printf("%-50s %10s\n", "ratio kubit / skopeo", Fmt("%.2f", mk / ms).c_str());
  if (failures) printf("\n%d runs failed\n", failures);
  return failures ? 1 : 0;
}
