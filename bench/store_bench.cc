// store_bench: the store's figures on this machine, against their targets.
//
//   make bench-store
//
// Phases (each in a fresh database in a temp dir that is removed at the end):
//   0. RSS: a re-executed child (`store_bench --rss-child DIR`) opens a fresh
//      store, writes 10,000 keys of 1 KiB and lists them; it reads VmRSS from
//      /proc/self/status, so no memory of the other phases counts.
//   1. Durable writes: Store::Create of distinct keys with 1 KiB values from 1
//      and from 64 threads, for a fixed time; writes/s, p50/p99 latency.
//   2. Baseline, interleaved with 1: raw SQLite, same pragmas (WAL,
//      synchronous=FULL), a table like the store's, one INSERT per
//      transaction from one thread. Rounds alternate raw / store-1 /
//      store-64 so that the ratios compare runs made under the same load.
//   3. List of 10,000 1 KiB values under one prefix (no limit): median ms.
//   4. Watch delivery: 100 watchers, each on its own thread in Watcher::Next;
//      one writer creates 2,000 keys at a moderate pace. Latency of an event
//      for a watcher = its receipt (Next returned) - the writer's timestamp
//      taken right before calling Create (carried in the value). This
//      includes the durable commit; the split into "write" (Create returned
//      - timestamp) and "after ack" (receipt - Create returned) is printed.
//
// The machine is shared and noisy: throughputs are medians of rounds and the
// store is judged by ratios to raw SQLite measured in the same rounds.
// Exit status: 0 when the run completed (targets missed or not), 1 on errors.
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
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
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

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
constexpr size_t kValueBytes = 1024;
constexpr int kWriteRounds = 3;
constexpr double kWriteSeconds = 3.0;  // per configuration per round
constexpr int kManyWriters = 64;
constexpr int kListKeys = 10000;
constexpr int kListRuns = 7;
constexpr int kWatchers = 100;
constexpr int kWatchEvents = 2000;
constexpr int kWatchRatePerSec = 500;  // the writer's pace (if it can keep up)
constexpr int kRssKeys = 10000;

// ---- targets ----
constexpr double kTargetWrites64 = 20000;  // durable writes/s, >=
constexpr double kRawReference = 3300;     // raw SQLite on this machine, about
constexpr double kTargetListMs = 50;       // <=
constexpr double kTargetWatchP99Ms = 5;    // <=
constexpr double kTargetRssMiB = 30;       // <=

struct BenchError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

void Check(const ks::Status& s, const std::string& what) {
  if (!s.ok()) throw BenchError(what + ": " + s.ToString());
}

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch())
      .count();
}

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

// p in [0, 100]; values in ns, result in ms.
// 1 KiB of bytes that differ between writers (nothing to gain from compression).
std::string MakeValue(size_t n, uint64_t seed) {
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

std::string Key(const char* prefix, int a, uint64_t b) {
  char buf[96];
  snprintf(buf, sizeof(buf), "%s%03d/%08" PRIu64, prefix, a, b);
  return buf;
}

std::string g_dir;
int g_db_seq = 0;

std::string NewDbPath(const std::string& name) {
  return g_dir + "/" + name + "-" + std::to_string(++g_db_seq) + ".db";
}

std::unique_ptr<ks::Store> OpenStore(const std::string& path) {
  ks::Options o;
  o.path = path;
  std::unique_ptr<ks::Store> st;
  Check(ks::Store::Open(o, &st), "open store " + path);
  return st;
}

// Collects the first error of worker threads.
struct ErrorSlot {
  std::mutex mu;
  std::string msg;
  void Set(const std::string& m) {
    std::lock_guard<std::mutex> lock(mu);
    if (msg.empty()) msg = m;
  }
  void Throw() {
    std::lock_guard<std::mutex> lock(mu);
    if (!msg.empty()) throw BenchError(msg);
  }
};

// Writes `count` keys prefix/<i> with 1 KiB values from `threads` threads.
void Populate(ks::Store* st, const char* prefix, int count, int threads) {
  ErrorSlot err;
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; t++) {
    ts.emplace_back([&, t] {
      std::string value = MakeValue(kValueBytes, 1000 + t);
      for (int i = t; i < count; i += threads) {
        char key[96];
        snprintf(key, sizeof(key), "%s%06d", prefix, i);
        ks::Status s = st->Create(key, value);
        if (!s.ok()) {
          err.Set(std::string("create ") + key + ": " + s.ToString());
          return;
        }
      }
    });
  }
  for (auto& t : ts) t.join();
  err.Throw();
}

