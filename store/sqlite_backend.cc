// The SQLite backend: every SQL statement of the store lives in this file.
//
// Schema: one row per revision in `kv` (kine's layout), an index on
// (name, id) for "latest row of a key at revision R", and `meta` for the
// compacted and reserved revisions. WAL with synchronous=FULL makes a commit
// durable once it returns; readers use their own connections and never block
// the writer.
#include <sqlite3.h>

#include <condition_variable>
#include <mutex>

#include "store/backend.h"
#include "store/sqlite_file.h"

namespace kubit::store {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS kv (
  id INTEGER PRIMARY KEY,
  name BLOB NOT NULL,
  create_revision INTEGER NOT NULL,
  prev_revision INTEGER NOT NULL,
  deleted INTEGER NOT NULL,
  expires INTEGER NOT NULL,
  value BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS kv_name_id ON kv (name, id);
CREATE INDEX IF NOT EXISTS kv_expires ON kv (expires) WHERE expires > 0;
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta VALUES ('schema', 1), ('compact_revision', 0),
                                  ('reserved_revision', 0);
)sql";

// The id of the latest row of each key in [?1, ?2) at or below ?3.
#define LATEST_IN_RANGE \
  "SELECT MAX(id) AS mid FROM kv WHERE name >= ?1 AND name < ?2 AND id <= ?3 GROUP BY name"

constexpr const char* kGet =
    "SELECT id, create_revision, prev_revision, deleted, expires, value FROM kv "
    "WHERE name = ?1 AND id <= ?2 ORDER BY id DESC LIMIT 1";
// Reads the (name, id) index in order and keeps the latest row of each key:
// no sort, so no temp b-tree spilled to disk for large ranges.
constexpr const char* kRange =
    "SELECT k.name, k.value, k.create_revision, k.id, k.expires FROM kv k "
    "WHERE k.name >= ?1 AND k.name < ?2 AND k.id <= ?3 AND k.deleted = 0 AND NOT EXISTS "
    "(SELECT 1 FROM kv k2 WHERE k2.name = k.name AND k2.id > k.id AND k2.id <= ?3) "
    "ORDER BY k.name";
constexpr const char* kCount =
    "SELECT COUNT(*) FROM (" LATEST_IN_RANGE ") m JOIN kv k ON k.id = m.mid WHERE k.deleted = 0";
constexpr const char* kEvents =
    "SELECT k.id, k.name, k.value, k.create_revision, k.prev_revision, k.deleted, k.expires, "
    "p.value, p.create_revision, p.expires FROM kv k LEFT JOIN kv p ON p.id = k.prev_revision "
    "WHERE k.id >= ?3 AND k.id <= ?4 AND k.name >= ?1 AND k.name < ?2 ORDER BY k.id LIMIT ?5";
constexpr const char* kExpired =
    "SELECT k.name, k.id FROM kv k WHERE k.expires > 0 AND k.expires <= ?1 AND k.deleted = 0 "
    "AND k.id = (SELECT MAX(id) FROM kv k2 WHERE k2.name = k.name)";
constexpr const char* kInsert =
    "INSERT INTO kv (id, name, create_revision, prev_revision, deleted, expires, value) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
constexpr const char* kLatest =
    "SELECT id, create_revision, prev_revision, deleted, expires, value FROM kv "
    "WHERE name = ?1 ORDER BY id DESC LIMIT 1";
constexpr const char* kCompact =
    "DELETE FROM kv WHERE id IN (SELECT k.id FROM kv k WHERE k.id <= ?1 AND (k.deleted = 1 OR "
    "EXISTS (SELECT 1 FROM kv k2 WHERE k2.name = k.name AND k2.id > k.id AND k2.id <= ?1)) "
    "LIMIT ?2)";
constexpr const char* kSetMeta = "UPDATE meta SET value = ?2 WHERE name = ?1";

std::string ColumnBlob(sqlite3_stmt* s, int i) {
  const void* p = sqlite3_column_blob(s, i);
  int n = sqlite3_column_bytes(s, i);
  return p ? std::string(static_cast<const char*>(p), n) : std::string();
}

void BindBlob(sqlite3_stmt* s, int i, const std::string& v) {
  sqlite3_bind_blob(s, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}

// Fills `row` from the columns of kGet / kLatest.
void ReadRow(sqlite3_stmt* s, const std::string& key, Row* row) {
  row->revision = sqlite3_column_int64(s, 0);
  row->key = key;
  row->create_revision = sqlite3_column_int64(s, 1);
  row->prev_revision = sqlite3_column_int64(s, 2);
  row->deleted = sqlite3_column_int(s, 3) != 0;
  row->expires_at = sqlite3_column_int64(s, 4);
  row->value = ColumnBlob(s, 5);
}

// A pool of read connections; each is used by one thread at a time.
class ReaderPool {
 public:
  explicit ReaderPool(std::string path) : path_(std::move(path)) {}

  class Lease {
   public:
    Lease(ReaderPool* pool, std::unique_ptr<SqliteFile> f) : pool_(pool), file_(std::move(f)) {}
    ~Lease() {
      if (file_) pool_->Release(std::move(file_));
    }
    SqliteFile* operator->() { return file_.get(); }
    SqliteFile* get() { return file_.get(); }

   private:
    ReaderPool* pool_;
    std::unique_ptr<SqliteFile> file_;
  };

  Status Acquire(std::unique_ptr<Lease>* out) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        auto f = std::move(idle_.back());
        idle_.pop_back();
        *out = std::make_unique<Lease>(this, std::move(f));
        return Status::Ok();
      }
    }
    std::unique_ptr<SqliteFile> f;
    Status s = SqliteFile::Open(path_, SqliteFile::Mode::kRead, &f);
    if (!s.ok()) return s;
    *out = std::make_unique<Lease>(this, std::move(f));
    return Status::Ok();
  }

 private:
  void Release(std::unique_ptr<SqliteFile> f) {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < kMaxIdle) idle_.push_back(std::move(f));
  }
  static constexpr size_t kMaxIdle = 8;
  std::string path_;
  std::mutex mu_;
  std::vector<std::unique_ptr<SqliteFile>> idle_;
};

