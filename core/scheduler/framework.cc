#include "core/scheduler/framework.h"

#include <algorithm>
#include <limits>

#include "core/scheduler/plugins.h"
#include "core/scheduler/volume_binding.h"

namespace kubit::scheduler {

Snapshot::Snapshot(std::vector<std::shared_ptr<const NodeInfo>> nodes,
                   std::map<std::string, Json> namespace_labels)
    : nodes_(std::move(nodes)), namespace_labels_(std::move(namespace_labels)) {
  for (size_t i = 0; i < nodes_.size(); i++) {
    by_name_[nodes_[i]->name] = i;
    for (const auto& [image, size] : nodes_[i]->image_sizes) image_nodes_[image]++;
  }
}

const NodeInfo* Snapshot::Find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : nodes_[it->second].get();
}

const Json& Snapshot::NamespaceLabels(const std::string& ns) const {
  static const Json kEmpty = Json::object();
  auto it = namespace_labels_.find(ns);
  return it == namespace_labels_.end() ? kEmpty : it->second;
}

int Snapshot::NodesWithImage(const std::string& image) const {
  auto it = image_nodes_.find(image);
  return it == image_nodes_.end() ? 0 : it->second;
}

void Snapshot::Replace(std::shared_ptr<const NodeInfo> node) {
  auto it = by_name_.find(node->name);
  if (it != by_name_.end()) nodes_[it->second] = std::move(node);
}

void RunPreFilter(const PodInfo& pod, const Snapshot& snapshot, CycleState* state) {
  PreFilterInterPodAffinity(pod, snapshot, &state->affinity);
  PreFilterPodTopologySpread(pod, snapshot, &state->spread);
}

Status RunFilters(const CycleState& state, const PodInfo& pod, const NodeInfo& node) {
  // Upstream's default order.
  Status s = FilterNodeUnschedulable(pod, node);
  if (s.ok()) s = FilterNodeName(pod, node);
  if (s.ok()) s = FilterTaintToleration(pod, node);
  if (s.ok()) s = FilterNodeAffinity(pod, node);
  if (s.ok()) s = FilterNodePorts(pod, node);
  if (s.ok()) s = FilterNodeResourcesFit(pod, node);
  if (s.ok()) s = FilterVolumeBinding(state.volumes, node);
  if (s.ok()) s = FilterPodTopologySpread(state.spread, pod, node);
  if (s.ok()) s = FilterInterPodAffinity(state.affinity, pod, node);
  return s;
}

void UpdateStateForPod(CycleState* state, const PodInfo& pod, const PodInfo& other, const NodeInfo& node,
                       const Snapshot& snapshot, int delta) {
  UpdateInterPodAffinity(&state->affinity, pod, other, node, snapshot, delta);
  UpdatePodTopologySpread(&state->spread, pod, other, node, delta);
}

void NormalizeDefault(std::vector<int64_t>* scores, bool reverse) {
  int64_t max = 0;
  for (int64_t s : *scores) max = std::max(max, s);
  for (int64_t& s : *scores) {
    if (max == 0) {
      if (reverse) s = kMaxNodeScore;
      continue;
    }
    s = kMaxNodeScore * s / max;
    if (reverse) s = kMaxNodeScore - s;
  }
}

void NormalizeMinMax(std::vector<int64_t>* scores) {
  if (scores->empty()) return;
  auto [lo, hi] = std::minmax_element(scores->begin(), scores->end());
  int64_t min = *lo, diff = *hi - *lo;
  for (int64_t& s : *scores) s = diff > 0 ? int64_t(double(kMaxNodeScore) * double(s - min) / double(diff)) : 0;
}

std::vector<int64_t> ScoreNodes(const CycleState& state, const PodInfo& pod, const Snapshot& snapshot,
                                const std::vector<const NodeInfo*>& feasible) {
  const size_t n = feasible.size();
  std::vector<int64_t> total(n, 0);
  if (n == 0) return total;
  auto add = [&](const std::vector<int64_t>& scores, int64_t weight) {
    for (size_t i = 0; i < n; i++) total[i] += scores[i] * weight;
  };
  std::vector<int64_t> s(n);

  for (size_t i = 0; i < n; i++) s[i] = ScoreTaintToleration(pod, *feasible[i]);
  NormalizeDefault(&s, true);
  add(s, 3);

  if (!pod.preferred_node_affinity.empty()) {
    for (size_t i = 0; i < n; i++) s[i] = ScoreNodeAffinity(pod, *feasible[i]);
    NormalizeDefault(&s, false);
    add(s, 2);
  }

  for (size_t i = 0; i < n; i++) s[i] = ScoreLeastAllocated(pod, *feasible[i]);
  add(s, 1);

  SpreadScoreState spread;
  if (PreScorePodTopologySpread(state, pod, snapshot, feasible, &spread)) {
    for (size_t i = 0; i < n; i++) s[i] = ScorePodTopologySpread(spread, pod, *feasible[i]);
    NormalizePodTopologySpread(spread, feasible, &s);
    add(s, 2);
  }

  std::map<TopologyPair, int64_t> affinity = PreScoreInterPodAffinity(pod, snapshot);
  if (!affinity.empty()) {
    for (size_t i = 0; i < n; i++) s[i] = ScoreInterPodAffinity(affinity, *feasible[i]);
    NormalizeMinMax(&s);
    add(s, 2);
  }

  if (ScoreBalancedAllocation(pod, *feasible[0])) {
    for (size_t i = 0; i < n; i++) s[i] = ScoreBalancedAllocation(pod, *feasible[i]).value_or(0);
    add(s, 1);
  }

  for (size_t i = 0; i < n; i++) s[i] = ScoreImageLocality(pod, *feasible[i], snapshot);
  add(s, 1);
  return total;
}

}  // namespace kubit::scheduler
