#include "store/sqlite_file.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kubit::store {

Statement::~Statement() { sqlite3_finalize(stmt_); }

Status SqliteFile::Open(const std::string& path, Mode mode, std::unique_ptr<SqliteFile>* out) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
  if (mode == Mode::kWrite) flags |= SQLITE_OPEN_CREATE;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Status::IOError("cannot open database " + path + ": " + msg);
  }
  std::unique_ptr<SqliteFile> f(new SqliteFile(db, path));
  sqlite3_busy_timeout(db, 10000);
  sqlite3_extended_result_codes(db, 1);
  if (mode == Mode::kRead) {
    Status s = f->Exec("PRAGMA query_only=1;");
    if (!s.ok()) return s;
  }
  *out = std::move(f);
  return Status::Ok();
}

Status SqliteFile::StartWriting() {
  // After any integrity check: a corrupt file must be left exactly as found.
  Status s = Exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;");
  if (s.ok()) chmod(path_.c_str(), 0600);  // cluster secrets live here
  return s;
}

SqliteFile::~SqliteFile() {
  for (auto& [sql, stmt] : cache_) sqlite3_finalize(stmt);
  sqlite3_close(db_);
}

Status SqliteFile::Exec(const char* sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &err);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string msg = err ? err : sqlite3_errstr(rc);
  sqlite3_free(err);
  int primary = rc & 0xff;
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
    return Status::Corruption("database " + path_ + " is corrupt: " + msg);
  return Status::IOError("database " + path_ + ": " + msg);
}

Status SqliteFile::Prepare(const char* sql, Statement* out) {
  if (sqlite3_prepare_v2(db_, sql, -1, out->out(), nullptr) != SQLITE_OK) return Error("prepare");
  return Status::Ok();
}

sqlite3_stmt* SqliteFile::Cached(const char* sql) {
  auto it = cache_.find(sql);
  if (it != cache_.end()) return it->second;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK)
    return nullptr;
  cache_[sql] = stmt;
  return stmt;
}

Status SqliteFile::QuickCheck() {
  Statement st;
  Status s = Prepare("PRAGMA quick_check", &st);
  if (!s.ok()) return s;
  std::string problems;
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    std::string line = reinterpret_cast<const char*>(sqlite3_column_text(st.get(), 0));
    if (line != "ok") problems += (problems.empty() ? "" : "; ") + line;
  }
  if (rc != SQLITE_DONE) return Error("integrity check");
  if (!problems.empty())
    return Status::Corruption("database " + path_ + " failed its integrity check: " + problems);
  return Status::Ok();
}

Status SqliteFile::Error(const std::string& what) const {
  int primary = sqlite3_errcode(db_) & 0xff;
  std::string msg = "database " + path_ + ": " + what + ": " + sqlite3_errmsg(db_);
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) return Status::Corruption(msg);
  return Status::IOError(msg);
}

Status BackupFile(const std::string& src_path, const std::string& dest) {
  if (access(dest.c_str(), F_OK) == 0)
    return Status::InvalidArgument("backup file " + dest + " already exists");
  std::unique_ptr<SqliteFile> src;
  Status s = SqliteFile::Open(src_path, SqliteFile::Mode::kRead, &src);
  if (!s.ok()) return s;
  sqlite3* out = nullptr;
  if (sqlite3_open_v2(dest.c_str(), &out, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    std::string msg = out ? sqlite3_errmsg(out) : "out of memory";
    sqlite3_close(out);
    return Status::IOError("cannot create backup file " + dest + ": " + msg);
  }
  chmod(dest.c_str(), 0600);
  sqlite3_backup* b = sqlite3_backup_init(out, "main", src->db(), "main");
  int rc = SQLITE_OK;
  if (b) {
    // Small steps let the writer go on between them.
    while ((rc = sqlite3_backup_step(b, 256)) == SQLITE_OK || rc == SQLITE_BUSY ||
           rc == SQLITE_LOCKED)
      if (rc != SQLITE_OK) sqlite3_sleep(5);
    sqlite3_backup_finish(b);
  }
  std::string msg = sqlite3_errmsg(out);
  // The copy is a rollback-journal database: one self-contained file.
  if (b && rc == SQLITE_DONE) rc = sqlite3_exec(out, "PRAGMA journal_mode=DELETE", 0, 0, 0);
  sqlite3_close(out);
  if (!b || (rc != SQLITE_DONE && rc != SQLITE_OK)) {
    unlink(dest.c_str());
    return Status::IOError("backup of " + src_path + " to " + dest + " failed: " + msg);
  }
  return Status::Ok();
}

}  // namespace kubit::store
