// Crash test: a child process writes to a Store from several threads and is
// killed with SIGKILL at a random moment; the parent reopens the database and
// checks what the store promises about a crash (store/store.h):
//
//   - every acknowledged durable write is on disk, at its revision, with its
//     value (full history is kept: compaction is off);
//   - volatile writes (under /t/hb/) may be lost, but what is on disk is a
//     cut of them: all volatile writes up to some revision F and none after,
//     with F at or after the last acknowledged durable write (a durable
//     commit writes what is held in memory);
//   - no revision is ever handed out twice, across any number of crashes: a
//     write after reopening gets a revision above every acknowledged one,
//     volatile ones included.
//
// The child (`unit_tests --child=store-crash-writer ...`) appends one line
// per acknowledged write to a record file per thread with write(2):
//   "<key> <revision> <durable|volatile> <seq> <put|del>\n"
// No fsync: SIGKILL leaves the page cache alone. Each thread owns its keys
// and writes one at a time, so after the last recorded line at most one
// more write of that thread (the one in flight at the kill) can have reached
// the store. Every attempt takes the next number of the thread's sequence
// (round * kSeqPerRound + 1, + 2, ...), which is also in the value, so the
// parent can tell exactly which write a stored value comes from.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"
#include "test/unit/child_modes.h"
#include "test/unit/temp_dir.h"

