#include "runtime/container/container_init.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "runtime/container/overlay_mount.h"
#include "runtime/container/process_setup.h"
#include "runtime/container/secure_join.h"

namespace kubit::runtime::container {

const char* const kMaskedPaths[] = {
    "/proc/acpi",        "/proc/asound",     "/proc/kcore",       "/proc/keys",
    "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
    "/proc/scsi",        "/sys/firmware",    "/sys/devices/virtual/powercap", nullptr,
};
const char* const kReadonlyPaths[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", nullptr,
};

namespace {

struct Device {
  const char* name;
  unsigned major, minor;
};
// The OCI runtime spec's default devices (config-linux.md).
constexpr Device kDevices[] = {
    {"null", 1, 3}, {"zero", 1, 5}, {"full", 1, 7}, {"random", 1, 8}, {"urandom", 1, 9},
    {"tty", 5, 0},
};

// close_range(2) with CLOSE_RANGE_CLOEXEC (Linux 5.11); older kernels get
// the same through /proc/self/fd.
void MarkDescriptorsCloseOnExec() {
  constexpr unsigned kCloseRangeCloexec = 1u << 2;
  if (syscall(SYS_close_range, 3u, ~0u, kCloseRangeCloexec) == 0) return;
  for (int fd = 3; fd < 1024; fd++) {
    int flags = fcntl(fd, F_GETFD);
    if (flags >= 0) fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
  }
}

// Every step shares the config and its error text.
class Init {
 public:
  explicit Init(const InitConfig& c) : c_(c), spec_(*c.spec), rootfs_(c.container_dir + "/rootfs") {}
  [[noreturn]] void Run();

 private:
  bool JoinNamespaces();
  bool WaitForParent();
  bool UnshareCgroup();
  bool SetHostname();
  bool MakeMountsPrivate();
  bool MountRootfs();
  bool MountProc();
  bool MountDev();
  bool MountSys();
  bool MountCgroupFs();
  bool MountUserMounts();
  bool BindConsole();
  bool PivotRoot();
  bool MaskPaths();
  bool ReadonlyPaths();
  bool MakeWorkingDir();
  bool ReadonlyRootfs();
  bool SetupStdio();

  // Mounts onto `target` inside the rootfs (resolved with SecureJoin);
  // creates the target as a directory, or a file when `file` is set.
  bool MountIn(const char* source, const std::string& target, const char* type,
               unsigned long flags, const std::string& data, bool file = false);
  bool Remount(const std::string& path, unsigned long flags);
  bool Fail(const std::string& message) {
    error_ = message;
    return false;
  }
  bool FailErrno(const std::string& what) { return Fail(Errno(what)); }

