// Store: a revisioned key-value store, the design kine proved for k3s.
//
// Every write gets the next value of one cluster-wide revision counter.
// Reads can be served at the current revision or at any past revision that
// has not been compacted; watches replay the log of changes from a revision.
// The store knows keys and bytes, nothing of Kubernetes: the API layer above
// chooses the key layout, which prefixes hold heartbeats (written lazily) and
// which hold TTL keys (Events).
//
// Durability: a write is acknowledged once it is committed to the SQLite WAL
// and fsync'd. Concurrent writers are batched into one transaction (group
// commit). Keys under a "volatile" prefix (Lease renewals, node heartbeats,
// Events) are acknowledged from memory and written in a batch at most every
// `volatile_flush_interval`, at the next durable write, and at Close(); a
// crash may lose such writes, never a revision: revisions handed out for
// them are reserved durably ahead, so no revision is ever reused.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "store/status.h"

namespace kubit::store {

using Revision = int64_t;

// etcd's default request limit: a larger value is refused.
inline constexpr size_t kMaxValueBytes = 1536 * 1024;

struct KeyValue {
  std::string key;
  std::string value;
  Revision create_revision = 0;
  Revision mod_revision = 0;
  int64_t expires_at = 0;  // unix seconds; 0 = no TTL
};
using KeyValuePtr = std::shared_ptr<const KeyValue>;

struct Event {
  enum class Type { kAdded, kModified, kDeleted };
  Type type = Type::kAdded;
  // For kDeleted: the key, its create revision, mod_revision = the revision
  // of the delete, and an empty value.
  KeyValuePtr kv;
  KeyValuePtr prev;  // the value before this event; null for kAdded
  Revision revision() const { return kv->mod_revision; }
};
using EventPtr = std::shared_ptr<const Event>;

enum class LogLevel { kDebug, kInfo, kWarn, kError };

struct Options {
  std::string path;                 // the SQLite file; created if absent
  std::string key_namespace = "/";  // every key must start with this
  // Heartbeat-class keys: acknowledged from memory, written in batches.
  std::vector<std::string> volatile_prefixes;
  std::chrono::milliseconds volatile_flush_interval{30000};
  size_t volatile_max_pending = 1000;  // a larger backlog is flushed at once
  Revision revision_reserve_block = 1000;
  // Keys under these prefixes get this TTL (seconds) unless the write names one.
  std::vector<std::pair<std::string, int64_t>> default_ttls;
  std::chrono::milliseconds ttl_sweep_interval{5000};
  // Automatic compaction keeps this many recent revisions; 0 turns it off.
  Revision compact_keep_revisions = 1000;
  std::chrono::milliseconds compact_interval{std::chrono::minutes(5)};
  // Recent events kept in memory for watchers (count and bytes bounds).
  size_t watch_cache_events = 4096;
  size_t watch_cache_bytes = 16 << 20;
  // A watcher with more undelivered events than this is closed (kTooSlow).
  size_t watcher_max_pending = 10000;
  bool integrity_check = true;  // PRAGMA quick_check at open
  std::function<void(LogLevel, const std::string&)> log;  // optional
};

struct WriteOptions {
  int64_t ttl_seconds = -1;  // -1: the prefix default (or none); 0: none
};

struct ListOptions {
  int64_t limit = 0;             // 0: no limit
  Revision revision = 0;         // 0: the current revision
  std::string continue_token;    // from a previous ListResult; fixes the revision
};

struct ListResult {
  std::vector<KeyValuePtr> items;
  Revision revision = 0;       // the snapshot the items were read at
  std::string continue_token;  // non-empty when more items remain
};

struct Stats {
  Revision current_revision = 0;
  Revision compact_revision = 0;
  uint64_t commits = 0;          // SQLite transactions
  uint64_t writes = 0;           // acknowledged write operations
  uint64_t volatile_pending = 0; // writes held in memory
  uint64_t watchers = 0;
};

class Watcher;

class Store {
 public:
  // Opens (creating if needed) the database at options.path. Fails with
  // kCorruption naming the file if it does not pass the integrity check,
  // kBusy if another process has it open.
  static Status Open(const Options& options, std::unique_ptr<Store>* out);
  ~Store();  // calls Close()
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Writes what is held in memory, stops background work and closes every
  // watcher. Further calls fail with kClosed.
  Status Close();

  // Fails with kAlreadyExists if the key exists.
  Status Create(const std::string& key, const std::string& value,
                const WriteOptions& wo = {}, KeyValue* out = nullptr);
  // expected_mod_revision == 0: unconditional; otherwise kConflict unless it
  // matches the key's mod revision. kNotFound if the key does not exist.
  Status Update(const std::string& key, const std::string& value,
                Revision expected_mod_revision, const WriteOptions& wo = {},
                KeyValue* out = nullptr);
  // Returns the deleted value in *deleted (mod_revision is that of the value).
  Status Delete(const std::string& key, Revision expected_mod_revision = 0,
                KeyValue* deleted = nullptr, Revision* delete_revision = nullptr);

  // revision == 0: current. kGone if compacted, kFutureRevision if ahead.
  Status Get(const std::string& key, KeyValue* out, Revision revision = 0);
  Status List(const std::string& prefix, const ListOptions& options, ListResult* out);
  Status Count(const std::string& prefix, int64_t* count, Revision* revision = nullptr);

  // Events for keys under `prefix` with revision >= start_revision
  // (0: from now on). kGone if start_revision <= the compacted revision.
  // The watcher must be destroyed before the store.
  Status Watch(const std::string& prefix, Revision start_revision,
               std::unique_ptr<Watcher>* out);

  // Removes history at and below `revision`; reads and watches from there fail
  // with kGone afterwards.
  Status Compact(Revision revision);
  // Writes every volatile write held in memory now.
  Status Flush();

  Revision CurrentRevision() const;
  Revision CompactRevision() const;
  Stats GetStats() const;

  class Impl;

 private:
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

class Watcher {
 public:
  ~Watcher();
  Watcher(const Watcher&) = delete;
  Watcher& operator=(const Watcher&) = delete;

  // Appends the next events in revision order, waiting up to `timeout` for
  // at least one. Ok with nothing appended means the wait timed out. A
  // non-ok status is final: kGone (history compacted under a replay),
  // kTooSlow (fell too far behind), kClosed (cancelled or store closed).
  Status Next(std::vector<EventPtr>* out, std::chrono::milliseconds timeout);
  void Cancel();

  struct State;

 private:
  friend class Store;
  Watcher(Store::Impl* store, std::shared_ptr<State> state);
  Store::Impl* store_;
  std::shared_ptr<State> state_;
};

// Online backup of the database at `db_path` into `dest` (SQLite's backup
// API), safe while a store has it open.
Status Backup(const std::string& db_path, const std::string& dest);
// Replaces the database at `db_path` with the backup `src`. Refuses with
// kBusy while a store has it open; checks `src` before touching anything.
Status Restore(const std::string& db_path, const std::string& src);

}  // namespace kubit::store
