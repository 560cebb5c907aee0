// api_bench: the API server's figures on this machine, against their targets.
//
//   make bench-api        (runs build/bench/api_bench /abs/path/build/kubit)
//
// The real binary is started as `kubit server --data-dir D --bind-address
// 127.0.0.1 --https-listen-port P --write-kubeconfig D/kc.yaml` and driven
// over HTTPS with the admin client certificate from D/server/tls
// (cpp-httplib's SSLClient: CA verification on, keep-alive, one client
// object per worker thread, connected before the clock starts).
//
// Phases:
//   1. Start-up: exec -> first authenticated GET /readyz answered 200, from
//      a fresh data dir (certificates generated), median of 3 cold starts;
//      the last server stays up for the rest. RSS (VmRSS of the server
//      process) idle right after ready.
//   2. Fill: 64 clients create 10,000 ConfigMaps (~1 KiB of data each) in
//      namespace default; then the server's RSS with 10,000 ConfigMaps.
//   3. Creates, interleaved with the baseline: rounds of 64 clients creating
//      ConfigMaps with distinct names for a fixed time, then the store's own
//      durable create rate with 64 writer threads (kubit::store::Store in
//      this process, a fresh database in the temp dir, the same value: the
//      ConfigMap JSON, the same duration). Alternating rounds so that the
//      ratio API / store compares runs made under the same load.
//   4. GETs of existing ConfigMaps (64 clients), in rounds, then LISTs of the
//      namespace with limit=500 (8 clients), in rounds; RSS after each.
//   5. Restart: the server stopped (SIGTERM) and started again on its data
//      dir holding every object written (info).
// Throughputs are medians of rounds; latencies are percentiles over every
// request of every round. CPU time of the server process (from /proc), of
// this process (the clients) and of everything else on the machine (other
// tenants: /proc/stat minus both) is printed per phase: the machine is small
// and shared, and a create rate is only judged together with the cores the
// server got; "creates/s the cpus allow" is cpus / (server + client CPU per
// create), the rate if server and clients had the machine to themselves.
// Exit status: 0 when the run completed (targets missed or not), 1 on errors
// (including any failed request).
#define CPPHTTPLIB_OPENSSL_SUPPORT
#include "httplib.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench/bench_util.h"
#include "store/store.h"

namespace {

using kubit::bench::FsType;
using kubit::bench::Fmt;
using kubit::bench::Median;
using kubit::bench::PercentileMs;

namespace ks = kubit::store;
using Clock = std::chrono::steady_clock;

// ---- configuration ----
constexpr size_t kDataBytes = 1024;  // ConfigMap data per object
constexpr int kStartups = 3;         // cold starts; the last server stays up
constexpr int kFillObjects = 10000;
constexpr int kClients = 64;         // creates, GETs, fill
constexpr int kListClients = 8;
constexpr int kListLimit = 500;
constexpr int kCreateRounds = 3;
constexpr double kCreateSeconds = 5.0;  // per round, API and store alike
constexpr int kReadRounds = 3;
constexpr double kGetSeconds = 3.0;
constexpr double kListSeconds = 3.0;
constexpr size_t kMaxErrors = 50;  // a phase stops after this many failed requests

// ---- targets ----
constexpr double kTargetReadyMs = 1000;      // <=
constexpr double kTargetIdleRssMiB = 20;     // <=
constexpr double kTargetCreates = 5000;      // creates/s, >=
constexpr double kTargetCreateP99Ms = 50;    // <=
constexpr double kTargetRss10kMiB = 80;      // <=

struct BenchError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// p in [0, 100]; values in ns, result in ms.
// Bytes that differ between writers (nothing to gain from compression).
std::string MakeText(size_t n, uint64_t seed) {
  std::string v(n, '\0');
  uint64_t x = seed * 0x9E3779B97F4A7C15ull + 1;
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    v[i] = static_cast<char>('a' + x % 26);
  }
  return v;
}

std::string ConfigMapJson(const std::string& name, const std::string& data) {
  return "{\"apiVersion\":\"v1\",\"kind\":\"ConfigMap\",\"metadata\":{\"name\":\"" + name +
         "\"},\"data\":{\"payload\":\"" + data + "\"}}";
}

std::string g_dir;  // the temp dir of this run

bool FileExists(const std::string& p) {
  struct stat st;
  return stat(p.c_str(), &st) == 0;
}

std::string ReadFileTail(const std::string& path, size_t max) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  std::string s = ss.str();
  return s.size() > max ? s.substr(s.size() - max) : s;
}

// ---- /proc ----