class SqliteBackend final : public Backend {
 public:
  SqliteBackend(std::unique_ptr<SqliteFile> writer, std::string path)
      : writer_(std::move(writer)), readers_(std::move(path)) {}

  Status LoadMeta(Meta* meta) override {
    Statement st;
    Status s = writer_->Prepare("SELECT name, value FROM meta", &st);
    int rc;
    while (s.ok() && (rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      std::string name = reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 0));
      int64_t v = sqlite3_column_int64(st.get(), 1);
      if (name == "compact_revision") meta->compact_revision = v;
      if (name == "reserved_revision") meta->reserved_revision = v;
      if (name == "schema" && v != 1)
        return Status::Corruption(writer_->path() + ": unknown schema version " + std::to_string(v));
    }
    if (!s.ok()) return s;
    if (rc != SQLITE_DONE) return writer_->Error("read meta");
    Statement mx;
    s = writer_->Prepare("SELECT COALESCE(MAX(id), 0) FROM kv", &mx);
    if (!s.ok()) return s;
    if (sqlite3_step(mx.get()) != SQLITE_ROW) return writer_->Error("read max revision");
    meta->max_row_revision = sqlite3_column_int64(mx.get(), 0);
    return Status::Ok();
  }

  Status Begin() override { return writer_->Exec("BEGIN IMMEDIATE"); }
  Status Commit() override { return writer_->Exec("COMMIT"); }
  void Rollback() override { writer_->Exec("ROLLBACK"); }

  Status InsertRow(const Row& row) override {
    sqlite3_stmt* s = writer_->Cached(kInsert);
    if (!s) return writer_->Error("prepare insert");
    sqlite3_bind_int64(s, 1, row.revision);
    BindBlob(s, 2, row.key);
    sqlite3_bind_int64(s, 3, row.create_revision);
    sqlite3_bind_int64(s, 4, row.prev_revision);
    sqlite3_bind_int(s, 5, row.deleted ? 1 : 0);
    sqlite3_bind_int64(s, 6, row.expires_at);
    BindBlob(s, 7, row.value);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE) return writer_->Error("insert revision " + std::to_string(row.revision));
    return Status::Ok();
  }

  Status SetReservedRevision(Revision r) override { return SetMeta("reserved_revision", r); }
  Status SetCompactRevision(Revision r) override { return SetMeta("compact_revision", r); }

  Status LatestRowForWrite(const std::string& key, Row* row, bool* found) override {
    sqlite3_stmt* s = writer_->Cached(kLatest);
    if (!s) return writer_->Error("prepare latest");
    BindBlob(s, 1, key);
    int rc = sqlite3_step(s);
    *found = rc == SQLITE_ROW;
    if (*found) ReadRow(s, key, row);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return writer_->Error("read " + key);
    return Status::Ok();
  }

  Status CompactChunk(Revision compact, int64_t limit, int64_t* removed) override {
    sqlite3_stmt* s = writer_->Cached(kCompact);
    if (!s) return writer_->Error("prepare compact");
    sqlite3_bind_int64(s, 1, compact);
    sqlite3_bind_int64(s, 2, limit);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return writer_->Error("compact");
    *removed = sqlite3_changes(writer_->db());
    return Status::Ok();
  }

  Status Get(const std::string& key, Revision at, Row* row, bool* found) override {
    std::unique_ptr<ReaderPool::Lease> conn;
    Status st = readers_.Acquire(&conn);
    if (!st.ok()) return st;
    sqlite3_stmt* s = (*conn)->Cached(kGet);
    if (!s) return (*conn)->Error("prepare get");
    BindBlob(s, 1, key);
    sqlite3_bind_int64(s, 2, at);
    int rc = sqlite3_step(s);
    *found = rc == SQLITE_ROW;
    if (*found) ReadRow(s, key, row);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return (*conn)->Error("get " + key);
    return Status::Ok();
  }

  Status Range(const std::string& start, const std::string& end, Revision at,
               const std::function<bool(KeyValuePtr)>& fn) override {
    std::unique_ptr<ReaderPool::Lease> conn;
    Status st = readers_.Acquire(&conn);
    if (!st.ok()) return st;
    sqlite3_stmt* s = (*conn)->Cached(kRange);
    if (!s) return (*conn)->Error("prepare range");
    BindBlob(s, 1, start);
    BindBlob(s, 2, end);
    sqlite3_bind_int64(s, 3, at);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      auto kv = std::make_shared<KeyValue>();
      kv->key = ColumnBlob(s, 0);
      kv->value = ColumnBlob(s, 1);
      kv->create_revision = sqlite3_column_int64(s, 2);
      kv->mod_revision = sqlite3_column_int64(s, 3);
      kv->expires_at = sqlite3_column_int64(s, 4);
      if (!fn(std::move(kv))) {
        rc = SQLITE_DONE;
        break;
      }
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return (*conn)->Error("range");
    return Status::Ok();
  }

  Status Count(const std::string& start, const std::string& end, Revision at,
               int64_t* count) override {
    std::unique_ptr<ReaderPool::Lease> conn;
    Status st = readers_.Acquire(&conn);
    if (!st.ok()) return st;
    sqlite3_stmt* s = (*conn)->Cached(kCount);
    if (!s) return (*conn)->Error("prepare count");
    BindBlob(s, 1, start);
    BindBlob(s, 2, end);
    sqlite3_bind_int64(s, 3, at);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) *count = sqlite3_column_int64(s, 0);
    sqlite3_reset(s);
    if (rc != SQLITE_ROW) return (*conn)->Error("count");
    return Status::Ok();
  }

  Status Events(const std::string& start, const std::string& end, Revision from, Revision to,
                size_t limit, std::vector<EventPtr>* out) override {
    std::unique_ptr<ReaderPool::Lease> conn;
    Status st = readers_.Acquire(&conn);
    if (!st.ok()) return st;
    sqlite3_stmt* s = (*conn)->Cached(kEvents);
    if (!s) return (*conn)->Error("prepare events");
    BindBlob(s, 1, start);
    BindBlob(s, 2, end);
    sqlite3_bind_int64(s, 3, from);
    sqlite3_bind_int64(s, 4, to);
    sqlite3_bind_int64(s, 5, static_cast<int64_t>(limit));
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      auto kv = std::make_shared<KeyValue>();
      kv->mod_revision = sqlite3_column_int64(s, 0);
      kv->key = ColumnBlob(s, 1);
      kv->value = ColumnBlob(s, 2);
      kv->create_revision = sqlite3_column_int64(s, 3);
      Revision prev_rev = sqlite3_column_int64(s, 4);
      bool deleted = sqlite3_column_int(s, 5) != 0;
      kv->expires_at = sqlite3_column_int64(s, 6);
      auto ev = std::make_shared<Event>();
      if (prev_rev != 0 && sqlite3_column_type(s, 7) != SQLITE_NULL) {
        auto prev = std::make_shared<KeyValue>();
        prev->key = kv->key;
        prev->mod_revision = prev_rev;
        prev->value = ColumnBlob(s, 7);
        prev->create_revision = sqlite3_column_int64(s, 8);
        prev->expires_at = sqlite3_column_int64(s, 9);
        ev->prev = std::move(prev);
      }
      ev->type = deleted ? Event::Type::kDeleted
                 : prev_rev == 0 ? Event::Type::kAdded
                                 : Event::Type::kModified;
      ev->kv = std::move(kv);
      out->push_back(std::move(ev));
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return (*conn)->Error("events");
    return Status::Ok();
  }

  Status Expired(int64_t now, std::vector<std::pair<std::string, Revision>>* out) override {
    std::unique_ptr<ReaderPool::Lease> conn;
    Status st = readers_.Acquire(&conn);
    if (!st.ok()) return st;
    sqlite3_stmt* s = (*conn)->Cached(kExpired);
    if (!s) return (*conn)->Error("prepare expired");
    sqlite3_bind_int64(s, 1, now);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW)
      out->emplace_back(ColumnBlob(s, 0), sqlite3_column_int64(s, 1));
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return (*conn)->Error("expired");
    return Status::Ok();
  }

 private:
  Status SetMeta(const char* name, int64_t v) {
    sqlite3_stmt* s = writer_->Cached(kSetMeta);
    if (!s) return writer_->Error("prepare meta");
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, v);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return writer_->Error(std::string("set ") + name);
    return Status::Ok();
  }

  std::unique_ptr<SqliteFile> writer_;
  ReaderPool readers_;
};

}  // namespace

