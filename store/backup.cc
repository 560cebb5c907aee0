// Backup and restore of a store's database file.
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <unistd.h>

#include <memory>

#include "store/backend.h"
#include "store/data_lock.h"
#include "store/sqlite_file.h"
#include "store/store.h"

namespace kubit::store {
namespace {

Status CopyFile(const std::string& from, const std::string& to) {
  int in = open(from.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Status::IOError("open " + from + ": " + strerror(errno));
  int out = open(to.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) {
    close(in);
    return Status::IOError("create " + to + ": " + strerror(errno));
  }
  char buf[1 << 16];
  ssize_t n;
  Status s;
  while ((n = read(in, buf, sizeof(buf))) > 0) {
    for (ssize_t off = 0; off < n;) {
      ssize_t w = write(out, buf + off, n - off);
      if (w < 0) {
        s = Status::IOError("write " + to + ": " + strerror(errno));
        break;
      }
      off += w;
    }
    if (!s.ok()) break;
  }
  if (n < 0) s = Status::IOError("read " + from + ": " + strerror(errno));
  if (s.ok() && fsync(out) != 0) s = Status::IOError("fsync " + to + ": " + strerror(errno));
  close(in);
  close(out);
  return s;
}

}  // namespace

Status Backup(const std::string& db_path, const std::string& dest) {
  if (access(db_path.c_str(), R_OK) != 0)
    return Status::NotFound("no database at " + db_path);
  Status s = BackupFile(db_path, dest);
  if (!s.ok()) return s;
  // A copy of a damaged database is no backup: check it before saying so.
  s = CheckSqliteBackup(dest);
  if (!s.ok()) {
    unlink(dest.c_str());
    return Status::Corruption("backup of " + db_path + " is not intact, not kept: " + s.message());
  }
  return s;
}

Status Restore(const std::string& db_path, const std::string& src) {
  DataLock lock;
  Status s = DataLock::Acquire(db_path, &lock);
  if (s.code() == Status::Code::kBusy)
    return Status::Busy("refusing to restore while kubit is running: " + s.message());
  if (!s.ok()) return s;
  s = CheckSqliteBackup(src);
  if (!s.ok()) return s;
  std::string tmp = db_path + ".restore";
  s = CopyFile(src, tmp);
  if (!s.ok()) {
    unlink(tmp.c_str());
    return s;
  }
  // The old database's WAL belongs to the old file: it must not be replayed
  // into the restored one.
  unlink((db_path + "-wal").c_str());
  unlink((db_path + "-shm").c_str());
  if (rename(tmp.c_str(), db_path.c_str()) != 0) {
    s = Status::IOError("rename " + tmp + " to " + db_path + ": " + strerror(errno));
    unlink(tmp.c_str());
    return s;
  }
  std::unique_ptr<char, decltype(&free)> copy(strdup(db_path.c_str()), &free);
  int dir = open(dirname(copy.get()), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    fsync(dir);
    close(dir);
  }
  return Status::Ok();
}

}  // namespace kubit::store