int64_t StatusKiB(pid_t pid, const char* field) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  size_t n = strlen(field);
  while (std::getline(f, line)) {
    if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':')
      return strtoll(line.c_str() + n + 1, nullptr, 10);
  }
  return -1;
}

double MiB(int64_t kib) { return kib / 1024.0; }

struct Rss {
  double rss = 0, anon = 0, file = 0, hwm = 0;
  int64_t threads = 0;
};

Rss ReadRss(pid_t pid) {
  Rss r;
  r.rss = MiB(StatusKiB(pid, "VmRSS"));
  r.anon = MiB(StatusKiB(pid, "RssAnon"));
  r.file = MiB(StatusKiB(pid, "RssFile"));
  r.hwm = MiB(StatusKiB(pid, "VmHWM"));
  r.threads = StatusKiB(pid, "Threads");
  if (r.rss < 0) throw BenchError("cannot read /proc/" + std::to_string(pid) + "/status");
  return r;
}

std::string RssText(const Rss& r) {
  char buf[160];
  snprintf(buf, sizeof(buf), "VmRSS %.1f MiB (anon %.1f, file %.1f), VmHWM %.1f MiB, %" PRId64
           " threads", r.rss, r.anon, r.file, r.hwm, r.threads);
  return buf;
}

// CPU seconds (user + system) used so far by process `pid`.
double ProcessCpu(pid_t pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  size_t p = s.rfind(')');
  if (p == std::string::npos) return 0;
  std::istringstream in(s.substr(p + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  // After the command: state is field 3; utime and stime are fields 14 and 15.
  for (int i = 3; i <= 15 && in >> field; i++) {
    if (i == 14) utime = strtoull(field.c_str(), nullptr, 10);
    if (i == 15) stime = strtoull(field.c_str(), nullptr, 10);
  }
  return double(utime + stime) / sysconf(_SC_CLK_TCK);
}

// CPU seconds the whole machine spent busy (every process, every cpu).
double MachineBusyCpu() {
  std::ifstream f("/proc/stat");
  std::string cpu;
  unsigned long long v[8] = {};  // user nice system idle iowait irq softirq steal
  f >> cpu;
  for (auto& x : v) f >> x;
  return double(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) / sysconf(_SC_CLK_TCK);
}

double SelfCpu() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

// ---- the server process ----

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw BenchError(std::string("socket: ") + strerror(errno));
  sockaddr_in a = {};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    close(fd);
    throw BenchError(std::string("bind: ") + strerror(errno));
  }
  close(fd);
  return ntohs(a.sin_port);
}

struct Tls {
  std::string crt, key, ca;
};

std::unique_ptr<httplib::SSLClient> NewClient(const Tls& tls, int port) {
  auto c = std::make_unique<httplib::SSLClient>("127.0.0.1", port, tls.crt, tls.key);
  c->set_ca_cert_path(tls.ca);
  c->enable_server_certificate_verification(true);
  c->set_keep_alive(true);
  // As Go's net (client-go, kubectl) and curl do. Without it httplib writes a
  // POST's headers and body in two segments and Nagle holds the second
  // until the server's delayed ACK (~40 ms): every create would take 40 ms.
  c->set_tcp_nodelay(true);
  c->set_connection_timeout(5);
  c->set_read_timeout(60);
  c->set_write_timeout(60);
  return c;
}

std::string Describe(const httplib::Result& r) {
  if (!r) return "request failed: " + httplib::to_string(r.error());
  return "HTTP " + std::to_string(r->status) + ": " + r->body.substr(0, 300);
}

class Server {
 public:
  Server(std::string kubit, std::string data_dir)
      : kubit_(std::move(kubit)), data_dir_(std::move(data_dir)) {
    tls_.crt = data_dir_ + "/server/tls/client-admin.crt";
    tls_.key = data_dir_ + "/server/tls/client-admin.key";
    tls_.ca = data_dir_ + "/server/tls/server-ca.crt";
  }
  ~Server() { Kill(); }

