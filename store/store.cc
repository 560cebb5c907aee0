// The store's logic over a Backend: one writer thread that batches
// concurrent writes into a transaction (group commit), the in-memory
// overlay of volatile writes, the ring of recent events that feeds
// watchers, TTL expiry and compaction.
//
// Locking: `mu_` guards what readers and watchers see (current revision,
// the volatile overlay, the event ring, the watcher list). Only the writer
// thread changes them, so it may read them without the lock. `queue_mu_`
// guards the request queue.
#include "store/store.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "store/backend.h"
#include "store/continue_token.h"
#include "store/data_lock.h"
#include "store/sqlite_file.h"

namespace kubit::store {
namespace {

using Clock = std::chrono::steady_clock;

int64_t UnixNow() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The first key after every key that starts with `prefix`.
std::string PrefixEnd(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    unsigned char c = static_cast<unsigned char>(end.back());
    if (c < 0xff) {
      end.back() = static_cast<char>(c + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\xff') + std::string(1, '\xff');  // no key sorts after this in practice
}

bool HasPrefix(const std::string& s, const std::string& p) {
  return s.size() >= p.size() && s.compare(0, p.size(), p) == 0;
}

size_t EventBytes(const Event& e) {
  return e.kv->key.size() + e.kv->value.size() + (e.prev ? e.prev->value.size() : 0) + 128;
}

constexpr size_t kMaxBatch = 1024;
constexpr int64_t kCompactChunkRows = 1000;
constexpr size_t kReplayChunk = 512;

}  // namespace

struct Watcher::State {
  std::string start, end;
  Revision start_revision = 0;
  size_t max_pending = 0;
  std::mutex mu;
  std::condition_variable cv;
  std::deque<EventPtr> queue;
  Status status;  // not ok once closed
  // Events in [replay_from, replay_to] are read from the backend first.
  Revision replay_from = 1, replay_to = 0;

  // Called with the store's mu_ held. False once the watcher is closed.
  bool Push(const EventPtr& ev) {
    std::lock_guard<std::mutex> lock(mu);
    if (!status.ok()) return false;
    if (queue.size() >= max_pending) {
      status = Status::TooSlow("watcher fell behind: more than " + std::to_string(max_pending) +
                               " undelivered events; watch again from revision " +
                               std::to_string(queue.front()->revision()));
      queue.clear();
      cv.notify_all();
      return false;
    }
    queue.push_back(ev);
    cv.notify_all();
    return true;
  }

  void Close(Status why) {
    std::lock_guard<std::mutex> lock(mu);
    if (status.ok()) status = std::move(why);
    queue.clear();
    cv.notify_all();
  }
};

class Store::Impl {
 public:
  Impl(Options options, std::unique_ptr<Backend> backend, DataLock lock, const Meta& meta)
      : opts_(std::move(options)), backend_(std::move(backend)), lock_(std::move(lock)) {
    // Revisions handed out before a restart may not all be on disk (volatile
    // writes coalesced or lost); the reserved mark covers them, so reads at
    // any of them are served, from what the disk holds.
    next_rev_ = std::max({meta.max_row_revision, meta.reserved_revision, meta.compact_revision}) + 1;
    current_rev_ = next_rev_ - 1;
    durable_rev_ = current_rev_;
    compact_rev_ = meta.compact_revision;
    reserved_rev_ = meta.reserved_revision;
    ring_complete_from_ = current_rev_ + 1;
    auto now = Clock::now();
    next_sweep_ = now + opts_.ttl_sweep_interval;
    next_auto_compact_ = now + opts_.compact_interval;
    writer_ = std::thread([this] { WriterLoop(); });
    Log(LogLevel::kInfo, "store opened " + opts_.path + " at revision " +
                             std::to_string(current_rev_) + " (compacted " +
                             std::to_string(compact_rev_) + ")");
  }

  ~Impl() { Close(); }

  Status Close();
  Status Write(int kind, const std::string& key, const std::string& value, Revision expected,
               const WriteOptions& wo, EventPtr* ev);
  Status Get(const std::string& key, KeyValue* out, Revision rev);
  Status List(const std::string& prefix, const ListOptions& lo, ListResult* out);
  Status Count(const std::string& prefix, int64_t* count, Revision* rev);
  Status Watch(const std::string& prefix, Revision start, std::shared_ptr<Watcher::State>* out);
  Status ReplayChunk(Watcher::State* w, std::vector<EventPtr>* out);
  void RemoveWatcher(Watcher::State* w);
  Status Control(int kind, Revision rev);

  Revision current() const {
    std::lock_guard<std::mutex> lock(mu_);
    return current_rev_;
  }
  Revision compacted() const {
    std::lock_guard<std::mutex> lock(mu_);
    return compact_rev_;
  }
  Stats stats() const {
    std::lock_guard<std::mutex> lock(mu_);
    Stats s;
    s.current_revision = current_rev_;
    s.compact_revision = compact_rev_;
    s.commits = commits_;
    s.writes = writes_;
    s.volatile_pending = pending_count_;
    s.watchers = watchers_.size();
    return s;
  }

  enum Kind { kCreate, kUpdate, kDelete, kCompact, kFlush };

 private:
  struct Request {
    int kind = kCreate;
    std::string key, value;
    Revision expected = 0;  // mod revision for CAS; compaction target for kCompact
    int64_t expires_at = 0;
    Status status;
    EventPtr event;
    bool internal = false;  // issued by the writer itself: nobody waits
    // Completion. A mutex and condition variable rather than a semaphore:
    // libstdc++'s semaphore spins on sched_yield, which costs waiting
    // writers far more CPU than sleeping.
    std::mutex mu;
    std::condition_variable cv;
    bool finished = false;
    void Finish() {
      std::lock_guard<std::mutex> lock(mu);
      finished = true;
      cv.notify_one();
    }
    void Wait() {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [this] { return finished; });
    }
  };

  void Log(LogLevel level, const std::string& msg) const {
    if (opts_.log) opts_.log(level, msg);
  }
  bool IsVolatile(const std::string& key) const {
    for (const auto& p : opts_.volatile_prefixes)
      if (HasPrefix(key, p)) return true;
    return false;
  }
  Status CheckKey(const std::string& key, bool prefix) const;
  Status Submit(Request* r);

  // Writer thread.
  void WriterLoop();
  void ProcessWrites(const std::vector<Request*>& batch, bool force_flush);
  Status LiveValue(const std::string& key,
                   const std::unordered_map<std::string, EventPtr>& local, KeyValuePtr* live);
  std::vector<Row> CoalescePending(const std::vector<EventPtr>& more) const;
  void Publish(const std::vector<EventPtr>& events, bool flushed,
               const std::vector<EventPtr>& volatile_events);
  void TrimRing();  // mu_ held
  void SweepExpired();
  Status RunCompaction(Revision target);
  Clock::time_point NextDeadline() const;

  // Reader helpers (mu_ held).
  Status CheckReadRevision(Revision* at) const;
  EventPtr PendingAt(const std::vector<EventPtr>& events, Revision at) const;

  const Options opts_;
  std::unique_ptr<Backend> backend_;
  DataLock lock_;

  mutable std::mutex mu_;
  bool closed_ = false;
  Revision current_rev_ = 0;
  Revision compact_rev_ = 0;
  std::map<std::string, std::vector<EventPtr>> pending_;  // volatile, not yet written
  size_t pending_count_ = 0;
  std::deque<EventPtr> ring_;
  size_t ring_bytes_ = 0;
  Revision ring_complete_from_ = 1;  // every event at or after this is in ring_
  // Every revision up to here is on disk (or deliberately coalesced away);
  // events above it are only in memory and must stay in ring_.
  Revision durable_rev_ = 0;
  std::vector<std::shared_ptr<Watcher::State>> watchers_;
  uint64_t commits_ = 0, writes_ = 0;

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Request*> queue_;
  bool stopping_ = false;
  std::thread writer_;

  // Writer thread only.
  Revision next_rev_ = 1;
  Revision reserved_rev_ = 0;
  Clock::time_point flush_deadline_ = Clock::time_point::max();
  Clock::time_point next_sweep_, next_auto_compact_;
};

// ---- writes ----

Status Store::Impl::CheckKey(const std::string& key, bool prefix) const {
  if (key.empty()) return Status::InvalidArgument("key must not be empty");
  if (key.find('\0') != std::string::npos)
    return Status::InvalidArgument("key must not contain NUL bytes");
  if (!HasPrefix(key, opts_.key_namespace) && !(prefix && HasPrefix(opts_.key_namespace, key)))
    return Status::InvalidArgument("key \"" + key + "\" is not under the store's namespace \"" +
                                   opts_.key_namespace + "\"");
  return Status::Ok();
}

Status Store::Impl::Write(int kind, const std::string& key, const std::string& value,
                          Revision expected, const WriteOptions& wo, EventPtr* ev) {
  Status s = CheckKey(key, false);
  if (!s.ok()) return s;
  if (value.size() > kMaxValueBytes)
    return Status::InvalidArgument("value of " + std::to_string(value.size()) +
                                   " bytes is over the limit of " +
                                   std::to_string(kMaxValueBytes) + " bytes");
  if (expected < 0) return Status::InvalidArgument("expected revision must not be negative");
  if (wo.ttl_seconds < -1) return Status::InvalidArgument("ttl must not be negative");
  int64_t ttl = wo.ttl_seconds;
  if (ttl == -1) {
    ttl = 0;
    for (const auto& [p, d] : opts_.default_ttls)
      if (HasPrefix(key, p)) ttl = d;
  }
  Request r;
  r.kind = kind;
  r.key = key;
  r.value = value;
  r.expected = expected;
  r.expires_at = ttl > 0 ? UnixNow() + ttl : 0;
  s = Submit(&r);
  if (s.ok() && ev) *ev = r.event;
  return s;
}

Status Store::Impl::Control(int kind, Revision rev) {
  Request r;
  r.kind = kind;
  r.expected = rev;
  return Submit(&r);
}

Status Store::Impl::Submit(Request* r) {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (stopping_) return Status::Closed("store is closed");
    queue_.push_back(r);
  }
  queue_cv_.notify_one();
  r->Wait();
  return r->status;
}

Clock::time_point Store::Impl::NextDeadline() const {
  auto d = std::min(flush_deadline_, next_sweep_);
  if (opts_.compact_keep_revisions > 0) d = std::min(d, next_auto_compact_);
  return d;
}

void Store::Impl::WriterLoop() {
  for (;;) {
    std::vector<Request*> batch;
    bool stop = false;
    {
      std::unique_lock<std::mutex> lock(queue_mu_);
      queue_cv_.wait_until(lock, NextDeadline(), [&] { return !queue_.empty() || stopping_; });
      while (!queue_.empty() && batch.size() < kMaxBatch) {
        batch.push_back(queue_.front());
        queue_.pop_front();
      }
      stop = stopping_ && queue_.empty();
    }
    // Writes go in one transaction; compaction and flush requests keep their
    // place in the order.
    std::vector<Request*> writes;
    for (Request* r : batch) {
      if (r->kind == kCompact || r->kind == kFlush) {
        if (!writes.empty()) ProcessWrites(writes, false);
        writes.clear();
        if (r->kind == kFlush) {
          ProcessWrites({}, true);
          r->status = Status::Ok();
        } else {
          r->status = RunCompaction(r->expected);
        }
        r->Finish();
      } else {
        writes.push_back(r);
      }
    }
    if (!writes.empty()) ProcessWrites(writes, false);

    auto now = Clock::now();
    if (now >= flush_deadline_) ProcessWrites({}, true);
    if (now >= next_sweep_) {
      SweepExpired();
      next_sweep_ = Clock::now() + opts_.ttl_sweep_interval;
    }
    if (opts_.compact_keep_revisions > 0 && now >= next_auto_compact_) {
      Revision target = current_rev_ - opts_.compact_keep_revisions;
      if (target > compact_rev_) {
        Status s = RunCompaction(target);
        if (!s.ok()) Log(LogLevel::kWarn, "automatic compaction failed: " + s.ToString());
      }
      next_auto_compact_ = Clock::now() + opts_.compact_interval;
    }
    if (stop) break;
  }
  ProcessWrites({}, true);  // a clean shutdown loses nothing held in memory
}

Status Store::Impl::LiveValue(const std::string& key,
                              const std::unordered_map<std::string, EventPtr>& local,
                              KeyValuePtr* live) {
  const Event* last = nullptr;
  if (auto it = local.find(key); it != local.end()) {
    last = it->second.get();
  } else if (auto p = pending_.find(key); p != pending_.end()) {
    last = p->second.back().get();
  }
  if (last) {
    *live = last->type == Event::Type::kDeleted ? nullptr : last->kv;
    return Status::Ok();
  }
  Row row;
  bool found = false;
  Status s = backend_->LatestRowForWrite(key, &row, &found);
  if (!s.ok()) return s;
  if (!found || row.deleted) {
    *live = nullptr;
    return Status::Ok();
  }
  auto kv = std::make_shared<KeyValue>();
  kv->key = key;
  kv->value = std::move(row.value);
  kv->create_revision = row.create_revision;
  kv->mod_revision = row.revision;
  kv->expires_at = row.expires_at;
  *live = std::move(kv);
  return Status::Ok();
}

// The rows that stand for the volatile writes held in memory plus `more`:
// one row per key, the latest, chained to the last row already written.
// Intermediate revisions of a heartbeat key are not kept on disk.
std::vector<Row> Store::Impl::CoalescePending(const std::vector<EventPtr>& more) const {
  std::map<std::string, std::pair<EventPtr, EventPtr>> first_last;
  for (const auto& [key, events] : pending_) first_last[key] = {events.front(), events.back()};
  for (const auto& ev : more) {
    auto [it, inserted] = first_last.try_emplace(ev->kv->key, ev, ev);
    if (!inserted) it->second.second = ev;
  }
  std::vector<Row> rows;
  for (const auto& [key, fl] : first_last) {
    const auto& [first, last] = fl;
    Revision prev = first->prev ? first->prev->mod_revision : 0;
    bool deleted = last->type == Event::Type::kDeleted;
    if (deleted && prev == 0) continue;  // never reached the disk: nothing to record
    Row row;
    row.revision = last->revision();
    row.key = key;
    row.value = last->kv->value;
    row.create_revision = last->kv->create_revision;
    row.prev_revision = prev;
    row.deleted = deleted;
    row.expires_at = last->kv->expires_at;
    rows.push_back(std::move(row));
  }
  return rows;
}

void Store::Impl::ProcessWrites(const std::vector<Request*>& batch, bool force_flush) {
  std::unordered_map<std::string, EventPtr> local;
  std::vector<EventPtr> events, durable_events, volatile_events;
  std::vector<Request*> accepted;
  for (Request* r : batch) {
    KeyValuePtr live;
    Status s = LiveValue(r->key, local, &live);
    if (s.ok()) {
      if (r->kind == kCreate && live) {
        s = Status::AlreadyExists("key " + r->key + " already exists");
      } else if (r->kind != kCreate && !live) {
        s = Status::NotFound("key " + r->key + " not found");
      } else if (r->kind != kCreate && r->expected != 0 && live->mod_revision != r->expected) {
        s = Status::Conflict("key " + r->key + " is at revision " +
                             std::to_string(live->mod_revision) + ", not " +
                             std::to_string(r->expected));
      }
    }
    if (!s.ok()) {
      r->status = s;
      continue;
    }
    Revision rev = next_rev_++;
    auto kv = std::make_shared<KeyValue>();
    kv->key = r->key;
    kv->mod_revision = rev;
    auto ev = std::make_shared<Event>();
    if (r->kind == kDelete) {
      kv->create_revision = live->create_revision;
      ev->type = Event::Type::kDeleted;
    } else {
      kv->value = std::move(r->value);
      kv->create_revision = live ? live->create_revision : rev;
      kv->expires_at = r->expires_at;
      ev->type = live ? Event::Type::kModified : Event::Type::kAdded;
    }
    ev->kv = std::move(kv);
    ev->prev = live;
    local[r->key] = ev;
    r->event = ev;
    events.push_back(ev);
    (IsVolatile(r->key) ? volatile_events : durable_events).push_back(ev);
    accepted.push_back(r);
  }

  bool need_reserve = !volatile_events.empty() && next_rev_ - 1 > reserved_rev_;
  bool flush = force_flush ? pending_count_ > 0 || !volatile_events.empty()
                           : !durable_events.empty() || need_reserve ||
                                 pending_count_ + volatile_events.size() > opts_.volatile_max_pending;
  if (flush || need_reserve) {
    std::vector<Row> rows = CoalescePending(volatile_events);
    for (const auto& ev : durable_events) {
      Row row;
      row.revision = ev->revision();
      row.key = ev->kv->key;
      row.value = ev->kv->value;
      row.create_revision = ev->kv->create_revision;
      row.prev_revision = ev->prev ? ev->prev->mod_revision : 0;
      row.deleted = ev->type == Event::Type::kDeleted;
      row.expires_at = ev->kv->expires_at;
      rows.push_back(std::move(row));
    }
    Revision reserve = need_reserve ? next_rev_ - 1 + opts_.revision_reserve_block : 0;
    Status s = backend_->Begin();
    for (size_t i = 0; s.ok() && i < rows.size(); i++) s = backend_->InsertRow(rows[i]);
    if (s.ok() && reserve) s = backend_->SetReservedRevision(reserve);
    if (s.ok()) s = backend_->Commit();
    if (!s.ok()) {
      backend_->Rollback();
      Log(LogLevel::kError, "commit failed: " + s.ToString());
      for (Request* r : accepted) {
        r->status = s;
        r->event = nullptr;
      }
      for (Request* r : batch)
        if (!r->internal) r->Finish();
      return;  // the revisions given to this batch are never used
    }
    if (reserve) reserved_rev_ = reserve;
  }
  Publish(events, flush || need_reserve, volatile_events);
  for (Request* r : accepted) r->status = Status::Ok();
  for (Request* r : batch)
    if (!r->internal) r->Finish();
}

void Store::Impl::Publish(const std::vector<EventPtr>& events, bool flushed,
                          const std::vector<EventPtr>& volatile_events) {
  std::lock_guard<std::mutex> lock(mu_);
  if (flushed) {
    pending_.clear();
    pending_count_ = 0;
    flush_deadline_ = Clock::time_point::max();
    commits_++;
    if (!events.empty()) durable_rev_ = events.back()->revision();
    durable_rev_ = std::max(durable_rev_, current_rev_);
  } else if (!volatile_events.empty()) {
    if (pending_count_ == 0) flush_deadline_ = Clock::now() + opts_.volatile_flush_interval;
    for (const auto& ev : volatile_events) pending_[ev->kv->key].push_back(ev);
    pending_count_ += volatile_events.size();
  }
  for (const auto& ev : events) {
    current_rev_ = ev->revision();
    writes_++;
    ring_.push_back(ev);
    ring_bytes_ += EventBytes(*ev);
    TrimRing();
    const std::string& key = ev->kv->key;
    for (size_t i = 0; i < watchers_.size();) {
      auto& w = watchers_[i];
      bool keep = true;
      if (key >= w->start && key < w->end && ev->revision() >= w->start_revision)
        keep = w->Push(ev);
      if (keep) {
        i++;
      } else {
        watchers_[i] = watchers_.back();
        watchers_.pop_back();
      }
    }
  }
  TrimRing();
  // Memory is over its bound with events not yet on disk: write them now.
  if (ring_bytes_ > opts_.watch_cache_bytes || ring_.size() > opts_.watch_cache_events)
    if (pending_count_ > 0) flush_deadline_ = Clock::now();
}

// Drops the oldest events beyond the ring's bounds, but never one that is
// only in memory: a watch from before it could not read it from disk.
void Store::Impl::TrimRing() {
  while ((ring_.size() > opts_.watch_cache_events ||
          (ring_bytes_ > opts_.watch_cache_bytes && ring_.size() > 1)) &&
         ring_.front()->revision() <= durable_rev_) {
    ring_bytes_ -= EventBytes(*ring_.front());
    ring_complete_from_ = ring_.front()->revision() + 1;
    ring_.pop_front();
  }
}

void Store::Impl::SweepExpired() {
  // expires_at is whole seconds: a key is due once a full second has passed
  // it, so that it never goes before its TTL.
  int64_t now = UnixNow() - 1;
  std::vector<std::pair<std::string, Revision>> expired;
  Status s = backend_->Expired(now, &expired);
  if (!s.ok()) {
    Log(LogLevel::kWarn, "TTL sweep failed: " + s.ToString());
    return;
  }
  // The disk may hold an older row of a key that memory has moved on from.
  expired.erase(std::remove_if(expired.begin(), expired.end(),
                               [&](const auto& e) { return pending_.count(e.first) > 0; }),
                expired.end());
  for (const auto& [key, events] : pending_) {
    const Event& last = *events.back();
    if (last.type != Event::Type::kDeleted && last.kv->expires_at > 0 &&
        last.kv->expires_at <= now)
      expired.emplace_back(key, last.revision());
  }
  if (expired.empty()) return;
  std::vector<std::unique_ptr<Request>> owned;
  std::vector<Request*> batch;
  for (const auto& [key, rev] : expired) {
    owned.push_back(std::make_unique<Request>());
    Request* r = owned.back().get();
    r->kind = kDelete;
    r->key = key;
    r->expected = rev;  // a key renewed since is left alone
    r->internal = true;
    batch.push_back(r);
    if (batch.size() == kMaxBatch) {
      ProcessWrites(batch, false);
      batch.clear();
    }
  }
  if (!batch.empty()) ProcessWrites(batch, false);
  Log(LogLevel::kDebug, "expired " + std::to_string(expired.size()) + " keys");
}

Status Store::Impl::RunCompaction(Revision target) {
  if (target <= compact_rev_) return Status::Ok();
  if (target > current_rev_)
    return Status::FutureRevision("cannot compact at revision " + std::to_string(target) +
                                  ": the current revision is " + std::to_string(current_rev_));
  // Rows held in memory are written first so that history on disk is whole.
  if (pending_count_ > 0) ProcessWrites({}, true);
  {
    // Readers check this after reading, so nobody is served a half-compacted view.
    std::lock_guard<std::mutex> lock(mu_);
    compact_rev_ = target;
  }
  int64_t total = 0;
  bool first = true;
  for (;;) {
    int64_t removed = 0;
    Status s = backend_->Begin();
    if (s.ok() && first) s = backend_->SetCompactRevision(target);
    if (s.ok()) s = backend_->CompactChunk(target, kCompactChunkRows, &removed);
    if (s.ok()) s = backend_->Commit();
    if (!s.ok()) {
      // Memory may now say more is compacted than the disk does; that only
      // makes reads refuse more, and the next compaction finishes the job.
      backend_->Rollback();
      return s;
    }
    first = false;
    total += removed;
    if (removed < kCompactChunkRows) break;
  }
  Log(LogLevel::kInfo, "compacted to revision " + std::to_string(target) + ", removed " +
                           std::to_string(total) + " rows");
  return Status::Ok();
}

// ---- reads ----

Status Store::Impl::CheckReadRevision(Revision* at) const {
  if (closed_) return Status::Closed("store is closed");
  if (*at == 0) *at = current_rev_;
  if (*at > current_rev_)
    return Status::FutureRevision("revision " + std::to_string(*at) +
                                  " is ahead of the current revision " +
                                  std::to_string(current_rev_));
  if (*at < compact_rev_)
    return Status::Gone("revision " + std::to_string(*at) + " has been compacted (compacted to " +
                        std::to_string(compact_rev_) + ")");
  return Status::Ok();
}

EventPtr Store::Impl::PendingAt(const std::vector<EventPtr>& events, Revision at) const {
  for (auto it = events.rbegin(); it != events.rend(); ++it)
    if ((*it)->revision() <= at) return *it;
  return nullptr;
}

Status Store::Impl::Get(const std::string& key, KeyValue* out, Revision rev) {
  Status s = CheckKey(key, false);
  if (!s.ok()) return s;
  Revision at = rev;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s = CheckReadRevision(&at);
    if (!s.ok()) return s;
    if (auto it = pending_.find(key); it != pending_.end()) {
      if (EventPtr ev = PendingAt(it->second, at)) {
        if (ev->type == Event::Type::kDeleted) return Status::NotFound("key " + key + " not found");
        if (out) *out = *ev->kv;
        return Status::Ok();
      }
    }
  }
  Row row;
  bool found = false;
  s = backend_->Get(key, at, &row, &found);
  if (!s.ok()) return s;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s = CheckReadRevision(&at);
    if (!s.ok()) return s;
  }
  if (!found || row.deleted) return Status::NotFound("key " + key + " not found");
  if (out) {
    out->key = key;
    out->value = std::move(row.value);
    out->create_revision = row.create_revision;
    out->mod_revision = row.revision;
    out->expires_at = row.expires_at;
  }
  return Status::Ok();
}

