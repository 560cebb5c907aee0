// Launch: starts a container whose dirs and cgroup exist (runtime.cc made
// them) under a new shim, and returns once its process runs or with the
// error of the step that failed.
//
//   caller ── fork ──▶ P1: setsid, fork, exit   (so the shim is nobody's child
//                       │                       but init's and outlives kubit)
//                       ▼
//                      P2: child subreaper; stdio pipes or a pty; clone(new
//                          namespaces) ──▶ C: container_init.h steps, execve
//                      P2: C into its cgroup, "go" to C, EOF of C's error
//                          pipe = execve done; state file "running";
//                          "ok" to the caller; execve /proc/self/exe shim ...
//
// P2 becomes the shim by exec: it stays C's parent (so it reaps C), and the
// exec gives it a fresh, small address space instead of a copy of the
// caller's. The caller's pipe from P2 stays open in the shim until it exits:
// its EOF is the "container finished and state written" signal.
#pragma once

#include <sys/types.h>

#include <string>

#include "runtime/container/spec.h"

namespace kubit::runtime::container {

struct LaunchConfig {
  const ContainerSpec* spec = nullptr;
  std::string container_dir, log_path, oom_file, cgroup;
  std::string cgroup_root = "/sys/fs/cgroup";
  // Foreground: the container's output is also copied to the caller's
  // stdout/stderr and its stdin is the caller's (through the pty with tty).
  bool attach = false;
};

struct Launched {
  pid_t pid = 0;       // the container's first process
  pid_t shim_pid = 0;
  int done_fd = -1;    // with attach: reaches EOF when the shim has exited
};

bool Launch(const LaunchConfig& config, Launched* out, std::string* error);

}  // namespace kubit::runtime::container
