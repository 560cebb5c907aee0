#include "core/scheduler/schedule_pod.h"

namespace kubit::scheduler {

size_t NumFeasibleNodesToFind(size_t num_nodes) {
  constexpr size_t kMinFeasible = 100;
  if (num_nodes < kMinFeasible) return num_nodes;
  int64_t percentage = 50 - int64_t(num_nodes) / 125;
  if (percentage < 5) percentage = 5;
  size_t n = num_nodes * size_t(percentage) / 100;
  return n < kMinFeasible ? kMinFeasible : n;
}

Status RunFiltersWithNominated(const CycleState& state, const PodInfo& pod, const NodeInfo& node,
                               const Snapshot& snapshot, const NominatedPods& nominated) {
  auto it = nominated.find(node.name);
  if (it != nominated.end()) {
    NodeInfo with = node;
    CycleState with_state = state;
    bool added = false;
    for (const auto& other : it->second) {
      if (other->key == pod.key || other->priority < pod.priority) continue;
      with.AddPod(other);
      UpdateStateForPod(&with_state, pod, *other, with, snapshot, 1);
      added = true;
    }
    if (added) {
      Status s = RunFilters(with_state, pod, with);
      if (!s.ok()) return s;
    }
  }
  return RunFilters(state, pod, node);
}

ScheduleResult PodScheduler::Schedule(const PodInfo& pod, const Snapshot& snapshot,
                                      const NominatedPods& nominated, CycleState* state,
                                      Diagnosis* diagnosis) {
  ScheduleResult result;
  RunPreFilter(pod, snapshot, state);
  const auto& nodes = snapshot.nodes();
  if (nodes.empty()) return result;

  // A pod that preempted for a node goes back there if it now fits.
  if (!pod.nominated_node_name.empty())
    if (const NodeInfo* n = snapshot.Find(pod.nominated_node_name))
      if (RunFiltersWithNominated(*state, pod, *n, snapshot, nominated).ok()) {
        result.node = n->name;
        result.evaluated = result.feasible = 1;
        return result;
      }

  const size_t want = NumFeasibleNodesToFind(nodes.size());
  std::vector<const NodeInfo*> feasible;
  size_t i = 0;
  for (; i < nodes.size() && feasible.size() < want; i++) {
    const NodeInfo& node = *nodes[(next_start_ + i) % nodes.size()];
    Status s = RunFiltersWithNominated(*state, pod, node, snapshot, nominated);
    if (s.ok()) {
      feasible.push_back(&node);
    } else {
      diagnosis->node_status[node.name] = std::move(s);
    }
  }
  next_start_ = (next_start_ + i) % nodes.size();
  result.evaluated = i;
  result.feasible = feasible.size();
  if (feasible.empty()) return result;
  if (feasible.size() == 1) {
    result.node = feasible[0]->name;
    return result;
  }
  std::vector<int64_t> scores = ScoreNodes(*state, pod, snapshot, feasible);
  // The best score; among equals each has the same chance (reservoir).
  int64_t best = scores[0];
  size_t chosen = 0, ties = 1;
  for (size_t k = 1; k < scores.size(); k++) {
    if (scores[k] > best) {
      best = scores[k];
      chosen = k;
      ties = 1;
    } else if (scores[k] == best && std::uniform_int_distribution<size_t>(0, ties++)(rng_) == 0) {
      chosen = k;
    }
  }
  result.node = feasible[chosen]->name;
  return result;
}

}  // namespace kubit::scheduler