Status Store::Impl::List(const std::string& prefix, const ListOptions& lo, ListResult* out) {
  Status s = CheckKey(prefix, true);
  if (!s.ok()) return s;
  if (lo.limit < 0) return Status::InvalidArgument("limit must not be negative");
  std::string start = prefix, end = PrefixEnd(prefix);
  Revision at = lo.revision;
  if (!lo.continue_token.empty()) {
    std::string last_key;
    if (!DecodeContinueToken(lo.continue_token, &at, &last_key) || last_key < start ||
        last_key >= end)
      return Status::InvalidArgument("continue token is not valid for prefix " + prefix);
    start = last_key + std::string(1, '\0');
  }
  std::vector<EventPtr> overlay;  // latest held-in-memory event per key, in key order
  {
    std::lock_guard<std::mutex> lock(mu_);
    s = CheckReadRevision(&at);
    if (!s.ok()) return s;
    for (auto it = pending_.lower_bound(start); it != pending_.end() && it->first < end; ++it)
      if (EventPtr ev = PendingAt(it->second, at)) overlay.push_back(ev);
  }
  size_t want = lo.limit > 0 ? static_cast<size_t>(lo.limit) + 1 : SIZE_MAX;
  std::vector<KeyValuePtr> items;
  size_t oi = 0;
  auto emit_overlay_before = [&](const std::string* key) {
    while (oi < overlay.size() && items.size() < want &&
           (!key || overlay[oi]->kv->key < *key)) {
      if (overlay[oi]->type != Event::Type::kDeleted) items.push_back(overlay[oi]->kv);
      oi++;
    }
  };
  s = backend_->Range(start, end, at, [&](KeyValuePtr kv) {
    emit_overlay_before(&kv->key);
    if (items.size() >= want) return false;
    if (oi < overlay.size() && overlay[oi]->kv->key == kv->key) {
      if (overlay[oi]->type != Event::Type::kDeleted) items.push_back(overlay[oi]->kv);
      oi++;
    } else {
      items.push_back(std::move(kv));
    }
    return items.size() < want;
  });
  if (!s.ok()) return s;
  emit_overlay_before(nullptr);
  {
    std::lock_guard<std::mutex> lock(mu_);
    s = CheckReadRevision(&at);
    if (!s.ok()) return s;
  }
  out->revision = at;
  out->continue_token.clear();
  if (items.size() == want && lo.limit > 0) {
    items.pop_back();
    out->continue_token = EncodeContinueToken(at, items.back()->key);
  }
  out->items = std::move(items);
  return Status::Ok();
}

