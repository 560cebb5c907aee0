// Unit tests of kubit::store::Store against the contract in store/store.h.
//
// Every test works in its own temporary directory. Waits for background work
// (TTL sweeps, automatic compaction, watch delivery) poll with a generous
// upper bound that only guards against a hang; nothing asserts on timing.
#include <doctest/doctest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "store/store.h"
#include "test/unit/temp_dir.h"

namespace {

using namespace kubit::store;
using namespace std::chrono_literals;
using kubit::test::TempDir;
using Code = Status::Code;
using Type = Event::Type;

#define REQUIRE_OK(expr)                                     \
  do {                                                       \
    Status s_ = (expr);                                      \
    REQUIRE_MESSAGE(s_.ok(), #expr " -> " << s_.ToString()); \
  } while (0)
#define CHECK_OK(expr)                                     \
  do {                                                     \
    Status s_ = (expr);                                    \
    CHECK_MESSAGE(s_.ok(), #expr " -> " << s_.ToString()); \
  } while (0)
#define CHECK_CODE(expr, c)                                                             \
  do {                                                                                  \
    Status s_ = (expr);                                                                 \
    CHECK_MESSAGE(s_.code() == Code::c, #expr " -> " << s_.ToString() << ", want " #c); \
  } while (0)
#define REQUIRE_CODE(expr, c)                                                             \
  do {                                                                                    \
    Status s_ = (expr);                                                                   \
    REQUIRE_MESSAGE(s_.code() == Code::c, #expr " -> " << s_.ToString() << ", want " #c); \
  } while (0)

// An upper bound for waiting on background work; only a broken store hits it.
constexpr auto kPatience = 10s;

Options BaseOptions(const TempDir& dir, const std::string& name = "state.db") {
  Options o;
  o.path = dir.File(name);
  return o;
}

std::unique_ptr<Store> OpenStore(const Options& o) {
  std::unique_ptr<Store> st;
  Status s = Store::Open(o, &st);
  REQUIRE_MESSAGE(s.ok(), "Open " << o.path << " -> " << s.ToString());
  REQUIRE(st);
  return st;
}

KeyValue MustGet(Store* st, const std::string& key, Revision rev = 0) {
  KeyValue kv;
  Status s = st->Get(key, &kv, rev);
  REQUIRE_MESSAGE(s.ok(), "Get " << key << " at " << rev << " -> " << s.ToString());
  return kv;
}

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Polls `cond` until it holds or kPatience has passed.
template <class F>
bool Eventually(F cond, std::chrono::milliseconds limit = kPatience) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (!cond()) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& e : v) s += e + "\n";
  return s;
}

// "key=value" for every item, in order.
std::string Items(const std::vector<KeyValuePtr>& items) {
  std::vector<std::string> v;
  for (const auto& kv : items) v.push_back(kv->key + "=" + kv->value);
  return Join(v);
}

std::string ListAll(Store* st, const std::string& prefix, Revision rev = 0,
                    Revision* at = nullptr) {
  ListOptions lo;
  lo.revision = rev;
  ListResult r;
  Status s = st->List(prefix, lo, &r);
  REQUIRE_MESSAGE(s.ok(), "List " << prefix << " at " << rev << " -> " << s.ToString());
  CHECK(r.continue_token.empty());
  if (at) *at = r.revision;
  return Items(r.items);
}

const char* TypeName(Type t) {
  switch (t) {
    case Type::kAdded: return "ADDED";
    case Type::kModified: return "MODIFIED";
    case Type::kDeleted: return "DELETED";
  }
  return "?";
}

std::string Describe(Type t, const KeyValue& kv, const KeyValue* prev) {
  std::string s = std::string(TypeName(t)) + " " + kv.key + "=" + kv.value + " @" +
                  std::to_string(kv.mod_revision) + " c" + std::to_string(kv.create_revision);
  if (prev)
    s += " prev=" + prev->value + "@" + std::to_string(prev->mod_revision) + " c" +
         std::to_string(prev->create_revision);
  return s;
}

std::string Describe(const EventPtr& ev) { return Describe(ev->type, *ev->kv, ev->prev.get()); }

std::string Describe(const std::vector<EventPtr>& evs) {
  std::vector<std::string> v;
  for (const auto& ev : evs) v.push_back(Describe(ev));
  return Join(v);
}

// "TYPE key@revision" per event: for events whose values are too big to print.
std::string Brief(const std::vector<EventPtr>& evs) {
  std::vector<std::string> v;
  for (const auto& ev : evs)
    v.push_back(std::string(TypeName(ev->type)) + " " + ev->kv->key + "@" +
                std::to_string(ev->revision()));
  return Join(v);
}

// Reads from `w` until `n` events have arrived (or kPatience has passed).
std::vector<EventPtr> WaitEvents(Watcher* w, size_t n) {
  std::vector<EventPtr> out;
  auto end = std::chrono::steady_clock::now() + kPatience;
  while (out.size() < n && std::chrono::steady_clock::now() < end) {
    Status s = w->Next(&out, 100ms);
    REQUIRE_MESSAGE(s.ok(), "Next -> " << s.ToString());
  }
  return out;
}

// Whatever `w` has right now (writes publish before they return).
std::vector<EventPtr> Drain(Watcher* w) {
  std::vector<EventPtr> out;
  for (;;) {
    size_t before = out.size();
    Status s = w->Next(&out, 0ms);
    REQUIRE_MESSAGE(s.ok(), "Next -> " << s.ToString());
    if (out.size() == before) return out;
  }
}

void CheckIncreasing(const std::vector<EventPtr>& evs) {
  for (size_t i = 1; i < evs.size(); i++)
    CHECK_MESSAGE(evs[i - 1]->revision() < evs[i]->revision(),
                  "event " << i << " out of order:\n" + Describe(evs));
}

// Performs writes and records the events a watcher must see for them, and
// the whole state at every revision.
struct Recorder {
  Store* st;
  struct Expected {
    Revision rev;
    std::string key, text;
  };
  std::vector<Expected> events;
  std::map<std::string, KeyValue> live;
  std::map<Revision, std::map<std::string, KeyValue>> snapshots;

  void Record(Type t, const KeyValue& kv, const KeyValue* prev) {
    events.push_back({kv.mod_revision, kv.key, Describe(t, kv, prev)});
    if (t == Type::kDeleted)
      live.erase(kv.key);
    else
      live[kv.key] = kv;
    snapshots[kv.mod_revision] = live;
  }
  KeyValue Create(const std::string& key, const std::string& value) {
    KeyValue kv;
    REQUIRE_OK(st->Create(key, value, {}, &kv));
    Record(Type::kAdded, kv, nullptr);
    return kv;
  }
  KeyValue Update(const std::string& key, const std::string& value) {
    REQUIRE(live.count(key));
    KeyValue prev = live[key];
    KeyValue kv;
    REQUIRE_OK(st->Update(key, value, prev.mod_revision, {}, &kv));
    Record(Type::kModified, kv, &prev);
    return kv;
  }
  Revision Delete(const std::string& key) {
    REQUIRE(live.count(key));
    KeyValue old;
    Revision rev = 0;
    REQUIRE_OK(st->Delete(key, 0, &old, &rev));
    KeyValue d;
    d.key = key;
    d.create_revision = old.create_revision;
    d.mod_revision = rev;
    Record(Type::kDeleted, d, &old);
    return rev;
  }
  // The events for keys under `prefix` at or after `from`.
  std::string Expect(const std::string& prefix, Revision from) const {
    std::vector<std::string> v;
    for (const auto& e : events)
      if (e.rev >= from && e.key.compare(0, prefix.size(), prefix) == 0) v.push_back(e.text);
    return Join(v);
  }
  size_t Count(const std::string& prefix, Revision from) const {
    size_t n = 0;
    for (const auto& e : events)
      if (e.rev >= from && e.key.compare(0, prefix.size(), prefix) == 0) n++;
    return n;
  }
  // The state at `rev` as Items() prints it.
  std::string StateAt(Revision rev, const std::string& prefix = "/") const {
    auto it = snapshots.upper_bound(rev);
    if (it == snapshots.begin()) return "";
    --it;
    std::vector<std::string> v;
    for (const auto& [k, kv] : it->second)
      if (k.compare(0, prefix.size(), prefix) == 0) v.push_back(k + "=" + kv.value);
    return Join(v);
  }
};

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& data) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f.write(data.data(), static_cast<std::streamsize>(data.size()));
  REQUIRE(f.good());
}

std::string RandomBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s(n, '\0');
  for (auto& c : s) c = static_cast<char>(rng() & 0xff);
  return s;
}

bool FileExists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

}  // namespace

TEST_SUITE_BEGIN("store");

// ---- basic operations ----

TEST_CASE("store: Create then Get returns the value and its revisions") {
  TempDir dir;
  auto st = OpenStore(BaseOptions(dir));
  CHECK(st->CurrentRevision() == 0);

  KeyValue kv;
  REQUIRE_OK(st->Create("/a", "one", {}, &kv));
  CHECK(kv.key == "/a");
  CHECK(kv.value == "one");
  CHECK(kv.create_revision > 0);
  CHECK(kv.mod_revision == kv.create_revision);
  CHECK(kv.expires_at == 0);
  CHECK(st->CurrentRevision() == kv.mod_revision);

  KeyValue got = MustGet(st.get(), "/a");
  CHECK(got.key == "/a");
  CHECK(got.value == "one");
  CHECK(got.create_revision == kv.create_revision);
  CHECK(got.mod_revision == kv.mod_revision);
  CHECK(got.expires_at == 0);
  CHECK_OK(st->Get("/a", nullptr));  // existence check only

  // Values are bytes: NULs and high bytes survive, and empty is a value.
  std::string bin("x\0y\xff\x01", 5);
  KeyValue b;
  REQUIRE_OK(st->Create("/bin", bin, {}, &b));
  CHECK(b.mod_revision == kv.mod_revision + 1);
  CHECK(MustGet(st.get(), "/bin").value == bin);
  REQUIRE_OK(st->Create("/empty", ""));
  CHECK(MustGet(st.get(), "/empty").value.empty());

  // Keys are bytes too.
  std::string hi = std::string("/k\xff\xfe", 4);
  REQUIRE_OK(st->Create(hi, "hi"));
  CHECK(MustGet(st.get(), hi).value == "hi");
}

