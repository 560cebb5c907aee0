#include "runtime/image/layer_unpack.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <filesystem>
#include <vector>

#include "runtime/image/tar_reader.h"

namespace kubit::runtime::image {
namespace {

constexpr const char* kWhiteoutPrefix = ".wh.";
constexpr const char* kOpaqueMarker = ".wh..wh..opq";

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { Reset(); }
  Fd(Fd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Fd& operator=(Fd&& o) noexcept {
    Reset();
    fd_ = o.fd_;
    o.fd_ = -1;
    return *this;
  }
  void Reset() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  int get() const { return fd_; }

 private:
  int fd_;
};

std::string Errno(const std::string& what, const std::string& path) {
  return what + " " + path + ": " + strerror(errno);
}

// The components of an entry's path inside the root: "/" and "." are
// dropped, ".." goes up one and may not leave the root.
bool CleanPath(const std::string& raw, std::vector<std::string>* out, std::string* error) {
  out->clear();
  size_t start = 0;
  while (start <= raw.size()) {
    size_t end = raw.find('/', start);
    if (end == std::string::npos) end = raw.size();
    std::string c = raw.substr(start, end - start);
    start = end + 1;
    if (c.empty() || c == ".") continue;
    if (c == "..") {
      if (out->empty()) {
        *error = "path \"" + raw + "\" escapes the layer root";
        return false;
      }
      out->pop_back();
      continue;
    }
    out->push_back(c);
  }
  if (raw.find('\0') != std::string::npos) {
    *error = "path with a NUL byte";
    return false;
  }
  return true;
}

std::string Join(const std::vector<std::string>& comps, size_t n) {
  std::string s;
  for (size_t i = 0; i < n; i++) s += (i ? "/" : "") + comps[i];
  return s.empty() ? "." : s;
}

// Atime and mtime both from the entry (tar keeps no atime worth keeping).
// time_t is 32 bits on armhf: a time past 2038 saturates instead of wrapping.
timespec MTime(const TarEntry& e) {
  int64_t sec = e.mtime;
  if (sizeof(time_t) < 8) sec = std::min<int64_t>(std::max<int64_t>(sec, INT32_MIN), INT32_MAX);
  return {static_cast<time_t>(sec), e.mtime_nsec};
}

struct DirMeta {
  std::vector<std::string> comps;
  TarEntry entry;
};

class Unpacker {
 public:
  explicit Unpacker(int root) : root_(root) {}

  bool Apply(TarReader* tar, const TarEntry& e, std::string* error) {
    std::vector<std::string> comps;
    if (!CleanPath(e.path, &comps, error)) return false;
    if (comps.empty()) {  // the root itself: only its metadata
      if (e.type == TarEntry::kDirectory) dirs_.push_back({comps, e});
      return true;
    }
    std::string name = comps.back();
    Fd parent;
    if (!OpenDir(comps, comps.size() - 1, true, &parent, error)) return false;
    if (name.rfind(kWhiteoutPrefix, 0) == 0) return Whiteout(parent.get(), comps, error);
    switch (e.type) {
      case TarEntry::kDirectory: return Directory(parent.get(), comps, e, error);
      case TarEntry::kRegular: return Regular(tar, parent.get(), comps, e, error);
      case TarEntry::kSymlink: return Symlink(parent.get(), comps, e, error);
      case TarEntry::kHardlink: return Hardlink(parent.get(), comps, e, error);
      default: return Node(parent.get(), comps, e, error);
    }
  }

  // Directory metadata last, children first, so that writing the children
  // neither changes a directory's mtime nor meets a read-only mode.
  bool FinishDirectories(std::string* error) {
    for (auto it = dirs_.rbegin(); it != dirs_.rend(); ++it) {
      Fd dir;
      std::string ignored;
      // A directory a later entry replaced is gone; nothing to set.
      if (!OpenDir(it->comps, it->comps.size(), false, &dir, &ignored)) continue;
      const TarEntry& e = it->entry;
      std::string path = Join(it->comps, it->comps.size());
      if (fchown(dir.get(), static_cast<uid_t>(e.uid), static_cast<gid_t>(e.gid)) != 0 ||
          fchmod(dir.get(), e.mode) != 0) {
        *error = Errno("set owner and mode of", path);
        return false;
      }
      if (!SetXattrs(dir.get(), e, path, error)) return false;
      timespec ts[2] = {MTime(e), MTime(e)};
      if (futimens(dir.get(), ts) != 0) {
        *error = Errno("set mtime of", path);
        return false;
      }
    }
    return true;
  }

