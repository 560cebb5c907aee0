// Backend: the storage engine under the Store. It holds one table of rows,
// one per revision (a create, an update or a delete of one key), and a few
// counters. The Store does all the logic (revisions, group commit, watches);
// a backend only reads and writes rows, so that another database can be
// added by writing one file. The SQLite one is sqlite_backend.cc.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "store/store.h"

namespace kubit::store {

// One stored row. A delete row carries the key, the create revision of what
// it deleted and no value. prev_revision is the revision of the previous
// live row of the key (0 if the key did not exist before this row).
struct Row {
  Revision revision = 0;
  std::string key;
  std::string value;
  Revision create_revision = 0;
  Revision prev_revision = 0;
  bool deleted = false;
  int64_t expires_at = 0;
};

struct Meta {
  Revision max_row_revision = 0;
  Revision compact_revision = 0;
  Revision reserved_revision = 0;  // every revision handed out is <= this
};

class Backend {
 public:
  virtual ~Backend() = default;

  // Reads the counters and checks the schema.
  virtual Status LoadMeta(Meta* meta) = 0;

  // Writes, from the store's single writer thread only.
  virtual Status Begin() = 0;
  virtual Status Commit() = 0;  // durable when it returns ok
  virtual void Rollback() = 0;
  virtual Status InsertRow(const Row& row) = 0;
  virtual Status SetReservedRevision(Revision r) = 0;
  // The latest row of `key`, committed or written in the open transaction.
  virtual Status LatestRowForWrite(const std::string& key, Row* row, bool* found) = 0;
  // Deletes up to `limit` rows at or below `compact` that no read at or
  // after `compact` needs: rows superseded by a later row at or below
  // `compact`, and delete rows. *removed < limit means none is left.
  virtual Status CompactChunk(Revision compact, int64_t limit, int64_t* removed) = 0;
  virtual Status SetCompactRevision(Revision r) = 0;

  // Reads, from any thread.
  // The latest row of `key` at or below `at`.
  virtual Status Get(const std::string& key, Revision at, Row* row, bool* found) = 0;
  // Live values of keys in [start, end) at `at`, in key order; `fn` returns
  // false to stop early.
  virtual Status Range(const std::string& start, const std::string& end, Revision at,
                       const std::function<bool(KeyValuePtr)>& fn) = 0;
  virtual Status Count(const std::string& start, const std::string& end, Revision at,
                       int64_t* count) = 0;
  // Events for rows with revision in [from, to] and key in [start, end), in
  // revision order, at most `limit`.
  virtual Status Events(const std::string& start, const std::string& end, Revision from,
                        Revision to, size_t limit, std::vector<EventPtr>* out) = 0;
  // Keys whose latest row is live with 0 < expires_at <= now.
  virtual Status Expired(int64_t now, std::vector<std::pair<std::string, Revision>>* out) = 0;
};

// Checks that `path` is an intact SQLite database with the store's schema.
Status CheckSqliteBackup(const std::string& path);

// Opens the SQLite database at `path`: WAL, fsync on commit, schema created
// if the file is new, quick_check if asked.
Status OpenSqliteBackend(const std::string& path, bool integrity_check,
                         std::unique_ptr<Backend>* out);

}  // namespace kubit::store