// ---- RSS (child process) ----

int64_t ReadStatusKiB(const char* field) {
  std::ifstream f("/proc/self/status");
  std::string line;
  size_t n = strlen(field);
  while (std::getline(f, line)) {
    if (line.compare(0, n, field) == 0 && line.size() > n && line[n] == ':')
      return strtoll(line.c_str() + n + 1, nullptr, 10);
  }
  return -1;
}

double MiB(int64_t kib) { return kib / 1024.0; }

int RssChild(const std::string& dir) {
  try {
    int64_t base = ReadStatusKiB("VmRSS");
    auto st = OpenStore(dir + "/rss.db");
    int64_t opened = ReadStatusKiB("VmRSS");
    Populate(st.get(), "/bench/rss/", kRssKeys, 16);
    int64_t written = ReadStatusKiB("VmRSS");
    int64_t listed, released;
    {
      ks::ListResult r;
      Check(st->List("/bench/rss/", {}, &r), "list");
      if (r.items.size() != static_cast<size_t>(kRssKeys))
        throw BenchError("rss list returned " + std::to_string(r.items.size()) + " items");
      listed = ReadStatusKiB("VmRSS");
    }
    released = ReadStatusKiB("VmRSS");
    int64_t hwm = ReadStatusKiB("VmHWM");
    ks::Stats stats = st->GetStats();
    Check(st->Close(), "close");
    printf("RSS %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 " %" PRIu64
           "\n",
           base, opened, written, listed, released, hwm, stats.commits);
    return 0;
  } catch (const std::exception& e) {
    fprintf(stderr, "rss child: %s\n", e.what());
    return 1;
  }
}

struct RssResult {
  double base = 0, opened = 0, written = 0, listed = 0, released = 0, hwm = 0;
  uint64_t commits = 0;
};

RssResult RunRssChild() {
  int fds[2];
  if (pipe(fds) != 0) throw BenchError("pipe: " + std::string(strerror(errno)));
  pid_t pid = fork();
  if (pid < 0) throw BenchError("fork: " + std::string(strerror(errno)));
  if (pid == 0) {
    dup2(fds[1], 1);
    close(fds[0]);
    close(fds[1]);
    execl("/proc/self/exe", "store_bench", "--rss-child", g_dir.c_str(), (char*)nullptr);
    _exit(127);
  }
  close(fds[1]);
  std::string out;
  char buf[512];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof(buf))) > 0) out.append(buf, n);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    throw BenchError("rss child failed (status " + std::to_string(status) + ")");
  long long v[6];
  unsigned long long commits;
  if (sscanf(out.c_str(), "RSS %lld %lld %lld %lld %lld %lld %llu", &v[0], &v[1], &v[2], &v[3],
             &v[4], &v[5], &commits) != 7)
    throw BenchError("rss child printed: " + out);
  RssResult r;
  r.base = MiB(v[0]);
  r.opened = MiB(v[1]);
  r.written = MiB(v[2]);
  r.listed = MiB(v[3]);
  r.released = MiB(v[4]);
  r.hwm = MiB(v[5]);
  r.commits = commits;
  return r;
}

// ---- durable writes ----

struct WriteRun {
  double per_sec = 0;
  std::vector<int64_t> lat_ns;
  uint64_t ops = 0, commits = 0;
};