namespace {

using kubit::store::KeyValue;
using kubit::store::Options;
using kubit::store::Revision;
using kubit::store::Status;
using kubit::store::Store;

constexpr int kDurableThreads = 3;
constexpr int kThreads = kDurableThreads + 1;  // the last one writes heartbeats
constexpr int kKeysPerDurableThread = 12;
constexpr int kHeartbeatKeys = 6;
constexpr int64_t kSeqPerRound = 1000000000;
constexpr int kRounds = 8;
constexpr Revision kInf = std::numeric_limits<Revision>::max();

bool IsHeartbeatThread(int t) { return t == kDurableThreads; }

std::vector<std::string> KeysOf(int t) {
  std::vector<std::string> keys;
  if (IsHeartbeatThread(t)) {
    for (int i = 0; i < kHeartbeatKeys; i++) keys.push_back("/t/hb/n" + std::to_string(i));
  } else {
    for (int i = 0; i < kKeysPerDurableThread; i++)
      keys.push_back("/t/d/" + std::to_string(t) + "/k" + std::to_string(i));
  }
  return keys;
}

// The value written by attempt `seq` to `key`; its length varies.
std::string ValueFor(const std::string& key, int64_t seq) {
  std::string v = key + "=" + std::to_string(seq) + ";";
  v.append(static_cast<size_t>(seq % 211), 'x');
  return v;
}

// The sequence number in a value written by ValueFor, or -1.
int64_t SeqOf(const std::string& key, const std::string& value) {
  if (value.compare(0, key.size() + 1, key + "=") != 0) return -1;
  size_t semi = value.find(';', key.size() + 1);
  if (semi == std::string::npos) return -1;
  try {
    int64_t seq = std::stoll(value.substr(key.size() + 1, semi - key.size() - 1));
    return ValueFor(key, seq) == value ? seq : -1;
  } catch (...) {
    return -1;
  }
}

Options CrashOptions(const std::string& path, Revision reserve_block) {
  Options o;
  o.path = path;
  o.key_namespace = "/t/";
  o.volatile_prefixes = {"/t/hb/"};
  o.volatile_flush_interval = std::chrono::hours(1);  // only durable writes and the backlog flush
  o.revision_reserve_block = reserve_block;
  o.compact_keep_revisions = 0;  // keep all history: every durable write is checked at its revision
  return o;
}

std::string RecordPath(const std::string& dir, int round, int thread) {
  return dir + "/rec-" + std::to_string(round) + "-" + std::to_string(thread) + ".log";
}

// ---- the child ----

[[noreturn]] void ChildDie(const std::string& what) {
  std::string line = "store-crash-writer: " + what + "\n";
  ssize_t n = write(STDERR_FILENO, line.data(), line.size());
  (void)n;
  _exit(3);
}

void WriterThread(Store* st, int t, int fd, int64_t seq_base, int pause_us, uint64_t seed) {
  const std::vector<std::string> keys = KeysOf(t);
  const char* cls = IsHeartbeatThread(t) ? "volatile" : "durable";
  std::vector<Revision> mod(keys.size(), 0);  // 0: the key does not exist
  for (size_t i = 0; i < keys.size(); i++) {
    KeyValue kv;
    Status s = st->Get(keys[i], &kv);
    if (s.ok()) {
      mod[i] = kv.mod_revision;
    } else if (!s.IsNotFound()) {
      ChildDie("get " + keys[i] + ": " + s.ToString());
    }
  }
  std::mt19937_64 rng(seed);
  int64_t seq = seq_base;
  for (;;) {
    size_t i = rng() % keys.size();
    const std::string& key = keys[i];
    ++seq;
    Revision rev = 0;
    bool del = false;
    Status s;
    KeyValue kv;
    if (mod[i] == 0) {
      s = st->Create(key, ValueFor(key, seq), {}, &kv);
      rev = kv.mod_revision;
    } else if (rng() % 8 == 0) {
      del = true;
      s = st->Delete(key, mod[i], nullptr, &rev);
    } else {
      s = st->Update(key, ValueFor(key, seq), mod[i], {}, &kv);
      rev = kv.mod_revision;
    }
    if (!s.ok()) ChildDie(std::string(del ? "delete " : "write ") + key + ": " + s.ToString());
    mod[i] = del ? 0 : rev;
    std::string line = key + " " + std::to_string(rev) + " " + cls + " " + std::to_string(seq) +
                       (del ? " del\n" : " put\n");
    if (write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
      ChildDie("write record: " + std::string(strerror(errno)));
    if (pause_us > 0) usleep(static_cast<useconds_t>(rng() % pause_us));
  }
}

// args: DB_PATH RECORD_DIR ROUND RESERVE_BLOCK DURABLE_PAUSE_US READY_FD
int CrashWriterMain(int argc, char** argv) {
  if (argc != 6) ChildDie("want DB_PATH RECORD_DIR ROUND RESERVE_BLOCK DURABLE_PAUSE_US READY_FD");
  alarm(60);  // never outlive a parent that died without killing us
  std::string db = argv[0], dir = argv[1];
  int round = atoi(argv[2]);
  Revision reserve = atoll(argv[3]);
  int pause_us = atoi(argv[4]);
  int ready_fd = atoi(argv[5]);
  std::unique_ptr<Store> st;
  Status s = Store::Open(CrashOptions(db, reserve), &st);
  if (!s.ok()) ChildDie("open: " + s.ToString());
  std::vector<int> fds;
  for (int t = 0; t < kThreads; t++) {
    std::string path = RecordPath(dir, round, t);
    int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_APPEND | O_CLOEXEC, 0600);
    if (fd < 0) ChildDie("open " + path + ": " + strerror(errno));
    fds.push_back(fd);
  }
  std::random_device rd;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++)
    threads.emplace_back(WriterThread, st.get(), t, fds[t],
                         static_cast<int64_t>(round) * kSeqPerRound,
                         IsHeartbeatThread(t) ? 0 : pause_us, (uint64_t{rd()} << 32) | rd());
  char c = 'r';
  if (write(ready_fd, &c, 1) != 1) ChildDie("write ready byte");
  close(ready_fd);
  for (auto& th : threads) th.join();  // never: the writers loop until SIGKILL
  return 0;
}

kubit::test::ChildMode crash_writer_mode("store-crash-writer", CrashWriterMain);

// ---- the parent ----

struct Rec {
  std::string key;
  Revision rev = 0;
  bool is_volatile = false;
  int64_t seq = 0;
  bool del = false;
};

struct KeyState {
  bool exists = false;
  Revision rev = 0;
  int64_t seq = 0;
  bool operator==(const KeyState& o) const {
    return exists == o.exists && (!exists || (rev == o.rev && seq == o.seq));
  }
};

std::string Describe(const KeyState& s) {
  if (!s.exists) return "absent";
  return "rev " + std::to_string(s.rev) + " seq " + std::to_string(s.seq);
}

