#include "runtime/image/snapshots.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <filesystem>

#include "runtime/image/digest.h"
#include "runtime/image/layer_unpack.h"

namespace kubit::runtime::image {
namespace {

// Temporaries are ".tmp-<pid>-<n>-<hex>".
bool StaleTemp(const std::string& name) {
  if (name.rfind(".tmp-", 0) != 0) return false;
  pid_t pid = static_cast<pid_t>(atol(name.c_str() + 5));
  return pid > 0 && kill(pid, 0) != 0 && errno == ESRCH;
}

}  // namespace

std::unique_ptr<Snapshots> Snapshots::Open(const std::string& root, std::string* error) {
  std::error_code ec;
  std::filesystem::create_directories(root, ec);
  if (ec) {
    *error = "create " + root + ": " + ec.message();
    return nullptr;
  }
  // Layers hold setuid files and device nodes as the image has them: only
  // root may reach them, through the container's mounts.
  if (chmod(root.c_str(), 0700) != 0) {
    *error = "chmod " + root + ": " + strerror(errno);
    return nullptr;
  }
  for (const auto& e : std::filesystem::directory_iterator(root, ec))
    if (StaleTemp(e.path().filename().string())) std::filesystem::remove_all(e.path(), ec);
  return std::unique_ptr<Snapshots>(new Snapshots(root));
}

std::string Snapshots::Dir(const std::string& diff_id) const { return root_ + "/" + DigestHex(diff_id); }

bool Snapshots::Has(const std::string& diff_id) const {
  struct stat st;
  return IsValidDigest(diff_id) && stat(Dir(diff_id).c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool Snapshots::Ensure(const std::string& diff_id, const std::string& blob_path, std::string* error) {
  if (!IsValidDigest(diff_id)) {
    *error = "bad diff_id \"" + diff_id + "\"";
    return false;
  }
  if (Has(diff_id)) return true;
  static std::atomic<int> counter{0};
  std::string tmp = root_ + "/.tmp-" + std::to_string(getpid()) + "-" + std::to_string(counter++) + "-" +
                    DigestHex(diff_id).substr(0, 12);
  std::error_code ec;
  auto cleanup = [&] { std::filesystem::remove_all(tmp, ec); };
  if (mkdir(tmp.c_str(), 0755) != 0) {
    *error = "mkdir " + tmp + ": " + strerror(errno);
    return false;
  }
  std::unique_ptr<FdReader> blob = FdReader::Open(blob_path, error);
  if (!blob) {
    cleanup();
    return false;
  }
  UnpackStats stats;
  if (!UnpackLayer(blob.get(), tmp, &stats, error)) {
    *error = "layer " + diff_id + ": " + *error;
    cleanup();
    return false;
  }
  if (stats.diff_id != diff_id) {
    *error = "layer " + diff_id + ": uncompressed content has digest " + stats.diff_id +
             " (the blob does not match the image config)";
    cleanup();
    return false;
  }
  // One syncfs for the whole tree: cheaper than a fsync per file, and the
  // rename below must not reach the disk before the files do.
  int fd = open(tmp.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0) {
    syncfs(fd);
    close(fd);
  }
  if (rename(tmp.c_str(), Dir(diff_id).c_str()) != 0) {
    bool raced = (errno == EEXIST || errno == ENOTEMPTY) && Has(diff_id);
    if (!raced) *error = "rename " + tmp + " to " + Dir(diff_id) + ": " + strerror(errno);
    cleanup();
    return raced;  // another process unpacked the same layer meanwhile
  }
  return true;
}

bool Snapshots::Remove(const std::string& diff_id, std::string* error) {
  if (!IsValidDigest(diff_id)) {
    *error = "bad diff_id \"" + diff_id + "\"";
    return false;
  }
  // Renamed away first so that a half-removed tree never sits under the
  // final name, where Has() would take it for complete.
  static std::atomic<int> counter{0};
  std::string tmp = root_ + "/.tmp-" + std::to_string(getpid()) + "-rm" + std::to_string(counter++);
  if (rename(Dir(diff_id).c_str(), tmp.c_str()) != 0) {
    if (errno == ENOENT) return true;
    *error = "rename " + Dir(diff_id) + ": " + strerror(errno);
    return false;
  }
  std::error_code ec;
  std::filesystem::remove_all(tmp, ec);
  if (ec) {
    *error = "remove " + tmp + ": " + ec.message();
    return false;
  }
  return true;
}

std::vector<std::string> Snapshots::List() const {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(root_, ec)) {
    std::string d = "sha256:" + e.path().filename().string();
    if (IsValidDigest(d)) out.push_back(d);
  }
  return out;
}

}  // namespace kubit::runtime::image
