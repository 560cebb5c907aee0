// InterPodAffinity: required pod affinity and anti-affinity by topology
// domain, both the incoming pod's and the existing pods' anti-affinity
// against it; preferred terms score.
#include "core/scheduler/plugins.h"

namespace kubit::scheduler {
namespace {

bool MatchesAll(const std::vector<AffinityTerm>& terms, const PodInfo& pod, const Json& ns_labels) {
  if (terms.empty()) return false;
  for (const auto& t : terms)
    if (!TermMatchesPod(t, pod, ns_labels)) return false;
  return true;
}

void Bump(std::map<TopologyPair, int64_t>* m, const NodeInfo& node, const std::string& key, int64_t by) {
  std::string value;
  if (!node.Label(key, &value)) return;
  int64_t& n = (*m)[{key, value}];
  n += by;
  if (n == 0) m->erase({key, value});
}

bool HasAffinity(const PodInfo& p) {
  return !p.required_affinity.empty() || !p.required_anti_affinity.empty() ||
         !p.preferred_affinity.empty() || !p.preferred_anti_affinity.empty();
}

}  // namespace

void UpdateInterPodAffinity(AffinityState* state, const PodInfo& pod, const PodInfo& other,
                            const NodeInfo& node, const Snapshot& snapshot, int delta) {
  const Json& pod_ns = snapshot.NamespaceLabels(pod.ns);
  for (const auto& t : other.required_anti_affinity)
    if (TermMatchesPod(t, pod, pod_ns)) Bump(&state->existing_anti_affinity, node, t.topology_key, delta);
  if (pod.required_affinity.empty() && pod.required_anti_affinity.empty()) return;
  const Json& other_ns = snapshot.NamespaceLabels(other.ns);
  if (MatchesAll(pod.required_affinity, other, other_ns))
    for (const auto& t : pod.required_affinity) Bump(&state->affinity, node, t.topology_key, delta);
  for (const auto& t : pod.required_anti_affinity)
    if (TermMatchesPod(t, other, other_ns)) Bump(&state->anti_affinity, node, t.topology_key, delta);
}

void PreFilterInterPodAffinity(const PodInfo& pod, const Snapshot& snapshot, AffinityState* state) {
  *state = {};
  state->matches_own_affinity = MatchesAll(pod.required_affinity, pod, snapshot.NamespaceLabels(pod.ns));
  bool own_terms = !pod.required_affinity.empty() || !pod.required_anti_affinity.empty();
  for (const auto& node : snapshot.nodes()) {
    if (!own_terms && node->pods_with_required_anti_affinity == 0) continue;
    for (const auto& other : node->pods) UpdateInterPodAffinity(state, pod, *other, *node, snapshot, 1);
  }
}

Status FilterInterPodAffinity(const AffinityState& state, const PodInfo& pod, const NodeInfo& node) {
  std::string value;
  bool found_all = true;
  for (const auto& t : pod.required_affinity) {
    if (!node.Label(t.topology_key, &value)) return Status::Unresolvable(kReasonAffinity);
    auto it = state.affinity.find({t.topology_key, value});
    if (it == state.affinity.end() || it->second <= 0) found_all = false;
  }
  // The first pod of a set that wants to be together: nothing matches
  // anywhere yet, and it matches its own terms.
  if (!found_all && !(state.affinity.empty() && state.matches_own_affinity))
    return Status::Unresolvable(kReasonAffinity);
  for (const auto& t : pod.required_anti_affinity) {
    if (!node.Label(t.topology_key, &value)) continue;
    auto it = state.anti_affinity.find({t.topology_key, value});
    if (it != state.anti_affinity.end() && it->second > 0) return Status::Unschedulable(kReasonAntiAffinity);
  }
  if (!state.existing_anti_affinity.empty())
    for (const auto& [k, v] : node.labels.items()) {
      if (!v.is_string()) continue;
      auto it = state.existing_anti_affinity.find({k, v.get<std::string>()});
      if (it != state.existing_anti_affinity.end() && it->second > 0)
        return Status::Unschedulable(kReasonExistingAntiAffinity);
    }
  return {};
}

std::map<TopologyPair, int64_t> PreScoreInterPodAffinity(const PodInfo& pod, const Snapshot& snapshot) {
  std::map<TopologyPair, int64_t> scores;
  bool preferred = !pod.preferred_affinity.empty() || !pod.preferred_anti_affinity.empty();
  const Json& pod_ns = snapshot.NamespaceLabels(pod.ns);
  for (const auto& node : snapshot.nodes()) {
    if (!preferred && node->pods_with_affinity == 0) continue;
    for (const auto& other : node->pods) {
      const Json& other_ns = snapshot.NamespaceLabels(other->ns);
      for (const auto& t : pod.preferred_affinity)
        if (TermMatchesPod(t, *other, other_ns)) Bump(&scores, *node, t.topology_key, t.weight);
      for (const auto& t : pod.preferred_anti_affinity)
        if (TermMatchesPod(t, *other, other_ns)) Bump(&scores, *node, t.topology_key, -t.weight);
      if (!HasAffinity(*other)) continue;
      // Existing pods' required affinity counts with upstream's default
      // hardPodAffinityWeight of 1.
      for (const auto& t : other->required_affinity)
        if (TermMatchesPod(t, pod, pod_ns)) Bump(&scores, *node, t.topology_key, 1);
      for (const auto& t : other->preferred_affinity)
        if (TermMatchesPod(t, pod, pod_ns)) Bump(&scores, *node, t.topology_key, t.weight);
      for (const auto& t : other->preferred_anti_affinity)
        if (TermMatchesPod(t, pod, pod_ns)) Bump(&scores, *node, t.topology_key, -t.weight);
    }
  }
  return scores;
}

int64_t ScoreInterPodAffinity(const std::map<TopologyPair, int64_t>& pairs, const NodeInfo& node) {
  if (pairs.empty()) return 0;
  int64_t sum = 0;
  for (const auto& [k, v] : node.labels.items()) {
    if (!v.is_string()) continue;
    auto it = pairs.find({k, v.get<std::string>()});
    if (it != pairs.end()) sum += it->second;
  }
  return sum;
}

}  // namespace kubit::scheduler
