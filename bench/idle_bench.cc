// The idle node: what a board's flash and CPU pay for a kubit server that
// runs its own node and N sleeping pods and is otherwise left alone
// (issue 2's target: <= 0.5 kB/s written, <= 0.5% of a core).
//
//   build/bench/idle_bench KUBIT [--pods N] [--seconds S] [--settle S]
//
// The window (10 minutes by default) spans the server's 5-minute flush of
// heartbeats and the nodes' 5-minute status reports. Measures, over it, the bytes the kubit server and the pods'
// shims caused to be written to storage (/proc/<pid>/io write_bytes: what
// reaches the disk, WAL and checkpoints included) and their CPU time.
// Baseline in the same run: the same heartbeats (a Lease renewal every
// 10 s per node) written to a store that makes every write durable, as a
// store without kubit's volatile heartbeat keys would; the ratio says how
// much of that wear kubit spares.
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "store/store.h"

namespace {

using Clock = std::chrono::steady_clock;

std::string Run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

int64_t ProcField(pid_t pid, const char* file, const char* field) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/" + file);
  std::string line;
  while (std::getline(f, line))
    if (line.rfind(field, 0) == 0) return std::atoll(line.c_str() + strlen(field));
  return 0;
}

// utime + stime in clock ticks.
int64_t CpuTicks(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t close = s.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream in(s.substr(close + 2));
  std::string x;
  int64_t utime = 0, stime = 0;
  for (int i = 3; i <= 15; i++) {
    in >> x;
    if (i == 14) utime = std::atoll(x.c_str());
    if (i == 15) stime = std::atoll(x.c_str());
  }
  return utime + stime;
}