WriteRun RunStoreWrites(int threads, double seconds) {
  auto st = OpenStore(NewDbPath("writes" + std::to_string(threads)));
  ks::Stats before = st->GetStats();
  std::atomic<bool> go{false}, stop{false};
  std::vector<std::vector<int64_t>> lats(threads);
  ErrorSlot err;
  std::vector<std::thread> ts;
  for (int t = 0; t < threads; t++) {
    ts.emplace_back([&, t] {
      std::string value = MakeValue(kValueBytes, t);
      lats[t].reserve(1 << 16);
      go.wait(false);
      for (uint64_t i = 0; !stop.load(std::memory_order_relaxed); i++) {
        std::string key = Key("/bench/w/", t, i);
        auto t0 = Clock::now();
        ks::Status s = st->Create(key, value);
        auto t1 = Clock::now();
        if (!s.ok()) {
          err.Set("create " + key + ": " + s.ToString());
          stop = true;
          return;
        }
        lats[t].push_back((t1 - t0).count());
      }
    });
  }
  auto start = Clock::now();
  go = true;
  go.notify_all();
  std::this_thread::sleep_until(start + std::chrono::duration_cast<Clock::duration>(
                                            std::chrono::duration<double>(seconds)));
  stop = true;
  for (auto& t : ts) t.join();
  double elapsed = Seconds(Clock::now() - start);
  err.Throw();
  ks::Stats after = st->GetStats();
  Check(st->Close(), "close");
  WriteRun r;
  for (auto& l : lats) r.lat_ns.insert(r.lat_ns.end(), l.begin(), l.end());
  r.ops = r.lat_ns.size();
  r.per_sec = r.ops / elapsed;
  r.commits = after.commits - before.commits;
  return r;
}

void SqlExec(sqlite3* db, const char* sql) {
  char* msg = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &msg) != SQLITE_OK) {
    std::string m = msg ? msg : sqlite3_errmsg(db);
    sqlite3_free(msg);
    throw BenchError(std::string("sqlite: ") + sql + ": " + m);
  }
}

sqlite3_stmt* SqlPrepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK)
    throw BenchError(std::string("sqlite prepare: ") + sql + ": " + sqlite3_errmsg(db));
  return s;
}

void SqlStep(sqlite3* db, sqlite3_stmt* s, const char* what) {
  int rc = sqlite3_step(s);
  sqlite3_reset(s);
  if (rc != SQLITE_DONE) throw BenchError(std::string("sqlite ") + what + ": " + sqlite3_errmsg(db));
}

std::string SqlPragma(sqlite3* db, const char* sql) {
  sqlite3_stmt* s = SqlPrepare(db, sql);
  std::string v;
  if (sqlite3_step(s) == SQLITE_ROW) v = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  return v;
}

// Raw SQLite: `per_txn` INSERTs per transaction, one thread.
WriteRun RunRawWrites(double seconds, int per_txn, std::string* pragmas) {
  std::string path = NewDbPath("raw");
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      nullptr) != SQLITE_OK) {
    std::string m = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    throw BenchError("sqlite open " + path + ": " + m);
  }
  struct Closer {
    sqlite3* db;
    ~Closer() { sqlite3_close_v2(db); }
  } closer{db};
  SqlExec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
  if (pragmas)
    *pragmas = "journal_mode=" + SqlPragma(db, "PRAGMA journal_mode") +
               " synchronous=" + SqlPragma(db, "PRAGMA synchronous");
  SqlExec(db,
          "CREATE TABLE kv (id INTEGER PRIMARY KEY, name BLOB NOT NULL, value BLOB NOT NULL);"
          "CREATE INDEX kv_name ON kv (name);");
  sqlite3_stmt* begin = SqlPrepare(db, "BEGIN IMMEDIATE");
  sqlite3_stmt* commit = SqlPrepare(db, "COMMIT");
  sqlite3_stmt* insert = SqlPrepare(db, "INSERT INTO kv (id, name, value) VALUES (?1, ?2, ?3)");
  std::string value = MakeValue(kValueBytes, 7);
  WriteRun r;
  r.lat_ns.reserve(1 << 15);
  int64_t id = 0;
  auto start = Clock::now();
  auto deadline = start + std::chrono::duration_cast<Clock::duration>(
                              std::chrono::duration<double>(seconds));
  try {
    while (Clock::now() < deadline) {
      auto t0 = Clock::now();
      SqlStep(db, begin, "begin");
      for (int b = 0; b < per_txn; b++) {
        std::string key = Key("/bench/raw/", 0, ++id);
        sqlite3_bind_int64(insert, 1, id);
        sqlite3_bind_blob(insert, 2, key.data(), static_cast<int>(key.size()), SQLITE_TRANSIENT);
        sqlite3_bind_blob(insert, 3, value.data(), static_cast<int>(value.size()), SQLITE_STATIC);
        SqlStep(db, insert, "insert");
      }
      SqlStep(db, commit, "commit");
      auto t1 = Clock::now();
      r.lat_ns.push_back((t1 - t0).count());
      r.commits++;
    }
  } catch (...) {
    sqlite3_finalize(begin);
    sqlite3_finalize(commit);
    sqlite3_finalize(insert);
    throw;
  }
  double elapsed = Seconds(Clock::now() - start);
  sqlite3_finalize(begin);
  sqlite3_finalize(commit);
  sqlite3_finalize(insert);
  r.ops = r.commits * per_txn;
  r.per_sec = r.ops / elapsed;
  return r;
}

