// What a DaemonSet runs where, as upstream's daemon controller decides it:
// the pod template with the tolerations every daemon pod gets, the pod
// pinned to one node through required node affinity (the scheduler then
// binds it), whether a node should run the pod and whether a pod already
// there may stay, and the template hash that names ControllerRevisions.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace kubit::controllers {

using Json = nlohmann::json;

// spec.template with upstream's automatic daemon tolerations added
// (not-ready and unreachable NoExecute; disk-, memory- and pid-pressure,
// unschedulable NoSchedule; network-unavailable for host-network pods).
Json DaemonPodTemplate(const Json& ds);
// Requires `node` by a matchFields metadata.name term in every required
// node affinity term (a single term when there is none), as upstream's
// ReplaceDaemonSetPodNodeNameNodeAffinity.
void PinToNode(Json* pod_spec, const std::string& node);
// The node a daemon pod is for: spec.nodeName, else the pinned name.
std::string TargetNodeName(const Json& pod);

struct Placement {
  bool should_run = false;       // a pod should be made there
  bool should_continue = false;  // a pod there may stay
};
// By the node's name (spec.nodeName of the template), labels (nodeSelector
// and required node affinity) and taints (NoSchedule and NoExecute; a pod
// tolerating the NoExecute ones may stay where it is).
Placement NodeShouldRunDaemonPod(const Json& node, const Json& daemon_template);

// The controller-revision-hash of a template (FNV-32a, encoded as
// upstream's rand.SafeEncodeString); `collision_count` changes it.
std::string TemplateHash(const Json& pod_template, int64_t collision_count);

}  // namespace kubit::controllers