TEST_CASE("store: Get of a missing key is NotFound") {
  TempDir dir;
  auto st = OpenStore(BaseOptions(dir));
  KeyValue kv;
  CHECK_CODE(st->Get("/missing", &kv), kNotFound);
  REQUIRE_OK(st->Create("/present", "v"));
  CHECK_CODE(st->Get("/missing", &kv), kNotFound);
  CHECK_CODE(st->Get("/presen", &kv), kNotFound);  // a prefix of a key is not the key
  CHECK_CODE(st->Get("/present/", &kv), kNotFound);
}

TEST_CASE("store: Create of an existing key fails with AlreadyExists") {
  TempDir dir;
  auto st = OpenStore(BaseOptions(dir));
  KeyValue first;
  REQUIRE_OK(st->Create("/a", "v1", {}, &first));
  Revision before = st->CurrentRevision();

  KeyValue out;
  CHECK_CODE(st->Create("/a", "v2", {}, &out), kAlreadyExists);
  CHECK(st->CurrentRevision() == before);
  KeyValue got = MustGet(st.get(), "/a");
  CHECK(got.value == "v1");
  CHECK(got.mod_revision == first.mod_revision);

  // Once deleted the key can be created again, as a new key.
  REQUIRE_OK(st->Delete("/a"));
  KeyValue again;
  REQUIRE_OK(st->Create("/a", "v3", {}, &again));
  CHECK(again.create_revision == again.mod_revision);
  CHECK(again.create_revision > first.create_revision);
  CHECK(MustGet(st.get(), "/a").value == "v3");
}

TEST_CASE("store: Update with compare-and-swap on the mod revision") {
  TempDir dir;
  auto st = OpenStore(BaseOptions(dir));
  KeyValue c;
  REQUIRE_OK(st->Create("/k", "v1", {}, &c));

  SUBCASE("expected 0 is unconditional") {
    KeyValue u;
    REQUIRE_OK(st->Update("/k", "v2", 0, {}, &u));
    CHECK(u.key == "/k");
    CHECK(u.value == "v2");
    CHECK(u.create_revision == c.create_revision);
    CHECK(u.mod_revision == c.mod_revision + 1);
    KeyValue got = MustGet(st.get(), "/k");
    CHECK(got.value == "v2");
    CHECK(got.create_revision == c.create_revision);
    CHECK(got.mod_revision == u.mod_revision);
  }

  SUBCASE("the current mod revision succeeds, a stale one conflicts") {
    KeyValue u1;
    REQUIRE_OK(st->Update("/k", "v2", c.mod_revision, {}, &u1));
    Revision before = st->CurrentRevision();
    KeyValue out;
    CHECK_CODE(st->Update("/k", "v3", c.mod_revision, {}, &out), kConflict);       // stale
    CHECK_CODE(st->Update("/k", "v3", u1.mod_revision + 5, {}, &out), kConflict);  // future
    CHECK(st->CurrentRevision() == before);
    CHECK(MustGet(st.get(), "/k").value == "v2");

    KeyValue u2;
    REQUIRE_OK(st->Update("/k", "v3", u1.mod_revision, {}, &u2));
    CHECK(u2.mod_revision == u1.mod_revision + 1);
    CHECK(u2.create_revision == c.create_revision);
    CHECK(MustGet(st.get(), "/k").value == "v3");
  }

  SUBCASE("a missing key is NotFound, conditional or not") {
    Revision before = st->CurrentRevision();
    CHECK_CODE(st->Update("/missing", "x", 0), kNotFound);
    CHECK_CODE(st->Update("/missing", "x", c.mod_revision), kNotFound);
    REQUIRE_OK(st->Delete("/k"));
    CHECK_CODE(st->Update("/k", "x", 0), kNotFound);
    CHECK(st->CurrentRevision() == before + 1);  // only the delete
    CHECK_CODE(st->Get("/k", nullptr), kNotFound);
  }
}

TEST_CASE("store: Delete returns the deleted value, optionally with compare-and-swap") {
  TempDir dir;
  auto st = OpenStore(BaseOptions(dir));
  KeyValue c, u;
  REQUIRE_OK(st->Create("/d", "v1", {}, &c));
  REQUIRE_OK(st->Update("/d", "v2", 0, {}, &u));

  Revision before = st->CurrentRevision();
  CHECK_CODE(st->Delete("/d", c.mod_revision), kConflict);
  CHECK(st->CurrentRevision() == before);
  CHECK(MustGet(st.get(), "/d").value == "v2");

  KeyValue deleted;
  Revision drev = 0;
  REQUIRE_OK(st->Delete("/d", u.mod_revision, &deleted, &drev));
  CHECK(deleted.key == "/d");
  CHECK(deleted.value == "v2");
  CHECK(deleted.create_revision == c.create_revision);
  CHECK(deleted.mod_revision == u.mod_revision);  // that of the value, not of the delete
  CHECK(drev == u.mod_revision + 1);
  CHECK(st->CurrentRevision() == drev);

  CHECK_CODE(st->Get("/d", nullptr), kNotFound);
  CHECK_CODE(st->Delete("/d"), kNotFound);
  CHECK_CODE(st->Delete("/d", drev), kNotFound);
  CHECK_CODE(st->Delete("/never"), kNotFound);
  CHECK(st->CurrentRevision() == drev);

  // Unconditional, without asking for the value.
  REQUIRE_OK(st->Create("/e", "x"));
  REQUIRE_OK(st->Delete("/e"));
  CHECK_CODE(st->Get("/e", nullptr), kNotFound);
}

TEST_CASE("store: revisions strictly increase across operations and across close/reopen") {
  TempDir dir;
  Options o = BaseOptions(dir);
  Revision last = 0;
  std::map<std::string, KeyValue> expect;
  {
    auto st = OpenStore(o);
    auto bump = [&](Revision r) {
      CHECK(r == last + 1);  // the next value of the counter
      CHECK(st->CurrentRevision() == r);
      last = r;
    };
    KeyValue kv;
    for (int i = 0; i < 5; i++) {
      std::string k = "/r/" + std::to_string(i);
      REQUIRE_OK(st->Create(k, "c", {}, &kv));
      bump(kv.mod_revision);
    }
    REQUIRE_OK(st->Update("/r/1", "u", 0, {}, &kv));
    bump(kv.mod_revision);
    Revision dr = 0;
    REQUIRE_OK(st->Delete("/r/2", 0, nullptr, &dr));
    bump(dr);
    // Failed operations do not move the counter.
    CHECK_CODE(st->Create("/r/0", "x"), kAlreadyExists);
    CHECK_CODE(st->Update("/r/0", "x", 1000), kConflict);
    CHECK_CODE(st->Delete("/r/2"), kNotFound);
    CHECK(st->CurrentRevision() == last);
    REQUIRE_OK(st->Update("/r/3", "u", 0, {}, &kv));
    bump(kv.mod_revision);

    Stats stats = st->GetStats();
    CHECK(stats.current_revision == last);
    CHECK(stats.writes == 8);
    CHECK(stats.compact_revision == 0);
    for (int i : {0, 1, 3, 4}) {
      std::string k = "/r/" + std::to_string(i);
      expect[k] = MustGet(st.get(), k);
    }
    REQUIRE_OK(st->Close());
  }
  for (int round = 0; round < 2; round++) {
    CAPTURE(round);
    auto st = OpenStore(o);
    CHECK(st->CurrentRevision() == last);
    for (const auto& [k, kv] : expect) {
      KeyValue got = MustGet(st.get(), k);
      CHECK(got.value == kv.value);
      CHECK(got.create_revision == kv.create_revision);
      CHECK(got.mod_revision == kv.mod_revision);
    }
    CHECK_CODE(st->Get("/r/2", nullptr), kNotFound);
    KeyValue kv;
    REQUIRE_OK(st->Create("/r/new" + std::to_string(round), "n", {}, &kv));
    CHECK(kv.mod_revision > last);
    expect["/r/new" + std::to_string(round)] = kv;
    last = kv.mod_revision;
  }
}

TEST_CASE("store: revisions go on after a compaction that removed the latest rows") {
  TempDir dir;
  Options o = BaseOptions(dir);
  Revision last = 0;
  {
    auto st = OpenStore(o);
    REQUIRE_OK(st->Create("/a", "1"));
    REQUIRE_OK(st->Create("/b", "1"));
    REQUIRE_OK(st->Delete("/b"));
    REQUIRE_OK(st->Delete("/a", 0, nullptr, &last));
    REQUIRE_OK(st->Compact(last));  // removes every row
    CHECK(ListAll(st.get(), "/", last) == "");
  }
  auto st = OpenStore(o);
  CHECK(st->CurrentRevision() == last);
  CHECK(st->CompactRevision() == last);
  KeyValue kv;
  REQUIRE_OK(st->Create("/a", "2", {}, &kv));
  CHECK(kv.mod_revision > last);
  CHECK(kv.create_revision == kv.mod_revision);
}

// ---- reads at a revision ----

TEST_CASE("store: Get and List at a past revision see a consistent snapshot") {
  TempDir dir;
  auto st = OpenStore(BaseOptions(dir));
  Recorder rec{st.get()};
  Revision r1 = rec.Create("/p/a", "a1").mod_revision;
  Revision r2 = rec.Create("/p/b", "b1").mod_revision;
  Revision r3 = rec.Update("/p/a", "a2").mod_revision;
  Revision r4 = rec.Delete("/p/b");
  Revision r5 = rec.Create("/p/c", "c1").mod_revision;
  rec.Create("/q/x", "x1");  // another prefix
  Revision cur = st->CurrentRevision();

  KeyValue kv = MustGet(st.get(), "/p/a", r1);
  CHECK(kv.value == "a1");
  CHECK(kv.mod_revision == r1);
  CHECK(MustGet(st.get(), "/p/a", r2).value == "a1");
  kv = MustGet(st.get(), "/p/a", r3);
  CHECK(kv.value == "a2");
  CHECK(kv.mod_revision == r3);
  CHECK(kv.create_revision == r1);
  CHECK(MustGet(st.get(), "/p/b", r3).value == "b1");
  CHECK_CODE(st->Get("/p/b", nullptr, r4), kNotFound);
  CHECK_CODE(st->Get("/p/b", nullptr, r1), kNotFound);  // not yet created
  CHECK_CODE(st->Get("/p/c", nullptr, r4), kNotFound);
  CHECK(MustGet(st.get(), "/p/c", r5).value == "c1");

  for (Revision r = r1; r <= cur; r++) {
    CAPTURE(r);
    Revision at = 0;
    CHECK(ListAll(st.get(), "/p/", r, &at) == rec.StateAt(r, "/p/"));
    CHECK(at == r);
    CHECK(ListAll(st.get(), "/", r) == rec.StateAt(r));
  }
  Revision at = 0;
  CHECK(ListAll(st.get(), "/p/", 0, &at) == "/p/a=a2\n/p/c=c1\n");
  CHECK(at == cur);
}