// ---- List ----

struct ListFigures {
  double populate_per_sec = 0;
  double first_ms = 0, median_ms = 0, min_ms = 0, max_ms = 0;
};

ListFigures RunList() {
  auto st = OpenStore(NewDbPath("list"));
  ListFigures f;
  auto t0 = Clock::now();
  Populate(st.get(), "/bench/list/", kListKeys, 32);
  f.populate_per_sec = kListKeys / Seconds(Clock::now() - t0);
  std::vector<double> ms;
  for (int i = 0; i <= kListRuns; i++) {
    ks::ListResult r;
    auto a = Clock::now();
    Check(st->List("/bench/list/", {}, &r), "list");
    double m = Seconds(Clock::now() - a) * 1e3;
    if (r.items.size() != static_cast<size_t>(kListKeys) ||
        r.items.front()->value.size() != kValueBytes)
      throw BenchError("list returned " + std::to_string(r.items.size()) + " items");
    if (i == 0)
      f.first_ms = m;  // the first one also opens a read connection
    else
      ms.push_back(m);
  }
  f.median_ms = Median(ms);
  f.min_ms = *std::min_element(ms.begin(), ms.end());
  f.max_ms = *std::max_element(ms.begin(), ms.end());
  Check(st->Close(), "close");
  return f;
}

// ---- Watch ----

struct WatchFigures {
  double p50 = 0, p99 = 0, max = 0;               // end to end, ms
  double write_p50 = 0, write_p99 = 0;            // Create call, ms
  double after_ack_p50 = 0, after_ack_p99 = 0;    // receipt - Create returned, ms
  double rate = 0;                                // events/s written
  uint64_t samples = 0, missing = 0;
};