  const InitConfig& c_;
  const ContainerSpec& spec_;
  std::string rootfs_, error_;
  std::vector<sock_filter> seccomp_;  // made before the wait for the cgroup
};

bool Init::JoinNamespaces() {
  struct Kind {
    const std::string& path;
    int type;
    const char* name;
  } kinds[] = {
      {spec_.namespaces.network, CLONE_NEWNET, "network"},
      {spec_.namespaces.ipc, CLONE_NEWIPC, "ipc"},
      {spec_.namespaces.uts, CLONE_NEWUTS, "uts"},
      {spec_.namespaces.cgroup, CLONE_NEWCGROUP, "cgroup"},
  };
  for (const auto& k : kinds) {
    if (k.path.empty() || k.path == kHostNamespace) continue;
    int fd = open(k.path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return FailErrno(std::string("open ") + k.name + " namespace " + k.path);
    int rc = setns(fd, k.type);
    close(fd);
    if (rc != 0) return FailErrno(std::string("setns ") + k.name + " " + k.path);
  }
  return true;
}

bool Init::WaitForParent() {
  char b;
  ssize_t n;
  do n = read(c_.sync_fd, &b, 1);
  while (n < 0 && errno == EINTR);
  close(c_.sync_fd);
  if (n != 1) return Fail("the launcher went away before the container was placed in its cgroup");
  return true;
}

bool Init::UnshareCgroup() {
  if (!spec_.namespaces.cgroup.empty()) return true;
  if (unshare(CLONE_NEWCGROUP) != 0) return FailErrno("unshare cgroup namespace");
  return true;
}

bool Init::SetHostname() {
  if (!spec_.namespaces.uts.empty()) return true;
  std::string name = spec_.hostname.empty() ? spec_.id.substr(0, 12) : spec_.hostname;
  if (sethostname(name.c_str(), name.size()) != 0) return FailErrno("sethostname " + name);
  return true;
}

bool Init::MakeMountsPrivate() {
  if (mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    return FailErrno("make / private (mount MS_REC|MS_PRIVATE)");
  return true;
}

bool Init::MountRootfs() {
  if (!MountOverlay(spec_.layers, c_.container_dir + "/upper", c_.container_dir + "/work", rootfs_, &error_))
    return false;
  // pivot_root needs the new root to be a mount point of its own; the
  // overlay is one.
  return true;
}

bool Init::MountIn(const char* source, const std::string& target, const char* type,
                   unsigned long flags, const std::string& data, bool file) {
  std::string path;
  if (!SecureJoin(rootfs_, target, &path, &error_)) return false;
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) {
    size_t slash = path.rfind('/');
    std::string parent = path.substr(0, slash);
    if (!MakeDirsInRoot(parent, &error_)) return false;
    if (file) {
      int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
      if (fd < 0) return FailErrno("create mount point " + path);
      close(fd);
    } else if (mkdir(path.c_str(), 0755) != 0) {
      return FailErrno("mkdir " + path);
    }
  }
  if (mount(source, path.c_str(), type, flags, data.empty() ? nullptr : data.c_str()) != 0)
    return FailErrno(std::string("mount ") + (type ? type : source) + " on " + path);
  return true;
}

bool Init::Remount(const std::string& path, unsigned long flags) {
  if (mount(nullptr, path.c_str(), nullptr, MS_REMOUNT | MS_BIND | flags, nullptr) != 0)
    return FailErrno("remount read-only " + path);
  return true;
}

bool Init::MountProc() {
  return MountIn("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "");
}

bool Init::MountDev() {
  if (!MountIn("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k"))
    return false;
  std::string dev;
  if (!SecureJoin(rootfs_, "/dev", &dev, &error_)) return false;
  for (const auto& d : kDevices) {
    std::string path = dev + "/" + d.name;
    if (mknod(path.c_str(), S_IFCHR | 0666, makedev(d.major, d.minor)) != 0)
      return FailErrno("mknod " + path);
    // The umask may have cut the mode.
    if (chmod(path.c_str(), 0666) != 0) return FailErrno("chmod " + path);
  }
  struct Link {
    const char* target;
    const char* name;
  } links[] = {{"/proc/self/fd", "fd"},         {"/proc/self/fd/0", "stdin"},
               {"/proc/self/fd/1", "stdout"},   {"/proc/self/fd/2", "stderr"},
               {"pts/ptmx", "ptmx"},            {"/proc/kcore", "core"}};
  for (const auto& l : links) {
    std::string path = dev + "/" + l.name;
    if (symlink(l.target, path.c_str()) != 0) return FailErrno("symlink " + path);
  }
  return MountIn("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
                 "newinstance,ptmxmode=0666,mode=0620,gid=5") &&
         MountIn("shm", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                 "mode=1777,size=65536k") &&
         MountIn("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, "");
}

bool Init::MountSys() {
  unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  if (!spec_.security.privileged) flags |= MS_RDONLY;
  // sysfs shows the network devices of the mounter's network namespace;
  // in the host's, a fresh sysfs mount is refused, so bind the host's.
  if (spec_.namespaces.network == kHostNamespace)
    return MountIn("/sys", "/sys", nullptr, MS_BIND | MS_REC, "") &&
           (spec_.security.privileged || Remount(rootfs_ + "/sys", flags));
  return MountIn("sysfs", "/sys", "sysfs", flags, "");
}

bool Init::MountCgroupFs() {
  // With a cgroup namespace the container sees its own cgroup as the root.
  // v1 would need one mount per controller; only v2 is mounted for now.
  if (!c_.cgroup_v2 || !spec_.namespaces.cgroup.empty()) return true;
  unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RELATIME;
  if (!spec_.security.privileged) flags |= MS_RDONLY;
  return MountIn("cgroup2", "/sys/fs/cgroup", "cgroup2", flags, "");
}

bool Init::MountUserMounts() {
  for (const auto& m : spec_.mounts) {
    if (m.type == "tmpfs") {
      std::string data;
      for (const auto& o : m.options) data += (data.empty() ? "" : ",") + o;
      unsigned long flags = MS_NOSUID | MS_NODEV | (m.read_only ? MS_RDONLY : 0);
      if (!MountIn("tmpfs", m.destination, "tmpfs", flags, data)) return false;
      continue;
    }
    struct stat st;
    if (stat(m.source.c_str(), &st) != 0) return FailErrno("stat bind mount source " + m.source);
    unsigned long extra = 0;
    for (const auto& o : m.options) {
      if (o == "nosuid") extra |= MS_NOSUID;
      else if (o == "nodev") extra |= MS_NODEV;
      else if (o == "noexec") extra |= MS_NOEXEC;
      else return Fail("mount " + m.destination + ": unknown bind option \"" + o + "\"");
    }
    unsigned long flags = MS_BIND | (m.recursive ? MS_REC : 0);
    if (!MountIn(m.source.c_str(), m.destination, nullptr, flags, "", !S_ISDIR(st.st_mode)))
      return false;
    if (m.read_only || extra) {
      std::string path;
      if (!SecureJoin(rootfs_, m.destination, &path, &error_)) return false;
      if (!Remount(path, extra | (m.read_only ? MS_RDONLY : 0))) return false;
    }
  }
  return true;
}

bool Init::BindConsole() {
  if (c_.console.empty()) return true;
  return MountIn(c_.console.c_str(), "/dev/console", nullptr, MS_BIND, "", true);
}

bool Init::PivotRoot() {
  // pivot_root(".", ".") stacks the old root on the new one; detaching it
  // leaves the new root alone, with no directory needed for the old one.
  if (chdir(rootfs_.c_str()) != 0) return FailErrno("chdir " + rootfs_);
  if (syscall(SYS_pivot_root, ".", ".") != 0) return FailErrno("pivot_root " + rootfs_);
  if (umount2(".", MNT_DETACH) != 0) return FailErrno("umount the old root");
  if (chdir("/") != 0) return FailErrno("chdir /");
  return true;
}

bool Init::MaskPaths() {
  if (spec_.security.privileged) return true;
  for (const char* const* p = kMaskedPaths; *p; p++) {
    struct stat st;
    if (stat(*p, &st) != 0) continue;  // nothing to hide
    int rc = S_ISDIR(st.st_mode)
                 ? mount("tmpfs", *p, "tmpfs", MS_RDONLY, nullptr)
                 : mount("/dev/null", *p, nullptr, MS_BIND, nullptr);
    if (rc != 0) return FailErrno(std::string("mask ") + *p);
  }
  return true;
}

bool Init::ReadonlyPaths() {
  if (spec_.security.privileged) return true;
  for (const char* const* p = kReadonlyPaths; *p; p++) {
    if (access(*p, F_OK) != 0) continue;
    if (mount(*p, *p, nullptr, MS_BIND | MS_REC, nullptr) != 0)
      return FailErrno(std::string("bind ") + *p);
    if (!Remount(*p, MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)) return false;
  }
  return true;
}

bool Init::MakeWorkingDir() { return MakeDirsInRoot(spec_.working_dir, &error_); }

bool Init::ReadonlyRootfs() {
  if (!spec_.security.read_only_rootfs) return true;
  return Remount("/", MS_RDONLY);
}

bool Init::SetupStdio() {
  if (setsid() < 0) return FailErrno("setsid");
  if (!c_.console.empty() && ioctl(c_.stdin_fd, TIOCSCTTY, 0) != 0)
    return FailErrno("ioctl TIOCSCTTY");
  int fds[3] = {c_.stdin_fd, c_.stdout_fd, c_.stderr_fd};
  for (int i = 0; i < 3; i++)
    if (dup2(fds[i], i) < 0) return FailErrno("dup2 stdio");
  return true;
}

void Init::Run() {
  // The launcher's move of this process into its cgroup costs an RCU grace
  // period on cgroup v1 (milliseconds): the mounts that do not depend on the
  // cgroup and the seccomp program go on meanwhile, and the wait comes only
  // before the cgroup namespace is made.
  bool ok = JoinNamespaces() && SetHostname() && MakeMountsPrivate() && MountRootfs() &&
            MountProc() && MountDev() && MountSys() && PrepareSeccomp(spec_, &seccomp_, &error_) &&
            WaitForParent() && UnshareCgroup() &&
            MountCgroupFs() && MountUserMounts() && BindConsole() && PivotRoot() &&
            MaskPaths() && ReadonlyPaths() && MakeWorkingDir() && ReadonlyRootfs() &&
            SetupStdio();
  if (ok) {
    ProcessIdentity id;
    ok = ResolveIdentity(spec_, spec_.user, &id, &error_);
    id.seccomp_program = std::move(seccomp_);
    if (ok && chdir(spec_.working_dir.c_str()) != 0) ok = FailErrno("chdir " + spec_.working_dir);
    std::string hostname = spec_.hostname.empty() ? spec_.id.substr(0, 12) : spec_.hostname;
    if (!spec_.namespaces.uts.empty()) {
      char buf[256] = {};
      gethostname(buf, sizeof(buf) - 1);
      hostname = buf;
    }
    std::vector<std::string> env = ProcessEnv(spec_.env, id.user.home, hostname, spec_.tty);
    // Every descriptor but stdio goes at execve (the error pipe among them:
    // its EOF tells the launcher that the exec happened).
    if (ok) MarkDescriptorsCloseOnExec();
    if (ok && (ok = ApplyIdentity(id, spec_.additional_gids, &error_))) ExecProcess(spec_.args, env, &error_);
  }
  ssize_t unused = write(c_.error_fd, error_.data(), error_.size());
  (void)unused;
  _exit(127);
}

}  // namespace

void RunContainerInit(const InitConfig& config) { Init(config).Run(); }

}  // namespace kubit::runtime::container