TEST_CASE("store: reads ahead of the current revision fail with FutureRevision") {
  TempDir dir;
  auto st = OpenStore(BaseOptions(dir));
  REQUIRE_OK(st->Create("/f", "v"));
  Revision cur = st->CurrentRevision();
  KeyValue kv;
  CHECK_CODE(st->Get("/f", &kv, cur + 1), kFutureRevision);
  CHECK_CODE(st->Get("/f", &kv, cur + 1000), kFutureRevision);
  ListOptions lo;
  lo.revision = cur + 1;
  ListResult r;
  CHECK_CODE(st->List("/", lo, &r), kFutureRevision);
  CHECK_OK(st->Get("/f", &kv, cur));
  CHECK_CODE(st->Compact(cur + 1), kFutureRevision);
  CHECK(st->CompactRevision() == 0);
}

TEST_CASE("store: reads below the compacted revision fail with Gone") {
  TempDir dir;
  Options o = BaseOptions(dir);
  auto st = OpenStore(o);
  Recorder rec{st.get()};
  Revision a1 = rec.Create("/g/a", "1").mod_revision;
  rec.Update("/g/a", "2");
  Revision b1 = rec.Create("/g/b", "1").mod_revision;
  Revision a3 = rec.Update("/g/a", "3").mod_revision;
  Revision bdel = rec.Delete("/g/b");
  rec.Create("/g/c", "1");
  Revision cur = st->CurrentRevision();

  REQUIRE_OK(st->Compact(a3));
  CHECK(st->CompactRevision() == a3);
  CHECK(st->GetStats().compact_revision == a3);
  CHECK(st->CurrentRevision() == cur);

  auto check = [&] {
    KeyValue kv;
    for (Revision r = a1; r < a3; r++) {
      CAPTURE(r);
      CHECK_CODE(st->Get("/g/a", &kv, r), kGone);
      CHECK_CODE(st->Get("/g/missing", &kv, r), kGone);
      ListOptions lo;
      lo.revision = r;
      ListResult lr;
      CHECK_CODE(st->List("/g/", lo, &lr), kGone);
    }
    // The compacted revision itself and everything after stay readable.
    kv = MustGet(st.get(), "/g/a", a3);
    CHECK(kv.value == "3");
    CHECK(kv.mod_revision == a3);
    kv = MustGet(st.get(), "/g/b", a3);
    CHECK(kv.value == "1");
    CHECK(kv.mod_revision == b1);
    CHECK(ListAll(st.get(), "/g/", a3) == "/g/a=3\n/g/b=1\n");
    CHECK_CODE(st->Get("/g/b", &kv, bdel), kNotFound);
    CHECK(ListAll(st.get(), "/g/", bdel) == "/g/a=3\n");
    CHECK(ListAll(st.get(), "/g/") == "/g/a=3\n/g/c=1\n");

    std::unique_ptr<Watcher> w;
    CHECK_CODE(st->Watch("/g/", a3, &w), kGone);
    CHECK_CODE(st->Watch("/g/", a1, &w), kGone);
    REQUIRE_OK(st->Watch("/g/", a3 + 1, &w));
    auto evs = WaitEvents(w.get(), rec.Count("/g/", a3 + 1));
    CHECK(Describe(evs) == rec.Expect("/g/", a3 + 1));
  };
  check();

  // Compacting below the compacted revision changes nothing.
  CHECK_OK(st->Compact(a1));
  CHECK(st->CompactRevision() == a3);

  // The compaction is durable.
  st.reset();
  st = OpenStore(o);
  CHECK(st->CompactRevision() == a3);
  CHECK(st->CurrentRevision() == cur);
  check();
}

// ---- List, pages, Count ----

TEST_CASE("store: List returns the live keys under a prefix in key order") {
  TempDir dir;
  auto st = OpenStore(BaseOptions(dir));
  for (const char* k : {"/a/2", "/a/10", "/ab/1", "/a/1", "/b/1", "/a", "/a/3"})
    REQUIRE_OK(st->Create(k, std::string("v") + k));
  REQUIRE_OK(st->Delete("/a/3"));
  Revision cur = st->CurrentRevision();

  Revision at = 0;
  CHECK(ListAll(st.get(), "/a/", 0, &at) == "/a/1=v/a/1\n/a/10=v/a/10\n/a/2=v/a/2\n");
  CHECK(at == cur);
  CHECK(ListAll(st.get(), "/a") == "/a=v/a\n/a/1=v/a/1\n/a/10=v/a/10\n/a/2=v/a/2\n/ab/1=v/ab/1\n");
  CHECK(ListAll(st.get(), "/a/1") == "/a/1=v/a/1\n/a/10=v/a/10\n");
  CHECK(ListAll(st.get(), "/c/", 0, &at) == "");
  CHECK(at == cur);
  CHECK(ListAll(st.get(), "/") ==
        "/a=v/a\n/a/1=v/a/1\n/a/10=v/a/10\n/a/2=v/a/2\n/ab/1=v/ab/1\n/b/1=v/b/1\n");

  // The items carry their revisions.
  ListResult r;
  REQUIRE_OK(st->List("/b/", {}, &r));
  REQUIRE(r.items.size() == 1);
  KeyValue kv = MustGet(st.get(), "/b/1");
  CHECK(r.items[0]->create_revision == kv.create_revision);
  CHECK(r.items[0]->mod_revision == kv.mod_revision);
}

TEST_CASE("store: keys with 0xff bytes list under the right prefix") {
  TempDir dir;
  auto st = OpenStore(BaseOptions(dir));
  std::string p = std::string("/x\xff", 3);
  REQUIRE_OK(st->Create(p, "1"));
  REQUIRE_OK(st->Create(p + "\xff", "2"));
  REQUIRE_OK(st->Create(p + "\xff\xff" + "z", "3"));
  REQUIRE_OK(st->Create("/y", "4"));
  REQUIRE_OK(st->Create("/x", "5"));
  int64_t n = 0;
  REQUIRE_OK(st->Count(p, &n));
  CHECK(n == 3);
  ListResult r;
  REQUIRE_OK(st->List(p, {}, &r));
  CHECK(r.items.size() == 3);
  REQUIRE_OK(st->List(p + "\xff", {}, &r));
  CHECK(r.items.size() == 2);
}

TEST_CASE("store: List pages with limit and continue token stay at the first page's revision") {
  TempDir dir;
  auto st = OpenStore(BaseOptions(dir));
  Recorder rec{st.get()};
  for (int i = 0; i < 10; i++) rec.Create("/l/0" + std::to_string(i), "v" + std::to_string(i));
  rec.Create("/m/0", "other prefix");
  Revision snap = st->CurrentRevision();
  const std::string want = rec.StateAt(snap, "/l/");

  ListOptions lo;
  lo.limit = 3;
  ListResult page;
  REQUIRE_OK(st->List("/l/", lo, &page));
  CHECK(page.revision == snap);
  CHECK(Items(page.items) == "/l/00=v0\n/l/01=v1\n/l/02=v2\n");
  REQUIRE_FALSE(page.continue_token.empty());
  std::vector<KeyValuePtr> all = page.items;

  // Writes between pages: a new key in a later page, an update and a delete
  // of keys in later pages, a key after every existing one, one before.
  rec.Create("/l/03a", "new");
  rec.Update("/l/05", "changed");
  rec.Delete("/l/07");
  rec.Create("/l/10", "new");
  rec.Create("/l/000", "new");
  rec.Update("/l/01", "changed");

  int pages = 1;
  while (!page.continue_token.empty()) {
    REQUIRE(pages < 10);
    ListOptions next;
    next.limit = 3;
    next.continue_token = page.continue_token;
    REQUIRE_OK(st->List("/l/", next, &page));
    CHECK(page.revision == snap);
    CHECK(page.items.size() <= 3);
    all.insert(all.end(), page.items.begin(), page.items.end());
    pages++;
    if (pages == 2) {
      CHECK(Items(page.items) == "/l/03=v3\n/l/04=v4\n/l/05=v5\n");
      REQUIRE_OK(st->Update("/l/08", "changed later", 0));
      REQUIRE_OK(st->Create("/l/09a", "new later"));
    }
  }
  CHECK(pages == 4);
  CHECK(Items(all) == want);
  for (const auto& kv : all) {
    CAPTURE(kv->key);
    CHECK(kv->mod_revision <= snap);
  }

  // A fresh list sees the new state.
  CHECK(ListAll(st.get(), "/l/") ==
        "/l/00=v0\n/l/000=new\n/l/01=changed\n/l/02=v2\n/l/03=v3\n/l/03a=new\n/l/04=v4\n"
        "/l/05=changed\n/l/06=v6\n/l/08=changed later\n/l/09=v9\n/l/09a=new later\n/l/10=new\n");

  // A limit that covers everything leaves no token.
  ListOptions big;
  big.limit = 13;
  REQUIRE_OK(st->List("/l/", big, &page));
  CHECK(page.items.size() == 13);
  CHECK(page.continue_token.empty());
  big.limit = 12;
  REQUIRE_OK(st->List("/l/", big, &page));
  CHECK(page.items.size() == 12);
  CHECK_FALSE(page.continue_token.empty());
}