WatchFigures RunWatch() {
  auto st = OpenStore(NewDbPath("watch"));
  const std::string prefix = "/bench/watch/";
  std::vector<std::unique_ptr<ks::Watcher>> watchers(kWatchers);
  for (auto& w : watchers) Check(st->Watch(prefix, 0, &w), "watch");

  std::vector<std::atomic<int64_t>> acked(kWatchEvents);  // Create returned, ns
  for (auto& a : acked) a = 0;
  std::vector<std::vector<std::pair<int, int64_t>>> got(kWatchers);  // (seq, receipt ns)
  std::vector<std::vector<int64_t>> lat(kWatchers);
  ErrorSlot err;
  std::atomic<bool> stop{false};
  std::atomic<int> finished{0};
  std::vector<std::thread> ts;
  for (int i = 0; i < kWatchers; i++) {
    ts.emplace_back([&, i] {
      struct Done {
        std::atomic<int>* n;
        ~Done() { ++*n; }
      } done{&finished};
      got[i].reserve(kWatchEvents);
      lat[i].reserve(kWatchEvents);
      std::vector<ks::EventPtr> evs;
      while (got[i].size() < static_cast<size_t>(kWatchEvents) && !stop) {
        evs.clear();
        ks::Status s = watchers[i]->Next(&evs, std::chrono::milliseconds(100));
        int64_t now = NowNs();
        if (!s.ok()) {
          if (!stop) err.Set("watcher " + std::to_string(i) + ": " + s.ToString());
          return;
        }
        for (const auto& ev : evs) {
          const std::string& v = ev->kv->value;
          int64_t t0;
          int32_t seq;
          memcpy(&t0, v.data(), sizeof(t0));
          memcpy(&seq, v.data() + sizeof(t0), sizeof(seq));
          got[i].emplace_back(seq, now);
          lat[i].push_back(now - t0);
        }
      }
    });
  }

  std::vector<int64_t> write_lat;
  write_lat.reserve(kWatchEvents);
  std::string value = MakeValue(kValueBytes, 99);
  auto interval = std::chrono::nanoseconds(1000000000 / kWatchRatePerSec);
  auto start = Clock::now();
  for (int i = 0; i < kWatchEvents; i++) {
    std::this_thread::sleep_until(start + i * interval);
    char key[64];
    snprintf(key, sizeof(key), "%s%06d", prefix.c_str(), i);
    int64_t t0 = NowNs();
    int32_t seq = i;
    memcpy(value.data(), &t0, sizeof(t0));
    memcpy(value.data() + sizeof(t0), &seq, sizeof(seq));
    ks::Status s = st->Create(key, value);
    int64_t t1 = NowNs();
    if (!s.ok()) {
      err.Set(std::string("create ") + key + ": " + s.ToString());
      break;
    }
    acked[i] = t1;
    write_lat.push_back(t1 - t0);
  }
  double write_secs = Seconds(Clock::now() - start);
  // Give the watchers up to 5 s to drain, then stop them.
  auto drain_deadline = Clock::now() + std::chrono::seconds(5);
  while (finished.load() < kWatchers && Clock::now() < drain_deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  stop = true;
  for (auto& t : ts) t.join();
  err.Throw();
  WatchFigures f;
  std::vector<int64_t> all_lat, after_ack;
  for (int i = 0; i < kWatchers; i++) {
    all_lat.insert(all_lat.end(), lat[i].begin(), lat[i].end());
    f.missing += kWatchEvents - got[i].size();
    for (auto [seq, rcv] : got[i])
      if (seq >= 0 && seq < kWatchEvents && acked[seq] != 0) after_ack.push_back(rcv - acked[seq]);
  }
  watchers.clear();
  Check(st->Close(), "close");
  f.samples = all_lat.size();
  f.p50 = PercentileMs(all_lat, 50);
  f.p99 = PercentileMs(all_lat, 99);
  f.max = PercentileMs(all_lat, 100);
  f.write_p50 = PercentileMs(write_lat, 50);
  f.write_p99 = PercentileMs(write_lat, 99);
  f.after_ack_p50 = PercentileMs(after_ack, 50);
  f.after_ack_p99 = PercentileMs(after_ack, 99);
  f.rate = kWatchEvents / write_secs;
  return f;
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

int Main() {
  auto t_begin = Clock::now();
  const char* tmp = getenv("TMPDIR");
  std::string tmpl = std::string(tmp && *tmp ? tmp : "/tmp") + "/kubit-store-bench-XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (!mkdtemp(buf.data())) {
    fprintf(stderr, "store_bench: mkdtemp %s: %s\n", tmpl.c_str(), strerror(errno));
    return 1;
  }
  g_dir = buf.data();
  printf("store_bench: temp dir %s (%s), %u cpus, SQLite %s\n", g_dir.c_str(),
         FsType(g_dir).c_str(), std::thread::hardware_concurrency(), sqlite3_libversion());
  fflush(stdout);
  int rc = 0;
  try {
    // 0. RSS, in a fresh child process.
    RssResult rss = RunRssChild();
    printf("\n[rss] child: start %.1f MiB, store opened %.1f, 10,000 x 1 KiB written %.1f, "
           "after full List (result held) %.1f, result freed %.1f, peak (VmHWM) %.1f MiB\n",
           rss.base, rss.opened, rss.written, rss.listed, rss.released, rss.hwm);
    fflush(stdout);

    // 1 + 2. Durable writes and the raw SQLite baseline, in alternating rounds.
    printf("\n[writes] %d rounds of %.0f s each: raw SQLite (1 thread, 1 INSERT/txn), store 1 "
           "writer, store %d writers; 1 KiB values, distinct keys\n",
           kWriteRounds, kWriteSeconds, kManyWriters);
    std::vector<double> raw_ps, s1_ps, s64_ps, r1, r64;
    std::vector<int64_t> raw_lat, s1_lat, s64_lat;
    uint64_t s1_ops = 0, s1_commits = 0, s64_ops = 0, s64_commits = 0;
    std::string pragmas;
    for (int round = 1; round <= kWriteRounds; round++) {
      WriteRun raw = RunRawWrites(kWriteSeconds, 1, round == 1 ? &pragmas : nullptr);
      WriteRun s1 = RunStoreWrites(1, kWriteSeconds);
      WriteRun s64 = RunStoreWrites(kManyWriters, kWriteSeconds);
      if (round == 1) printf("  raw SQLite pragmas: %s\n", pragmas.c_str());
      printf("  round %d: raw %8.0f/s | store 1w %8.0f/s (%.2fx raw, %.2f writes/commit) | "
             "store %dw %8.0f/s (%.2fx raw, %.1f writes/commit)\n",
             round, raw.per_sec, s1.per_sec, s1.per_sec / raw.per_sec,
             s1.commits ? double(s1.ops) / s1.commits : 0.0, kManyWriters, s64.per_sec,
             s64.per_sec / raw.per_sec, s64.commits ? double(s64.ops) / s64.commits : 0.0);
      fflush(stdout);
      raw_ps.push_back(raw.per_sec);
      s1_ps.push_back(s1.per_sec);
      s64_ps.push_back(s64.per_sec);
      r1.push_back(s1.per_sec / raw.per_sec);
      r64.push_back(s64.per_sec / raw.per_sec);
      raw_lat.insert(raw_lat.end(), raw.lat_ns.begin(), raw.lat_ns.end());
      s1_lat.insert(s1_lat.end(), s1.lat_ns.begin(), s1.lat_ns.end());
      s64_lat.insert(s64_lat.end(), s64.lat_ns.begin(), s64.lat_ns.end());
      s1_ops += s1.ops;
      s1_commits += s1.commits;
      s64_ops += s64.ops;
      s64_commits += s64.commits;
    }
    // For the analysis: what one fsync'd transaction can carry.
    WriteRun raw64 = RunRawWrites(2.0, kManyWriters, nullptr);
    double raw_med = Median(raw_ps), s1_med = Median(s1_ps), s64_med = Median(s64_ps);
    printf("  median: raw %.0f/s, store 1 writer %.0f/s, store %d writers %.0f/s\n", raw_med,
           s1_med, kManyWriters, s64_med);
    printf("  latency (all rounds): raw txn p50 %.2f p99 %.2f ms | store 1w p50 %.2f p99 %.2f ms | "
           "store %dw p50 %.2f p99 %.2f ms\n",
           PercentileMs(raw_lat, 50), PercentileMs(raw_lat, 99), PercentileMs(s1_lat, 50),
           PercentileMs(s1_lat, 99), kManyWriters, PercentileMs(s64_lat, 50),
           PercentileMs(s64_lat, 99));
    printf("  ceiling: raw SQLite, %d INSERTs per transaction, 1 thread: %.0f rows/s (%.0f txn/s)\n",
           kManyWriters, raw64.per_sec, raw64.commits / 2.0);
    fflush(stdout);

    // 3. List.
    printf("\n[list] %d keys x 1 KiB under one prefix, no limit, %d timed runs after 1 warm-up\n",
           kListKeys, kListRuns);
    ListFigures lf = RunList();
    printf("  populate (32 writers) %.0f writes/s; List first %.1f ms, median %.1f ms "
           "(min %.1f, max %.1f)\n",
           lf.populate_per_sec, lf.first_ms, lf.median_ms, lf.min_ms, lf.max_ms);
    fflush(stdout);

    // 4. Watch.
    printf("\n[watch] %d watchers (one thread each), %d events from 1 writer paced at %d/s\n",
           kWatchers, kWatchEvents, kWatchRatePerSec);
    WatchFigures wf = RunWatch();
    printf("  written at %.0f events/s; %" PRIu64 " deliveries, %" PRIu64 " missing\n", wf.rate,
           wf.samples, wf.missing);
    printf("  end to end (timestamp before Create -> Next returned): p50 %.2f ms, p99 %.2f ms, "
           "max %.2f ms\n",
           wf.p50, wf.p99, wf.max);
    printf("    of which Create call: p50 %.2f p99 %.2f ms; after Create returned: p50 %.2f p99 "
           "%.2f ms\n",
           wf.write_p50, wf.write_p99, wf.after_ack_p50, wf.after_ack_p99);
    if (wf.missing) throw BenchError(std::to_string(wf.missing) + " watch deliveries missing");

    // Summary.
    AddRow("store writes/s, 1 writer (median)", Fmt("%.0f", s1_med));
    AddRow("store writes/s, 64 writers (median)", Fmt("%.0f", s64_med),
           Fmt(">= %.0f", kTargetWrites64), PassMiss(s64_med >= kTargetWrites64));
    AddRow("raw SQLite writes/s, 1 INSERT/txn (median)", Fmt("%.0f", raw_med),
           Fmt("~%.0f (ref)", kRawReference));
    AddRow("ratio store64/raw (median of rounds)", Fmt("%.2f", Median(r64)));
    AddRow("ratio store1/raw (median of rounds)", Fmt("%.2f", Median(r1)));
    AddRow("store writes per commit, 1 / 64 writers",
           Fmt("%.2f", s1_commits ? double(s1_ops) / s1_commits : 0) + " / " +
               Fmt("%.1f", s64_commits ? double(s64_ops) / s64_commits : 0));
    AddRow("write latency 1 writer p50 / p99 (ms)",
           Fmt("%.2f", PercentileMs(s1_lat, 50)) + " / " + Fmt("%.2f", PercentileMs(s1_lat, 99)));
    AddRow("write latency 64 writers p50 / p99 (ms)",
           Fmt("%.2f", PercentileMs(s64_lat, 50)) + " / " + Fmt("%.2f", PercentileMs(s64_lat, 99)));
    AddRow("raw txn latency p50 / p99 (ms)",
           Fmt("%.2f", PercentileMs(raw_lat, 50)) + " / " + Fmt("%.2f", PercentileMs(raw_lat, 99)));
    AddRow("raw rows/s, 64 INSERTs/txn (ceiling)", Fmt("%.0f", raw64.per_sec));
    AddRow("List 10,000 x 1 KiB, median (ms)", Fmt("%.1f", lf.median_ms),
           Fmt("<= %.0f", kTargetListMs), PassMiss(lf.median_ms <= kTargetListMs));
    AddRow("watch latency, 100 watchers p50 (ms)", Fmt("%.2f", wf.p50));
    AddRow("watch latency, 100 watchers p99 (ms)", Fmt("%.2f", wf.p99),
           Fmt("<= %.0f", kTargetWatchP99Ms), PassMiss(wf.p99 <= kTargetWatchP99Ms));
    AddRow("RSS, 10,000 keys written (MiB)", Fmt("%.1f", rss.written),
           Fmt("<= %.0f", kTargetRssMiB), PassMiss(rss.written <= kTargetRssMiB));
    AddRow("RSS, after full List, result held (MiB)", Fmt("%.1f", rss.listed),
           Fmt("<= %.0f", kTargetRssMiB), PassMiss(rss.listed <= kTargetRssMiB));
    AddRow("RSS peak VmHWM (MiB)", Fmt("%.1f", rss.hwm));

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
  } catch (const std::exception& e) {
    fflush(stdout);
    fprintf(stderr, "store_bench: ERROR: %s\n", e.what());
    rc = 1;
  }
  std::error_code ec;
  std::filesystem::remove_all(g_dir, ec);
  if (ec) fprintf(stderr, "store_bench: cannot remove %s: %s\n", g_dir.c_str(), ec.message().c_str());
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "--rss-child") == 0) return RssChild(argv[2]);
  if (argc != 1) {
    fprintf(stderr, "usage: store_bench\n");
    return 2;
  }
  return Main();
}