  // Starts the server and waits for an authenticated GET /readyz to answer
  // 200; returns the time from fork+exec to that answer, in ms.
  double Start() {
    port_ = FreePort();
    std::string port = std::to_string(port_), kc = data_dir_ + "/kc.yaml";
    std::string log = data_dir_ + ".log";
    log_ = log;
    auto t0 = Clock::now();
    pid_t pid = fork();
    if (pid < 0) throw BenchError(std::string("fork: ") + strerror(errno));
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlive the benchmark
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
        close(fd);
      }
      execl(kubit_.c_str(), "kubit", "server", "--data-dir", data_dir_.c_str(), "--bind-address",
            "127.0.0.1", "--https-listen-port", port.c_str(), "--write-kubeconfig", kc.c_str(),
            (char*)nullptr);
      _exit(127);
    }
    pid_ = pid;
    auto deadline = t0 + std::chrono::seconds(30);
    std::string last = "no certificates yet";
    while (Clock::now() < deadline) {
      int status;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        throw BenchError("the server exited (status " + std::to_string(status) +
                         ") before it was ready; its log:\n" + ReadFileTail(log_, 3000));
      }
      if (FileExists(tls_.crt) && FileExists(tls_.key) && FileExists(tls_.ca)) {
        auto c = NewClient(tls_, port_);
        c->set_connection_timeout(1);
        c->set_keep_alive(false);
        if (c->is_valid()) {
          auto r = c->Get("/readyz");
          if (r && r->status == 200) return Seconds(Clock::now() - t0) * 1e3;
          last = Describe(r);
        } else {
          last = "client certificate not loadable yet";
        }
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    throw BenchError("the server was not ready within 30 s (last: " + last + "); its log:\n" +
                     ReadFileTail(log_, 3000));
  }

  // SIGTERM, then SIGKILL after 10 s; returns the time it took to exit, in ms.
  double Stop() {
    if (pid_ <= 0) return 0;
    auto t0 = Clock::now();
    kill(pid_, SIGTERM);
    int status = 0;
    for (;;) {
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) break;
      if (Clock::now() - t0 > std::chrono::seconds(10)) {
        kill(pid_, SIGKILL);
        waitpid(pid_, &status, 0);
        pid_ = -1;
        throw BenchError("the server did not stop within 10 s of SIGTERM");
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    pid_ = -1;
    double ms = Seconds(Clock::now() - t0) * 1e3;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
      throw BenchError("the server exited with status " + std::to_string(status) +
                       " after SIGTERM; its log:\n" + ReadFileTail(log_, 3000));
    return ms;
  }

  void Kill() {
    if (pid_ <= 0) return;
    kill(pid_, SIGKILL);
    int status;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  pid_t pid() const { return pid_; }
  int port() const { return port_; }
  const Tls& tls() const { return tls_; }
  const std::string& log() const { return log_; }

 private:
  std::string kubit_, data_dir_, log_;
  Tls tls_;
  pid_t pid_ = -1;
  int port_ = 0;
};

// ---- load ----

// One keep-alive client per worker, kept across phases.
class ClientPool {
 public:
  ClientPool(const Server& s, int n) {
    for (int i = 0; i < n; i++) {
      clients_.push_back(NewClient(s.tls(), s.port()));
      if (!clients_.back()->is_valid()) throw BenchError("cannot set up an HTTPS client");
    }
  }
  httplib::SSLClient& at(int i) { return *clients_.at(i); }
  // Connects every client (TLS handshake) before any clock starts.
  void Connect(int n) {
    std::vector<std::thread> ts;
    std::mutex mu;
    std::string err;
    for (int i = 0; i < n; i++)
      ts.emplace_back([&, i] {
        auto r = clients_[i]->Get("/readyz");
        if (!r || r->status != 200) {
          std::lock_guard<std::mutex> lock(mu);
          err = Describe(r);
        }
      });
    for (auto& t : ts) t.join();
    if (!err.empty()) throw BenchError("connecting the clients: " + err);
  }

 private:
  std::vector<std::unique_ptr<httplib::SSLClient>> clients_;
};

struct LoadRun {
  double per_sec = 0, elapsed = 0;
  std::vector<int64_t> lat_ns;
  uint64_t ok = 0, errors = 0;
  std::string first_error;
  double server_cpu = 0, client_cpu = 0;  // CPU seconds during the run
  double other_cpu = 0;                   // CPU seconds of everything else
  uint64_t bytes = 0;                     // response bodies
};

// What one request does: returns "" on success or the error, and adds the
// response body's size to *bytes.
using Op = std::function<std::string(int worker, uint64_t seq, httplib::SSLClient& c,
                                     uint64_t* bytes)>;

// `workers` threads run `op` in a loop until `seconds` passed or, if
// `count` > 0, until `count` operations were taken (seq 0..count-1 over all
// workers).
LoadRun RunLoad(ClientPool& pool, pid_t server, int workers, double seconds, uint64_t count,
                const Op& op) {
  std::atomic<bool> go{false}, stop{false};
  std::atomic<uint64_t> next{0};
  std::vector<std::vector<int64_t>> lats(workers);
  std::vector<uint64_t> bytes(workers, 0);
  std::atomic<uint64_t> errors{0};
  std::mutex err_mu;
  std::string first_error;
  std::vector<std::thread> ts;
  for (int w = 0; w < workers; w++) {
    ts.emplace_back([&, w] {
      httplib::SSLClient& c = pool.at(w);
      lats[w].reserve(1 << 14);
      go.wait(false);
      while (!stop.load(std::memory_order_relaxed)) {
        uint64_t seq = next.fetch_add(1);
        if (count > 0 && seq >= count) break;
        auto t0 = Clock::now();
        std::string e = op(w, seq, c, &bytes[w]);
        auto t1 = Clock::now();
        if (!e.empty()) {
          if (errors.fetch_add(1) + 1 >= kMaxErrors) stop = true;
          std::lock_guard<std::mutex> lock(err_mu);
          if (first_error.empty()) first_error = e;
          continue;
        }
        lats[w].push_back((t1 - t0).count());
      }
    });
  }
  double cpu_s0 = ProcessCpu(server), cpu_c0 = SelfCpu(), cpu_m0 = MachineBusyCpu();
  auto start = Clock::now();
  go = true;
  go.notify_all();
  if (count == 0) {
    std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                              std::chrono::duration<double>(seconds)));
    stop = true;
  }
  for (auto& t : ts) t.join();
  LoadRun r;
  r.elapsed = Seconds(Clock::now() - start);
  r.server_cpu = ProcessCpu(server) - cpu_s0;
  r.client_cpu = SelfCpu() - cpu_c0;
  r.other_cpu = std::max(0.0, MachineBusyCpu() - cpu_m0 - r.server_cpu - r.client_cpu);
  for (int w = 0; w < workers; w++) {
    r.lat_ns.insert(r.lat_ns.end(), lats[w].begin(), lats[w].end());
    r.bytes += bytes[w];
  }
  r.ok = r.lat_ns.size();
  r.errors = errors;
  r.first_error = first_error;
  r.per_sec = r.ok / r.elapsed;
  return r;
}