TEST_CASE("store: List with a past revision and a limit pages at that revision") {
  TempDir dir;
  auto st = OpenStore(BaseOptions(dir));
  Recorder rec{st.get()};
  for (int i = 0; i < 6; i++) rec.Create("/h/" + std::to_string(i), "old");
  Revision past = st->CurrentRevision();
  for (int i = 0; i < 6; i += 2) rec.Update("/h/" + std::to_string(i), "new");
  rec.Delete("/h/3");

  ListOptions lo;
  lo.limit = 4;
  lo.revision = past;
  ListResult page;
  REQUIRE_OK(st->List("/h/", lo, &page));
  CHECK(page.revision == past);
  std::vector<KeyValuePtr> all = page.items;
  REQUIRE_FALSE(page.continue_token.empty());
  lo.revision = 0;  // the token fixes the revision
  lo.continue_token = page.continue_token;
  REQUIRE_OK(st->List("/h/", lo, &page));
  CHECK(page.revision == past);
  CHECK(page.continue_token.empty());
  all.insert(all.end(), page.items.begin(), page.items.end());
  CHECK(Items(all) == rec.StateAt(past, "/h/"));
}

TEST_CASE("store: invalid continue tokens and limits are rejected with InvalidArgument") {
  TempDir dir;
  auto st = OpenStore(BaseOptions(dir));
  for (const char* k : {"/t/1", "/t/2", "/t/3", "/u/1", "/u/2"}) REQUIRE_OK(st->Create(k, "v"));
  ListOptions lo;
  lo.limit = 1;
  ListResult t, u;
  REQUIRE_OK(st->List("/t/", lo, &t));
  REQUIRE_OK(st->List("/u/", lo, &u));
  REQUIRE_FALSE(t.continue_token.empty());
  REQUIRE_FALSE(u.continue_token.empty());

  for (const std::string& bad :
       {std::string("not a token!"), std::string("AAAA"), std::string("%%%%"),
        t.continue_token + "!", std::string("\xff\xfe", 2), u.continue_token}) {
    CAPTURE(bad);
    ListOptions next;
    next.limit = 1;
    next.continue_token = bad;
    ListResult r;
    CHECK_CODE(st->List("/t/", next, &r), kInvalidArgument);
  }
  ListOptions neg;
  neg.limit = -1;
  ListResult r;
  CHECK_CODE(st->List("/t/", neg, &r), kInvalidArgument);

  // A good token still works, and goes Gone once its revision is compacted.
  ListOptions next;
  next.limit = 1;
  next.continue_token = t.continue_token;
  REQUIRE_OK(st->List("/t/", next, &r));
  CHECK(Items(r.items) == "/t/2=v\n");
  REQUIRE_OK(st->Create("/t/4", "v"));
  REQUIRE_OK(st->Compact(st->CurrentRevision()));
  CHECK_CODE(st->List("/t/", next, &r), kGone);
}

TEST_CASE("store: Count counts the live keys under a prefix") {
  TempDir dir;
  auto st = OpenStore(BaseOptions(dir));
  int64_t n = -1;
  Revision at = -1;
  REQUIRE_OK(st->Count("/c/", &n, &at));
  CHECK(n == 0);
  CHECK(at == 0);
  for (int i = 0; i < 7; i++) REQUIRE_OK(st->Create("/c/" + std::to_string(i), "v"));
  REQUIRE_OK(st->Create("/cc", "v"));
  REQUIRE_OK(st->Create("/d/0", "v"));
  REQUIRE_OK(st->Update("/c/1", "w", 0));
  REQUIRE_OK(st->Delete("/c/2"));
  REQUIRE_OK(st->Delete("/c/3"));
  REQUIRE_OK(st->Count("/c/", &n, &at));
  CHECK(n == 5);
  CHECK(at == st->CurrentRevision());
  REQUIRE_OK(st->Count("/c", &n));
  CHECK(n == 6);
  REQUIRE_OK(st->Count("/", &n));
  CHECK(n == 7);
  REQUIRE_OK(st->Count("/zz/", &n));
  CHECK(n == 0);
  REQUIRE_OK(st->Create("/c/2", "again"));
  REQUIRE_OK(st->Count("/c/", &n));
  CHECK(n == 6);
}

// ---- watches ----

TEST_CASE("store: Watch delivers ADDED, MODIFIED and DELETED with the previous value") {
  TempDir dir;
  auto st = OpenStore(BaseOptions(dir));
  std::unique_ptr<Watcher> w;
  REQUIRE_OK(st->Watch("/w/", 0, &w));
  CHECK(st->GetStats().watchers == 1);

  Recorder rec{st.get()};
  Revision start = st->CurrentRevision() + 1;
  KeyValue a1 = rec.Create("/w/a", "1");
  rec.Create("/x/ignored", "1");
  rec.Create("/w", "not under /w/");
  KeyValue a2 = rec.Update("/w/a", "2");
  rec.Create("/w/b", "1");
  Revision del = rec.Delete("/w/a");
  rec.Update("/w/b", "2");

  auto evs = WaitEvents(w.get(), rec.Count("/w/", start));
  CHECK(Describe(evs) == rec.Expect("/w/", start));
  CheckIncreasing(evs);
  REQUIRE(evs.size() == 5);

  CHECK(evs[0]->type == Type::kAdded);
  CHECK(evs[0]->prev == nullptr);
  CHECK(evs[0]->revision() == a1.mod_revision);
  CHECK(evs[1]->type == Type::kModified);
  REQUIRE(evs[1]->prev);
  CHECK(evs[1]->prev->value == "1");
  CHECK(evs[1]->prev->mod_revision == a1.mod_revision);
  CHECK(evs[3]->type == Type::kDeleted);
  CHECK(evs[3]->kv->key == "/w/a");
  CHECK(evs[3]->kv->value.empty());
  CHECK(evs[3]->kv->create_revision == a1.create_revision);
  CHECK(evs[3]->revision() == del);
  REQUIRE(evs[3]->prev);
  CHECK(evs[3]->prev->value == "2");
  CHECK(evs[3]->prev->mod_revision == a2.mod_revision);

  // Nothing else is pending.
  std::vector<EventPtr> more;
  REQUIRE_OK(w->Next(&more, 20ms));
  CHECK(more.empty());
}

TEST_CASE("store: Watch from revision 0 starts after the current revision") {
  TempDir dir;
  auto st = OpenStore(BaseOptions(dir));
  REQUIRE_OK(st->Create("/w/old", "1"));
  REQUIRE_OK(st->Update("/w/old", "2", 0));
  std::unique_ptr<Watcher> w;
  REQUIRE_OK(st->Watch("/w/", 0, &w));
  std::vector<EventPtr> evs;
  REQUIRE_OK(w->Next(&evs, 20ms));
  CHECK(evs.empty());
  KeyValue kv;
  REQUIRE_OK(st->Create("/w/new", "1", {}, &kv));
  evs = WaitEvents(w.get(), 1);
  REQUIRE(evs.size() == 1);
  CHECK(evs[0]->kv->key == "/w/new");
  CHECK(evs[0]->revision() == kv.mod_revision);
}

TEST_CASE("store: Watch wakes a waiting Next when an event arrives") {
  TempDir dir;
  auto st = OpenStore(BaseOptions(dir));
  std::unique_ptr<Watcher> w;
  REQUIRE_OK(st->Watch("/w/", 0, &w));
  std::vector<EventPtr> evs;
  Status s;
  std::thread t([&] { s = w->Next(&evs, kPatience); });
  std::this_thread::sleep_for(20ms);
  REQUIRE_OK(st->Create("/w/x", "1"));
  t.join();
  CHECK_OK(s);
  REQUIRE(evs.size() == 1);
  CHECK(evs[0]->kv->key == "/w/x");
}

TEST_CASE("store: Watch from an old revision replays history, then goes on live") {
  TempDir dir;
  auto st = OpenStore(BaseOptions(dir));
  Recorder rec{st.get()};
  rec.Create("/h/a", "1");
  Revision from = rec.Create("/h/b", "1").mod_revision;
  rec.Update("/h/a", "2");
  rec.Create("/z/other", "1");
  rec.Delete("/h/b");
  rec.Update("/h/a", "3");

  std::unique_ptr<Watcher> w;
  REQUIRE_OK(st->Watch("/h/", from, &w));
  rec.Create("/h/c", "live");
  auto evs = WaitEvents(w.get(), rec.Count("/h/", from));
  CHECK(Describe(evs) == rec.Expect("/h/", from));
  CheckIncreasing(evs);

  std::unique_ptr<Watcher> all;
  REQUIRE_OK(st->Watch("/", 1, &all));
  evs = WaitEvents(all.get(), rec.Count("/", 1));
  CHECK(Describe(evs) == rec.Expect("/", 1));
}

TEST_CASE("store: Watch replays from the database once the in-memory ring is exceeded") {
  TempDir dir;
  Options o = BaseOptions(dir);
  o.watch_cache_events = 8;
  o.volatile_max_pending = 4;
  auto st = OpenStore(o);
  Recorder rec{st.get()};
  for (int i = 0; i < 10; i++) rec.Create("/r/k" + std::to_string(i), "c");
  for (int round = 0; round < 2; round++)
    for (int i = 0; i < 10; i++) {
      rec.Update("/r/k" + std::to_string(i), "u" + std::to_string(round));
      if (i % 4 == 0) rec.Create("/s/" + std::to_string(round) + std::to_string(i), "x");
    }
  for (int i = 0; i < 5; i++) rec.Delete("/r/k" + std::to_string(i));
  rec.Create("/r/k0", "again");
  Revision cur = st->CurrentRevision();
  REQUIRE(cur > 40);

  SUBCASE("from the first revision, with live writes before the first Next") {
    std::unique_ptr<Watcher> w;
    REQUIRE_OK(st->Watch("/r/", 1, &w));
    rec.Update("/r/k9", "live1");
    rec.Create("/r/live", "live2");
    auto evs = WaitEvents(w.get(), rec.Count("/r/", 1));
    CHECK(Describe(evs) == rec.Expect("/r/", 1));
    CheckIncreasing(evs);
    rec.Delete("/r/live");
    auto more = WaitEvents(w.get(), 1);
    CHECK(Describe(more) == rec.Expect("/r/", st->CurrentRevision()));
  }
  SUBCASE("from the middle of history") {
    Revision from = cur / 2;
    std::unique_ptr<Watcher> w;
    REQUIRE_OK(st->Watch("/r/", from, &w));
    auto evs = WaitEvents(w.get(), rec.Count("/r/", from));
    CHECK(Describe(evs) == rec.Expect("/r/", from));
  }
  SUBCASE("after a reopen, when nothing is in memory") {
    st.reset();
    st = OpenStore(o);
    rec.st = st.get();
    std::unique_ptr<Watcher> w;
    REQUIRE_OK(st->Watch("/", 1, &w));
    auto evs = WaitEvents(w.get(), rec.Count("/", 1));
    CHECK(Describe(evs) == rec.Expect("/", 1));
    rec.Create("/r/after", "reopen");
    evs = WaitEvents(w.get(), 1);
    CHECK(Describe(evs) == rec.Expect("/", st->CurrentRevision()));
  }
}

