// The scheduler at scale (issue 6's `make bench-sched`): 100 simulated
// nodes (Node objects this program registers with Ready status; no kubelet
// runs behind them, and the server's own agent is off) and a Deployment of
// 1,000 replicas. Measures the time from creating the Deployment until
// every pod is bound, how evenly the pods spread over the nodes, the
// server's RSS, and the server's CPU time per pod in each phase.
//
// Baseline in the same run, on the same server: 1,000 pods created
// directly with spec.nodeName set (no controller, no scheduler), so the
// ratio is what the ReplicaSet controller and the scheduler add on top of
// the writes themselves. Targets: all bound in <= 3 s, no node above 20
// pods, RSS <= 120 MiB.
//
//   build/bench/sched_bench KUBIT [--nodes N] [--replicas R]
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
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

const Resource kNodes{"", "v1", "nodes"};
const Resource kPods{"", "v1", "pods"};
const Resource kNamespaces{"", "v1", "namespaces"};
const Resource kDeployments{"apps", "v1", "deployments"};

constexpr double kTargetBoundS = 3.0;
constexpr int kTargetMaxPerNode = 20;
constexpr double kTargetRssMiB = 120;

[[noreturn]] void Die(const std::string& m) {
  fprintf(stderr, "sched_bench: %s\n", m.c_str());
  exit(1);
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// The server's CPU time so far (user + system, all threads) in seconds,
// from /proc/<pid>/stat: on a shared, noisy machine CPU per pod says more
// than wall time does.
double CpuSeconds(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t paren = stat.rfind(')');  // the command name may hold spaces
  if (paren == std::string::npos) return -1;
  // Fields after ")": state(3) ... utime(14) stime(15), 1-based.
  const char* p = stat.c_str() + paren + 2;
  long long utime = 0, stime = 0;
  if (sscanf(p, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lld %lld", &utime, &stime) != 2) return -1;
  return static_cast<double>(utime + stime) / sysconf(_SC_CLK_TCK);
}

double RssMiB(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(f, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return strtoll(line.c_str() + 6, nullptr, 10) / 1024.0;
  }
  return -1;
}

struct Server {
  pid_t pid = -1;
  std::string dir, log;
  std::unique_ptr<Client> client;

  void Start(const std::string& kubit) {
    char tmpl[] = "/tmp/kubit-sched-bench-XXXXXX";
    if (!mkdtemp(tmpl)) Die("mkdtemp");
    dir = tmpl;
    log = dir + ".log";
    std::string kc = dir + "/kc.yaml";
    std::string port = std::to_string(20000 + getpid() % 30000);
    pid = fork();
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      // No agent (the nodes are simulated), and nodes never go Unknown
      // for want of kubelet heartbeats during the run.
      execl(kubit.c_str(), "kubit", "server", "--data-dir", (dir + "/data").c_str(), "--bind-address", "127.0.0.1",
            "--https-listen-port", port.c_str(), "--write-kubeconfig", kc.c_str(), "--disable-agent",
            "--node-monitor-grace-period", "1h", (char*)nullptr);
      _exit(127);
    }
    auto deadline = Clock::now() + std::chrono::seconds(30);
    while (Clock::now() < deadline) {
      int status;
      if (waitpid(pid, &status, WNOHANG) == pid) Die("the server exited; see " + log);
      std::string error;
      if (access(kc.c_str(), R_OK) == 0 && Client::FromKubeconfig(kc, "", &client, &error)) {
        Json out;
        if (client->Raw("GET", "/version", "", "", &out).ok()) return;
        client.reset();
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    Die("the server was not ready within 30 s; see " + log);
  }

  void Stop() {
    if (pid > 0) {
      kill(pid, SIGTERM);
      waitpid(pid, nullptr, 0);
    }
    std::string cmd = "rm -rf '" + dir + "' '" + log + "'";
    if (system(cmd.c_str()) != 0) fprintf(stderr, "sched_bench: could not remove %s\n", dir.c_str());
  }
};

Json SimulatedNode(int i) {
  std::string name = "sim-" + std::to_string(i);
  return {{"apiVersion", "v1"},
          {"kind", "Node"},
          {"metadata", {{"name", name}, {"labels", {{"kubernetes.io/hostname", name}, {"kubernetes.io/os", "linux"}}}}},
          {"spec", Json::object()}};
}

Json ReadyStatus() {
  Json cap = {{"cpu", "4"}, {"memory", "8Gi"}, {"pods", "110"}};
  std::string now = "2026-01-01T00:00:00Z";
  return {{"capacity", cap},
          {"allocatable", cap},
          {"conditions",
           {{{"type", "Ready"}, {"status", "True"}, {"reason", "KubeletReady"}, {"lastHeartbeatTime", now},
             {"lastTransitionTime", now}}}}};
}

Json PodTemplate() {
  return {{"metadata", {{"labels", {{"app", "bench"}}}}},
          {"spec",
           {{"containers",
             {{{"name", "c"},
               {"image", "busybox"},
               {"resources", {{"requests", {{"cpu", "10m"}, {"memory", "16Mi"}}}}}}}}}}};
}

// Runs f(i) for i in [0, n) on `threads` threads.
void Parallel(int n, int threads, const std::function<void(int)>& f) {
  std::atomic<int> next{0};
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; t++) {
    ts.emplace_back([&] {
      for (int i; (i = next++) < n;) f(i);
    });
  }
  for (auto& t : ts) t.join();
}

void CreateNamespace(Client* c, const std::string& ns) {
  Json obj = {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", ns}}}};
  auto s = c->Create(kNamespaces, "", obj);
  if (!s.ok()) Die("namespace " + ns + ": " + s.message());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) Die("usage: sched_bench KUBIT [--nodes N] [--replicas R]");
  int nodes = 100, replicas = 1000;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--nodes")) nodes = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--replicas")) replicas = atoi(argv[i + 1]);
    else Die(std::string("unknown flag ") + argv[i]);
  }
  Server server;
  server.Start(argv[1]);
  Client* c = server.client.get();
  printf("sched_bench: %d simulated nodes, %d pods; server pid %d, log %s\n", nodes, replicas, server.pid,
         server.log.c_str());

  // The nodes, Ready.
  Parallel(nodes, 8, [&](int i) {
    Json node = SimulatedNode(i), out;
    auto s = c->Create(kNodes, "", node, &out);
    if (!s.ok()) Die("node: " + s.message());
    // A patch: the node IPAM controller may have set the podCIDR since.
    Json patch = {{"status", ReadyStatus()}};
    s = c->Patch(kNodes, "", node["metadata"]["name"], kubit::client::PatchType::kMerge, patch.dump(), nullptr, {},
                 "status");
    if (!s.ok()) Die("node status: " + s.message());
  });
  std::this_thread::sleep_for(std::chrono::seconds(1));  // the scheduler's node cache

  // Baseline: the pods written directly, bound by their nodeName.
  CreateNamespace(c, "baseline");
  double cpu0 = CpuSeconds(server.pid);
  auto t0 = Clock::now();
  Parallel(replicas, 16, [&](int i) {
    Json pod = PodTemplate();
    pod["apiVersion"] = "v1";
    pod["kind"] = "Pod";
    pod["metadata"]["name"] = "direct-" + std::to_string(i);
    pod["spec"]["nodeName"] = "sim-" + std::to_string(i % nodes);
    auto s = c->Create(kPods, "baseline", pod);
    if (!s.ok()) Die("pod: " + s.message());
  });
  double baseline_s = Seconds(Clock::now() - t0);
  // The server's CPU for a pod: its informers and watchers hear of each
  // create, so wait for them to settle before reading it.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  double baseline_cpu_ms = (CpuSeconds(server.pid) - cpu0) * 1000 / replicas;
  printf("  baseline: %d pods created with nodeName set in %.2f s, server CPU %.2f ms per pod\n", replicas,
         baseline_s, baseline_cpu_ms);

  // The Deployment: from its creation until every pod has a node.
  CreateNamespace(c, "sched");
  std::unique_ptr<kubit::client::WatchStream> watch;
  auto s = c->Watch(kPods, "sched", {}, &watch);
  if (!s.ok()) Die("watch: " + s.message());
  Json deploy = {{"apiVersion", "apps/v1"},
                 {"kind", "Deployment"},
                 {"metadata", {{"name", "bench"}}},
                 {"spec", {{"replicas", replicas}, {"selector", {{"matchLabels", {{"app", "bench"}}}}}, {"template", PodTemplate()}}}};
  cpu0 = CpuSeconds(server.pid);
  t0 = Clock::now();
  s = c->Create(kDeployments, "sched", deploy);
  if (!s.ok()) Die("deployment: " + s.message());
  std::set<std::string> bound;
  std::map<std::string, int> per_node;
  double created_s = 0;
  std::set<std::string> created;
  kubit::client::WatchEvent ev;
  auto deadline = Clock::now() + std::chrono::seconds(120);
  while (static_cast<int>(bound.size()) < replicas && Clock::now() < deadline && watch->Next(&ev)) {
    if (ev.type != "ADDED" && ev.type != "MODIFIED") continue;
    const Json& pod = *ev.object;
    std::string name = pod["metadata"].value("name", "");
    if (created.insert(name).second && static_cast<int>(created.size()) == replicas) created_s = Seconds(Clock::now() - t0);
    std::string node = pod["spec"].value("nodeName", "");
    if (!node.empty() && bound.insert(name).second) per_node[node]++;
  }
  double bound_s = Seconds(Clock::now() - t0);
  watch->Stop();
  // As above: the last Events and the ReplicaSet's status land after the
  // last binding.
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  double sched_cpu_ms = (CpuSeconds(server.pid) - cpu0) * 1000 / replicas;
  if (static_cast<int>(bound.size()) < replicas) {
    Die("only " + std::to_string(bound.size()) + " of " + std::to_string(replicas) + " pods bound after 120 s");
  }
  int most = 0, least = replicas;
  for (int i = 0; i < nodes; i++) {
    int n = per_node["sim-" + std::to_string(i)];
    most = std::max(most, n);
    least = std::min(least, n);
  }
  double rss = RssMiB(server.pid);
  printf("  scheduler: Deployment of %d: all pods created in %.2f s, all bound in %.2f s\n", replicas, created_s,
         bound_s);
  printf("  server CPU %.2f ms per pod (%.2fx the baseline's)\n", sched_cpu_ms, sched_cpu_ms / baseline_cpu_ms);
  printf("  spread: %d to %d pods per node (%d nodes)\n", least, most, nodes);
  printf("\n%-44s %10s %10s  %s\n", "figure", "value", "target", "");
  auto row = [](const char* what, const std::string& v, const std::string& target, bool ok) {
    printf("%-44s %10s %10s  %s\n", what, v.c_str(), target.c_str(), ok ? "met" : "MISSED");
  };
  using kubit::bench::Fmt;
  row("all bound after Deployment create (s)", Fmt("%.2f", bound_s), Fmt("<= %.0f", kTargetBoundS), bound_s <= kTargetBoundS);
  row("ratio to the baseline (direct nodeName)", Fmt("%.2fx", bound_s / baseline_s), "", true);
  row("server CPU per pod (ms)", Fmt("%.2f", sched_cpu_ms), "", true);
  row("CPU ratio to the baseline", Fmt("%.2fx", sched_cpu_ms / baseline_cpu_ms), "", true);
  row("most pods on one node", Fmt("%.0f", most), Fmt("<= %.0f", kTargetMaxPerNode), most <= kTargetMaxPerNode);
  row("server RSS after (MiB)", Fmt("%.1f", rss), Fmt("<= %.0f", kTargetRssMiB), rss <= kTargetRssMiB);
  server.Stop();
  return 0;
}
