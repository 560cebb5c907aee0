// DataLock: an advisory lock (flock) beside a database file that says one
// process has it open. Taken by Store::Open; Restore refuses while it is held.
#pragma once

#include <string>

#include "store/status.h"

namespace kubit::store {

class DataLock {
 public:
  DataLock() = default;
  ~DataLock();
  DataLock(DataLock&& other) noexcept : fd_(other.fd_) { other.fd_ = -1; }
  DataLock& operator=(DataLock&& other) noexcept;

  // kBusy, naming the holder's pid, if another process holds it.
  static Status Acquire(const std::string& db_path, DataLock* out);

 private:
  int fd_ = -1;
};

}  // namespace kubit::store
