#include "runtime/kubelet/container_spec.h"

#include <algorithm>

namespace kubit::kubelet {

using Json = nlohmann::json;

namespace {

std::vector<std::string> Strings(const Json& c, const char* field) {
  std::vector<std::string> out;
  for (const auto& v : c.value(field, Json::array()))
    if (v.is_string()) out.push_back(v.get<std::string>());
  return out;
}

bool Positive(const Json& list, const char* r) {
  int64_t m = 0;
  return list.is_object() && list.contains(r) && QuantityMilli(list[r], &m) && m > 0;
}

// A securityContext field: the container's, else the pod's.
Json Effective(const Json& pod_sc, const Json& c_sc, const char* field) {
  if (c_sc.is_object() && c_sc.contains(field)) return c_sc[field];
  if (pod_sc.is_object() && pod_sc.contains(field)) return pod_sc[field];
  return nullptr;
}

bool IsNumber(const std::string& s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos;
}

}  // namespace

std::vector<std::string> ContainerArgs(const Json& container, const image::ImageConfig& config,
                                       const EnvList& env) {
  std::vector<std::string> command = Strings(container, "command");
  std::vector<std::string> args = Strings(container, "args");
  std::vector<std::string> argv;
  if (!command.empty()) {
    argv = command;
    argv.insert(argv.end(), args.begin(), args.end());
  } else {
    argv = config.entrypoint;
    const auto& tail = args.empty() && !container.contains("args") ? config.cmd : args;
    argv.insert(argv.end(), tail.begin(), tail.end());
  }
  if (!command.empty() || !args.empty())
    for (auto& a : argv) a = ExpandVars(a, env);
  return argv;
}

std::string QosClassOf(const Json& pod) {
  if (pod.contains("status") && pod["status"].contains("qosClass") &&
      pod["status"]["qosClass"].is_string())
    return pod["status"]["qosClass"].get<std::string>();
  bool any = false, guaranteed = true;
  const Json spec = pod.value("spec", Json::object());
  for (const char* list : {"initContainers", "containers"})
    for (const auto& c : spec.value(list, Json::array())) {
      const Json res = c.value("resources", Json::object());
      const Json req = res.value("requests", Json::object()), lim = res.value("limits", Json::object());
      for (const char* r : {"cpu", "memory"}) {
        bool has_req = Positive(req, r), has_lim = Positive(lim, r);
        any = any || has_req || has_lim;
        int64_t a = 0, b = 0;
        if (!has_lim || (req.contains(r) && (!QuantityMilli(req[r], &a) || !QuantityMilli(lim[r], &b) || a != b)))
          guaranteed = false;
      }
    }
  if (!any) return "BestEffort";
  return guaranteed ? "Guaranteed" : "Burstable";
}

std::string PodCgroupParent(const Json& pod) {
  std::string uid = pod["metadata"].value("uid", "");
  std::string qos = QosClassOf(pod);
  if (qos == "Guaranteed") return "kubepods/pod" + uid;
  return std::string("kubepods/") + (qos == "Burstable" ? "burstable" : "besteffort") + "/pod" + uid;
}

container::Resources ContainerResources(const Json& container) {
  container::Resources r;
  const Json res = container.value("resources", Json::object());
  const Json req = res.value("requests", Json::object()), lim = res.value("limits", Json::object());
  int64_t cpu_req = 0, cpu_lim = 0, mem_lim = 0;
  if (req.contains("cpu")) QuantityMilli(req["cpu"], &cpu_req);
  if (!req.contains("cpu") && lim.contains("cpu")) QuantityMilli(lim["cpu"], &cpu_req);
  if (lim.contains("cpu")) QuantityMilli(lim["cpu"], &cpu_lim);
  if (lim.contains("memory")) QuantityMilli(lim["memory"], &mem_lim);
  // Upstream's MilliCPUToShares: 1024 per core, at least 2 (no request: 2).
  r.cpu_shares = std::max<int64_t>(2, cpu_req * 1024 / 1000);
  if (cpu_lim > 0) {
    r.cpu_period_us = 100000;
    r.cpu_quota_us = std::max<int64_t>(1000, cpu_lim * 100000 / 1000);
  }
  if (mem_lim > 0) r.memory_limit = mem_lim / 1000;
  return r;
}

std::string PodRef(const Json& pod) {
  const Json& m = pod["metadata"];
  return m.value("name", "") + "_" + m.value("namespace", "") + "(" + m.value("uid", "") + ")";
}

bool BuildContainerSpec(const Json& pod, const Json& container, const image::Image& image,
                        const ContainerContext& ctx, container::ContainerSpec* out,
                        std::string* error) {
  const Json spec = pod.value("spec", Json::object());
  const Json pod_sc = spec.value("securityContext", Json::object());
  const Json c_sc = container.value("securityContext", Json::object());
  std::string cname = container.value("name", "");
  container::ContainerSpec s;
  s.id = ctx.id;
  s.image = image.name;
  s.layers = image.layer_dirs;
  s.args = ContainerArgs(container, image.config, ctx.env);
  if (s.args.empty()) {
    *error = "no command specified";
    return false;
  }
  // The image's env first; the container's override it by name.
  s.env = image.config.env;
  for (const auto& [k, v] : ctx.env) {
    std::string kv = k + "=" + v;
    auto it = std::find_if(s.env.begin(), s.env.end(),
                           [&](const std::string& e) { return e.rfind(k + "=", 0) == 0; });
    if (it != s.env.end()) *it = kv;
    else s.env.push_back(kv);
  }
  std::string wd = container.value("workingDir", "");
  s.working_dir = !wd.empty() ? wd : (!image.config.working_dir.empty() ? image.config.working_dir : "/");
  s.tty = container.value("tty", false);
  s.stdin_open = container.value("stdin", false);

  // User: runAsUser/runAsGroup over the image's USER.
  Json uid = Effective(pod_sc, c_sc, "runAsUser"), gid = Effective(pod_sc, c_sc, "runAsGroup");
  std::string user = image.config.user;
  if (uid.is_number_integer()) {
    user = std::to_string(uid.get<int64_t>());
    if (gid.is_number_integer()) user += ":" + std::to_string(gid.get<int64_t>());
  } else if (gid.is_number_integer()) {
    std::string base = user.substr(0, user.find(':'));
    user = (base.empty() ? "0" : base) + ":" + std::to_string(gid.get<int64_t>());
  }
  s.user = user;
  if (Effective(pod_sc, c_sc, "runAsNonRoot") == true) {
    std::string u = user.substr(0, user.find(':'));
    if (uid.is_number_integer()) {
      if (uid.get<int64_t>() == 0) {
        *error = "container's runAsUser breaks non-root policy (pod: \"" + PodRef(pod) +
                 "\", container: " + cname + ")";
        return false;
      }
    } else if (u.empty() || u == "0" || u == "root") {
      *error = "container has runAsNonRoot and image will run as root (pod: \"" + PodRef(pod) +
               "\", container: " + cname + ")";
      return false;
    } else if (!IsNumber(u)) {
      *error = "container has runAsNonRoot and image has non-numeric user (" + u +
               "), cannot verify user is non-root (pod: \"" + PodRef(pod) + "\", container: " +
               cname + ")";
      return false;
    }
  }
  for (const auto& g : pod_sc.value("supplementalGroups", Json::array()))
    if (g.is_number_integer()) s.additional_gids.push_back(g.get<uint32_t>());
  if (pod_sc.contains("fsGroup") && pod_sc["fsGroup"].is_number_integer())
    s.additional_gids.push_back(pod_sc["fsGroup"].get<uint32_t>());

  s.security.privileged = c_sc.value("privileged", false);
  s.security.read_only_rootfs = c_sc.value("readOnlyRootFilesystem", false);
  if (c_sc.contains("capabilities")) {
    s.security.cap_add = Strings(c_sc["capabilities"], "add");
    s.security.cap_drop = Strings(c_sc["capabilities"], "drop");
  }
  s.security.no_new_privs = c_sc.contains("allowPrivilegeEscalation") &&
                            c_sc["allowPrivilegeEscalation"] == false;
  // The kubelet's default (without --seccomp-default) is Unconfined.
  Json seccomp = Effective(pod_sc, c_sc, "seccompProfile");
  s.security.seccomp = seccomp.is_object() && seccomp.value("type", "") == "RuntimeDefault"
                           ? container::SeccompMode::kRuntimeDefault
                           : container::SeccompMode::kUnconfined;

  bool host_net = spec.value("hostNetwork", false);
  s.namespaces.network = host_net ? container::kHostNamespace : ctx.sandbox.net;
  s.namespaces.uts = host_net ? container::kHostNamespace : ctx.sandbox.uts;
  s.namespaces.ipc = spec.value("hostIPC", false) ? container::kHostNamespace : ctx.sandbox.ipc;
  if (spec.value("hostPID", false)) s.namespaces.pid = container::kHostNamespace;

  s.mounts = ctx.mounts;
  s.resources = ContainerResources(container);
  s.cgroup_parent = PodCgroupParent(pod);
  s.log_path = ctx.log_path;
  if (!container::ValidateSpec(s, error)) return false;
  *out = std::move(s);
  return true;
}

}  // namespace kubit::kubelet
