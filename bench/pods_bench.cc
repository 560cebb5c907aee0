// Pod start latency (issue 5's benchmark): how long from a pod's create
// until a watching client sees it Ready, on a kubit server running its
// own node with the image present, and what the server (API server,
// controllers and kubelet in one process) holds in memory.
//
//   build/bench/pods_bench KUBIT [--sequential N] [--parallel N]
//
// 15 pods one after the other, then 30 created at once; each pod's
// latency is from the start of its create request to the watch event
// that shows its Ready condition True. Baseline in the same run: `kubit
// ctr run --rm` of the same image (a container started and ended from the
// command line: the runtime alone, no API, scheduler or kubelet).
// Targets: p50 <= 100 ms sequential, p99 <= 300 ms for 30 at once;
// server RSS <= 30 MiB idle and <= 60 MiB with 30 pods (shims apart).
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"
#include "core/client/client.h"

namespace {

using Clock = std::chrono::steady_clock;
using kubit::client::Client;
using kubit::client::Json;
using kubit::client::Resource;

const Resource kPods{"", "v1", "pods"};
const Resource kNamespaces{"", "v1", "namespaces"};
const Resource kNodes{"", "v1", "nodes"};

[[noreturn]] void Die(const std::string& m) {
  fprintf(stderr, "pods_bench: %s\n", m.c_str());
  exit(1);
}

double RssMiB(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("VmRSS:", 0) == 0) return strtoll(line.c_str() + 6, nullptr, 10) / 1024.0;
  return -1;
}

// The CPU time (user + system) a process has used, in ms.
double CpuMs(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  // After the command: state is field 3; utime and stime are fields 14 and 15.
  std::istringstream rest(stat.substr(paren + 2));
  std::string field;
  double ticks = 0;
  for (int i = 3; i <= 15 && rest >> field; i++)
    if (i >= 14) ticks += std::stod(field);
  return ticks * 1000.0 / sysconf(_SC_CLK_TCK);
}

bool IsReady(const Json& pod) {
  for (const auto& c : pod.value("status", Json::object()).value("conditions", Json::array()))
    if (c.value("type", "") == "Ready") return c.value("status", "") == "True";
  return false;
}

// Times from each pod's create to the first watch event showing it Ready.
class ReadyWatch {
 public:
  ReadyWatch(Client* c, const std::string& ns) {
    auto s = c->Watch(kPods, ns, {}, &watch_);
    if (!s.ok()) Die("watch: " + s.message());
    thread_ = std::thread([this] { Run(); });
  }
  ~ReadyWatch() {
    watch_->Stop();
    thread_.join();
  }
  void Created(const std::string& name, Clock::time_point t) {
    std::lock_guard<std::mutex> lock(mu_);
    start_[name] = t;
  }
  // Waits until `n` pods are Ready (or the deadline); their latencies in ns.
  std::vector<int64_t> Wait(size_t n, std::chrono::seconds limit) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, limit, [&] { return ready_.size() >= n; });
    std::vector<int64_t> out;
    for (const auto& [name, t] : ready_)
      if (start_.count(name))
        out.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t - start_[name]).count());
    return out;
  }

 private:
  void Run() {
    kubit::client::WatchEvent ev;
    while (watch_->Next(&ev)) {
      if (ev.type != "ADDED" && ev.type != "MODIFIED") continue;
      if (!IsReady(*ev.object)) continue;
      auto now = Clock::now();
      std::lock_guard<std::mutex> lock(mu_);
      if (ready_.emplace((*ev.object)["metadata"].value("name", ""), now).second) cv_.notify_all();
    }
  }

  std::unique_ptr<kubit::client::WatchStream> watch_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Clock::time_point> start_, ready_;
  std::thread thread_;
};

Json BenchPod(const std::string& name) {
  return {{"apiVersion", "v1"},
          {"kind", "Pod"},
          {"metadata", {{"name", name}}},
          {"spec",
           {{"terminationGracePeriodSeconds", 0},
            {"containers",
             {{{"name", "c"},
               {"image", "busybox:bench"},
               {"imagePullPolicy", "Never"},
               {"command", {"sleep", "100000"}}}}}}}};
}

void CreateNamespace(Client* c, const std::string& name) {
  auto s = c->Create(kNamespaces, "", Json{{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}});
  if (!s.ok()) Die("namespace " + name + ": " + s.message());
}

}  // namespace

