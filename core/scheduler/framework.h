// The scheduling framework as kubit runs it: upstream's default plugins as
// plain functions over a Snapshot of the cluster. PreFilter computes what
// the filters share (pod affinity and topology spread counts), Filter says
// whether a pod fits one node and why not, Score ranks the nodes that fit.
// Filters run in upstream's order and stop at the first that fails, so the
// reason a node reports is the one upstream would report.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/scheduler/node_info.h"
#include "core/scheduler/pod_info.h"
#include "core/scheduler/volume_binding_state.h"

namespace kubit::scheduler {

enum class Code {
  kSuccess,
  kUnschedulable,  // could fit if pods were removed (preemption may help)
  kUnresolvable,   // UnschedulableAndUnresolvable: preemption cannot help
};

struct Status {
  Code code = Code::kSuccess;
  std::vector<std::string> reasons;

  bool ok() const { return code == Code::kSuccess; }
  static Status Unschedulable(std::string reason) { return {Code::kUnschedulable, {std::move(reason)}}; }
  static Status Unresolvable(std::string reason) { return {Code::kUnresolvable, {std::move(reason)}}; }
};

// The cluster at the start of a scheduling cycle. Nodes hold their pods,
// bound and assumed.
class Snapshot {
 public:
  Snapshot() = default;
  Snapshot(std::vector<std::shared_ptr<const NodeInfo>> nodes, std::map<std::string, Json> namespace_labels);

  const std::vector<std::shared_ptr<const NodeInfo>>& nodes() const { return nodes_; }
  const NodeInfo* Find(const std::string& name) const;
  // Labels of a namespace (an empty object if unknown).
  const Json& NamespaceLabels(const std::string& ns) const;
  // How many nodes have the image (normalized name).
  int NodesWithImage(const std::string& image) const;
  // Replaces one node (preemption's what-if copies).
  void Replace(std::shared_ptr<const NodeInfo> node);

 private:
  std::vector<std::shared_ptr<const NodeInfo>> nodes_;
  std::map<std::string, size_t> by_name_;
  std::map<std::string, Json> namespace_labels_;
  std::map<std::string, int> image_nodes_;
};

using TopologyPair = std::pair<std::string, std::string>;  // (label key, value)

// InterPodAffinity's PreFilter: counts per topology domain.
struct AffinityState {
  // Existing pods whose required anti-affinity the incoming pod matches.
  std::map<TopologyPair, int64_t> existing_anti_affinity;
  // Existing pods matching all of the incoming pod's required affinity terms.
  std::map<TopologyPair, int64_t> affinity;
  // Existing pods matching one of the incoming pod's required anti-affinity terms.
  std::map<TopologyPair, int64_t> anti_affinity;
  // The incoming pod matches all its own required affinity terms.
  bool matches_own_affinity = false;
};

// PodTopologySpread's PreFilter for the DoNotSchedule constraints: per
// constraint, matching pods per domain of the nodes that count.
struct SpreadState {
  std::vector<SpreadConstraint> constraints;
  // constraints[i]: domain value -> matching pods.
  std::vector<std::map<std::string, int64_t>> counts;
};

struct CycleState {
  // Input: the merged selector of the Services, ReplicaSets and
  // StatefulSets selecting the pod, for the default spreading (absent or
  // empty: none). ReplicationControllers too, once the API serves them.
  std::optional<api::LabelSelector> default_spread_selector;
  AffinityState affinity;
  SpreadState spread;
  VolumeState volumes;  // input: the pod's claims (VolumeBinding's PreFilter)
};

// Upstream's default plugin weights.
inline constexpr int64_t kMaxNodeScore = 100;

// PreFilter over every node of the snapshot.
void RunPreFilter(const PodInfo& pod, const Snapshot& snapshot, CycleState* state);
// Every filter in order; the first failure.
Status RunFilters(const CycleState& state, const PodInfo& pod, const NodeInfo& node);
// Keeps the PreFilter counts right when `other` is added to (delta 1) or
// removed from (-1) `node` (preemption's what-ifs, nominated pods).
void UpdateStateForPod(CycleState* state, const PodInfo& pod, const PodInfo& other,
                       const NodeInfo& node, const Snapshot& snapshot, int delta);

// Weighted scores of the feasible nodes, in their order.
std::vector<int64_t> ScoreNodes(const CycleState& state, const PodInfo& pod, const Snapshot& snapshot,
                                const std::vector<const NodeInfo*>& feasible);

}  // namespace kubit::scheduler
