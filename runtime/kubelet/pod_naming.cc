#include "runtime/kubelet/pod_naming.h"

#include <cstdlib>

namespace kubit::kubelet {

std::string ContainerId(const std::string& pod_uid, const std::string& container, int attempt) {
  return "k8s_" + pod_uid + "_" + container + "_" + std::to_string(attempt);
}

bool ParseContainerId(const std::string& id, std::string* pod_uid, std::string* container,
                      int* attempt) {
  if (id.rfind("k8s_", 0) != 0) return false;
  size_t a = id.find('_', 4);
  size_t b = a == std::string::npos ? a : id.find('_', a + 1);
  if (b == std::string::npos || id.find('_', b + 1) != std::string::npos) return false;
  std::string n = id.substr(b + 1);
  if (n.empty() || n.size() > 9 || n.find_first_not_of("0123456789") != std::string::npos)
    return false;
  *pod_uid = id.substr(4, a - 4);
  *container = id.substr(a + 1, b - a - 1);
  *attempt = atoi(n.c_str());
  return !pod_uid->empty() && !container->empty();
}

std::string SandboxId(const std::string& pod_uid) { return "k8s_" + pod_uid; }

std::string PodDir(const std::string& data_dir, const std::string& pod_uid) {
  return data_dir + "/agent/pods/" + pod_uid;
}

std::string PodLogDir(const std::string& data_dir, const std::string& ns, const std::string& pod,
                      const std::string& pod_uid) {
  return data_dir + "/agent/logs/" + ns + "_" + pod + "_" + pod_uid;
}

std::string ContainerLogPath(const std::string& data_dir, const std::string& ns,
                             const std::string& pod, const std::string& pod_uid,
                             const std::string& container, int attempt) {
  return PodLogDir(data_dir, ns, pod, pod_uid) + "/" + container + "/" + std::to_string(attempt) +
         ".log";
}

}  // namespace kubit::kubelet