// Creates ConfigMap `name` in namespace default with `data` as its payload.
std::string CreateConfigMap(httplib::SSLClient& c, const std::string& name,
                            const std::string& data, uint64_t* bytes) {
  auto r = c.Post("/api/v1/namespaces/default/configmaps", ConfigMapJson(name, data),
                  "application/json");
  if (!r || r->status != 201) return "create " + name + ": " + Describe(r);
  *bytes += r->body.size();
  return "";
}

std::string FillName(uint64_t i) {
  char buf[32];
  snprintf(buf, sizeof(buf), "fill-%05" PRIu64, i);
  return buf;
}

// ---- the store baseline ----

struct ErrorSlot {
  std::mutex mu;
  std::string msg;
  void Set(const std::string& m) {
    std::lock_guard<std::mutex> lock(mu);
    if (msg.empty()) msg = m;
  }
};

int g_db_seq = 0;

LoadRun RunStoreCreates(int threads, double seconds, const std::vector<std::string>& data) {
  ks::Options o;
  o.path = g_dir + "/store-baseline-" + std::to_string(++g_db_seq) + ".db";
  std::unique_ptr<ks::Store> st;
  ks::Status os = ks::Store::Open(o, &st);
  if (!os.ok()) throw BenchError("open store " + o.path + ": " + os.ToString());
  std::atomic<bool> go{false}, stop{false};
  std::vector<std::vector<int64_t>> lats(threads);
  ErrorSlot err;
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; t++) {
    ts.emplace_back([&, t] {
      lats[t].reserve(1 << 14);
      go.wait(false);
      for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); i++) {
        char name[64];
        snprintf(name, sizeof(name), "base-%02d-%07" PRIu64, t, i);
        // The same key layout and the same value as the API server's.
        std::string key = std::string("/registry/configmaps/default/") + name;
        std::string value = ConfigMapJson(name, data[t % data.size()]);
        auto t0 = Clock::now();
        ks::Status s = st->Create(key, value);
        auto t1 = Clock::now();
        if (!s.ok()) {
          err.Set("store create " + key + ": " + s.ToString());
          stop = true;
          return;
        }
        lats[t].push_back((t1 - t0).count());
      }
    });
  }
  double cpu0 = SelfCpu(), cpu_m0 = MachineBusyCpu();
  auto start = Clock::now();
  go = true;
  go.notify_all();
  std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(seconds)));
  stop = true;
  for (auto& t : ts) t.join();
  LoadRun r;
  r.elapsed = Seconds(Clock::now() - start);
  r.client_cpu = SelfCpu() - cpu0;
  r.other_cpu = std::max(0.0, MachineBusyCpu() - cpu_m0 - r.client_cpu);
  ks::Status cs = st->Close();
  st.reset();
  std::error_code ec;
  for (const char* sfx : {"", "-wal", "-shm"}) std::filesystem::remove(o.path + sfx, ec);
  if (!err.msg.empty()) throw BenchError(err.msg);
  if (!cs.ok()) throw BenchError("close store: " + cs.ToString());
  for (auto& l : lats) r.lat_ns.insert(r.lat_ns.end(), l.begin(), l.end());
  r.ok = r.lat_ns.size();
  r.per_sec = r.ok / r.elapsed;
  return r;
}

