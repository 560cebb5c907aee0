// DefaultPreemption (PostFilter): for a pod that fits nowhere, the node
// where evicting pods of lower priority makes it fit, with the fewest
// disruption-budget violations, then the lowest-priority and fewest
// victims, as upstream's pickOneNodeForPreemption. Victims are chosen per
// node by removing every lower-priority pod and reprieving the most
// important ones that still leave room, budget-violating ones first. Pure:
// the caller deletes the victims and nominates the node.
#pragma once

#include <memory>
#include <set>
#include <string>
#include <vector>

#include "core/scheduler/fit_error.h"
#include "core/scheduler/schedule_pod.h"

namespace kubit::scheduler {

// What preemption needs of a PodDisruptionBudget.
struct DisruptionBudget {
  std::string ns;
  Selector selector;  // absent or empty: matches nothing
  int64_t disruptions_allowed = 0;
  std::set<std::string> disrupted_pods;  // status.disruptedPods: already counted
};
DisruptionBudget ReadDisruptionBudget(const Json& pdb);

struct PreemptionResult {
  std::string node;  // empty: preemption cannot help (see message)
  std::vector<std::shared_ptr<const PodInfo>> victims;
  // "preemption: ..." as it goes into the FitError message; empty on success.
  std::string message;
  // No node would do: the pod's nomination, if it has one, is dropped.
  bool clear_nomination = false;
};

// The more important of two pods: higher priority, then started earlier.
bool MoreImportant(const PodInfo& a, const PodInfo& b);

// `state` and `diagnosis` are the failed cycle's.
PreemptionResult Preempt(const PodInfo& pod, const Snapshot& snapshot, const NominatedPods& nominated,
                         const CycleState& state, const Diagnosis& diagnosis,
                         const std::vector<DisruptionBudget>& budgets, uint64_t seed);

}  // namespace kubit::scheduler