int main(int argc, char** argv) {
  const char* usage =
      "usage: pods_bench KUBIT [--sequential N] [--parallel N]\n"
      "  --sequential N  pods created one after the other (default 15)\n"
      "  --parallel N    pods created at once afterwards (default 30)\n";
  if (argc < 2 || std::string(argv[1]) == "--help" || std::string(argv[1]) == "-h") {
    fputs(usage, argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  std::string kubit = argv[1];
  int sequential = 15, parallel = 30;
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string f = argv[i];
    if (f == "--sequential") sequential = atoi(argv[i + 1]);
    else if (f == "--parallel") parallel = atoi(argv[i + 1]);
  }
  char tmpl[] = "/var/tmp/kubit-pods-bench-XXXXXX";
  if (!mkdtemp(tmpl)) Die("mkdtemp");
  std::string dir = tmpl, data = dir + "/data", kc = dir + "/kc.yaml", log = dir + "/server.log";
  printf("pods_bench: %d sequential, %d at once, data dir on %s\n", sequential, parallel,
         kubit::bench::FsType(dir).c_str());
  std::string make_image = "bash -c 'fail() { echo \"$*\" >&2; exit 1; }; . test/e2e/lib_images.sh && "
                           "make_busybox_oci_tar " + dir + "/busybox.tar busybox:bench' && " + kubit +
                           " ctr --data-dir " + data + " images import " + dir + "/busybox.tar >/dev/null";
  if (system(make_image.c_str()) != 0) Die("cannot make the busybox image");

  // Baseline: the runtime alone, from the command line.
  std::vector<double> base;
  for (int i = 0; i < sequential; i++) {
    double ms = kubit::bench::TimeRun(
        {kubit, "ctr", "--data-dir", data, "run", "--rm", "busybox:bench", "base-" + std::to_string(i), "/bin/true"});
    if (ms < 0) Die("kubit ctr run failed");
    base.push_back(ms);
  }

  std::string port = std::to_string(20000 + getpid() % 30000);
  pid_t server = fork();
  if (server == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    execl(kubit.c_str(), "kubit", "server", "--data-dir", data.c_str(), "--bind-address", "127.0.0.1",
          "--https-listen-port", port.c_str(), "--write-kubeconfig", kc.c_str(), "--node-name", "bench",
          static_cast<char*>(nullptr));
    _exit(127);
  }
  std::unique_ptr<Client> c;
  auto deadline = Clock::now() + std::chrono::seconds(60);
  bool node_ready = false;
  while (Clock::now() < deadline && !node_ready) {
    std::string error;
    if (!c && access(kc.c_str(), R_OK) == 0) Client::FromKubeconfig(kc, "", &c, &error);
    Json node;
    if (c && c->Get(kNodes, "", "bench", &node).ok()) node_ready = IsReady(node);
    if (!node_ready) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  if (!node_ready) Die("the node was not Ready within 60 s; see " + log);
  std::this_thread::sleep_for(std::chrono::seconds(5));
  double rss_idle = RssMiB(server);

  // One after the other: each create waits for the previous pod's Ready.
  CreateNamespace(c.get(), "seq");
  std::vector<int64_t> seq;
  {
    ReadyWatch w(c.get(), "seq");
    for (int i = 0; i < sequential; i++) {
      std::string name = "seq-" + std::to_string(i);
      w.Created(name, Clock::now());
      auto s = c->Create(kPods, "seq", BenchPod(name));
      if (!s.ok()) Die("create: " + s.message());
      seq = w.Wait(i + 1, std::chrono::seconds(30));
      if (static_cast<int>(seq.size()) < i + 1) Die(name + " not Ready within 30 s; see " + log);
    }
  }

  // All at once, from as many clients.
  CreateNamespace(c.get(), "par");
  std::vector<int64_t> par;
  double cpu_before = CpuMs(server);
  auto burst_start = Clock::now();
  {
    ReadyWatch w(c.get(), "par");
    std::vector<std::thread> creators;
    for (int i = 0; i < parallel; i++)
      creators.emplace_back([&, i] {
        std::string name = "par-" + std::to_string(i);
        w.Created(name, Clock::now());
        auto s = c->Create(kPods, "par", BenchPod(name));
        if (!s.ok()) Die("create: " + s.message());
      });
    for (auto& t : creators) t.join();
    par = w.Wait(parallel, std::chrono::seconds(120));
    if (static_cast<int>(par.size()) < parallel)
      Die(std::to_string(par.size()) + " of " + std::to_string(parallel) + " pods Ready within 120 s; see " + log);
  }
  double burst_ms = std::chrono::duration<double, std::milli>(Clock::now() - burst_start).count();
  double cpu_per_pod = (CpuMs(server) - cpu_before) / parallel;
  std::this_thread::sleep_for(std::chrono::seconds(3));
  double rss_busy = RssMiB(server);

  kill(server, SIGTERM);
  waitpid(server, nullptr, 0);
  std::string cleanup = kubit + " killall --data-dir " + data + " >/dev/null 2>&1; rm -rf '" + dir + "'";
  if (system(cleanup.c_str()) != 0) fprintf(stderr, "pods_bench: cleanup of %s failed\n", dir.c_str());

  using kubit::bench::Fmt;
  using kubit::bench::PercentileMs;
  double base_ms = kubit::bench::Median(base);
  double seq_p50 = PercentileMs(seq, 50), par_p99 = PercentileMs(par, 99);
  printf("\n%-48s %10s %10s  %s\n", "figure", "value", "target", "");
  auto row = [](const char* what, const std::string& v, const std::string& target, bool ok) {
    printf("%-48s %10s %10s  %s\n", what, v.c_str(), target.c_str(), target.empty() ? "" : ok ? "met" : "MISSED");
  };
  row("create -> Ready, sequential p50 (ms)", Fmt("%.1f", seq_p50), "<= 100", seq_p50 <= 100);
  row("create -> Ready, sequential p99 (ms)", Fmt("%.1f", PercentileMs(seq, 99)), "", true);
  row("create -> Ready, 30 at once p50 (ms)", Fmt("%.1f", PercentileMs(par, 50)), "", true);
  row("create -> Ready, 30 at once p99 (ms)", Fmt("%.1f", par_p99), "<= 300", par_p99 <= 300);
  // CPU-bound when the server's CPU per pod times the pods, spread over
  // the cores, comes near the burst's length.
  row("30 at once: until the last Ready (ms)", Fmt("%.0f", burst_ms), "", true);
  row("30 at once: server CPU per pod (ms)", Fmt("%.1f", cpu_per_pod), "", true);
  row("baseline: kubit ctr run --rm, median (ms)", Fmt("%.1f", base_ms), "", true);
  row("ratio sequential p50 / baseline", Fmt("%.2fx", seq_p50 / base_ms), "", true);
  row("server RSS idle (MiB)", Fmt("%.1f", rss_idle), "<= 30", rss_idle <= 30);
  row("server RSS with all pods (MiB)", Fmt("%.1f", rss_busy), "<= 60", rss_busy <= 60);
  return 0;
}
