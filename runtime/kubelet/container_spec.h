// The runtime's ContainerSpec for one container of a pod: the image's
// config merged with the container's command, args, env, workingDir,
// resources (cgroup shares, quota, memory limit under the pod's QoS
// cgroup) and securityContext (pod level, overridden per container), as
// upstream's kuberuntime_container.go and the CRI runtime do it.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "runtime/container/sandbox.h"
#include "runtime/container/spec.h"
#include "runtime/image/image.h"
#include "runtime/kubelet/env.h"

namespace kubit::kubelet {

namespace container = runtime::container;
namespace image = runtime::image;

struct ContainerContext {
  std::string id, log_path;
  // Namespace files of the pod's sandbox; a host* pod setting wins.
  container::SandboxPaths sandbox;
  EnvList env;                               // resolved (env.h)
  std::vector<container::Mount> mounts;      // volumes, /etc/hosts, /etc/resolv.conf, ...
};

// argv: command/args over the image's entrypoint/cmd (command replaces
// both; args alone replace cmd), $(VAR) expanded with the container's env.
std::vector<std::string> ContainerArgs(const nlohmann::json& container,
                                       const image::ImageConfig& config, const EnvList& env);

// Upstream's QoS cgroup of a pod: "kubepods/pod<uid>" (Guaranteed),
// "kubepods/burstable/pod<uid>", "kubepods/besteffort/pod<uid>".
std::string PodCgroupParent(const nlohmann::json& pod);
// The pod's qosClass: status.qosClass when the API server set it, else computed.
std::string QosClassOf(const nlohmann::json& pod);

container::Resources ContainerResources(const nlohmann::json& container);

// "name_namespace(uid)": how upstream's messages name a pod.
std::string PodRef(const nlohmann::json& pod);

// False with *error (CreateContainerConfigError's message: a runAsNonRoot
// violation, say).
bool BuildContainerSpec(const nlohmann::json& pod, const nlohmann::json& container,
                        const image::Image& image, const ContainerContext& ctx,
                        container::ContainerSpec* out, std::string* error);

}  // namespace kubit::kubelet
