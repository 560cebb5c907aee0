#include "runtime/container/overlay_mount.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/mount.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <unistd.h>

namespace kubit::runtime::container {

namespace {

// What mount(2) takes as options: one page, with its terminating NUL.
constexpr size_t kMaxOptions = 4095;

std::string Join(const std::vector<std::string>& layers) {
  // overlayfs wants the top layer first.
  std::string lower;
  for (auto it = layers.rbegin(); it != layers.rend(); ++it) lower += (lower.empty() ? "" : ":") + *it;
  return lower;
}

std::string Options(const std::string& lower, const std::string& upper, const std::string& work) {
  return "lowerdir=" + lower + ",upperdir=" + upper + ",workdir=" + work;
}

std::string Errno(const std::string& what) { return what + ": " + strerror(errno); }

// The directory every layer lies in, when they share one.
std::string CommonParent(const std::vector<std::string>& layers) {
  std::string parent;
  for (const auto& l : layers) {
    size_t slash = l.rfind('/');
    if (slash == std::string::npos || slash == 0) return "";
    std::string p = l.substr(0, slash);
    if (!parent.empty() && p != parent) return "";
    parent = p;
  }
  return parent;
}

bool MountFromDir(const std::string& dir, const std::string& options, const std::string& target,
                  std::string* error) {
  int cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cwd < 0 || chdir(dir.c_str()) != 0) {
    *error = Errno("chdir " + dir);
    if (cwd >= 0) close(cwd);
    return false;
  }
  bool ok = mount("overlay", target.c_str(), "overlay", 0, options.c_str()) == 0;
  if (!ok) *error = Errno("mount overlay (" + std::to_string(options.size()) + " bytes of options, layers relative to " + dir + ") on " + target);
  if (fchdir(cwd) != 0 && ok) {
    *error = Errno("fchdir back");
    ok = false;
  }
  close(cwd);
  return ok;
}

// fsopen/fsconfig/fsmount/move_mount, with one "lowerdir+" per layer.
bool MountLayerByLayer(const std::vector<std::string>& layers, const std::string& upper, const std::string& work,
                       const std::string& target, std::string* error) {
  int fs = static_cast<int>(syscall(SYS_fsopen, "overlay", FSOPEN_CLOEXEC));
  if (fs < 0) {
    *error = Errno("fsopen overlay (a stack of " + std::to_string(layers.size()) + " layers needs it)");
    return false;
  }
  auto set = [&](const char* key, const std::string& value) {
    if (syscall(SYS_fsconfig, fs, FSCONFIG_SET_STRING, key, value.c_str(), 0) == 0) return true;
    *error = Errno(std::string("fsconfig overlay ") + key + "=" + value);
    return false;
  };
  bool ok = true;
  // "lowerdir+" appends below the layers given so far: top layer first.
  for (auto it = layers.rbegin(); ok && it != layers.rend(); ++it) ok = set("lowerdir+", *it);
  ok = ok && set("upperdir", upper) && set("workdir", work);
  if (ok && syscall(SYS_fsconfig, fs, FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0) {
    *error = Errno("fsconfig overlay create");
    ok = false;
  }
  int mnt = ok ? static_cast<int>(syscall(SYS_fsmount, fs, FSMOUNT_CLOEXEC, 0)) : -1;
  if (ok && mnt < 0) {
    *error = Errno("fsmount overlay");
    ok = false;
  }
  if (ok && syscall(SYS_move_mount, mnt, "", AT_FDCWD, target.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) {
    *error = Errno("move_mount overlay on " + target);
    ok = false;
  }
  if (mnt >= 0) close(mnt);
  close(fs);
  return ok;
}

}  // namespace

bool MountOverlay(const std::vector<std::string>& layers, const std::string& upper, const std::string& work,
                  const std::string& target, std::string* error) {
  std::string options = Options(Join(layers), upper, work);
  if (options.size() <= kMaxOptions) {
    if (mount("overlay", target.c_str(), "overlay", 0, options.c_str()) == 0) return true;
    *error = Errno("mount overlay (" + options + ") on " + target);
    return false;
  }
  std::string parent = CommonParent(layers);
  if (!parent.empty()) {
    std::vector<std::string> relative;
    for (const auto& l : layers) relative.push_back(l.substr(parent.size() + 1));
    options = Options(Join(relative), upper, work);
    if (options.size() <= kMaxOptions) return MountFromDir(parent, options, target, error);
  }
  return MountLayerByLayer(layers, upper, work, target, error);
}

}  // namespace kubit::runtime::container
