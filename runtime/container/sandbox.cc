#include "runtime/container/sandbox.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sched.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>

#include "runtime/container/layout.h"
#include "runtime/container/process_setup.h"

namespace kubit::runtime::container {
namespace {

constexpr const char* kKinds[] = {"net", "ipc", "uts"};

}  // namespace

bool CreateSandbox(const std::string& data_dir, const std::string& id,
                   const std::string& hostname, SandboxPaths* out, std::string* error) {
  std::string dir = SandboxDir(data_dir, id);
  if (!MakeDirsInRoot(SandboxesDir(data_dir), error)) return false;
  if (mkdir(dir.c_str(), 0700) != 0) {
    *error = errno == EEXIST ? "sandbox " + id + " already exists" : Errno("mkdir " + dir);
    return false;
  }
  // The child makes the namespaces and waits on `hold` while the parent
  // binds them; its exit afterwards does not end them.
  int hold[2], ready[2];
  if (pipe2(hold, O_CLOEXEC) != 0 || pipe2(ready, O_CLOEXEC) != 0) {
    *error = Errno("pipe");
    rmdir(dir.c_str());
    return false;
  }
  pid_t child = fork();
  if (child == 0) {
    // Other threads make sandboxes (and start shims) at the same time:
    // this child must not keep their pipes or sockets open, or their
    // children would wait on it and it on them. It keeps its two ends only.
    int keep_low = std::min(hold[0], ready[1]), keep_high = std::max(hold[0], ready[1]);
    if (keep_low > 3) close_range(3, keep_low - 1, 0);
    if (keep_high > keep_low + 1) close_range(keep_low + 1, keep_high - 1, 0);
    close_range(keep_high + 1, ~0U, 0);
    char ok = unshare(CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) == 0 &&
              (hostname.empty() || sethostname(hostname.c_str(), hostname.size()) == 0);
    ssize_t unused = write(ready[1], &ok, 1);
    (void)unused;
    char c;
    unused = read(hold[0], &c, 1);
    _exit(0);
  }
  close(hold[0]);
  close(ready[1]);
  char ok = 0;
  bool good = child > 0 && read(ready[0], &ok, 1) == 1 && ok;
  if (!good) *error = child < 0 ? Errno("fork") : "unshare net/ipc/uts or sethostname failed";
  close(ready[0]);
  std::string paths[3];
  for (int i = 0; good && i < 3; i++) {
    paths[i] = dir + "/" + kKinds[i];
    std::string source = "/proc/" + std::to_string(child) + "/ns/" + kKinds[i];
    int fd = open(paths[i].c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
      *error = Errno("create " + paths[i]);
      good = false;
      break;
    }
    close(fd);
    if (mount(source.c_str(), paths[i].c_str(), nullptr, MS_BIND, nullptr) != 0) {
      *error = Errno("bind " + source + " on " + paths[i]);
      good = false;
    }
  }
  // A byte, not just the close, releases the child: a process forked by
  // another thread in the meantime may hold a copy of hold[1].
  char release = 1;
  if (write(hold[1], &release, 1) != 1) {
    // The child is gone already (it read EOF or died): nothing to release.
  }
  close(hold[1]);
  if (child > 0) waitpid(child, nullptr, 0);
  if (!good) {
    std::string ignored;
    RemoveSandbox(data_dir, id, &ignored);
    return false;
  }
  out->net = paths[0];
  out->ipc = paths[1];
  out->uts = paths[2];
  return true;
}

bool RemoveSandbox(const std::string& data_dir, const std::string& id, std::string* error) {
  std::string dir = SandboxDir(data_dir, id);
  for (const char* kind : kKinds) {
    std::string path = dir + "/" + kind;
    if (umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
      *error = Errno("umount " + path);
      return false;
    }
    if (unlink(path.c_str()) != 0 && errno != ENOENT) {
      *error = Errno("remove " + path);
      return false;
    }
  }
  if (rmdir(dir.c_str()) != 0 && errno != ENOENT) {
    *error = Errno("rmdir " + dir);
    return false;
  }
  return true;
}

bool SandboxAlive(const std::string& data_dir, const std::string& id) {
  struct statfs st;
  return statfs((SandboxDir(data_dir, id) + "/net").c_str(), &st) == 0 && st.f_type == NSFS_MAGIC;
}

}  // namespace kubit::runtime::container