Status Store::Impl::Count(const std::string& prefix, int64_t* count, Revision* rev) {
  Status s = CheckKey(prefix, true);
  if (!s.ok()) return s;
  std::string start = prefix, end = PrefixEnd(prefix);
  Revision at = 0;
  std::vector<EventPtr> overlay;
  {
    std::lock_guard<std::mutex> lock(mu_);
    s = CheckReadRevision(&at);
    if (!s.ok()) return s;
    for (auto it = pending_.lower_bound(start); it != pending_.end() && it->first < end; ++it)
      if (EventPtr ev = PendingAt(it->second, at)) overlay.push_back(ev);
  }
  int64_t n = 0;
  s = backend_->Count(start, end, at, &n);
  for (size_t i = 0; s.ok() && i < overlay.size(); i++) {
    Row row;
    bool found = false;
    s = backend_->Get(overlay[i]->kv->key, at, &row, &found);
    n += (overlay[i]->type != Event::Type::kDeleted) - (found && !row.deleted);
  }
  if (!s.ok()) return s;
  *count = n;
  if (rev) *rev = at;
  return Status::Ok();
}

// ---- watches ----

Status Store::Impl::Watch(const std::string& prefix, Revision start,
                          std::shared_ptr<Watcher::State>* out) {
  Status s = CheckKey(prefix, true);
  if (!s.ok()) return s;
  if (start < 0) return Status::InvalidArgument("start revision must not be negative");
  auto w = std::make_shared<Watcher::State>();
  w->start = prefix;
  w->end = PrefixEnd(prefix);
  w->max_pending = opts_.watcher_max_pending;
  std::lock_guard<std::mutex> lock(mu_);
  if (closed_) return Status::Closed("store is closed");
  if (start == 0) start = current_rev_ + 1;
  if (start <= compact_rev_)
    return Status::Gone("revision " + std::to_string(start) +
                        " has been compacted (compacted to " + std::to_string(compact_rev_) + ")");
  w->start_revision = start;
  if (start < ring_complete_from_) {
    w->replay_from = start;
    w->replay_to = ring_complete_from_ - 1;
  }
  for (const auto& ev : ring_) {
    if (ev->revision() < start) continue;
    const std::string& key = ev->kv->key;
    if (key >= w->start && key < w->end) w->queue.push_back(ev);
  }
  watchers_.push_back(w);
  *out = std::move(w);
  return Status::Ok();
}

