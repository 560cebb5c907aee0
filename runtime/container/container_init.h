// The container's first process, from clone to execve: runs in the child
// the launcher cloned into new namespaces, one named step after another in
// the order the kernel needs them (as crun does):
//
//   JoinNamespaces      setns into the namespaces the spec names by path
//   SetHostname
//   MakeMountsPrivate   nothing of ours propagates back to the host
//   MountRootfs         overlay of the layers (upper/work in the container dir)
//   MountProc, MountDev, MountSys
//   WaitForParent       the launcher has put the process into its cgroup (on
//                       cgroup v1 that move waits an RCU grace period: the
//                       mounts above run meanwhile)
//   UnshareCgroup       a cgroup namespace rooted at that cgroup
//   MountCgroupFs, MountUserMounts, BindConsole
//   PivotRoot           and detach the old root
//   MaskPaths, ReadonlyPaths, MakeWorkingDir, ReadonlyRootfs
//   SetupStdio          new session, the tty as controlling terminal
//   ApplyIdentity       (process_setup.h) and execve
//
// A failure writes "<step error>" (the syscall and the path, e.g. "mount
// proc on /var/lib/kubit/agent/containers/x/rootfs/proc: Operation not
// permitted") to error_fd and exits 127.
#pragma once

#include <string>

#include "runtime/container/spec.h"

namespace kubit::runtime::container {

struct InitConfig {
  const ContainerSpec* spec = nullptr;
  std::string container_dir;  // holds rootfs/, upper/, work/
  std::string console;        // the pty slave's host path with a tty; else empty
  int stdin_fd = -1, stdout_fd = -1, stderr_fd = -1;  // become 0, 1, 2
  int sync_fd = -1;   // one byte from the launcher: the cgroup is set
  int error_fd = -1;  // close-on-exec: EOF at execve, or the error text
  bool cgroup_v2 = false;
};

[[noreturn]] void RunContainerInit(const InitConfig& config);

// The paths Docker and the OCI runtime spec (config-linux.md) mask and make
// read-only inside a non-privileged container.
extern const char* const kMaskedPaths[];
extern const char* const kReadonlyPaths[];

}  // namespace kubit::runtime::container