TEST_CASE("store: Watch from a compacted revision fails with Gone") {
  TempDir dir;
  Options o = BaseOptions(dir);
  o.watch_cache_events = 8;
  o.volatile_max_pending = 4;
  auto st = OpenStore(o);
  for (int i = 0; i < 30; i++) REQUIRE_OK(st->Create("/g/" + std::to_string(i), "v"));

  SUBCASE("at Watch") {
    REQUIRE_OK(st->Compact(10));
    std::unique_ptr<Watcher> w;
    CHECK_CODE(st->Watch("/g/", 1, &w), kGone);
    CHECK_CODE(st->Watch("/g/", 10, &w), kGone);
    CHECK(w == nullptr);
    REQUIRE_OK(st->Watch("/g/", 11, &w));
    auto evs = WaitEvents(w.get(), 20);
    REQUIRE(evs.size() == 20);
    CHECK(evs.front()->revision() == 11);
    CHECK(evs.back()->revision() == 30);
  }
  SUBCASE("compacted under a replay") {
    std::unique_ptr<Watcher> w;
    REQUIRE_OK(st->Watch("/g/", 1, &w));
    REQUIRE_OK(st->Compact(st->CurrentRevision()));
    std::vector<EventPtr> evs;
    Status s = w->Next(&evs, 100ms);
    CHECK_MESSAGE(s.code() == Code::kGone, s.ToString());
    s = w->Next(&evs, 10ms);  // final
    CHECK_MESSAGE(s.code() == Code::kGone, s.ToString());
  }
}

TEST_CASE("store: Watch replays more than one chunk of history from the database") {
  TempDir dir;
  Options o = BaseOptions(dir);
  o.watch_cache_events = 8;
  o.volatile_max_pending = 4;
  auto st = OpenStore(o);
  std::vector<std::string> want;
  for (int i = 0; i < 1200; i++) {
    std::string key = (i % 3 == 2 ? "/other/" : "/r/") + std::to_string(i);
    KeyValue kv;
    REQUIRE_OK(st->Create(key, "v", {}, &kv));
    if (key[1] == 'r') want.push_back("ADDED " + key + "@" + std::to_string(kv.mod_revision));
  }
  std::unique_ptr<Watcher> w;
  REQUIRE_OK(st->Watch("/r/", 1, &w));
  auto evs = Drain(w.get());  // all of it is in the database or in memory already
  CHECK(evs.size() == want.size());
  CHECK(Brief(evs) == Join(want));
}

TEST_CASE("store: Watch from an old revision sees volatile writes that left the memory ring") {
  // The ring is also bounded in bytes: volatile writes not yet flushed can
  // leave it, and a watch from before them must still see them.
  TempDir dir;
  Options o = BaseOptions(dir);
  o.volatile_prefixes = {"/hb/"};
  o.watch_cache_bytes = 8 * 1024;
  auto st = OpenStore(o);
  REQUIRE_OK(st->Create("/hb/first", "x"));  // the first volatile write reserves revisions
  Revision from = st->CurrentRevision() + 1;
  std::vector<std::string> want;
  for (int i = 0; i < 20; i++) {
    KeyValue kv;
    std::string key = "/hb/k" + std::to_string(i);
    REQUIRE_OK(st->Create(key, std::string(1024, static_cast<char>('a' + i)), {}, &kv));
    want.push_back("ADDED " + key + "@" + std::to_string(kv.mod_revision));
  }
  CHECK(st->GetStats().volatile_pending > 0);
  std::unique_ptr<Watcher> w;
  REQUIRE_OK(st->Watch("/hb/", from, &w));
  auto evs = Drain(w.get());  // all of it is in the database or in memory already
  CHECK(Brief(evs) == Join(want));
  for (const auto& ev : evs) {
    CAPTURE(ev->kv->key);
    CHECK(ev->kv->value.size() == 1024);
  }
}

TEST_CASE("store: a slow watcher is closed with TooSlow and does not block writers") {
  TempDir dir;
  Options o = BaseOptions(dir);
  o.watcher_max_pending = 4;
  auto st = OpenStore(o);
  std::unique_ptr<Watcher> slow, fast;
  REQUIRE_OK(st->Watch("/s/", 0, &slow));
  REQUIRE_OK(st->Watch("/s/", 0, &fast));
  CHECK(st->GetStats().watchers == 2);
  std::vector<EventPtr> got;
  for (int i = 0; i < 20; i++) {
    REQUIRE_OK(st->Create("/s/" + std::to_string(i), "v"));
    auto evs = Drain(fast.get());
    got.insert(got.end(), evs.begin(), evs.end());
  }
  CHECK(got.size() == 20);
  CheckIncreasing(got);
  std::vector<EventPtr> evs;
  Status s = slow->Next(&evs, 10ms);
  CHECK_MESSAGE(s.code() == Code::kTooSlow, s.ToString());
  s = slow->Next(&evs, 10ms);
  CHECK_MESSAGE(s.code() == Code::kTooSlow, s.ToString());
  CHECK(st->GetStats().watchers == 1);
  REQUIRE_OK(st->Create("/s/after", "v"));
  CHECK(Drain(fast.get()).size() == 1);
}

TEST_CASE("store: Cancel closes a watcher with Closed") {
  TempDir dir;
  auto st = OpenStore(BaseOptions(dir));
  std::unique_ptr<Watcher> w, other;
  REQUIRE_OK(st->Watch("/c/", 0, &w));
  REQUIRE_OK(st->Watch("/c/", 0, &other));

  // A Next that is waiting returns when the watcher is cancelled.
  Status s;
  std::vector<EventPtr> evs;
  std::thread t([&] { s = w->Next(&evs, kPatience); });
  std::this_thread::sleep_for(20ms);
  w->Cancel();
  t.join();
  CHECK_MESSAGE(s.code() == Code::kClosed, s.ToString());
  CHECK(evs.empty());

  REQUIRE_OK(st->Create("/c/1", "v"));
  s = w->Next(&evs, 10ms);
  CHECK_MESSAGE(s.code() == Code::kClosed, s.ToString());
  CHECK(WaitEvents(other.get(), 1).size() == 1);
  w.reset();
  CHECK(st->GetStats().watchers == 1);
  other.reset();
  CHECK(st->GetStats().watchers == 0);
}

TEST_CASE("store: Close closes watchers with Closed and refuses further calls") {
  TempDir dir;
  Options o = BaseOptions(dir);
  auto st = OpenStore(o);
  REQUIRE_OK(st->Create("/a", "v"));
  std::unique_ptr<Watcher> w;
  REQUIRE_OK(st->Watch("/", 0, &w));
  Status s;
  std::vector<EventPtr> evs;
  std::thread t([&] { s = w->Next(&evs, kPatience); });
  std::this_thread::sleep_for(20ms);
  REQUIRE_OK(st->Close());
  t.join();
  CHECK_MESSAGE(s.code() == Code::kClosed, s.ToString());
  s = w->Next(&evs, 10ms);
  CHECK_MESSAGE(s.code() == Code::kClosed, s.ToString());

  KeyValue kv;
  CHECK_CODE(st->Create("/b", "v"), kClosed);
  CHECK_CODE(st->Update("/a", "v", 0), kClosed);
  CHECK_CODE(st->Delete("/a"), kClosed);
  CHECK_CODE(st->Get("/a", &kv), kClosed);
  ListResult lr;
  CHECK_CODE(st->List("/", {}, &lr), kClosed);
  int64_t n;
  CHECK_CODE(st->Count("/", &n), kClosed);
  std::unique_ptr<Watcher> w2;
  CHECK_CODE(st->Watch("/", 0, &w2), kClosed);
  CHECK_CODE(st->Compact(1), kClosed);
  CHECK_CODE(st->Flush(), kClosed);
  st->Close();  // harmless
  w.reset();
  st.reset();

  st = OpenStore(o);  // the lock is released by Close
  CHECK(MustGet(st.get(), "/a").value == "v");
}

// ---- compaction ----

TEST_CASE("store: Compact keeps the latest value of every key readable at and after it") {
  TempDir dir;
  Options o = BaseOptions(dir);
  auto st = OpenStore(o);
  Recorder rec{st.get()};
  std::mt19937 rng(7);
  std::vector<std::string> keys;
  for (int i = 0; i < 8; i++) keys.push_back("/c/" + std::to_string(i));
  for (int step = 0; step < 120; step++) {
    const std::string& k = keys[rng() % keys.size()];
    if (!rec.live.count(k))
      rec.Create(k, "s" + std::to_string(step));
    else if (rng() % 5 == 0)
      rec.Delete(k);
    else
      rec.Update(k, "s" + std::to_string(step));
  }
  Revision cur = st->CurrentRevision();
  Revision mid = cur / 2;

  auto check_from = [&](Revision compacted) {
    for (Revision r = compacted; r <= cur; r++) {
      CAPTURE(r);
      CHECK(ListAll(st.get(), "/c/", r) == rec.StateAt(r, "/c/"));
    }
    // Every key's value at the compacted revision, with its revisions.
    auto it = rec.snapshots.upper_bound(compacted);
    --it;
    for (const auto& k : keys) {
      CAPTURE(k);
      KeyValue kv;
      Status s = st->Get(k, &kv, compacted);
      auto want = it->second.find(k);
      if (want == it->second.end()) {
        CHECK_MESSAGE(s.code() == Code::kNotFound, s.ToString());
      } else {
        REQUIRE_MESSAGE(s.ok(), s.ToString());
        CHECK(kv.value == want->second.value);
        CHECK(kv.mod_revision == want->second.mod_revision);
        CHECK(kv.create_revision == want->second.create_revision);
      }
    }
    if (compacted > 1) {
      KeyValue kv;
      CHECK_CODE(st->Get(keys[0], &kv, compacted - 1), kGone);
    }
  };

  REQUIRE_OK(st->Compact(mid));
  CHECK(st->CompactRevision() == mid);
  check_from(mid);

  // Watch history after the compacted revision is whole.
  std::unique_ptr<Watcher> w;
  REQUIRE_OK(st->Watch("/c/", mid + 1, &w));
  auto evs = WaitEvents(w.get(), rec.Count("/c/", mid + 1));
  CHECK(Describe(evs) == rec.Expect("/c/", mid + 1));
  w.reset();

  REQUIRE_OK(st->Compact(cur));
  CHECK(st->CompactRevision() == cur);
  check_from(cur);

  st.reset();
  st = OpenStore(o);
  CHECK(st->CompactRevision() == cur);
  CHECK(st->CurrentRevision() == cur);
  check_from(cur);
  KeyValue kv;
  REQUIRE_OK(st->Create("/c/new", "n", {}, &kv));
  CHECK(kv.mod_revision > cur);
}