std::string ReadFile(const std::string& path) {
  FILE* f = fopen(path.c_str(), "rb");
  if (!f) return "";
  std::string out;
  char buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f)) > 0) out.append(buf, n);
  fclose(f);
  return out;
}

// Problems found in one round; the first few are kept to be reported.
struct Problems {
  size_t count = 0;
  std::string text;
  void Add(const std::string& p) {
    if (++count <= 25) text += "  " + p + "\n";
  }
};

// The complete lines of a record file; a torn last line (the kill hit the
// write(2)) counts as not recorded.
bool ParseRecords(const std::string& path, std::vector<Rec>* out, Problems* p) {
  std::string data = ReadFile(path);
  size_t pos = 0;
  for (;;) {
    size_t nl = data.find('\n', pos);
    if (nl == std::string::npos) break;
    std::istringstream in(data.substr(pos, nl - pos));
    Rec r;
    std::string cls, op, extra;
    if (!(in >> r.key >> r.rev >> cls >> r.seq >> op) || (in >> extra) ||
        (cls != "durable" && cls != "volatile") || (op != "put" && op != "del")) {
      p->Add(path + ": malformed line \"" + data.substr(pos, nl - pos) + "\"");
      return false;
    }
    r.is_volatile = cls == "volatile";
    r.del = op == "del";
    out->push_back(std::move(r));
    pos = nl + 1;
  }
  return true;
}

KeyState ReadState(Store* st, const std::string& key, Problems* p) {
  KeyValue kv;
  Status s = st->Get(key, &kv);
  KeyState ks;
  if (s.IsNotFound()) return ks;
  if (!s.ok()) {
    p->Add("get " + key + ": " + s.ToString());
    return ks;
  }
  ks.exists = true;
  ks.rev = kv.mod_revision;
  ks.seq = SeqOf(key, kv.value);
  if (ks.seq < 0) p->Add(key + " holds a value no writer wrote: \"" + kv.value.substr(0, 80) + "\"");
  return ks;
}

// What the parent knows across rounds.
struct Model {
  std::map<std::string, KeyState> known;  // every writer key, as of the last check
  std::set<Revision> handed_out;          // every acknowledged revision so far
  Revision floor = 0;                     // every revision of the next round is above this
};

// A union of half-open revision intervals [lo, hi), sorted and disjoint.
using Intervals = std::vector<std::pair<Revision, Revision>>;

Intervals Intersect(const Intervals& a, const Intervals& b) {
  Intervals out;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    Revision lo = std::max(a[i].first, b[j].first), hi = std::min(a[i].second, b[j].second);
    if (lo < hi) out.emplace_back(lo, hi);
    (a[i].second < b[j].second) ? i++ : j++;
  }
  return out;
}

std::string Show(const Intervals& iv) {
  std::string s;
  for (size_t i = 0; i < iv.size() && i < 6; i++)
    s += "[" + std::to_string(iv[i].first) + "," +
         (iv[i].second == kInf ? std::string("inf") : std::to_string(iv[i].second)) + ") ";
  if (iv.size() > 6) s += "... (" + std::to_string(iv.size()) + " intervals)";
  return s.empty() ? "none" : s;
}

struct RoundResult {
  Revision max_recorded = 0;
  Revision reopened_at = 0;  // CurrentRevision() right after reopening
  size_t durable_records = 0, volatile_records = 0;
  size_t heartbeats_lost = 0;  // heartbeat keys found behind their last acknowledged write
};

