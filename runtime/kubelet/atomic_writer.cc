#include "runtime/kubelet/atomic_writer.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <set>
#include <vector>

namespace kubit::kubelet {

namespace {

std::string Errno(const std::string& what) { return what + ": " + strerror(errno); }

bool ReadAll(const std::string& path, std::string* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) return false;
  out->clear();
  char buf[8192];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out->append(buf, size_t(n));
  close(fd);
  return n == 0;
}

bool MkdirAll(const std::string& path, std::string* error) {
  for (size_t i = 1; i <= path.size(); i++) {
    if (i != path.size() && path[i] != '/') continue;
    std::string p = path.substr(0, i);
    if (mkdir(p.c_str(), 0755) != 0 && errno != EEXIST) {
      *error = Errno("mkdir " + p);
      return false;
    }
  }
  return true;
}

bool RemoveAll(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return errno == ENOENT;
  if (S_ISDIR(st.st_mode)) {
    if (DIR* d = opendir(path.c_str())) {
      while (dirent* e = readdir(d)) {
        std::string n = e->d_name;
        if (n != "." && n != "..") RemoveAll(path + "/" + n);
      }
      closedir(d);
    }
    return rmdir(path.c_str()) == 0;
  }
  return unlink(path.c_str()) == 0;
}

// The payload matches the current version exactly: same files, bytes, modes.
bool Unchanged(const std::string& current, const Payload& payload) {
  std::set<std::string> seen;
  for (const auto& [path, f] : payload) {
    std::string data;
    struct stat st;
    if (!ReadAll(current + "/" + path, &data) || data != f.data) return false;
    if (stat((current + "/" + path).c_str(), &st) != 0 || int(st.st_mode & 07777) != f.mode)
      return false;
  }
  // No files beyond the payload (only counting regular files at any depth).
  std::vector<std::string> stack = {""};
  size_t files = 0;
  while (!stack.empty()) {
    std::string rel = stack.back();
    stack.pop_back();
    DIR* d = opendir((current + "/" + rel).c_str());
    if (!d) return false;
    while (dirent* e = readdir(d)) {
      std::string n = e->d_name;
      if (n == "." || n == "..") continue;
      std::string r = rel.empty() ? n : rel + "/" + n;
      if (e->d_type == DT_DIR) stack.push_back(r);
      else files++;
    }
    closedir(d);
  }
  return files == payload.size();
}

std::string VersionName() {
  timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  tm t;
  gmtime_r(&ts.tv_sec, &t);
  char buf[64];
  strftime(buf, sizeof(buf), "..%Y_%m_%d_%H_%M_%S.", &t);
  return buf + std::to_string(ts.tv_nsec);
}

}  // namespace

bool ValidPayloadPath(const std::string& path) {
  if (path.empty() || path[0] == '/' || path.rfind("..", 0) == 0) return false;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    std::string el = path.substr(start, slash == std::string::npos ? std::string::npos : slash - start);
    if (el == ".." || el.empty()) return false;
    if (slash == std::string::npos) break;
    start = slash + 1;
  }
  return true;
}

bool WriteAtomic(const std::string& dir, const Payload& payload, bool* changed, std::string* error,
                 gid_t gid) {
  *changed = false;
  for (const auto& [path, f] : payload)
    if (!ValidPayloadPath(path)) {
      *error = "invalid path in volume payload: \"" + path + "\"";
      return false;
    }
  if (!MkdirAll(dir, error)) return false;
  char target[4096];
  ssize_t n = readlink((dir + "/..data").c_str(), target, sizeof(target) - 1);
  std::string old_version = n > 0 ? std::string(target, size_t(n)) : "";
  if (!old_version.empty() && Unchanged(dir + "/" + old_version, payload)) return true;

  std::string version = VersionName();
  std::string vdir = dir + "/" + version;
  if (mkdir(vdir.c_str(), 0755) != 0) {
    *error = Errno("mkdir " + vdir);
    return false;
  }
  if (gid != static_cast<gid_t>(-1)) chown(vdir.c_str(), static_cast<uid_t>(-1), gid);
  for (const auto& [path, f] : payload) {
    std::string file = vdir + "/" + path;
    if (!MkdirAll(file.substr(0, file.rfind('/')), error)) return false;
    int fd = open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) {
      *error = Errno("create " + file);
      return false;
    }
    size_t off = 0;
    while (off < f.data.size()) {
      ssize_t w = write(fd, f.data.data() + off, f.data.size() - off);
      if (w < 0) {
        *error = Errno("write " + file);
        close(fd);
        return false;
      }
      off += size_t(w);
    }
    if (gid != static_cast<gid_t>(-1)) fchown(fd, static_cast<uid_t>(-1), gid);
    fchmod(fd, static_cast<mode_t>(f.mode));
    close(fd);
  }
  std::string tmp = dir + "/..data_tmp";
  unlink(tmp.c_str());
  if (symlink(version.c_str(), tmp.c_str()) != 0 || rename(tmp.c_str(), (dir + "/..data").c_str()) != 0) {
    *error = Errno("swap " + dir + "/..data");
    return false;
  }
  std::set<std::string> top;
  for (const auto& [path, f] : payload) top.insert(path.substr(0, path.find('/')));
  for (const auto& name : top) {
    std::string link = dir + "/" + name;
    struct stat st;
    if (lstat(link.c_str(), &st) == 0) continue;
    if (symlink(("..data/" + name).c_str(), link.c_str()) != 0) {
      *error = Errno("symlink " + link);
      return false;
    }
  }
  // Names the new version no longer has, and the old version.
  if (DIR* d = opendir(dir.c_str())) {
    std::vector<std::string> stale;
    while (dirent* e = readdir(d)) {
      std::string name = e->d_name;
      if (name.rfind("..", 0) == 0 || top.count(name)) continue;
      if (e->d_type == DT_LNK) stale.push_back(name);
    }
    closedir(d);
    for (const auto& s : stale) unlink((dir + "/" + s).c_str());
  }
  if (!old_version.empty()) RemoveAll(dir + "/" + old_version);
  *changed = true;
  return true;
}

}  // namespace kubit::kubelet