TEST_CASE("store: automatic compaction runs on its own") {
  TempDir dir;
  Options o = BaseOptions(dir);
  o.compact_keep_revisions = 5;
  o.compact_interval = 20ms;
  auto st = OpenStore(o);
  KeyValue kv;
  REQUIRE_OK(st->Create("/auto/k", "0", {}, &kv));
  Revision first = kv.mod_revision;
  REQUIRE_OK(st->Create("/auto/stable", "s"));
  for (int i = 1; i <= 30; i++) REQUIRE_OK(st->Update("/auto/k", std::to_string(i), 0, {}, &kv));
  Revision cur = st->CurrentRevision();

  CHECK(Eventually([&] { return st->CompactRevision() > 0; }));
  Revision compacted = st->CompactRevision();
  CHECK(compacted <= cur - 5);
  CHECK(compacted >= first);
  CHECK(MustGet(st.get(), "/auto/k").value == "30");
  CHECK(MustGet(st.get(), "/auto/stable").value == "s");
  CHECK(MustGet(st.get(), "/auto/stable", cur - 5).value == "s");
  CHECK(MustGet(st.get(), "/auto/k", cur - 5).value == "25");
  if (compacted > first) CHECK_CODE(st->Get("/auto/k", &kv, first), kGone);
}

// ---- TTL ----

TEST_CASE("store: a key with a TTL is deleted after it expires, with a DELETED event") {
  TempDir dir;
  Options o = BaseOptions(dir);
  o.ttl_sweep_interval = 20ms;
  o.volatile_prefixes = {"/ttl/v/"};
  auto st = OpenStore(o);
  std::unique_ptr<Watcher> w;
  REQUIRE_OK(st->Watch("/ttl/", 0, &w));

  WriteOptions ttl1;
  ttl1.ttl_seconds = 1;
  int64_t now = UnixNow();
  KeyValue kv, vkv;
  REQUIRE_OK(st->Create("/ttl/a", "v", ttl1, &kv));
  CHECK(kv.expires_at >= now + 1);
  CHECK(kv.expires_at <= UnixNow() + 1);
  CHECK(MustGet(st.get(), "/ttl/a").expires_at == kv.expires_at);
  REQUIRE_OK(st->Create("/ttl/keep", "k"));
  REQUIRE_OK(st->Create("/ttl/v/warm", "w"));  // the first volatile write reserves revisions
  REQUIRE_OK(st->Create("/ttl/v/lease", "vol", ttl1, &vkv));  // held in memory
  CHECK(st->GetStats().volatile_pending > 0);

  std::vector<EventPtr> evs;
  std::map<std::string, EventPtr> deleted;
  auto end = std::chrono::steady_clock::now() + kPatience;
  while (deleted.size() < 2 && std::chrono::steady_clock::now() < end) {
    size_t before = evs.size();
    REQUIRE_OK(w->Next(&evs, 100ms));
    for (size_t i = before; i < evs.size(); i++)
      if (evs[i]->type == Type::kDeleted) deleted[evs[i]->kv->key] = evs[i];
  }
  REQUIRE(deleted.size() == 2);
  REQUIRE(deleted.count("/ttl/a"));
  const EventPtr& ev = deleted["/ttl/a"];
  REQUIRE(ev->prev);
  CHECK(ev->prev->value == "v");
  CHECK(ev->prev->mod_revision == kv.mod_revision);
  CHECK(ev->kv->create_revision == kv.create_revision);
  REQUIRE(deleted.count("/ttl/v/lease"));
  REQUIRE(deleted["/ttl/v/lease"]->prev);
  CHECK(deleted["/ttl/v/lease"]->prev->value == "vol");
  CHECK(UnixNow() >= kv.expires_at);  // not before its time

  CHECK_CODE(st->Get("/ttl/a", nullptr), kNotFound);
  CHECK_CODE(st->Get("/ttl/v/lease", nullptr), kNotFound);
  CHECK(MustGet(st.get(), "/ttl/keep").value == "k");
  CHECK(MustGet(st.get(), "/ttl/a", kv.mod_revision).value == "v");  // history stays
}

TEST_CASE("store: default TTLs apply per prefix unless the write names one") {
  TempDir dir;
  Options o = BaseOptions(dir);
  o.ttl_sweep_interval = 20ms;
  o.default_ttls = {{"/events/", 1}, {"/slow/", 3600}};
  auto st = OpenStore(o);
  std::unique_ptr<Watcher> w;
  REQUIRE_OK(st->Watch("/", 0, &w));

  int64_t now = UnixNow();
  KeyValue e1, e2, e3, s1, x;
  REQUIRE_OK(st->Create("/events/e2", "none", WriteOptions{0}, &e2));
  REQUIRE_OK(st->Create("/events/e3", "long", WriteOptions{100}, &e3));
  REQUIRE_OK(st->Create("/slow/s1", "v", {}, &s1));
  REQUIRE_OK(st->Create("/other/x", "v", {}, &x));
  REQUIRE_OK(st->Create("/events/e1", "default", {}, &e1));
  CHECK(e1.expires_at >= now + 1);
  CHECK(e1.expires_at <= UnixNow() + 1);
  CHECK(e2.expires_at == 0);
  CHECK(e3.expires_at >= now + 100);
  CHECK(s1.expires_at >= now + 3600);
  CHECK(x.expires_at == 0);

  std::vector<EventPtr> evs;
  auto end = std::chrono::steady_clock::now() + kPatience;
  auto has_delete = [&] {
    for (const auto& ev : evs)
      if (ev->type == Type::kDeleted) return true;
    return false;
  };
  while (!has_delete() && std::chrono::steady_clock::now() < end) REQUIRE_OK(w->Next(&evs, 100ms));
  std::vector<std::string> deleted;
  for (const auto& ev : evs)
    if (ev->type == Type::kDeleted) deleted.push_back(ev->kv->key);
  CHECK(Join(deleted) == "/events/e1\n");
  // /events/e1 was written last: any other key that wrongly had a TTL of
  // 1s would have expired in the same sweep.
  CHECK_CODE(st->Get("/events/e1", nullptr), kNotFound);
  CHECK_OK(st->Get("/events/e2", nullptr));
  CHECK_OK(st->Get("/events/e3", nullptr));
  CHECK_OK(st->Get("/slow/s1", nullptr));
  CHECK_OK(st->Get("/other/x", nullptr));
}

TEST_CASE("store: a key updated without a TTL after being written with one is not deleted") {
  TempDir dir;
  Options o = BaseOptions(dir);
  o.ttl_sweep_interval = 20ms;
  o.volatile_prefixes = {"/ttl/v/"};
  auto st = OpenStore(o);
  std::unique_ptr<Watcher> w;
  REQUIRE_OK(st->Watch("/ttl/", 0, &w));

  WriteOptions ttl1;
  ttl1.ttl_seconds = 1;
  // These keys expire no later than the marker, written last.
  for (const char* k : {"/ttl/b", "/ttl/c", "/ttl/d", "/ttl/v/e"})
    REQUIRE_OK(st->Create(k, "1", ttl1));
  REQUIRE_OK(st->Create("/ttl/marker", "1", ttl1));
  KeyValue kv;
  REQUIRE_OK(st->Update("/ttl/b", "2", 0, {}, &kv));  // the default: no TTL for this prefix
  CHECK(kv.expires_at == 0);
  REQUIRE_OK(st->Update("/ttl/c", "2", 0, WriteOptions{0}, &kv));  // explicitly none
  CHECK(kv.expires_at == 0);
  REQUIRE_OK(st->Update("/ttl/d", "2", 0, WriteOptions{3600}, &kv));  // renewed
  CHECK(kv.expires_at > UnixNow() + 3000);
  REQUIRE_OK(st->Update("/ttl/v/e", "2", 0, {}, &kv));  // volatile, in memory
  CHECK(kv.expires_at == 0);
  CHECK(MustGet(st.get(), "/ttl/b").expires_at == 0);

  std::vector<EventPtr> evs;
  auto end = std::chrono::steady_clock::now() + kPatience;
  auto marker_gone = [&] {
    for (const auto& ev : evs)
      if (ev->type == Type::kDeleted && ev->kv->key == "/ttl/marker") return true;
    return false;
  };
  while (!marker_gone() && std::chrono::steady_clock::now() < end) REQUIRE_OK(w->Next(&evs, 100ms));
  REQUIRE(marker_gone());
  // One more sweep or two.
  std::this_thread::sleep_for(60ms);
  REQUIRE_OK(w->Next(&evs, 0ms));
  std::vector<std::string> deleted;
  for (const auto& ev : evs)
    if (ev->type == Type::kDeleted) deleted.push_back(ev->kv->key);
  CHECK(Join(deleted) == "/ttl/marker\n");
  CHECK(MustGet(st.get(), "/ttl/b").value == "2");
  CHECK(MustGet(st.get(), "/ttl/c").value == "2");
  CHECK(MustGet(st.get(), "/ttl/d").value == "2");
  CHECK(MustGet(st.get(), "/ttl/v/e").value == "2");
}

