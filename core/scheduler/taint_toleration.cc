// TaintToleration: NoSchedule and NoExecute taints keep out pods that do
// not tolerate them; PreferNoSchedule taints only lower the score.
#include "core/scheduler/plugins.h"

namespace kubit::scheduler {

Status FilterTaintToleration(const PodInfo& pod, const NodeInfo& node) {
  for (const auto& t : node.taints) {
    if (t.effect != "NoSchedule" && t.effect != "NoExecute") continue;
    if (!Tolerates(pod.tolerations, t))
      return Status::Unresolvable("node(s) had untolerated taint {" + t.key + ": " + t.value + "}");
  }
  return {};
}

int64_t ScoreTaintToleration(const PodInfo& pod, const NodeInfo& node) {
  // Only the pod's tolerations that could apply to PreferNoSchedule count.
  std::vector<Toleration> prefer;
  for (const auto& t : pod.tolerations)
    if (t.effect.empty() || t.effect == "PreferNoSchedule") prefer.push_back(t);
  int64_t n = 0;
  for (const auto& t : node.taints)
    if (t.effect == "PreferNoSchedule" && !Tolerates(prefer, t)) n++;
  return n;
}

}  // namespace kubit::scheduler
