// SqliteFile: one SQLite connection with the pragmas kubit needs, a cache
// of prepared statements, and errors that name the file. Used by one thread
// at a time.
#pragma once

#include <map>
#include <memory>
#include <string>

#include "store/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace kubit::store {

// Owns a prepared statement that is not cached.
class Statement {
 public:
  Statement() = default;
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  sqlite3_stmt* get() const { return stmt_; }
  sqlite3_stmt** out() { return &stmt_; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

class SqliteFile {
 public:
  // kWrite: the one writer; call StartWriting() before writing. kRead:
  // query-only.
  enum class Mode { kWrite, kRead };
  static Status Open(const std::string& path, Mode mode, std::unique_ptr<SqliteFile>* out);
  // WAL with fsync on every commit, and mode 0600 on the file.
  Status StartWriting();
  ~SqliteFile();

  Status Exec(const char* sql);
  Status Prepare(const char* sql, Statement* out);
  // A statement kept for the life of the connection, reset by the caller
  // after use; null on error (then call Error()).
  sqlite3_stmt* Cached(const char* sql);
  // Runs PRAGMA quick_check; kCorruption naming the file unless "ok".
  Status QuickCheck();
  // The last error of this connection as a Status naming the file.
  Status Error(const std::string& what) const;

  sqlite3* db() const { return db_; }
  const std::string& path() const { return path_; }

 private:
  SqliteFile(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}
  sqlite3* db_;
  std::string path_;
  std::map<const char*, sqlite3_stmt*> cache_;
};

// Copies the live database at `src_path` into a new file `dest` with the
// backup API; `dest` must not exist.
Status BackupFile(const std::string& src_path, const std::string& dest);

}  // namespace kubit::store
