#include "runtime/container/spec.h"

#include "runtime/container/capabilities.h"

namespace kubit::runtime::container {
namespace {

bool ValidId(const std::string& id) {
  if (id.empty() || id.size() > 128) return false;
  for (size_t i = 0; i < id.size(); i++) {
    char c = id[i];
    bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-'))) return false;
  }
  return true;
}

bool ValidNamespace(const char* kind, const std::string& ns, std::string* error) {
  if (ns.empty() || ns == kHostNamespace || ns[0] == '/') return true;
  *error = std::string(kind) + " namespace \"" + ns +
           "\": want empty (a new one), \"host\" or an absolute path to join";
  return false;
}

std::vector<std::string> Split(const std::string& s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (true) {
    size_t end = s.find(sep, start);
    out.push_back(s.substr(start, end - start));
    if (end == std::string::npos) return out;
    start = end + 1;
  }
}

}  // namespace

bool ValidateSpec(const ContainerSpec& spec, std::string* error) {
  if (!ValidId(spec.id)) {
    *error = "invalid container id \"" + spec.id +
             "\": want letters, digits, '_', '.', '-' (not first), at most 128";
    return false;
  }
  if (spec.layers.empty()) {
    *error = "container " + spec.id + ": no rootfs layers";
    return false;
  }
  for (const auto& l : spec.layers)
    if (l.empty() || l[0] != '/' || l.find(':') != std::string::npos ||
        l.find(',') != std::string::npos) {
      *error = "layer directory \"" + l + "\": want an absolute path without ':' or ','";
      return false;
    }
  if (spec.args.empty() || spec.args[0].empty()) {
    *error = "container " + spec.id + ": no command (the image has no entrypoint or cmd)";
    return false;
  }
  for (const auto& e : spec.env)
    if (e.find('=') == std::string::npos || e[0] == '=') {
      *error = "environment entry \"" + e + "\": want KEY=VALUE";
      return false;
    }
  if (spec.working_dir.empty() || spec.working_dir[0] != '/') {
    *error = "working directory \"" + spec.working_dir + "\" is not absolute";
    return false;
  }
  for (const auto& m : spec.mounts) {
    if (m.type != "bind" && m.type != "tmpfs") {
      *error = "mount " + m.destination + ": unknown type \"" + m.type + "\" (want bind or tmpfs)";
      return false;
    }
    if (m.destination.empty() || m.destination[0] != '/') {
      *error = "mount destination \"" + m.destination + "\" is not absolute";
      return false;
    }
    if (m.type == "bind" && (m.source.empty() || m.source[0] != '/')) {
      *error = "bind mount source \"" + m.source + "\" is not absolute";
      return false;
    }
  }
  const Namespaces& ns = spec.namespaces;
  if (!ValidNamespace("network", ns.network, error) || !ValidNamespace("ipc", ns.ipc, error) ||
      !ValidNamespace("uts", ns.uts, error) || !ValidNamespace("pid", ns.pid, error) ||
      !ValidNamespace("cgroup", ns.cgroup, error))
    return false;
  if (!spec.hostname.empty() && !ns.uts.empty()) {
    *error = "a hostname needs a new UTS namespace";
    return false;
  }
  const Resources& r = spec.resources;
  if (r.cpu_shares != 0 && (r.cpu_shares < 2 || r.cpu_shares > 262144)) {
    *error = "cpu shares " + std::to_string(r.cpu_shares) + " out of range 2..262144";
    return false;
  }
  if (r.cpu_quota_us < 0 || r.cpu_period_us < 0 || r.memory_limit < 0 || r.pids_limit < 0) {
    *error = "negative resource limit";
    return false;
  }
  if (r.cpu_quota_us != 0 && r.cpu_quota_us < 1000) {
    *error = "cpu quota " + std::to_string(r.cpu_quota_us) + " us is under the kernel's 1000 us";
    return false;
  }
  if (r.cpu_period_us != 0 && (r.cpu_period_us < 1000 || r.cpu_period_us > 1000000)) {
    *error = "cpu period " + std::to_string(r.cpu_period_us) + " us out of range 1000..1000000";
    return false;
  }
  if (r.memory_limit != 0 && r.memory_limit < (1 << 20)) {
    *error = "memory limit " + std::to_string(r.memory_limit) + " bytes is under 1 MiB";
    return false;
  }
  CapSet caps;
  if (!ComputeCapabilities(spec.security.privileged, spec.security.cap_add,
                           spec.security.cap_drop, 63, &caps, error))
    return false;
  if (spec.log_max_bytes < 4096 || spec.log_max_files < 1) {
    *error = "log rotation: want at least 4096 bytes and 1 file";
    return false;
  }
  if (spec.cgroup_parent.find("..") != std::string::npos || spec.cgroup_parent[0] == '/') {
    *error = "cgroup parent \"" + spec.cgroup_parent + "\" must be relative, without '..'";
    return false;
  }
  return true;
}

bool ParseMountFlag(const std::string& text, Mount* out, std::string* error) {
  Mount m;
  m.type.clear();
  for (const auto& field : Split(text, ',')) {
    size_t eq = field.find('=');
    if (eq == std::string::npos) {
      *error = "mount \"" + text + "\": field \"" + field + "\" is not key=value";
      return false;
    }
    std::string key = field.substr(0, eq), value = field.substr(eq + 1);
    if (key == "type") {
      m.type = value;
    } else if (key == "src" || key == "source") {
      m.source = value;
    } else if (key == "dst" || key == "destination" || key == "target") {
      m.destination = value;
    } else if (key == "options") {
      for (const auto& o : Split(value, ':')) {
        if (o == "ro") m.read_only = true;
        else if (o == "rw") m.read_only = false;
        else if (o == "rbind") m.recursive = true;
        else if (o == "bind") m.recursive = false;
        else if (!o.empty()) m.options.push_back(o);
      }
    } else {
      *error = "mount \"" + text + "\": unknown field \"" + key + "\"";
      return false;
    }
  }
  if (m.type.empty()) m.type = "bind";
  if (m.type == "tmpfs") m.source = "tmpfs";
  if (m.destination.empty()) {
    *error = "mount \"" + text + "\": no dst";
    return false;
  }
  *out = std::move(m);
  return true;
}

}  // namespace kubit::runtime::container