 private:
  // Opens the directory made of the first n components, each opened with
  // O_NOFOLLOW from the one before; missing ones are made when `create`.
  bool OpenDir(const std::vector<std::string>& comps, size_t n, bool create, Fd* out,
               std::string* error) {
    Fd cur(fcntl(root_, F_DUPFD_CLOEXEC, 0));
    if (cur.get() < 0) {
      *error = Errno("dup", ".");
      return false;
    }
    for (size_t i = 0; i < n; i++) {
      const char* c = comps[i].c_str();
      int fd = openat(cur.get(), c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0 && errno == ENOENT && create) {
        if (mkdirat(cur.get(), c, 0755) != 0 && errno != EEXIST) {
          *error = Errno("mkdir", Join(comps, i + 1));
          return false;
        }
        fd = openat(cur.get(), c, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      }
      if (fd < 0) {
        struct stat st;
        if ((errno == ELOOP || errno == ENOTDIR) && fstatat(cur.get(), c, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISLNK(st.st_mode)) {
          *error = "refusing to write through the symlink " + Join(comps, i + 1);
        } else {
          *error = Errno("open directory", Join(comps, i + 1));
        }
        return false;
      }
      cur = Fd(fd);
    }
    *out = std::move(cur);
    return true;
  }

  // Clears the way for a new entry: whatever is at name goes, except a
  // directory where a directory comes.
  bool RemoveExisting(int parent, const std::vector<std::string>& comps, bool keep_dir, std::string* error) {
    const std::string& name = comps.back();
    struct stat st;
    if (fstatat(parent, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return true;
      *error = Errno("stat", Join(comps, comps.size()));
      return false;
    }
    if (S_ISDIR(st.st_mode)) {
      if (keep_dir) return true;
      // remove_all does not follow symlinks inside the tree; the path
      // names the directory through our own descriptor.
      std::error_code ec;
      std::filesystem::remove_all("/proc/self/fd/" + std::to_string(parent) + "/" + name, ec);
      if (ec) {
        *error = "remove " + Join(comps, comps.size()) + ": " + ec.message();
        return false;
      }
      return true;
    }
    if (unlinkat(parent, name.c_str(), 0) != 0) {
      *error = Errno("remove", Join(comps, comps.size()));
      return false;
    }
    return true;
  }

  bool Whiteout(int parent, const std::vector<std::string>& comps, std::string* error) {
    const std::string& name = comps.back();
    std::string path = Join(comps, comps.size());
    if (name == kOpaqueMarker) {
      if (fsetxattr(parent, "trusted.overlay.opaque", "y", 1, 0) != 0) {
        *error = Errno("mark opaque (trusted.overlay.opaque)", Join(comps, comps.size() - 1));
        return false;
      }
      return true;
    }
    if (name.rfind(".wh..wh.", 0) == 0) return true;  // aufs bookkeeping, no meaning here
    std::vector<std::string> target = comps;
    target.back() = name.substr(strlen(kWhiteoutPrefix));
    if (target.back().empty() || target.back() == "." || target.back() == "..") {
      *error = "bad whiteout " + path;
      return false;
    }
    if (!RemoveExisting(parent, target, false, error)) return false;
    if (mknodat(parent, target.back().c_str(), S_IFCHR | 0, makedev(0, 0)) != 0) {
      *error = Errno("create whiteout for", Join(target, target.size()));
      return false;
    }
    return true;
  }

  bool Directory(int parent, const std::vector<std::string>& comps, const TarEntry& e, std::string* error) {
    if (!RemoveExisting(parent, comps, true, error)) return false;
    if (mkdirat(parent, comps.back().c_str(), 0700) != 0 && errno != EEXIST) {
      *error = Errno("mkdir", Join(comps, comps.size()));
      return false;
    }
    dirs_.push_back({comps, e});
    return true;
  }

  bool Regular(TarReader* tar, int parent, const std::vector<std::string>& comps, const TarEntry& e,
               std::string* error) {
    std::string path = Join(comps, comps.size());
    if (!RemoveExisting(parent, comps, false, error)) return false;
    Fd fd(openat(parent, comps.back().c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (fd.get() < 0) {
      *error = Errno("create", path);
      return false;
    }
    std::vector<char> buf(128 << 10);
    while (true) {
      size_t got = 0;
      if (!tar->ReadData(buf.data(), buf.size(), &got, error)) return false;
      if (got == 0) break;
      for (size_t off = 0; off < got;) {
        ssize_t w = write(fd.get(), buf.data() + off, got - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) {
          *error = Errno("write", path);
          return false;
        }
        off += static_cast<size_t>(w);
      }
    }
    if (fchown(fd.get(), static_cast<uid_t>(e.uid), static_cast<gid_t>(e.gid)) != 0 ||
        fchmod(fd.get(), e.mode) != 0) {
      *error = Errno("set owner and mode of", path);
      return false;
    }
    if (!SetXattrs(fd.get(), e, path, error)) return false;
    timespec ts[2] = {MTime(e), MTime(e)};
    if (futimens(fd.get(), ts) != 0) {
      *error = Errno("set mtime of", path);
      return false;
    }
    return true;
  }

  bool Symlink(int parent, const std::vector<std::string>& comps, const TarEntry& e, std::string* error) {
    std::string path = Join(comps, comps.size());
    if (e.linkname.empty()) {
      *error = "symlink " + path + " has no target";
      return false;
    }
    if (!RemoveExisting(parent, comps, false, error)) return false;
    const char* name = comps.back().c_str();
    if (symlinkat(e.linkname.c_str(), parent, name) != 0) {
      *error = Errno("symlink", path);
      return false;
    }
    timespec ts[2] = {MTime(e), MTime(e)};
    if (fchownat(parent, name, static_cast<uid_t>(e.uid), static_cast<gid_t>(e.gid), AT_SYMLINK_NOFOLLOW) != 0 ||
        utimensat(parent, name, ts, AT_SYMLINK_NOFOLLOW) != 0) {
      *error = Errno("set owner and mtime of symlink", path);
      return false;
    }
    return true;
  }

  // The link target is resolved inside the root like any path, and linkat
  // without AT_SYMLINK_FOLLOW links a symlink itself, never what it names.
  bool Hardlink(int parent, const std::vector<std::string>& comps, const TarEntry& e, std::string* error) {
    std::string path = Join(comps, comps.size());
    std::vector<std::string> target;
    if (!CleanPath(e.linkname, &target, error)) {
      *error = "hardlink " + path + ": " + *error;
      return false;
    }
    if (target.empty()) {
      *error = "hardlink " + path + " points at the layer root";
      return false;
    }
    if (target == comps) return true;  // a link to itself: already there
    Fd tparent;
    if (!OpenDir(target, target.size() - 1, false, &tparent, error)) {
      *error = "hardlink " + path + " -> " + e.linkname + ": " + *error;
      return false;
    }
    struct stat st;
    if (fstatat(tparent.get(), target.back().c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      *error = Errno("hardlink " + path + " ->", e.linkname);
      return false;
    }
    if (S_ISDIR(st.st_mode)) {
      *error = "hardlink " + path + " points at the directory " + e.linkname;
      return false;
    }
    if (!RemoveExisting(parent, comps, false, error)) return false;
    if (linkat(tparent.get(), target.back().c_str(), parent, comps.back().c_str(), 0) != 0) {
      *error = Errno("hardlink " + path + " ->", e.linkname);
      return false;
    }
    return true;
  }

  bool Node(int parent, const std::vector<std::string>& comps, const TarEntry& e, std::string* error) {
    std::string path = Join(comps, comps.size());
    if (!RemoveExisting(parent, comps, false, error)) return false;
    mode_t kind = e.type == TarEntry::kCharDevice ? S_IFCHR : e.type == TarEntry::kBlockDevice ? S_IFBLK : S_IFIFO;
    dev_t dev = kind == S_IFIFO ? 0 : makedev(e.devmajor, e.devminor);
    const char* name = comps.back().c_str();
    if (mknodat(parent, name, kind | 0600, dev) != 0) {
      *error = Errno("mknod", path);
      return false;
    }
    // Opened with O_PATH|O_NOFOLLOW so that the metadata calls act on the
    // node made just now (opening a device or fifo for real could block).
    Fd fd(openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC));
    std::string proc = "/proc/self/fd/" + std::to_string(fd.get());
    timespec ts[2] = {MTime(e), MTime(e)};
    if (fd.get() < 0 || fchownat(fd.get(), "", static_cast<uid_t>(e.uid), static_cast<gid_t>(e.gid), AT_EMPTY_PATH) != 0 ||
        chmod(proc.c_str(), e.mode) != 0 || utimensat(AT_FDCWD, proc.c_str(), ts, 0) != 0) {
      *error = Errno("set metadata of", path);
      return false;
    }
    return true;
  }

  // trusted.overlay.* is overlayfs's own metadata: a layer may not forge it
  // (redirects, origins); its whiteouts are translated above instead.
  bool SetXattrs(int fd, const TarEntry& e, const std::string& path, std::string* error) {
    for (const auto& [k, v] : e.xattrs) {
      if (k.rfind("trusted.overlay.", 0) == 0) continue;
      if (fsetxattr(fd, k.c_str(), v.data(), v.size(), 0) != 0) {
        if (errno == ENOTSUP || errno == EOPNOTSUPP) continue;  // the file system has no such namespace
        *error = Errno("set xattr " + k + " on", path);
        return false;
      }
    }
    return true;
  }

  int root_;
  std::vector<DirMeta> dirs_;
};

}  // namespace

bool UnpackLayer(Reader* layer, const std::string& dir, UnpackStats* stats, std::string* error) {
  Fd root(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (root.get() < 0) {
    *error = Errno("open", dir);
    return false;
  }
  DecompressReader plain(layer);
  HashingReader hashed(&plain);
  TarReader tar(&hashed);
  Unpacker unpacker(root.get());
  TarEntry e;
  while (tar.Next(&e, error)) {
    if (!unpacker.Apply(&tar, e, error)) {
      *error = "unpack " + e.path + ": " + *error;
      return false;
    }
    stats->entries++;
  }
  if (!error->empty()) return false;
  // The digest covers the whole stream, the zero blocks after the end too.
  if (!Drain(&hashed, error)) return false;
  if (!unpacker.FinishDirectories(error)) return false;
  stats->diff_id = hashed.Digest();
  stats->bytes = hashed.bytes();
  return true;
}

}  // namespace kubit::runtime::image
