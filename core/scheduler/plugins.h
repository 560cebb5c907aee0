// Upstream's default scheduler plugins (pkg/scheduler/framework/plugins),
// one function per extension point, in kubit's words. Reasons are
// upstream's exact strings: they end up in the FitError message users read.
// Raw scores are normalized by the matching Normalize* function before
// weighting (framework.cc).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/scheduler/framework.h"

namespace kubit::scheduler {

// ---- NodeName, NodeUnschedulable, NodePorts (node_basics.cc) ----
inline constexpr const char* kReasonNodeName = "node(s) didn't match the requested node name";
inline constexpr const char* kReasonUnschedulable = "node(s) were unschedulable";
inline constexpr const char* kReasonNodePorts = "node(s) didn't have free ports for the requested pod ports";
Status FilterNodeName(const PodInfo& pod, const NodeInfo& node);
Status FilterNodeUnschedulable(const PodInfo& pod, const NodeInfo& node);
Status FilterNodePorts(const PodInfo& pod, const NodeInfo& node);

// ---- TaintToleration (taint_toleration.cc) ----
// "node(s) had untolerated taint {key: value}" for the first NoSchedule or
// NoExecute taint the pod does not tolerate.
Status FilterTaintToleration(const PodInfo& pod, const NodeInfo& node);
// Raw: how many PreferNoSchedule taints the pod does not tolerate
// (normalized in reverse: fewer is better).
int64_t ScoreTaintToleration(const PodInfo& pod, const NodeInfo& node);

// ---- NodeAffinity (node_affinity.cc) ----
inline constexpr const char* kReasonNodeAffinity = "node(s) didn't match Pod's node affinity/selector";
// A term matches when every expression and field requirement does; an
// empty term matches nothing.
bool MatchesNodeTerm(const NodeSelectorTerm& term, const NodeInfo& node);
// nodeSelector and the required node affinity (terms ORed).
bool MatchesRequiredNodeAffinity(const PodInfo& pod, const NodeInfo& node);
Status FilterNodeAffinity(const PodInfo& pod, const NodeInfo& node);
// Raw: the summed weights of the preferred terms the node matches.
int64_t ScoreNodeAffinity(const PodInfo& pod, const NodeInfo& node);

// ---- NodeResourcesFit, NodeResourcesBalancedAllocation (node_resources.cc) ----
// Reasons in upstream's order: "Too many pods", "Insufficient cpu",
// "Insufficient memory", "Insufficient ephemeral-storage", then
// "Insufficient <extended resource>".
std::vector<std::string> InsufficientResources(const PodInfo& pod, const NodeInfo& node);
Status FilterNodeResourcesFit(const PodInfo& pod, const NodeInfo& node);
// LeastAllocated over cpu and memory (weights 1, 1), 0-100.
int64_t ScoreLeastAllocated(const PodInfo& pod, const NodeInfo& node);
// 100 * (1 - standard deviation of the cpu and memory fractions), 0-100;
// nullopt for a pod that requests neither (upstream skips it).
std::optional<int64_t> ScoreBalancedAllocation(const PodInfo& pod, const NodeInfo& node);

// ---- InterPodAffinity (inter_pod_affinity.cc) ----
inline constexpr const char* kReasonAffinity = "node(s) didn't match pod affinity rules";
inline constexpr const char* kReasonAntiAffinity = "node(s) didn't match pod anti-affinity rules";
inline constexpr const char* kReasonExistingAntiAffinity =
    "node(s) didn't satisfy existing pods anti-affinity rules";
void PreFilterInterPodAffinity(const PodInfo& pod, const Snapshot& snapshot, AffinityState* state);
void UpdateInterPodAffinity(AffinityState* state, const PodInfo& pod, const PodInfo& other,
                            const NodeInfo& node, const Snapshot& snapshot, int delta);
Status FilterInterPodAffinity(const AffinityState& state, const PodInfo& pod, const NodeInfo& node);
// Raw score per topology pair from preferred terms (the pod's and the
// existing pods') and existing pods' required affinity; empty when nothing
// applies. Normalized min-max.
std::map<TopologyPair, int64_t> PreScoreInterPodAffinity(const PodInfo& pod, const Snapshot& snapshot);
int64_t ScoreInterPodAffinity(const std::map<TopologyPair, int64_t>& pairs, const NodeInfo& node);

// ---- PodTopologySpread (pod_topology_spread.cc) ----
inline constexpr const char* kReasonSpread = "node(s) didn't match pod topology spread constraints";
inline constexpr const char* kReasonSpreadLabel =
    "node(s) didn't match pod topology spread constraints (missing required label)";
// Whether the node counts for the constraint (node inclusion policies).
bool NodeCountsForSpread(const SpreadConstraint& c, const PodInfo& pod, const NodeInfo& node);
void PreFilterPodTopologySpread(const PodInfo& pod, const Snapshot& snapshot, SpreadState* state);
void UpdatePodTopologySpread(SpreadState* state, const PodInfo& pod, const PodInfo& other,
                             const NodeInfo& node, int delta);
Status FilterPodTopologySpread(const SpreadState& state, const PodInfo& pod, const NodeInfo& node);
// ScheduleAnyway constraints, or the system defaults (hostname maxSkew 3,
// zone maxSkew 5) with the pod's default selector for a pod with none.
struct SpreadScoreState {
  std::vector<SpreadConstraint> constraints;
  std::vector<std::map<std::string, int64_t>> counts;  // per constraint, non-hostname keys
  std::vector<double> weights;                         // log(domains + 2)
  std::set<std::string> ignored_nodes;                 // lack a required topology label
  // Under the system defaults both constraints share one selector: the
  // matching pods PreScore counted on a node, kept for Score's hostname
  // constraint instead of counting them again.
  std::unordered_map<const NodeInfo*, int64_t> matching;
};
bool PreScorePodTopologySpread(const CycleState& state, const PodInfo& pod, const Snapshot& snapshot,
                               const std::vector<const NodeInfo*>& feasible, SpreadScoreState* out);
int64_t ScorePodTopologySpread(const SpreadScoreState& s, const PodInfo& pod, const NodeInfo& node);
void NormalizePodTopologySpread(const SpreadScoreState& s, const std::vector<const NodeInfo*>& feasible,
                                std::vector<int64_t>* scores);

// ---- ImageLocality (image_locality.cc) ----
int64_t ScoreImageLocality(const PodInfo& pod, const NodeInfo& node, const Snapshot& snapshot);

// ---- score normalizers (framework.cc) ----
// Scales to 0-100 by the highest score; `reverse` turns it around.
void NormalizeDefault(std::vector<int64_t>* scores, bool reverse);
// Scales (score - min) / (max - min) to 0-100.
void NormalizeMinMax(std::vector<int64_t>* scores);

}  // namespace kubit::scheduler