void CheckRound(Store* st, int round, const std::vector<std::vector<Rec>>& recs, Model* m,
                RoundResult* res, Problems* p) {
  const int64_t seq_base = static_cast<int64_t>(round) * kSeqPerRound;
  Revision max_durable = 0;      // the last acknowledged durable revision of this round
  Revision max_volatile = 0;
  std::vector<Revision> last_rev(kThreads, m->floor);
  std::vector<int64_t> last_seq(kThreads, seq_base);

  // 1. The records themselves: each thread's sequence, its own keys, rising
  //    revisions above anything acknowledged before, no revision twice.
  for (int t = 0; t < kThreads; t++) {
    std::vector<std::string> keys = KeysOf(t);
    std::set<std::string> own(keys.begin(), keys.end());
    for (const Rec& r : recs[t]) {
      if (r.seq != last_seq[t] + 1)
        p->Add("thread " + std::to_string(t) + ": record seq " + std::to_string(r.seq) +
               " after " + std::to_string(last_seq[t]));
      if (!own.count(r.key)) p->Add("thread " + std::to_string(t) + " recorded foreign key " + r.key);
      if (r.is_volatile != IsHeartbeatThread(t)) p->Add("wrong class recorded for " + r.key);
      if (r.rev <= last_rev[t])
        p->Add("thread " + std::to_string(t) + ": " + r.key + " acknowledged at revision " +
               std::to_string(r.rev) + ", not above " + std::to_string(last_rev[t]) +
               (last_rev[t] == m->floor ? " (the revision reached before this round)" : ""));
      if (!m->handed_out.insert(r.rev).second)
        p->Add("revision " + std::to_string(r.rev) + " acknowledged twice (last: " + r.key + ")");
      last_rev[t] = r.rev;
      last_seq[t] = r.seq;
      (r.is_volatile ? max_volatile : max_durable) =
          std::max(r.is_volatile ? max_volatile : max_durable, r.rev);
      (r.is_volatile ? res->volatile_records : res->durable_records)++;
    }
  }
  res->max_recorded = std::max(max_durable, max_volatile);

  // 2. Every acknowledged durable write, read at its own revision.
  for (int t = 0; t < kDurableThreads; t++) {
    for (const Rec& r : recs[t]) {
      KeyValue kv;
      Status s = st->Get(r.key, &kv, r.rev);
      if (r.del) {
        if (!s.IsNotFound())
          p->Add("acknowledged delete of " + r.key + " at revision " + std::to_string(r.rev) +
                 " is lost: read at that revision gives " +
                 (s.ok() ? "rev " + std::to_string(kv.mod_revision) : s.ToString()));
      } else if (!s.ok()) {
        p->Add("acknowledged write of " + r.key + " at revision " + std::to_string(r.rev) +
               " is lost: " + s.ToString());
      } else if (kv.mod_revision != r.rev || kv.value != ValueFor(r.key, r.seq)) {
        p->Add("acknowledged write of " + r.key + " at revision " + std::to_string(r.rev) +
               " (seq " + std::to_string(r.seq) + ") is lost: read at that revision gives rev " +
               std::to_string(kv.mod_revision) + " seq " +
               std::to_string(SeqOf(r.key, kv.value)));
      }
    }
  }

  // 3. The current state of the durable keys: what the records say, except
  //    for at most one key per thread, changed by the write in flight.
  Revision durable_on_disk = max_durable;  // durable commits of this round reach at least this
  Revision max_state_rev = 0;
  for (int t = 0; t < kDurableThreads; t++) {
    std::map<std::string, KeyState> want;
    for (const auto& key : KeysOf(t)) want[key] = m->known[key];
    for (const Rec& r : recs[t]) want[r.key] = r.del ? KeyState{} : KeyState{true, r.rev, r.seq};
    int in_flight = 0;
    for (auto& [key, w] : want) {
      KeyState got = ReadState(st, key, p);
      if (got.exists) max_state_rev = std::max(max_state_rev, got.rev);
      if (!(got == w)) {
        bool explained = ++in_flight == 1 &&
                         (got.exists ? got.seq == last_seq[t] + 1 && got.rev > last_rev[t]
                                     : w.exists);  // an unrecorded delete
        if (!explained)
          p->Add(key + ": stored " + Describe(got) + ", but the last acknowledged write left " +
                 Describe(w) + (in_flight > 1 ? " (a second unrecorded write of thread " +
                                                    std::to_string(t) + ")"
                                              : ""));
        if (got.exists) durable_on_disk = std::max(durable_on_disk, got.rev);
      }
      m->known[key] = got;
    }
  }

  // 4. The heartbeat keys: on disk is the state as of one cut revision F for
  //    every key at once, with F at or after the last durable commit.
  {
    const int t = kDurableThreads;
    Intervals cut = {{std::max<Revision>(durable_on_disk, 0), kInf}};
    std::string detail;
    int in_flight = 0;
    for (const auto& key : KeysOf(t)) {
      // States of the key and the revision from which each holds.
      std::vector<std::pair<KeyState, Revision>> states = {{m->known[key], 0}};
      for (const Rec& r : recs[t])
        if (r.key == key)
          states.push_back({r.del ? KeyState{} : KeyState{true, r.rev, r.seq}, r.rev});
      KeyState got = ReadState(st, key, p);
      if (got.exists) max_state_rev = std::max(max_state_rev, got.rev);
      Intervals allowed;
      for (size_t j = 0; j < states.size(); j++) {
        Revision hi = j + 1 < states.size() ? states[j + 1].second : kInf;
        if (states[j].first == got) allowed.emplace_back(states[j].second, hi);
      }
      if (got.exists && allowed.empty() && got.seq == last_seq[t] + 1 && got.rev > last_rev[t] &&
          ++in_flight == 1)
        allowed.emplace_back(got.rev, kInf);  // the unrecorded write in flight
      if (!got.exists && states.back().first.exists)
        allowed.emplace_back(last_rev[t] + 1, kInf);  // an unrecorded delete in flight
      std::sort(allowed.begin(), allowed.end());
      if (allowed.empty())
        p->Add(key + ": stored " + Describe(got) + " is no state any acknowledged write left");
      detail += "  " + key + ": stored " + Describe(got) + ", holds for F in " + Show(allowed) + "\n";
      cut = Intersect(cut, allowed);
      if (!(got == states.back().first)) res->heartbeats_lost++;
      m->known[key] = got;
    }
    if (cut.empty())
      p->Add("the heartbeat keys on disk are not the state as of one revision at or after the "
             "last durable commit (" +
             std::to_string(durable_on_disk) + "):\n" + detail);
  }

  // 5. Revisions after the crash. CurrentRevision() is that of the last row
  //    on disk, so it may be below lost heartbeat revisions (reads there are
  //    kFutureRevision until the next write); what must hold is that it
  //    covers every durable write and that the next write, of either kind,
  //    gets a revision above everything acknowledged before the crash.
  Revision current = st->CurrentRevision();
  res->reopened_at = current;
  if (current < durable_on_disk || current < max_state_rev)
    p->Add("CurrentRevision() " + std::to_string(current) + " after reopening is below the " +
           "last durable write " + std::to_string(std::max(durable_on_disk, max_state_rev)));
  KeyValue vol, dur;
  Status s = st->Create("/t/hb/probe-" + std::to_string(round), "v", {}, &vol);
  if (!s.ok()) {
    p->Add("volatile write after reopening: " + s.ToString());
    return;
  }
  s = st->Create("/t/probe/" + std::to_string(round), "d", {}, &dur);
  if (!s.ok()) {
    p->Add("durable write after reopening: " + s.ToString());
    return;
  }
  Revision above = std::max({res->max_recorded, max_state_rev, m->floor});
  if (vol.mod_revision <= above)
    p->Add("a volatile write after reopening got revision " + std::to_string(vol.mod_revision) +
           ", not above " + std::to_string(above) + ", the highest acknowledged before the crash");
  if (dur.mod_revision <= std::max(above, vol.mod_revision))
    p->Add("a durable write after reopening got revision " + std::to_string(dur.mod_revision) +
           ", not above " + std::to_string(std::max(above, vol.mod_revision)));
  for (Revision r : {vol.mod_revision, dur.mod_revision})
    if (!m->handed_out.insert(r).second)
      p->Add("revision " + std::to_string(r) + " handed out again after reopening");
  m->floor = std::max({above, vol.mod_revision, dur.mod_revision});
}

