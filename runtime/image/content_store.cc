#include "runtime/image/content_store.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

namespace kubit::runtime::image {
namespace {

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + strerror(errno);
}

bool FsyncDir(const std::string& dir, std::string* error) {
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0 || fsync(fd) != 0) {
    *error = Errno("fsync", dir);
    if (fd >= 0) close(fd);
    return false;
  }
  close(fd);
  return true;
}

bool WriteAll(int fd, const char* data, size_t n) {
  while (n > 0) {
    ssize_t w = write(fd, data, n);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) return false;
    data += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

// "tmp-<pid>-<n>": a temporary of a live process or litter of a dead one.
std::string TempName() {
  static std::atomic<uint64_t> counter{0};
  return "tmp-" + std::to_string(getpid()) + "-" + std::to_string(counter++);
}

bool OwnerDead(const std::string& name) {
  if (name.rfind("tmp-", 0) != 0) return false;
  pid_t pid = static_cast<pid_t>(atol(name.c_str() + 4));
  return pid > 0 && kill(pid, 0) != 0 && errno == ESRCH;
}

}  // namespace

bool WriteFileAtomic(const std::string& path, const std::string& data, std::string* error) {
  std::string dir = path.substr(0, path.rfind('/'));
  std::string tmp = path + "." + TempName();
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    *error = Errno("create", tmp);
    return false;
  }
  if (!WriteAll(fd, data.data(), data.size()) || fsync(fd) != 0) {
    *error = Errno("write", tmp);
    close(fd);
    unlink(tmp.c_str());
    return false;
  }
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    *error = Errno("rename to", path);
    unlink(tmp.c_str());
    return false;
  }
  return FsyncDir(dir, error);
}

std::unique_ptr<ContentStore> ContentStore::Open(const std::string& root, std::string* error) {
  std::error_code ec;
  for (const char* sub : {"/sha256", "/ingest"}) {
    std::filesystem::create_directories(root + sub, ec);
    if (ec) {
      *error = "create " + root + sub + ": " + ec.message();
      return nullptr;
    }
  }
  // Blobs of private images are nobody else's business.
  if (chmod(root.c_str(), 0700) != 0) {
    *error = Errno("chmod", root);
    return nullptr;
  }
  for (const auto& e : std::filesystem::directory_iterator(root + "/ingest", ec))
    if (OwnerDead(e.path().filename().string())) std::filesystem::remove(e.path(), ec);
  return std::unique_ptr<ContentStore>(new ContentStore(root));
}

std::string ContentStore::Path(const std::string& digest) const {
  return root_ + "/sha256/" + DigestHex(digest);
}

bool ContentStore::Has(const std::string& digest, int64_t* size) const {
  if (!IsValidDigest(digest)) return false;
  struct stat st;
  if (stat(Path(digest).c_str(), &st) != 0) return false;
  if (size) *size = st.st_size;
  return true;
}

bool ContentStore::ReadSmall(const std::string& digest, std::string* out, std::string* error,
                             int64_t max_bytes) const {
  if (!IsValidDigest(digest)) {
    *error = "bad digest \"" + digest + "\"";
    return false;
  }
  std::string path = Path(digest);
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    *error = errno == ENOENT ? "blob " + digest + " is not in the content store" : Errno("open", path);
    return false;
  }
  struct stat st;
  if (fstat(fd, &st) != 0 || st.st_size > max_bytes) {
    *error = "blob " + digest + " is too large to read into memory";
    close(fd);
    return false;
  }
  out->resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < out->size()) {
    ssize_t r = read(fd, out->data() + done, out->size() - done);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    done += static_cast<size_t>(r);
  }
  close(fd);
  if (done != out->size() || DigestOf(*out) != digest) {
    *error = "blob " + digest + " in the content store is corrupt";
    return false;
  }
  return true;
}

bool ContentStore::Put(const std::string& data, const std::string& expected, std::string* digest,
                       std::string* error) {
  std::string d = DigestOf(data);
  if (!expected.empty() && d != expected) {
    *error = "digest mismatch: expected " + expected + ", got " + d;
    return false;
  }
  *digest = d;
  if (Has(d)) return true;
  auto w = NewWriter(d, false, error);
  return w && w->Write(data.data(), data.size(), error) && w->Commit(digest, error);
}

