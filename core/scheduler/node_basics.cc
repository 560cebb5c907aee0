// NodeName, NodeUnschedulable and NodePorts: the filters that look at one
// field each.
#include "core/scheduler/plugins.h"

namespace kubit::scheduler {
namespace {

bool Unspecified(const std::string& ip) { return ip.empty() || ip == "0.0.0.0" || ip == "::"; }

// Two host ports collide when protocol and port agree and either binds
// every address or both bind the same one.
bool Conflict(const HostPort& a, const HostPort& b) {
  if (a.port != b.port || a.protocol != b.protocol) return false;
  return Unspecified(a.ip) || Unspecified(b.ip) || a.ip == b.ip;
}

}  // namespace

Status FilterNodeName(const PodInfo& pod, const NodeInfo& node) {
  if (!pod.node_name.empty() && pod.node_name != node.name) return Status::Unresolvable(kReasonNodeName);
  return {};
}

Status FilterNodeUnschedulable(const PodInfo& pod, const NodeInfo& node) {
  if (node.unschedulable &&
      !Tolerates(pod.tolerations, {"node.kubernetes.io/unschedulable", "", "NoSchedule"}))
    return Status::Unresolvable(kReasonUnschedulable);
  return {};
}

Status FilterNodePorts(const PodInfo& pod, const NodeInfo& node) {
  for (const auto& want : pod.host_ports)
    for (const auto& used : node.used_ports)
      if (Conflict(want, used)) return Status::Unschedulable(kReasonNodePorts);
  return {};
}

}  // namespace kubit::scheduler
