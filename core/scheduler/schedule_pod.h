// One scheduling decision, as upstream's schedulePod: PreFilter, then the
// filters over the nodes from a rotating start until enough fit
// (percentageOfNodesToScore, adaptive), then scores, and the best node
// (ties broken at random). Pure: reads a Snapshot, writes nothing.
#pragma once

#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/scheduler/fit_error.h"
#include "core/scheduler/framework.h"

namespace kubit::scheduler {

// Pods waiting for a node that preemption freed for them, by node name:
// the filters count them on that node for pods of lower or equal priority,
// so the room is not taken by someone else meanwhile.
using NominatedPods = std::map<std::string, std::vector<std::shared_ptr<const PodInfo>>>;

// How many feasible nodes to find before scoring, of `num_nodes`:
// all below 100; else 50% minus 1% per 125 nodes, at least 5%, at least 100.
size_t NumFeasibleNodesToFind(size_t num_nodes);

// The filters with the nominated pods of at least the pod's priority added
// to the node (and without them, as upstream checks both ways).
Status RunFiltersWithNominated(const CycleState& state, const PodInfo& pod, const NodeInfo& node,
                               const Snapshot& snapshot, const NominatedPods& nominated);

struct ScheduleResult {
  std::string node;  // empty: fits nowhere (see the Diagnosis)
  size_t evaluated = 0;
  size_t feasible = 0;
};

class PodScheduler {
 public:
  explicit PodScheduler(uint64_t seed = std::random_device{}()) : rng_(seed) {}

  // Chooses a node for the pod. On no fit, *diagnosis holds every node's
  // reason; *state holds the PreFilter results either way (preemption
  // reuses them).
  ScheduleResult Schedule(const PodInfo& pod, const Snapshot& snapshot, const NominatedPods& nominated,
                          CycleState* state, Diagnosis* diagnosis);

 private:
  size_t next_start_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace kubit::scheduler