bool ContentStore::Delete(const std::string& digest, std::string* error) {
  if (!IsValidDigest(digest)) {
    *error = "bad digest \"" + digest + "\"";
    return false;
  }
  if (unlink(Path(digest).c_str()) != 0 && errno != ENOENT) {
    *error = Errno("remove", Path(digest));
    return false;
  }
  return true;
}

std::vector<std::string> ContentStore::List() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(root_ + "/sha256", ec)) {
    std::string d = "sha256:" + e.path().filename().string();
    if (IsValidDigest(d)) out.push_back(d);
  }
  return out;
}

std::unique_ptr<ContentStore::Writer> ContentStore::NewWriter(const std::string& expected, bool resume,
                                                              std::string* error) {
  if (!expected.empty() && !IsValidDigest(expected)) {
    *error = "bad digest \"" + expected + "\"";
    return nullptr;
  }
  std::unique_ptr<Writer> w(new Writer);
  w->store_ = this;
  w->expected_ = expected;
  w->temp_ = root_ + "/ingest/" + (expected.empty() ? TempName() : DigestHex(expected) + ".partial");
  // Waits for another process writing the same blob (Commit then finds
  // the blob in place). The file that one renamed or removed is not the
  // one at the path any more: open again until they are the same.
  while (true) {
    w->fd_ = open(w->temp_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (w->fd_ < 0) {
      *error = Errno("create", w->temp_);
      return nullptr;
    }
    if (flock(w->fd_, LOCK_EX) != 0) {
      *error = Errno("lock", w->temp_);
      return nullptr;
    }
    struct stat held, now;
    if (fstat(w->fd_, &held) == 0 && stat(w->temp_.c_str(), &now) == 0 && held.st_ino == now.st_ino &&
        held.st_dev == now.st_dev)
      break;
    close(w->fd_);
    w->fd_ = -1;
  }
  if (!resume) {
    if (ftruncate(w->fd_, 0) != 0) {
      *error = Errno("truncate", w->temp_);
      return nullptr;
    }
    return w;
  }
  char buf[64 << 10];
  while (true) {
    ssize_t r = read(w->fd_, buf, sizeof buf);
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      *error = Errno("read", w->temp_);
      return nullptr;
    }
    if (r == 0) break;
    w->hash_.Update(buf, static_cast<size_t>(r));
    w->offset_ += r;
  }
  return w;
}

ContentStore::Writer::~Writer() {
  // An expected digest's partial file stays for a later resume; an
  // anonymous temporary has no later.
  if (!done_ && expected_.empty() && !temp_.empty()) unlink(temp_.c_str());
  if (fd_ >= 0) close(fd_);
}

bool ContentStore::Writer::Write(const char* data, size_t n, std::string* error) {
  if (!WriteAll(fd_, data, n)) {
    *error = Errno("write", temp_);
    return false;
  }
  hash_.Update(data, n);
  offset_ += static_cast<int64_t>(n);
  return true;
}

void ContentStore::Writer::Discard() {
  unlink(temp_.c_str());
  done_ = true;
}

bool ContentStore::Writer::Commit(std::string* digest, std::string* error) {
  std::string got = hash_.Digest();
  done_ = true;
  if (!expected_.empty() && got != expected_) {
    unlink(temp_.c_str());
    *error = "digest mismatch: expected " + expected_ + ", got " + got + " (" + std::to_string(offset_) +
             " bytes)";
    return false;
  }
  *digest = got;
  std::string final_path = store_->Path(got);
  if (store_->Has(got)) {
    unlink(temp_.c_str());
    return true;
  }
  if (fsync(fd_) != 0) {
    *error = Errno("fsync", temp_);
    unlink(temp_.c_str());
    return false;
  }
  if (rename(temp_.c_str(), final_path.c_str()) != 0) {
    *error = Errno("rename to", final_path);
    unlink(temp_.c_str());
    return false;
  }
  return FsyncDir(store_->root_ + "/sha256", error);
}

}  // namespace kubit::runtime::image