Status CheckSqliteBackup(const std::string& path) {
  if (access(path.c_str(), R_OK) != 0)
    return Status::InvalidArgument("backup file " + path + " cannot be read");
  std::unique_ptr<SqliteFile> f;
  Status s = SqliteFile::Open(path, SqliteFile::Mode::kRead, &f);
  if (!s.ok()) return s;
  s = f->QuickCheck();
  if (!s.ok()) return s;
  Statement st;
  s = f->Prepare("SELECT value FROM meta WHERE name = 'schema'", &st);
  if (!s.ok() || sqlite3_step(st.get()) != SQLITE_ROW)
    return Status::InvalidArgument(path + " is not a kubit database backup");
  return Status::Ok();
}

Status OpenSqliteBackend(const std::string& path, bool integrity_check,
                         std::unique_ptr<Backend>* out) {
  std::unique_ptr<SqliteFile> writer;
  Status s = SqliteFile::Open(path, SqliteFile::Mode::kWrite, &writer);
  if (!s.ok()) return s;
  if (integrity_check) {
    s = writer->QuickCheck();
    if (!s.ok()) return s;
  }
  s = writer->StartWriting();
  if (!s.ok()) return s;
  s = writer->Exec(kSchema);
  if (!s.ok()) return s;
  *out = std::make_unique<SqliteBackend>(std::move(writer), path);
  return Status::Ok();
}

}  // namespace kubit::store