// ---- volatile prefixes ----

TEST_CASE("store: volatile writes are visible to Get, List, Count and Watch at once") {
  TempDir dir;
  Options o = BaseOptions(dir);
  o.volatile_prefixes = {"/hb/"};
  auto st = OpenStore(o);
  Recorder rec{st.get()};
  rec.Create("/d/durable", "d");
  std::unique_ptr<Watcher> w;
  REQUIRE_OK(st->Watch("/", 0, &w));
  Revision start = st->CurrentRevision() + 1;

  KeyValue n1a = rec.Create("/hb/n1", "t1");
  KeyValue n1b = rec.Update("/hb/n1", "t2");
  rec.Create("/hb/n2", "t1");
  rec.Create("/hb/n3", "t1");
  rec.Delete("/hb/n2");
  KeyValue n3 = rec.Update("/hb/n3", "t2");
  CHECK(n1b.mod_revision == n1a.mod_revision + 1);
  CHECK(st->CurrentRevision() == n3.mod_revision);
  CHECK(st->GetStats().volatile_pending > 0);  // acknowledged from memory

  KeyValue kv = MustGet(st.get(), "/hb/n1");
  CHECK(kv.value == "t2");
  CHECK(kv.mod_revision == n1b.mod_revision);
  CHECK(kv.create_revision == n1a.create_revision);
  CHECK(MustGet(st.get(), "/hb/n1", n1a.mod_revision).value == "t1");
  CHECK_CODE(st->Get("/hb/n2", nullptr), kNotFound);
  CHECK(ListAll(st.get(), "/hb/") == "/hb/n1=t2\n/hb/n3=t2\n");
  CHECK(ListAll(st.get(), "/") == rec.StateAt(st->CurrentRevision()));
  for (Revision r = start - 1; r <= st->CurrentRevision(); r++) {
    CAPTURE(r);
    CHECK(ListAll(st.get(), "/", r) == rec.StateAt(r));
  }
  int64_t n = 0;
  REQUIRE_OK(st->Count("/hb/", &n));
  CHECK(n == 2);
  REQUIRE_OK(st->Count("/", &n));
  CHECK(n == 3);
  ListOptions lo;
  lo.limit = 1;
  ListResult page;
  REQUIRE_OK(st->List("/hb/", lo, &page));
  CHECK(Items(page.items) == "/hb/n1=t2\n");
  lo.continue_token = page.continue_token;
  REQUIRE_OK(st->List("/hb/", lo, &page));
  CHECK(Items(page.items) == "/hb/n3=t2\n");

  auto evs = WaitEvents(w.get(), rec.Count("/", start));
  CHECK(Describe(evs) == rec.Expect("/", start));

  // Compare-and-swap works against the value in memory.
  CHECK_CODE(st->Update("/hb/n1", "x", n1a.mod_revision), kConflict);
  CHECK_CODE(st->Create("/hb/n1", "x"), kAlreadyExists);
  CHECK_CODE(st->Update("/hb/n2", "x", 0), kNotFound);
  rec.Update("/hb/n1", "t3");

  // Compaction writes what memory holds first; the state stays whole.
  SUBCASE("Compact") {
    REQUIRE_OK(st->Compact(st->CurrentRevision()));
    CHECK(ListAll(st.get(), "/") == rec.StateAt(st->CurrentRevision()));
    CHECK(st->GetStats().volatile_pending == 0);
  }
  REQUIRE_OK(st->Flush());
  CHECK(st->GetStats().volatile_pending == 0);
  CHECK(ListAll(st.get(), "/") == rec.StateAt(st->CurrentRevision()));
  CHECK(MustGet(st.get(), "/hb/n1").mod_revision == rec.live["/hb/n1"].mod_revision);
}

TEST_CASE("store: Flush writes volatile writes to the database") {
  TempDir dir;
  Options o = BaseOptions(dir);
  o.volatile_prefixes = {"/hb/"};
  auto st = OpenStore(o);
  Recorder rec{st.get()};
  rec.Create("/d/x", "durable");
  rec.Create("/hb/a", "1");
  rec.Update("/hb/a", "2");
  rec.Create("/hb/b", "1");
  rec.Create("/hb/c", "1");
  rec.Delete("/hb/c");
  REQUIRE_OK(st->Flush());
  CHECK(st->GetStats().volatile_pending == 0);

  // A backup is a copy of what the database file holds, the store still open.
  std::string copy = dir.File("copy.db");
  REQUIRE_OK(Backup(o.path, copy));
  Options co = BaseOptions(dir, "copy.db");
  auto cst = OpenStore(co);
  CHECK(ListAll(cst.get(), "/") == rec.StateAt(st->CurrentRevision()));
  KeyValue kv = MustGet(cst.get(), "/hb/a");
  CHECK(kv.mod_revision == rec.live["/hb/a"].mod_revision);
  CHECK(kv.create_revision == rec.live["/hb/a"].create_revision);
}

TEST_CASE("store: volatile writes are flushed on their interval and when the backlog is full") {
  TempDir dir;
  Options o = BaseOptions(dir);
  o.volatile_prefixes = {"/hb/"};
  SUBCASE("interval") {
    o.volatile_flush_interval = 20ms;
    auto st = OpenStore(o);
    for (int i = 0; i < 5; i++) REQUIRE_OK(st->Create("/hb/" + std::to_string(i), "v"));
    CHECK(Eventually([&] { return st->GetStats().volatile_pending == 0; }));
  }
  SUBCASE("backlog") {
    o.volatile_max_pending = 4;
    o.watch_cache_events = 8;
    auto st = OpenStore(o);
    for (int i = 0; i < 20; i++) {
      REQUIRE_OK(st->Create("/hb/" + std::to_string(i), "v"));
      CHECK(st->GetStats().volatile_pending <= 4);
    }
  }
  CHECK_CODE(([&] {
               Options bad = o;
               bad.volatile_max_pending = 10;
               bad.watch_cache_events = 19;
               std::unique_ptr<Store> st;
               return Store::Open(bad, &st);
             }()),
             kInvalidArgument);
}

TEST_CASE("store: volatile writes are persisted by Close, and revisions go on above them") {
  TempDir dir;
  Options o = BaseOptions(dir);
  o.volatile_prefixes = {"/hb/"};
  Recorder rec{nullptr};
  Revision last = 0;
  for (int round = 0; round < 3; round++) {
    CAPTURE(round);
    auto st = OpenStore(o);
    rec.st = st.get();
    CHECK(ListAll(st.get(), "/") == rec.StateAt(last));
    for (const auto& [k, kv] : rec.live) {
      KeyValue got = MustGet(st.get(), k);
      CHECK(got.mod_revision == kv.mod_revision);
      CHECK(got.create_revision == kv.create_revision);
    }
    std::string r = std::to_string(round);
    KeyValue kv = rec.Create("/hb/n" + r, "t0");
    CHECK(kv.mod_revision > last);
    rec.Update("/hb/n" + r, "t1");
    if (round > 0) rec.Update("/hb/n0", "round" + r);
    rec.Create("/hb/tmp" + r, "x");
    rec.Delete("/hb/tmp" + r);
    if (round == 1) rec.Create("/d/durable", "d");  // a durable write among them
    rec.Update("/hb/n" + r, "t2");
    last = st->CurrentRevision();
    CHECK(last == rec.events.back().rev);
    REQUIRE_OK(st->Close());
  }
  auto st = OpenStore(o);
  CHECK(ListAll(st.get(), "/") == rec.StateAt(last));
  KeyValue kv;
  REQUIRE_OK(st->Create("/d/after", "x", {}, &kv));
  CHECK(kv.mod_revision > last);
  REQUIRE_OK(st->Create("/hb/after", "x", {}, &kv));
  CHECK(kv.mod_revision > last);
}

TEST_CASE("store: the current revision does not go back over a reopen after volatile writes") {
  TempDir dir;
  Options o = BaseOptions(dir);
  o.volatile_prefixes = {"/hb/"};
  Revision last = 0;
  {
    auto st = OpenStore(o);
    REQUIRE_OK(st->Create("/d/x", "durable"));
    REQUIRE_OK(st->Create("/hb/first", "1"));
    // A key created and deleted while held in memory.
    REQUIRE_OK(st->Create("/hb/tmp", "x"));
    REQUIRE_OK(st->Delete("/hb/tmp", 0, nullptr, &last));
    CHECK(st->CurrentRevision() == last);
    SUBCASE("Close") { REQUIRE_OK(st->Close()); }
    SUBCASE("Flush") { REQUIRE_OK(st->Flush()); }
  }
  auto st = OpenStore(o);
  CHECK(st->CurrentRevision() >= last);
  // A read at a revision the store has handed out is not in the future.
  CHECK_OK(st->Get("/d/x", nullptr, last));
  ListOptions lo;
  lo.revision = last;
  ListResult lr;
  CHECK_OK(st->List("/", lo, &lr));
  KeyValue kv;
  REQUIRE_OK(st->Create("/d/y", "x", {}, &kv));
  CHECK(kv.mod_revision > last);
}

// ---- bad input ----