// The server and every shim of its data dir.
std::vector<pid_t> Processes(pid_t server, const std::string& data_dir) {
  std::vector<pid_t> out = {server};
  DIR* d = opendir("/proc");
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    pid_t pid = std::atoi(e->d_name);
    if (pid <= 0 || pid == server) continue;
    std::ifstream f("/proc/" + std::to_string(pid) + "/cmdline");
    std::string cmd((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    for (char& c : cmd)
      if (c == '\0') c = ' ';
    if (cmd.find(" shim ") != std::string::npos && cmd.find(data_dir) != std::string::npos) out.push_back(pid);
  }
  closedir(d);
  return out;
}

struct Sample {
  int64_t written = 0, ticks = 0;
};

Sample Measure(const std::vector<pid_t>& pids) {
  Sample s;
  for (pid_t p : pids) {
    s.written += ProcField(p, "io", "write_bytes: ");
    s.ticks += CpuTicks(p);
  }
  return s;
}

// Bytes reaching the disk per durable heartbeat write: Lease-sized
// updates to one key in a store with no volatile keys.
double BaselineBytesPerWrite(const std::string& dir) {
  kubit::store::Options o;
  o.path = dir + "/baseline.db";
  std::unique_ptr<kubit::store::Store> st;
  if (!kubit::store::Store::Open(o, &st).ok()) return 0;
  std::string lease(420, 'x');  // a Lease object's size in JSON
  const std::string key = "/registry/coordination.k8s.io/leases/kube-node-lease/node";
  st->Create(key, lease);
  const int n = 100;
  int64_t before = ProcField(getpid(), "io", "write_bytes: ");
  kubit::store::KeyValue kv;
  st->Get(key, &kv);
  kubit::store::Revision rev = kv.mod_revision;
  for (int i = 0; i < n; i++) {
    lease[i % lease.size()] = static_cast<char>('a' + i % 26);
    kubit::store::KeyValue out;
    if (!st->Update(key, lease, rev, {}, &out).ok()) break;
    rev = out.mod_revision;
  }
  st->Close();
  sync();
  int64_t after = ProcField(getpid(), "io", "write_bytes: ");
  return static_cast<double>(after - before) / n;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: idle_bench KUBIT [--pods N] [--seconds S] [--settle S]\n");
    return 2;
  }
  std::string kubit = argv[1];
  int pods = 10, seconds = 600, settle = 30;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string f = argv[i];
    int v = std::atoi(argv[i + 1]);
    if (f == "--pods") pods = v;
    else if (f == "--seconds") seconds = v;
    else if (f == "--settle") settle = v;
  }
  char tmpl[] = "/var/tmp/kubit-idle-XXXXXX";
  std::string dir = mkdtemp(tmpl);
  std::string data = dir + "/data", kubeconfig = dir + "/kubeconfig";
  int port = 20000 + getpid() % 40000;
  printf("idle_bench: %d pods, %d s settle, %d s window, data dir on %s\n", pods, settle, seconds,
         kubit::bench::FsType(dir).c_str());

  // The busybox test image, imported before the server starts.
  std::string make_image = "bash -c 'fail() { echo \"$*\" >&2; exit 1; }; . test/e2e/lib_images.sh && "
                           "make_busybox_oci_tar " + dir + "/busybox.tar busybox:idle' && " + kubit +
                           " ctr --data-dir " + data + " images import " + dir + "/busybox.tar >/dev/null";
  if (pods > 0 && system(make_image.c_str()) != 0) {
    fprintf(stderr, "idle_bench: cannot make the busybox image\n");
    return 1;
  }
  pid_t server = fork();
  if (server == 0) {
    std::string log = dir + "/server.log";
    if (!freopen(log.c_str(), "w", stderr)) _exit(127);
    execl(kubit.c_str(), kubit.c_str(), "server", "--data-dir", data.c_str(), "--bind-address",
          "127.0.0.1", "--https-listen-port", std::to_string(port).c_str(), "--write-kubeconfig",
          kubeconfig.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 100 && Run("grep -c 'server: ready' " + dir + "/server.log 2>/dev/null").find('1') != 0; i++)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::string k = "KUBECONFIG=" + kubeconfig + " kubectl ";
  for (int i = 0; i < pods; i++)
    Run(k + "run idle-" + std::to_string(i) + " --image=busybox:idle --image-pull-policy=Never -- sleep 100000 2>&1");
  int running = 0;
  auto deadline = Clock::now() + std::chrono::seconds(60);
  while (pods > 0 && Clock::now() < deadline) {
    std::string out = Run(k + "get pods -o jsonpath='{.items[*].status.phase}'");
    running = 0;
    for (size_t p = out.find("Running"); p != std::string::npos; p = out.find("Running", p + 1)) running++;
    if (running == pods) break;
    std::this_thread::sleep_for(std::chrono::seconds(1));
  }
  printf("pods running: %d of %d%s\n", running, pods,
         running < pods ? " (the window measures the node as it is)" : "");
  std::this_thread::sleep_for(std::chrono::seconds(settle));

  std::vector<pid_t> procs = Processes(server, data);
  Sample a = Measure(procs);
  auto t0 = Clock::now();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  Sample b = Measure(procs);
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  double kbps = (b.written - a.written) / 1024.0 / secs;
  double cpu = 100.0 * (b.ticks - a.ticks) / sysconf(_SC_CLK_TCK) / secs;

  kill(server, SIGTERM);
  waitpid(server, nullptr, 0);
  Run(kubit + " killall --data-dir " + data + " >/dev/null 2>&1");

  double per_write = BaselineBytesPerWrite(dir);
  double baseline_kbps = per_write / 10.0 / 1024.0;  // one node's Lease every 10 s
  printf("kubit, %zu processes (server + shims):\n", procs.size());
  printf("  written  %8.3f kB/s   (target <= 0.5)\n", kbps);
  printf("  CPU      %8.3f %% of a core   (target <= 0.5)\n", cpu);
  printf("baseline: every heartbeat durable: %.0f bytes per Lease write -> %.3f kB/s for one node\n",
         per_write, baseline_kbps);
  if (baseline_kbps > 0) printf("ratio written/baseline: %.2f\n", kbps / baseline_kbps);
  Run("rm -rf " + dir);
  return 0;
}