// ---- output ----

struct Row {
  std::string figure, value, target, result;
};
std::vector<Row> g_rows;

void AddRow(const std::string& figure, const std::string& value, const std::string& target = "-",
            const char* result = "info") {
  g_rows.push_back({figure, value, target, result});
}

const char* PassMiss(bool pass) { return pass ? "PASS" : "MISS"; }

// Per-request CPU of the server and the clients, in microseconds, and the
// cores busy with the server, the clients and everything else (other
// tenants of the machine).
std::string CpuText(const LoadRun& r) {
  if (r.ok == 0) return "";
  char buf[200];
  snprintf(buf, sizeof(buf),
           "cpu/request: server %.0f us, clients %.0f us; cores: server %.2f, clients %.2f, "
           "others %.2f",
           r.server_cpu / r.ok * 1e6, r.client_cpu / r.ok * 1e6, r.server_cpu / r.elapsed,
           r.client_cpu / r.elapsed, r.other_cpu / r.elapsed);
  return buf;
}

uint64_t g_failed_requests = 0;
std::string g_first_failure;

void NoteErrors(const char* phase, const LoadRun& r) {
  if (r.errors == 0) return;
  printf("  %s: %" PRIu64 " requests FAILED, first: %s\n", phase, r.errors, r.first_error.c_str());
  g_failed_requests += r.errors;
  if (g_first_failure.empty()) g_first_failure = std::string(phase) + ": " + r.first_error;
}

