#include "runtime/container/spec_json.h"

#include <nlohmann/json.hpp>

namespace kubit::runtime::container {

using nlohmann::json;

std::string SpecToJson(const ContainerSpec& s) {
  json mounts = json::array();
  for (const auto& m : s.mounts)
    mounts.push_back({{"type", m.type}, {"source", m.source}, {"destination", m.destination},
                      {"readOnly", m.read_only}, {"recursive", m.recursive},
                      {"options", m.options}});
  json j = {
      {"id", s.id},
      {"image", s.image},
      {"layers", s.layers},
      {"args", s.args},
      {"env", s.env},
      {"workingDir", s.working_dir},
      {"user", s.user},
      {"additionalGids", s.additional_gids},
      {"tty", s.tty},
      {"stdinOpen", s.stdin_open},
      {"hostname", s.hostname},
      {"mounts", mounts},
      {"namespaces",
       {{"network", s.namespaces.network}, {"ipc", s.namespaces.ipc}, {"uts", s.namespaces.uts},
        {"pid", s.namespaces.pid}, {"cgroup", s.namespaces.cgroup}}},
      {"resources",
       {{"cpuShares", s.resources.cpu_shares}, {"cpuQuotaUs", s.resources.cpu_quota_us},
        {"cpuPeriodUs", s.resources.cpu_period_us}, {"memoryLimit", s.resources.memory_limit},
        {"pidsLimit", s.resources.pids_limit}}},
      {"security",
       {{"privileged", s.security.privileged}, {"capAdd", s.security.cap_add},
        {"capDrop", s.security.cap_drop}, {"noNewPrivs", s.security.no_new_privs},
        {"seccomp", s.security.seccomp == SeccompMode::kUnconfined ? "unconfined" : "runtime/default"},
        {"readOnlyRootfs", s.security.read_only_rootfs}}},
      {"cgroupParent", s.cgroup_parent},
      {"logPath", s.log_path},
      {"logMaxBytes", s.log_max_bytes},
      {"logMaxFiles", s.log_max_files},
  };
  return j.dump(2) + "\n";
}

bool SpecFromJson(const std::string& text, ContainerSpec* out, std::string* error) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    *error = "spec is not a JSON object";
    return false;
  }
  try {
    ContainerSpec s;
    s.id = j.at("id").get<std::string>();
    s.image = j.value("image", "");
    s.layers = j.at("layers").get<std::vector<std::string>>();
    s.args = j.at("args").get<std::vector<std::string>>();
    s.env = j.value("env", std::vector<std::string>{});
    s.working_dir = j.value("workingDir", "/");
    s.user = j.value("user", "");
    s.additional_gids = j.value("additionalGids", std::vector<uint32_t>{});
    s.tty = j.value("tty", false);
    s.stdin_open = j.value("stdinOpen", false);
    s.hostname = j.value("hostname", "");
    for (const auto& m : j.value("mounts", json::array())) {
      Mount mount;
      mount.type = m.value("type", "bind");
      mount.source = m.value("source", "");
      mount.destination = m.at("destination").get<std::string>();
      mount.read_only = m.value("readOnly", false);
      mount.recursive = m.value("recursive", true);
      mount.options = m.value("options", std::vector<std::string>{});
      s.mounts.push_back(std::move(mount));
    }
    const json ns = j.value("namespaces", json::object());
    s.namespaces.network = ns.value("network", "");
    s.namespaces.ipc = ns.value("ipc", "");
    s.namespaces.uts = ns.value("uts", "");
    s.namespaces.pid = ns.value("pid", "");
    s.namespaces.cgroup = ns.value("cgroup", "");
    const json r = j.value("resources", json::object());
    s.resources.cpu_shares = r.value("cpuShares", int64_t{0});
    s.resources.cpu_quota_us = r.value("cpuQuotaUs", int64_t{0});
    s.resources.cpu_period_us = r.value("cpuPeriodUs", int64_t{0});
    s.resources.memory_limit = r.value("memoryLimit", int64_t{0});
    s.resources.pids_limit = r.value("pidsLimit", int64_t{0});
    const json sec = j.value("security", json::object());
    s.security.privileged = sec.value("privileged", false);
    s.security.cap_add = sec.value("capAdd", std::vector<std::string>{});
    s.security.cap_drop = sec.value("capDrop", std::vector<std::string>{});
    s.security.no_new_privs = sec.value("noNewPrivs", false);
    s.security.seccomp = sec.value("seccomp", "runtime/default") == "unconfined"
                             ? SeccompMode::kUnconfined
                             : SeccompMode::kRuntimeDefault;
    s.security.read_only_rootfs = sec.value("readOnlyRootfs", false);
    s.cgroup_parent = j.value("cgroupParent", "");
    s.log_path = j.value("logPath", "");
    s.log_max_bytes = j.value("logMaxBytes", int64_t{10 << 20});
    s.log_max_files = j.value("logMaxFiles", 5);
    *out = std::move(s);
  } catch (const json::exception& e) {
    *error = std::string("spec: ") + e.what();
    return false;
  }
  return true;
}

}  // namespace kubit::runtime::container
