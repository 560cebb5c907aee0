// ContainerSpec: everything runtime/container needs to run one container,
// in plain terms (paths, argv, numbers). Callers (the kubelet, `kubit ctr`)
// merge the image config and their own settings into it; nothing here knows
// of images or Kubernetes objects.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace kubit::runtime::container {

struct Mount {
  std::string type = "bind";  // "bind" or "tmpfs"
  std::string source;         // host path for bind; ignored for tmpfs
  std::string destination;    // absolute path inside the container
  bool read_only = false;
  bool recursive = true;      // rbind (the default, as Docker) or bind
  // tmpfs data options ("size=64m", "mode=1777"); for bind: nosuid, nodev, noexec.
  std::vector<std::string> options;
};

// A namespace kind is either created for the container (""), kept from the
// host ("host"), or joined through a path: a pod sandbox's namespace file
// (agent/sandboxes/<id>/net) or /proc/<pid>/ns/<kind>.
struct Namespaces {
  std::string network, ipc, uts, pid, cgroup;
};
inline constexpr const char* kHostNamespace = "host";

struct Resources {
  int64_t cpu_shares = 0;     // cgroup v1 shares, 2..262144; 0: unset
  int64_t cpu_quota_us = 0;   // with cpu_period_us; 0: no limit
  int64_t cpu_period_us = 0;  // 0: the kernel's (100000)
  int64_t memory_limit = 0;   // bytes; 0: no limit
  int64_t pids_limit = 0;     // 0: no limit
};

enum class SeccompMode { kRuntimeDefault, kUnconfined };

struct Security {
  bool privileged = false;  // every capability, all devices, no seccomp, no masked paths
  std::vector<std::string> cap_add, cap_drop;  // "NET_ADMIN", "CAP_SYS_TIME", "ALL"
  bool no_new_privs = false;
  SeccompMode seccomp = SeccompMode::kRuntimeDefault;
  bool read_only_rootfs = false;
};

struct ContainerSpec {
  std::string id;     // [A-Za-z0-9][A-Za-z0-9_.-]*, at most 128 characters
  std::string image;  // shown by `ctr ps`; the runtime does not resolve it
  // Unpacked layer directories, lowest first; stacked with overlayfs under a
  // per-container upper directory. One directory works too.
  std::vector<std::string> layers;

  std::vector<std::string> args;  // argv; args[0] looked up in PATH when it has no '/'
  std::vector<std::string> env;   // "K=V"; PATH and HOME are added when missing
  std::string working_dir = "/";  // created when missing, as runc does
  // "uid", "uid:gid", "name", "name:group" (names from the rootfs's
  // /etc/passwd and /etc/group); empty: root.
  std::string user;
  std::vector<uint32_t> additional_gids;
  bool tty = false;
  bool stdin_open = false;  // keep the container's stdin open (attach)

  std::string hostname;  // with a new UTS namespace; default: the id's first 12 characters
  std::vector<Mount> mounts;
  Namespaces namespaces;
  Resources resources;
  Security security;

  // Cgroup below kubit's own for this data dir ("pod1234"); empty: directly there.
  std::string cgroup_parent;

  // Where the shim writes the CRI-format log; empty: agent/containers/<id>/container.log.
  std::string log_path;
  int64_t log_max_bytes = 10 << 20;  // rotate when the file grows past this
  int log_max_files = 5;             // the live file plus rotated ones
};

// Checks a spec before anything is created: id form, absolute paths, known
// mount types, limits in range, capability names. False with *error set.
bool ValidateSpec(const ContainerSpec& spec, std::string* error);

// Parses a `--mount` value, containerd's ctr syntax:
// "type=bind,src=/a,dst=/b,options=rbind:ro" or
// "type=tmpfs,dst=/t,options=size=64m".
bool ParseMountFlag(const std::string& text, Mount* out, std::string* error);

}  // namespace kubit::runtime::container
