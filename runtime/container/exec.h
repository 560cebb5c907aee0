// Exec: another process in a running container. It joins the cgroup and
// the namespaces of the container's first process (setns on
// /proc/<pid>/ns/*; the pid namespace takes effect for a child, hence a
// second fork), then takes the same path as that first process: the user
// resolved in the container's /etc/passwd, its capabilities, no_new_privs
// and seccomp profile, its environment plus the exec's.
#pragma once

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

#include "runtime/container/spec.h"

namespace kubit::runtime::container {

struct ExecOptions {
  std::vector<std::string> args;
  std::vector<std::string> env;  // added to the container's ("K=V")
  std::string user;              // empty: the container's
  std::string working_dir;       // empty: the container's
  bool tty = false;              // a new pty, copied to and from the fds below
  int stdin_fd = 0, stdout_fd = 1, stderr_fd = 2;
  // With tty: called with the pty's master before the process starts, so
  // that a remote terminal's size is set on it (TIOCSWINSZ) before the
  // process can ask. The fd is closed when ExecInContainer returns: a
  // caller that resizes from another thread keeps a dup of it.
  std::function<void(int pty_master)> on_pty;
};

struct ExecTarget {
  const ContainerSpec* spec = nullptr;
  pid_t pid = 0;                          // the container's first process
  std::vector<std::string> cgroup_dirs;  // its cgroup, every hierarchy
};

// Runs the process to its end; *exit_code as the container's (128 + signal
// when killed). False when it could not be started (the error names the
// step: "setns mnt: ...", "exec foo: executable file not found in $PATH").
bool ExecInContainer(const ExecTarget& target, const ExecOptions& options, int* exit_code,
                     std::string* error);

}  // namespace kubit::runtime::container