int Main(const std::string& kubit) {
  auto t_begin = Clock::now();
  const char* tmp = getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/kubit-api-bench-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) {
    fprintf(stderr, "api_bench: mkdtemp %s: %s\n", tmpl.c_str(), strerror(errno));
    return 1;
  }
  g_dir = buf.data();
  std::string loadavg = ReadFileTail("/proc/loadavg", 200);
  if (!loadavg.empty() && loadavg.back() == '\n') loadavg.pop_back();
  printf("api_bench: %s, temp dir %s (%s), %u cpus, loadavg %s\n", kubit.c_str(), g_dir.c_str(),
         FsType(g_dir).c_str(), std::thread::hardware_concurrency(), loadavg.c_str());
  fflush(stdout);
  int rc = 0;
  std::unique_ptr<Server> server;
  try {
    if (access(kubit.c_str(), X_OK) != 0)
      throw BenchError(kubit + " is not an executable: " + strerror(errno));

    // 1. Start-up and idle RSS.
    printf("\n[start-up] %d cold starts (fresh data dir) to the first authenticated GET /readyz "
           "200; RSS %s\n",
           kStartups, "idle right after ready");
    std::vector<double> ready_ms, idle_rss;
    Rss idle;
    for (int i = 1; i <= kStartups; i++) {
      auto s = std::make_unique<Server>(kubit, g_dir + "/server-" + std::to_string(i));
      double ms = s->Start();
      Rss r = ReadRss(s->pid());
      printf("  start %d: ready in %.0f ms; idle %s\n", i, ms, RssText(r).c_str());
      fflush(stdout);
      ready_ms.push_back(ms);
      idle_rss.push_back(r.rss);
      if (i < kStartups) {
        s->Stop();
      } else {
        server = std::move(s);
        idle = r;
      }
    }
    double ready_med = Median(ready_ms), idle_med = Median(idle_rss);
    pid_t pid = server->pid();

    ClientPool pool(*server, kClients);
    pool.Connect(kClients);
    Rss connected = ReadRss(pid);
    printf("  with %d idle keep-alive connections: %s\n", kClients, RssText(connected).c_str());

    std::vector<std::string> data;
    for (int i = 0; i < kClients; i++) data.push_back(MakeText(kDataBytes, 1000 + i));
    size_t body_bytes = ConfigMapJson(FillName(0), data[0]).size();

    // 2. Fill to 10,000 ConfigMaps.
    printf("\n[fill] %d clients create %d ConfigMaps (request body %zu bytes, %zu of data)\n",
           kClients, kFillObjects, body_bytes, kDataBytes);
    fflush(stdout);
    LoadRun fill = RunLoad(pool, pid, kClients, 0, kFillObjects,
                           [&](int w, uint64_t seq, httplib::SSLClient& c, uint64_t* bytes) {
                             return CreateConfigMap(c, FillName(seq), data[w], bytes);
                           });
    NoteErrors("fill", fill);
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    Rss rss10k = ReadRss(pid);
    printf("  %" PRIu64 " created in %.1f s: %.0f creates/s, p50 %.2f p99 %.2f ms; %s\n", fill.ok,
           fill.elapsed, fill.per_sec, PercentileMs(fill.lat_ns, 50), PercentileMs(fill.lat_ns, 99),
           CpuText(fill).c_str());
    printf("  server with %d ConfigMaps (%d connections open): %s\n", kFillObjects, kClients,
           RssText(rss10k).c_str());
    fflush(stdout);

    // 3. Creates, interleaved with the store baseline.
    printf("\n[creates] %d rounds: API %d clients x %.0f s (POST configmaps, distinct names), then "
           "store::Store::Create %d threads x %.0f s (fresh db, same key layout and value)\n",
           kCreateRounds, kClients, kCreateSeconds, kClients, kCreateSeconds);
    fflush(stdout);
    std::vector<double> api_ps, store_ps, ratios;
    std::vector<int64_t> api_lat, store_lat;
    double api_srv_cpu = 0, api_cli_cpu = 0, api_oth_cpu = 0, api_secs = 0;
    uint64_t api_ok = 0;
    for (int round = 1; round <= kCreateRounds; round++) {
      LoadRun a = RunLoad(pool, pid, kClients, kCreateSeconds, 0,
                          [&](int w, uint64_t seq, httplib::SSLClient& c, uint64_t* bytes) {
                            char name[48];
                            snprintf(name, sizeof(name), "create-%d-%02d-%07" PRIu64, round, w, seq);
                            return CreateConfigMap(c, name, data[w], bytes);
                          });
      NoteErrors("creates", a);
      LoadRun s = RunStoreCreates(kClients, kCreateSeconds, data);
      printf("  round %d: API %6.0f creates/s (p50 %.2f p99 %.2f ms; %s)\n"
             "           store %6.0f creates/s (p50 %.2f p99 %.2f ms; cores: store %.2f, others "
             "%.2f) | API/store %.3f\n",
             round, a.per_sec, PercentileMs(a.lat_ns, 50), PercentileMs(a.lat_ns, 99),
             CpuText(a).c_str(), s.per_sec, PercentileMs(s.lat_ns, 50), PercentileMs(s.lat_ns, 99),
             s.client_cpu / s.elapsed, s.other_cpu / s.elapsed, a.per_sec / s.per_sec);
      fflush(stdout);
      api_ps.push_back(a.per_sec);
      store_ps.push_back(s.per_sec);
      ratios.push_back(a.per_sec / s.per_sec);
      api_lat.insert(api_lat.end(), a.lat_ns.begin(), a.lat_ns.end());
      store_lat.insert(store_lat.end(), s.lat_ns.begin(), s.lat_ns.end());
      api_srv_cpu += a.server_cpu;
      api_cli_cpu += a.client_cpu;
      api_oth_cpu += a.other_cpu;
      api_secs += a.elapsed;
      api_ok += a.ok;
    }
    double api_med = Median(api_ps), store_med = Median(store_ps);
    printf("  median: API %.0f creates/s, store %.0f creates/s; latency (all rounds) API p50 %.2f "
           "p99 %.2f ms, store p50 %.2f p99 %.2f ms\n",
           api_med, store_med, PercentileMs(api_lat, 50), PercentileMs(api_lat, 99),
           PercentileMs(store_lat, 50), PercentileMs(store_lat, 99));
    double srv_us_create = api_ok ? api_srv_cpu / api_ok * 1e6 : 0;
    double cli_us_create = api_ok ? api_cli_cpu / api_ok * 1e6 : 0;
    // What the cpus allow if the server and the clients had them to themselves.
    double cpu_bound = std::thread::hardware_concurrency() * 1e6 / (srv_us_create + cli_us_create);
    printf("  server CPU per create %.0f us (%.2f cores busy); clients %.0f us (%.2f cores); "
           "others %.2f cores\n",
           srv_us_create, api_srv_cpu / api_secs, cli_us_create, api_cli_cpu / api_secs,
           api_oth_cpu / api_secs);
    printf("  CPU bound: %u cpus / (server + clients CPU per create) = %.0f creates/s\n",
           std::thread::hardware_concurrency(), cpu_bound);
    Rss after_creates = ReadRss(pid);
    printf("  server after the creates: %s\n", RssText(after_creates).c_str());
    uint64_t objects = kFillObjects + api_ok;
    fflush(stdout);

    // 4. GETs and LISTs.
    printf("\n[reads] %d rounds: GET of a random existing ConfigMap (%d clients x %.0f s), LIST of "
           "namespace default limit=%d (%d clients x %.0f s); %" PRIu64 " ConfigMaps stored\n",
           kReadRounds, kClients, kGetSeconds, kListLimit, kListClients, kListSeconds, objects);
    {  // Check what a LIST returns, once.
      auto r = pool.at(0).Get("/api/v1/namespaces/default/configmaps?limit=" +
                              std::to_string(kListLimit));
      if (!r || r->status != 200) throw BenchError("list: " + Describe(r));
      auto j = nlohmann::json::parse(r->body);
      size_t n = j.at("items").size();
      std::string cont = j.at("metadata").value("continue", "");
      if (n != static_cast<size_t>(kListLimit) || cont.empty())
        throw BenchError("list limit=" + std::to_string(kListLimit) + " returned " +
                         std::to_string(n) + " items, continue \"" + cont + "\"");
      printf("  a LIST response: %zu items, %zu bytes\n", n, r->body.size());
    }
    std::vector<double> get_ps, list_ps;
    std::vector<int64_t> get_lat, list_lat;
    for (int round = 1; round <= kReadRounds; round++) {
      LoadRun g = RunLoad(pool, pid, kClients, kGetSeconds, 0,
                          [&](int w, uint64_t seq, httplib::SSLClient& c, uint64_t* bytes) {
                            uint64_t i = (seq * 2654435761u + w) % kFillObjects;
                            std::string name = FillName(i);
                            auto r = c.Get("/api/v1/namespaces/default/configmaps/" + name);
                            if (!r || r->status != 200) return "get " + name + ": " + Describe(r);
                            *bytes += r->body.size();
                            return std::string();
                          });
      NoteErrors("gets", g);
      printf("  GET round %d: %6.0f/s (p50 %.2f p99 %.2f ms; %s)\n", round, g.per_sec,
             PercentileMs(g.lat_ns, 50), PercentileMs(g.lat_ns, 99), CpuText(g).c_str());
      fflush(stdout);
      get_ps.push_back(g.per_sec);
      get_lat.insert(get_lat.end(), g.lat_ns.begin(), g.lat_ns.end());
    }
    Rss after_get = ReadRss(pid);
    printf("  server after the GETs: %s\n", RssText(after_get).c_str());
    for (int round = 1; round <= kReadRounds; round++) {
      LoadRun l = RunLoad(pool, pid, kListClients, kListSeconds, 0,
                          [&](int, uint64_t, httplib::SSLClient& c, uint64_t* bytes) {
                            auto r = c.Get("/api/v1/namespaces/default/configmaps?limit=" +
                                           std::to_string(kListLimit));
                            if (!r || r->status != 200) return "list: " + Describe(r);
                            *bytes += r->body.size();
                            return std::string();
                          });
      NoteErrors("lists", l);
      printf("  LIST round %d: %5.1f/s (p50 %.1f p99 %.1f ms; %.1f MB/s; %s)\n", round, l.per_sec,
             PercentileMs(l.lat_ns, 50), PercentileMs(l.lat_ns, 99), l.bytes / l.elapsed / 1e6,
             CpuText(l).c_str());
      fflush(stdout);
      list_ps.push_back(l.per_sec);
      list_lat.insert(list_lat.end(), l.lat_ns.begin(), l.lat_ns.end());
    }
    double get_med = Median(get_ps), list_med = Median(list_ps);
    Rss after = ReadRss(pid);
    printf("  median: GET %.0f/s, LIST %.1f/s\n", get_med, list_med);
    printf("  server after the LISTs: %s\n", RssText(after).c_str());
    fflush(stdout);

    // 5. Restart on the data dir that holds everything.
    pool = ClientPool(*server, 0);  // close the connections first
    double stop_ms = server->Stop();
    double restart_ms = server->Start();
    Rss restarted = ReadRss(server->pid());
    printf("\n[restart] stopped (SIGTERM) in %.0f ms; started again with %" PRIu64
           " ConfigMaps: ready in %.0f ms; idle %s\n",
           stop_ms, objects, restart_ms, RssText(restarted).c_str());
    server->Stop();
    fflush(stdout);

    // Summary.
    AddRow("ready after exec, cold start (median ms)", Fmt("%.0f", ready_med),
           Fmt("<= %.0f", kTargetReadyMs), PassMiss(ready_med <= kTargetReadyMs));
    AddRow("RSS idle after ready (median MiB)", Fmt("%.1f", idle_med),
           Fmt("<= %.0f", kTargetIdleRssMiB), PassMiss(idle_med <= kTargetIdleRssMiB));
    AddRow("API creates/s, 64 clients (median)", Fmt("%.0f", api_med),
           Fmt(">= %.0f", kTargetCreates), PassMiss(api_med >= kTargetCreates));
    AddRow("API create latency p50 (ms)", Fmt("%.2f", PercentileMs(api_lat, 50)));
    AddRow("API create latency p99 (ms)", Fmt("%.2f", PercentileMs(api_lat, 99)),
           Fmt("<= %.0f", kTargetCreateP99Ms),
           PassMiss(PercentileMs(api_lat, 99) <= kTargetCreateP99Ms));
    AddRow("store creates/s, 64 threads (median)", Fmt("%.0f", store_med));
    AddRow("store create latency p50 / p99 (ms)", Fmt("%.2f", PercentileMs(store_lat, 50)) +
                                                      " / " +
                                                      Fmt("%.2f", PercentileMs(store_lat, 99)));
    AddRow("ratio API/store creates (median of rounds)", Fmt("%.3f", Median(ratios)));
    AddRow("server CPU per API create (us)", Fmt("%.0f", srv_us_create));
    AddRow("creates/s the cpus allow (server+client CPU)", Fmt("%.0f", cpu_bound));
    AddRow("other tenants' load during API creates (cores)", Fmt("%.2f", api_oth_cpu / api_secs));
    AddRow("fill creates/s (10,000, 64 clients)", Fmt("%.0f", fill.per_sec));
    AddRow("RSS with 10,000 ConfigMaps (MiB)", Fmt("%.1f", rss10k.rss),
           Fmt("<= %.0f", kTargetRss10kMiB), PassMiss(rss10k.rss <= kTargetRss10kMiB));
    AddRow("GET/s, 64 clients (median)", Fmt("%.0f", get_med));
    AddRow("GET latency p50 / p99 (ms)",
           Fmt("%.2f", PercentileMs(get_lat, 50)) + " / " + Fmt("%.2f", PercentileMs(get_lat, 99)));
    AddRow("LIST limit=500/s, 8 clients (median)", Fmt("%.1f", list_med));
    AddRow("LIST latency p50 / p99 (ms)",
           Fmt("%.1f", PercentileMs(list_lat, 50)) + " / " + Fmt("%.1f", PercentileMs(list_lat, 99)));
    AddRow("RSS after the GETs (MiB)", Fmt("%.1f", after_get.rss));
    AddRow("RSS after the LISTs / peak VmHWM (MiB)",
           Fmt("%.1f", after.rss) + " / " + Fmt("%.1f", after.hwm));
    AddRow("restart with " + std::to_string(objects) + " objects, ready (ms)",
           Fmt("%.0f", restart_ms));

    size_t w0 = 6, w1 = 5, w2 = 6;
    for (const auto& r : g_rows) {
      w0 = std::max(w0, r.figure.size());
      w1 = std::max(w1, r.value.size());
      w2 = std::max(w2, r.target.size());
    }
    printf("\n== summary (%s, %.0f s) ==\n", g_dir.c_str(), Seconds(Clock::now() - t_begin));
    printf("%-*s  %*s  %-*s  %s\n", int(w0), "figure", int(w1), "value", int(w2), "target",
           "result");
    for (const auto& r : g_rows)
      printf("%-*s  %*s  %-*s  %s\n", int(w0), r.figure.c_str(), int(w1), r.value.c_str(),
             int(w2), r.target.c_str(), r.result.c_str());
    if (g_failed_requests > 0) {
      fflush(stdout);
      fprintf(stderr, "api_bench: ERROR: %" PRIu64 " requests failed; first: %s\n",
              g_failed_requests, g_first_failure.c_str());
      rc = 1;
    }
  } catch (const std::exception& e) {
    fflush(stdout);
    fprintf(stderr, "api_bench: ERROR: %s\n", e.what());
    rc = 1;
  }
  server.reset();  // kills the server if it still runs
  std::error_code ec;
  std::filesystem::remove_all(g_dir, ec);
  if (ec) fprintf(stderr, "api_bench: cannot remove %s: %s\n", g_dir.c_str(), ec.message().c_str());
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 || argv[1][0] == '-') {
    fprintf(stderr, "usage: api_bench /path/to/kubit\n");
    return 2;
  }
  signal(SIGPIPE, SIG_IGN);
  return Main(argv[1]);
}