TEST_CASE("store: bad keys and values are rejected with InvalidArgument and nothing is written") {
  TempDir dir;
  Options o = BaseOptions(dir);
  o.key_namespace = "/registry/";
  auto st = OpenStore(o);
  KeyValue ok;
  REQUIRE_OK(st->Create("/registry/ok", "v", {}, &ok));
  Revision before = st->CurrentRevision();
  uint64_t writes = st->GetStats().writes;

  const std::string nul("/registry/a\0b", 13);
  REQUIRE(nul.size() == 13);
  for (const std::string& key :
       {std::string(), nul, std::string("/other/x"), std::string("registry/x"),
        std::string("/registry"), std::string("\0/registry/x", 12)}) {
    CAPTURE(key);
    KeyValue kv;
    CHECK_CODE(st->Create(key, "v"), kInvalidArgument);
    CHECK_CODE(st->Update(key, "v", 0), kInvalidArgument);
    CHECK_CODE(st->Delete(key), kInvalidArgument);
    CHECK_CODE(st->Get(key, &kv), kInvalidArgument);
  }
  for (const std::string& prefix : {std::string("/other/"), std::string("/registry0"), nul}) {
    CAPTURE(prefix);
    ListResult lr;
    CHECK_CODE(st->List(prefix, {}, &lr), kInvalidArgument);
    int64_t n;
    CHECK_CODE(st->Count(prefix, &n), kInvalidArgument);
    std::unique_ptr<Watcher> w;
    CHECK_CODE(st->Watch(prefix, 0, &w), kInvalidArgument);
  }

  const std::string big(kMaxValueBytes + 1, 'x');
  CHECK_CODE(st->Create("/registry/big", big), kInvalidArgument);
  CHECK_CODE(st->Update("/registry/ok", big, 0), kInvalidArgument);
  CHECK_CODE(st->Update("/registry/ok", "v", -1), kInvalidArgument);
  CHECK_CODE(st->Delete("/registry/ok", -1), kInvalidArgument);
  CHECK_CODE(st->Create("/registry/ttl", "v", WriteOptions{-2}), kInvalidArgument);
  std::unique_ptr<Watcher> w;
  CHECK_CODE(st->Watch("/registry/", -1, &w), kInvalidArgument);

  CHECK(st->CurrentRevision() == before);
  CHECK(st->GetStats().writes == writes);
  CHECK(ListAll(st.get(), "/registry/") == "/registry/ok=v\n");
  KeyValue kv = MustGet(st.get(), "/registry/ok");
  CHECK(kv.mod_revision == ok.mod_revision);
  CHECK_CODE(st->Get("/registry/big", &kv), kNotFound);

  // The limit itself is accepted.
  const std::string max(kMaxValueBytes, 'm');
  REQUIRE_OK(st->Create("/registry/max", max));
  CHECK(MustGet(st.get(), "/registry/max").value == max);
  CHECK(st->CurrentRevision() == before + 1);
}

// ---- concurrency ----

TEST_CASE("store: concurrent read-modify-write increments with compare-and-swap lose nothing") {
  TempDir dir;
  auto st = OpenStore(BaseOptions(dir));
  KeyValue init;
  REQUIRE_OK(st->Create("/counter", "0", {}, &init));
  constexpr int kThreads = 8, kPerThread = 25;
  std::atomic<int> successes{0}, conflicts{0}, failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; t++) {
    threads.emplace_back([&] {
      int mine = 0;
      while (mine < kPerThread) {
        KeyValue kv;
        if (!st->Get("/counter", &kv).ok()) {
          failures++;
          return;
        }
        std::string next = std::to_string(std::stoll(kv.value) + 1);
        Status s = st->Update("/counter", next, kv.mod_revision);
        if (s.ok()) {
          mine++;
          successes++;
        } else if (s.IsConflict()) {
          conflicts++;
        } else {
          failures++;
          return;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  INFO("conflicts retried: " << conflicts.load());
  CHECK(failures.load() == 0);
  CHECK(successes.load() == kThreads * kPerThread);
  KeyValue kv = MustGet(st.get(), "/counter");
  CHECK(kv.value == std::to_string(successes.load()));
  CHECK(kv.mod_revision == init.mod_revision + successes.load());
  CHECK(kv.create_revision == init.create_revision);
}

// ---- opening ----

TEST_CASE("store: opening a database that is already open fails with Busy") {
  TempDir dir;
  Options o = BaseOptions(dir);
  auto first = OpenStore(o);
  REQUIRE_OK(first->Create("/a", "v"));
  std::unique_ptr<Store> second;
  Status s = Store::Open(o, &second);
  CHECK_MESSAGE(s.code() == Code::kBusy, s.ToString());
  CHECK(second == nullptr);
  Options other = o;  // another configuration, the same file
  other.volatile_prefixes = {"/x/"};
  s = Store::Open(other, &second);
  CHECK_MESSAGE(s.code() == Code::kBusy, s.ToString());
  // The first store is unharmed.
  REQUIRE_OK(first->Create("/b", "v"));
  CHECK(MustGet(first.get(), "/a").value == "v");

  first.reset();
  auto again = OpenStore(o);
  CHECK(ListAll(again.get(), "/") == "/a=v\n/b=v\n");
}

TEST_CASE("store: a file that is not a database fails Open with Corruption naming it") {
  TempDir dir;
  Options o = BaseOptions(dir);
  for (const std::string& garbage : {RandomBytes(64 * 1024, 1), RandomBytes(300, 2),
                                     std::string("this is not a database, just some text\n")}) {
    CAPTURE(garbage.size());
    WriteFile(o.path, garbage);
    std::unique_ptr<Store> st;
    Status s = Store::Open(o, &st);
    CHECK_MESSAGE(s.code() == Code::kCorruption, s.ToString());
    CHECK_MESSAGE(s.message().find(o.path) != std::string::npos, s.ToString());
    CHECK(st == nullptr);
    CHECK(ReadFile(o.path) == garbage);  // left alone for the operator
  }
}

TEST_CASE("store: a database damaged in the middle fails Open with Corruption naming it") {
  TempDir dir;
  Options o = BaseOptions(dir);
  // Everything volatile and a big backlog: one transaction at Close.
  o.volatile_prefixes = {"/"};
  o.volatile_max_pending = 5000;
  o.watch_cache_events = 10000;
  {
    auto st = OpenStore(o);
    for (int i = 0; i < 4000; i++) {
      char key[32];
      snprintf(key, sizeof(key), "/k/%06d", i);
      REQUIRE_OK(st->Create(key, std::string(60, 'a' + i % 26)));
    }
  }
  REQUIRE((!FileExists(o.path + "-wal") || ReadFile(o.path + "-wal").empty()));
  std::string original = ReadFile(o.path);
  REQUIRE(original.size() > 256 * 1024);
  std::string backup = dir.File("backup.db");
  REQUIRE_OK(Backup(o.path, backup));
  std::string damaged = original;
  size_t mid = (damaged.size() / 2) & ~size_t{4095};
  std::string junk = RandomBytes(4 * 4096, 3);
  damaged.replace(mid, junk.size(), junk);
  WriteFile(o.path, damaged);

  std::unique_ptr<Store> st;
  Status s = Store::Open(o, &st);
  CHECK_MESSAGE(s.code() == Code::kCorruption, s.ToString());
  CHECK_MESSAGE(s.message().find(o.path) != std::string::npos, s.ToString());
  CHECK(st == nullptr);
  CHECK(ReadFile(o.path) == damaged);

  // A failed Open leaves no lock behind: the operator can restore a backup.
  REQUIRE_OK(Restore(o.path, backup));
  st = OpenStore(o);
  int64_t n = 0;
  REQUIRE_OK(st->Count("/k/", &n));
  CHECK(n == 4000);
  CHECK(MustGet(st.get(), "/k/003999").value == std::string(60, 'a' + 3999 % 26));
}

// ---- backup and restore ----

TEST_CASE("store: Backup while writing, Restore refuses while open and restores when closed") {
  TempDir dir;
  Options a = BaseOptions(dir, "a.db");
  Options b = BaseOptions(dir, "b.db");
  std::string backup = dir.File("backup.db");
  auto sa = OpenStore(a);
  for (int i = 0; i < 50; i++)
    REQUIRE_OK(sa->Create("/b/" + std::to_string(i), "v" + std::to_string(i)));
  Revision base = sa->CurrentRevision();

  std::atomic<bool> stop{false};
  std::atomic<int> written{0};
  std::thread writer([&] {
    for (int i = 0; i < 5000 && !stop; i++) {
      if (!sa->Create("/w/" + std::to_string(i), std::string(100, 'w')).ok()) return;
      written++;
    }
  });
  REQUIRE(Eventually([&] { return written.load() >= 5; }));
  Status bs = Backup(a.path, backup);
  stop = true;
  writer.join();
  REQUIRE_MESSAGE(bs.ok(), bs.ToString());
  std::string copied = ReadFile(backup);
  CHECK_FALSE(Backup(a.path, backup).ok());  // never overwrites
  CHECK(ReadFile(backup) == copied);

  auto sb = OpenStore(b);
  REQUIRE_OK(sb->Create("/only/in/b", "x"));
  Status rs = Restore(b.path, backup);
  CHECK_MESSAGE(rs.code() == Code::kBusy, rs.ToString());
  CHECK(MustGet(sb.get(), "/only/in/b").value == "x");  // untouched
  REQUIRE_OK(sb->Create("/only/in/b2", "x"));
  sb.reset();

  REQUIRE_OK(Restore(b.path, backup));
  sb = OpenStore(b);
  CHECK_CODE(sb->Get("/only/in/b", nullptr), kNotFound);
  CHECK(sb->CurrentRevision() >= base + 5);
  for (int i = 0; i < 50; i++)
    CHECK(MustGet(sb.get(), "/b/" + std::to_string(i)).value == "v" + std::to_string(i));
  // The writer went in order: the backup holds a prefix of its keys.
  int64_t n = 0;
  REQUIRE_OK(sb->Count("/w/", &n));
  CHECK(n >= 5);
  CHECK(n <= written.load());
  for (int64_t i = 0; i < n; i++) CHECK_OK(sb->Get("/w/" + std::to_string(i), nullptr));
  CHECK(sb->CurrentRevision() == base + n);
  KeyValue kv;
  REQUIRE_OK(sb->Create("/after/restore", "x", {}, &kv));
  CHECK(kv.mod_revision > base + n);

  // The source store kept going all along.
  CHECK(sa->CurrentRevision() == base + written.load());
}

TEST_CASE("store: Restore checks the backup before touching the database") {
  TempDir dir;
  Options o = BaseOptions(dir);
  {
    auto st = OpenStore(o);
    REQUIRE_OK(st->Create("/keep", "me"));
  }
  std::string garbage = dir.File("garbage.db");
  WriteFile(garbage, RandomBytes(8192, 4));
  Status s = Restore(o.path, garbage);
  CHECK_FALSE(s.ok());
  s = Restore(o.path, dir.File("missing.db"));
  CHECK_FALSE(s.ok());
  s = Backup(dir.File("missing.db"), dir.File("out.db"));
  CHECK_FALSE(s.ok());
  CHECK_FALSE(FileExists(dir.File("missing.db")));

  auto st = OpenStore(o);
  CHECK(MustGet(st.get(), "/keep").value == "me");
}

TEST_SUITE_END();