// A child process, killed and reaped if the test leaves early.
struct ChildGuard {
  pid_t pid = -1;
  ~ChildGuard() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
};

pid_t SpawnWriter(const std::vector<std::string>& args, const std::string& stderr_path,
                  int* ready_read_fd) {
  int err = open(stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  int p[2];
  if (err < 0 || pipe2(p, O_CLOEXEC) != 0) return -1;
  std::vector<std::string> all = {kubit::test::SelfPath(), "--child=store-crash-writer"};
  all.insert(all.end(), args.begin(), args.end());
  all.push_back(std::to_string(p[1]));
  std::vector<char*> argv;
  for (auto& a : all) argv.push_back(a.data());
  argv.push_back(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    dup2(err, STDERR_FILENO);
    fcntl(p[1], F_SETFD, 0);  // the ready pipe survives exec
    execv(argv[0], argv.data());
    _exit(127);
  }
  close(err);
  close(p[1]);
  *ready_read_fd = p[0];
  return pid;
}

}  // namespace

TEST_CASE("store crash: SIGKILL during concurrent writes loses no acknowledged durable write "
          "and reuses no revision") {
  kubit::test::TempDir dir("kubit-crash");
  const std::string db = dir.File("state.db");
  std::random_device rd;
  const uint32_t seed = rd();
  INFO("seed " << seed);
  std::mt19937 rng(seed);
  Model m;
  auto started = std::chrono::steady_clock::now();

  for (int round = 1; round <= kRounds; round++) {
    // Alternate the reservation block (a small one is crossed all the time)
    // and how busy the durable writers are: busy ones flush the heartbeats
    // at every commit, idle ones (up to 40 ms between writes) leave long
    // stretches of heartbeats held in memory, which the kill then loses.
    Revision reserve = round % 2 ? 1000 : 7;
    int pause_us = round == 1 || round == 2 || round == 5 ? 0 : 40000;
    int delay_ms = std::uniform_int_distribution<int>(50, 400)(rng);
    std::string err_path = dir.path() + "/child-" + std::to_string(round) + ".err";
    INFO("round " << round << ": reserve block " << reserve << ", durable pause " << pause_us
                  << " us, kill after " << delay_ms << " ms");

    ChildGuard child;
    int ready = -1;
    child.pid = SpawnWriter({db, dir.path(), std::to_string(round), std::to_string(reserve),
                             std::to_string(pause_us)},
                            err_path, &ready);
    REQUIRE(child.pid > 0);
    struct pollfd pfd = {ready, POLLIN, 0};
    char c = 0;
    bool is_ready = poll(&pfd, 1, 15000) == 1 && read(ready, &c, 1) == 1;
    close(ready);
    INFO("child stderr: " << ReadFile(err_path));
    REQUIRE_MESSAGE(is_ready, "the writer did not open the store");
    // The delay counts from the first acknowledged write of every thread, so
    // that each round has both kinds to check however slow fsync is.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    for (int t = 0; t < kThreads; t++) {
      std::error_code ec;
      while (std::filesystem::file_size(RecordPath(dir.path(), round, t), ec) == 0 || ec) {
        REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                        "writer thread " << t << " acknowledged nothing in 15 s");
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
    REQUIRE(kill(child.pid, SIGKILL) == 0);
    int status = 0;
    REQUIRE(waitpid(child.pid, &status, 0) == child.pid);
    child.pid = -1;
    REQUIRE_MESSAGE((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL),
                    "the writer stopped by itself before the kill");

    Problems p;
    std::vector<std::vector<Rec>> recs(kThreads);
    for (int t = 0; t < kThreads; t++)
      ParseRecords(RecordPath(dir.path(), round, t), &recs[t], &p);
    REQUIRE_MESSAGE(p.count == 0, p.text);

    std::unique_ptr<Store> st;
    Status s = Store::Open(CrashOptions(db, reserve), &st);
    REQUIRE_MESSAGE(s.ok(), "reopening after the crash: " << s.ToString());
    RoundResult res;
    CheckRound(st.get(), round, recs, &m, &res, &p);
    INFO("acknowledged before the kill: " << res.durable_records << " durable, "
                                          << res.volatile_records << " volatile writes (up to revision "
                                          << res.max_recorded << "); reopened at revision "
                                          << res.reopened_at << ", " << res.heartbeats_lost
                                          << " heartbeat key(s) behind their last acknowledged write");
    CHECK_MESSAGE(p.count == 0, p.count << " problem(s):\n" << p.text);
    REQUIRE(st->Close().ok());
    // Both kinds of writes must have happened, or the round tested nothing.
    CHECK(res.durable_records > 0);
    CHECK(res.volatile_records > 0);
  }
  auto took = std::chrono::steady_clock::now() - started;
  CHECK(took < std::chrono::seconds(20));
}