Status Store::Impl::ReplayChunk(Watcher::State* w, std::vector<EventPtr>* out) {
  Revision from, to;
  {
    std::lock_guard<std::mutex> lock(w->mu);
    if (!w->status.ok()) return w->status;
    from = w->replay_from;
    to = w->replay_to;
  }
  std::vector<EventPtr> events;
  Status s = backend_->Events(w->start, w->end, from, to, kReplayChunk, &events);
  if (s.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (from <= compact_rev_)
      s = Status::Gone("history from revision " + std::to_string(from) +
                       " was compacted during the watch (compacted to " +
                       std::to_string(compact_rev_) + ")");
  }
  std::lock_guard<std::mutex> lock(w->mu);
  if (!s.ok()) {
    if (w->status.ok()) w->status = s;
    return w->status;
  }
  w->replay_from = events.size() < kReplayChunk ? to + 1 : events.back()->revision() + 1;
  out->insert(out->end(), events.begin(), events.end());
  return Status::Ok();
}

void Store::Impl::RemoveWatcher(Watcher::State* w) {
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < watchers_.size(); i++) {
    if (watchers_[i].get() == w) {
      watchers_[i] = watchers_.back();
      watchers_.pop_back();
      return;
    }
  }
}

Status Store::Impl::Close() {
  {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (stopping_) return Status::Ok();
    stopping_ = true;
  }
  queue_cv_.notify_one();
  writer_.join();
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  for (auto& w : watchers_) w->Close(Status::Closed("store closed"));
  watchers_.clear();
  Log(LogLevel::kInfo, "store closed at revision " + std::to_string(current_rev_));
  return Status::Ok();
}

