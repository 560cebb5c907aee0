// Names the kubelet gives to what it creates for a pod, so that everything
// can be found again from the runtime's listing alone (after a restart of
// kubit, or by the log and exec streams later): a container's id says the
// pod uid, the container name and the attempt; the log path says the
// namespace, pod and container as upstream's layout does.
//
//   container id  k8s_<pod uid>_<container name>_<attempt>
//   sandbox id    k8s_<pod uid>
//   logs          <data-dir>/agent/logs/<ns>_<pod>_<uid>/<container>/<attempt>.log
//   volumes       <data-dir>/agent/pods/<uid>/volumes/<volume name>
//
// The attempt counts from 0 and is the container's restartCount. Pod uids
// and container names (DNS labels) hold no '_', so the split is exact.
#pragma once

#include <string>

namespace kubit::kubelet {

std::string ContainerId(const std::string& pod_uid, const std::string& container, int attempt);
// False for an id the kubelet did not make (a `kubit ctr run` container).
bool ParseContainerId(const std::string& id, std::string* pod_uid, std::string* container,
                      int* attempt);
std::string SandboxId(const std::string& pod_uid);

std::string PodDir(const std::string& data_dir, const std::string& pod_uid);
std::string PodLogDir(const std::string& data_dir, const std::string& ns, const std::string& pod,
                      const std::string& pod_uid);
std::string ContainerLogPath(const std::string& data_dir, const std::string& ns,
                             const std::string& pod, const std::string& pod_uid,
                             const std::string& container, int attempt);

}  // namespace kubit::kubelet
