// Runtime: the containers of one data dir. Every method works from the
// files under agent/containers/ and the shims' sockets, so any number of
// kubit processes (the agent, a `kubit ctr` beside it, a restarted agent)
// see the same containers: starting kubit again "re-adopts" the running
// ones simply by listing them; a record that says running whose shim is
// gone (checked by pid and start time) turns into status unknown.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "runtime/container/cgroup.h"
#include "runtime/container/exec.h"
#include "runtime/container/spec.h"
#include "runtime/container/state.h"

namespace kubit::runtime::container {

struct ContainerInfo {
  std::string id, image;
  ContainerState state;
};

struct StartOptions {
  // Foreground: the container's output is copied to this process's
  // stdout/stderr too and its stdin is this process's (`ctr run` without -d).
  bool attach = false;
};

struct Started {
  pid_t pid = 0;
  int done_fd = -1;  // with attach: EOF once the container's exit is recorded
};

class Runtime {
 public:
  // data_dir is made absolute. cgroup_root is where the cgroup filesystems are.
  explicit Runtime(const std::string& data_dir, const std::string& cgroup_root = "/sys/fs/cgroup");

  const std::string& data_dir() const { return data_dir_; }

  // Creates the container's directory, spec.json and cgroup, and starts it
  // under a new shim. Returns once its process has exec'd the command, or
  // with the error of the step that failed (then nothing is left behind).
  bool Start(const ContainerSpec& spec, const StartOptions& options, Started* out,
             std::string* error);

  // Every container, sorted by id.
  bool List(std::vector<ContainerInfo>* out, std::string* error);
  bool Get(const std::string& id, ContainerInfo* out, std::string* error);
  bool LoadSpec(const std::string& id, ContainerSpec* out, std::string* error);

  // Sends a signal to the container's first process (through its shim).
  bool Kill(const std::string& id, int signal, std::string* error);
  // Waits for the exit to be recorded, at most timeout_ms (negative: no
  // limit); *exited false on timeout.
  bool Wait(const std::string& id, int timeout_ms, bool* exited, std::string* error);
  // SIGTERM (or `signal`), up to grace_ms for the exit, then SIGKILL.
  bool Stop(const std::string& id, int grace_ms, int signal, std::string* error);
  // Removes an exited container: its cgroup and directory. A running one is
  // refused unless force (then it is killed first).
  bool Remove(const std::string& id, bool force, std::string* error);

  bool Exec(const std::string& id, const ExecOptions& options, int* exit_code,
            std::string* error);
  bool Stats(const std::string& id, CgroupStats* out, std::string* error);

  // The CRI log file of a container (spec.log_path or the default).
  std::string LogPath(const ContainerSpec& spec) const;

 private:
  struct SpecCache;
  // A container's spec, parsed once: spec.json is written when the
  // container is made and never changes (the file's identity and mtime are
  // checked on every read). The kubelet looks at its containers often.
  std::shared_ptr<const ContainerSpec> SharedSpec(const std::string& id, std::string* error);
  std::string CgroupOf(const ContainerSpec& spec) const;
  std::string data_dir_;
  Cgroups cgroups_;
  std::shared_ptr<SpecCache> specs_;  // shared by copies of this Runtime
};

}  // namespace kubit::runtime::container