// ---- public surface ----

Status Store::Open(const Options& options, std::unique_ptr<Store>* out) {
  if (options.path.empty()) return Status::InvalidArgument("store path must not be empty");
  if (options.watch_cache_events < 2 * options.volatile_max_pending)
    return Status::InvalidArgument(
        "watch_cache_events must hold at least twice volatile_max_pending");
  DataLock lock;
  Status s = DataLock::Acquire(options.path, &lock);
  if (!s.ok()) return s;
  std::unique_ptr<Backend> backend;
  s = OpenSqliteBackend(options.path, options.integrity_check, &backend);
  if (!s.ok()) return s;
  Meta meta;
  s = backend->LoadMeta(&meta);
  if (!s.ok()) return s;
  out->reset(new Store(std::make_unique<Impl>(options, std::move(backend), std::move(lock), meta)));
  return Status::Ok();
}

Store::Store(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Store::~Store() { Close(); }
Status Store::Close() { return impl_->Close(); }

Status Store::Create(const std::string& key, const std::string& value, const WriteOptions& wo,
                     KeyValue* out) {
  EventPtr ev;
  Status s = impl_->Write(Impl::kCreate, key, value, 0, wo, &ev);
  if (s.ok() && out) *out = *ev->kv;
  return s;
}

Status Store::Update(const std::string& key, const std::string& value, Revision expected,
                     const WriteOptions& wo, KeyValue* out) {
  EventPtr ev;
  Status s = impl_->Write(Impl::kUpdate, key, value, expected, wo, &ev);
  if (s.ok() && out) *out = *ev->kv;
  return s;
}

Status Store::Delete(const std::string& key, Revision expected, KeyValue* deleted,
                     Revision* delete_revision) {
  EventPtr ev;
  Status s = impl_->Write(Impl::kDelete, key, "", expected, {}, &ev);
  if (s.ok() && deleted) *deleted = *ev->prev;
  if (s.ok() && delete_revision) *delete_revision = ev->revision();
  return s;
}

Status Store::Get(const std::string& key, KeyValue* out, Revision revision) {
  return impl_->Get(key, out, revision);
}
Status Store::List(const std::string& prefix, const ListOptions& o, ListResult* out) {
  return impl_->List(prefix, o, out);
}
Status Store::Count(const std::string& prefix, int64_t* count, Revision* revision) {
  return impl_->Count(prefix, count, revision);
}

Status Store::Watch(const std::string& prefix, Revision start, std::unique_ptr<Watcher>* out) {
  std::shared_ptr<Watcher::State> state;
  Status s = impl_->Watch(prefix, start, &state);
  if (s.ok()) out->reset(new Watcher(impl_.get(), std::move(state)));
  return s;
}

Status Store::Compact(Revision revision) { return impl_->Control(Impl::kCompact, revision); }
Status Store::Flush() { return impl_->Control(Impl::kFlush, 0); }
Revision Store::CurrentRevision() const { return impl_->current(); }
Revision Store::CompactRevision() const { return impl_->compacted(); }
Stats Store::GetStats() const { return impl_->stats(); }

Watcher::Watcher(Store::Impl* store, std::shared_ptr<State> state)
    : store_(store), state_(std::move(state)) {}

Watcher::~Watcher() {
  Cancel();
  store_->RemoveWatcher(state_.get());
}

void Watcher::Cancel() { state_->Close(Status::Closed("watch cancelled")); }

Status Watcher::Next(std::vector<EventPtr>* out, std::chrono::milliseconds timeout) {
  bool replay;
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (!state_->status.ok()) return state_->status;
    replay = state_->replay_from <= state_->replay_to;
  }
  if (replay) {
    size_t before = out->size();
    Status s = store_->ReplayChunk(state_.get(), out);
    if (!s.ok() || out->size() > before) return s;
  }
  std::unique_lock<std::mutex> lock(state_->mu);
  state_->cv.wait_for(lock, timeout,
                      [&] { return !state_->queue.empty() || !state_->status.ok(); });
  if (!state_->status.ok()) return state_->status;
  out->insert(out->end(), state_->queue.begin(), state_->queue.end());
  state_->queue.clear();
  return Status::Ok();
}

}  // namespace kubit::store
