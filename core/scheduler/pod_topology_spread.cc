// PodTopologySpread: DoNotSchedule constraints filter by skew against the
// least loaded domain; ScheduleAnyway constraints, or upstream's system
// defaults for pods of a Service or controller, score.
#include <cmath>
#include <limits>

#include "core/scheduler/plugins.h"

namespace kubit::scheduler {
namespace {

constexpr const char* kHostname = "kubernetes.io/hostname";
constexpr const char* kZone = "topology.kubernetes.io/zone";

bool HasAllKeys(const std::vector<SpreadConstraint>& cs, const NodeInfo& node) {
  std::string v;
  for (const auto& c : cs)
    if (!node.Label(c.topology_key, &v)) return false;
  return true;
}

// Pods on the node in `ns` that the selector matches; terminating pods
// are on their way out and do not count.
int64_t CountMatching(const NodeInfo& node, const Selector& sel, const std::string& ns) {
  int64_t n = 0;
  for (const auto& p : node.pods)
    if (!p->terminating && p->ns == ns && sel.Matches(p->labels)) n++;
  return n;
}

bool UntoleratedHardTaint(const PodInfo& pod, const NodeInfo& node) {
  for (const auto& t : node.taints)
    if ((t.effect == "NoSchedule" || t.effect == "NoExecute") && !Tolerates(pod.tolerations, t)) return true;
  return false;
}

}  // namespace

bool NodeCountsForSpread(const SpreadConstraint& c, const PodInfo& pod, const NodeInfo& node) {
  if (c.honor_node_affinity && !MatchesRequiredNodeAffinity(pod, node)) return false;
  if (c.honor_node_taints && UntoleratedHardTaint(pod, node)) return false;
  return true;
}

void PreFilterPodTopologySpread(const PodInfo& pod, const Snapshot& snapshot, SpreadState* state) {
  *state = {};
  for (const auto& c : pod.spread_constraints)
    if (c.hard) state->constraints.push_back(c);
  if (state->constraints.empty()) return;
  state->counts.resize(state->constraints.size());
  for (const auto& node : snapshot.nodes()) {
    if (!HasAllKeys(state->constraints, *node)) continue;
    for (size_t i = 0; i < state->constraints.size(); i++) {
      const SpreadConstraint& c = state->constraints[i];
      if (!NodeCountsForSpread(c, pod, *node)) continue;
      std::string value;
      node->Label(c.topology_key, &value);
      state->counts[i][value] += CountMatching(*node, c.selector, pod.ns);
    }
  }
}

void UpdatePodTopologySpread(SpreadState* state, const PodInfo& pod, const PodInfo& other,
                             const NodeInfo& node, int delta) {
  if (state->constraints.empty() || other.ns != pod.ns || other.terminating) return;
  if (!HasAllKeys(state->constraints, node)) return;
  for (size_t i = 0; i < state->constraints.size(); i++) {
    const SpreadConstraint& c = state->constraints[i];
    if (!NodeCountsForSpread(c, pod, node) || !c.selector.Matches(other.labels)) continue;
    std::string value;
    node.Label(c.topology_key, &value);
    state->counts[i][value] += delta;
  }
}

Status FilterPodTopologySpread(const SpreadState& state, const PodInfo& pod, const NodeInfo& node) {
  for (size_t i = 0; i < state.constraints.size(); i++) {
    const SpreadConstraint& c = state.constraints[i];
    std::string value;
    if (!node.Label(c.topology_key, &value)) return Status::Unresolvable(kReasonSpreadLabel);
    const auto& domains = state.counts[i];
    // Too few domains: the missing ones count as empty (minDomains).
    int64_t min = 0;
    if (int64_t(domains.size()) >= c.min_domains) {
      min = std::numeric_limits<int64_t>::max();
      for (const auto& [v, n] : domains) min = std::min(min, n);
    }
    auto it = domains.find(value);
    int64_t here = it == domains.end() ? 0 : it->second;
    int64_t self = c.selector.Matches(pod.labels) ? 1 : 0;
    if (here + self - min > c.max_skew) return Status::Unschedulable(kReasonSpread);
  }
  return {};
}

bool PreScorePodTopologySpread(const CycleState& state, const PodInfo& pod, const Snapshot& snapshot,
                               const std::vector<const NodeInfo*>& feasible, SpreadScoreState* s) {
  *s = {};
  bool system_default = pod.spread_constraints.empty();
  if (!system_default) {
    for (const auto& c : pod.spread_constraints)
      if (!c.hard) s->constraints.push_back(c);
  } else if (state.default_spread_selector && !state.default_spread_selector->empty()) {
    Selector sel{true, *state.default_spread_selector};
    SpreadConstraint host, zone;
    host.max_skew = 3;
    host.topology_key = kHostname;
    zone.max_skew = 5;
    zone.topology_key = kZone;
    host.hard = zone.hard = false;
    host.selector = zone.selector = sel;
    s->constraints = {host, zone};
  }
  if (s->constraints.empty() || feasible.empty()) return false;
  // Nodes without a zone label still get hostname spreading under the
  // system defaults.
  bool require_all = !system_default;
  size_t n = s->constraints.size();
  s->counts.resize(n);
  std::vector<size_t> sizes(n, 0);
  for (const NodeInfo* node : feasible) {
    if (require_all && !HasAllKeys(s->constraints, *node)) {
      s->ignored_nodes.insert(node->name);
      continue;
    }
    for (size_t i = 0; i < n; i++) {
      if (s->constraints[i].topology_key == kHostname) continue;  // counted per node in Score
      std::string value;
      node->Label(s->constraints[i].topology_key, &value);
      if (s->counts[i].emplace(value, 0).second) sizes[i]++;
    }
  }
  for (size_t i = 0; i < n; i++) {
    size_t size = s->constraints[i].topology_key == kHostname ? feasible.size() - s->ignored_nodes.size()
                                                               : sizes[i];
    s->weights.push_back(std::log(double(size + 2)));
  }
  for (const auto& node : snapshot.nodes()) {
    if (require_all && !HasAllKeys(s->constraints, *node)) continue;
    for (size_t i = 0; i < n; i++) {
      const SpreadConstraint& c = s->constraints[i];
      if (!NodeCountsForSpread(c, pod, *node)) continue;
      std::string value;
      node->Label(c.topology_key, &value);
      auto it = s->counts[i].find(value);
      if (it == s->counts[i].end() || c.topology_key == kHostname) continue;
      const int64_t matching = CountMatching(*node, c.selector, pod.ns);
      it->second += matching;
      if (system_default) s->matching[node.get()] = matching;
    }
  }
  return true;
}

int64_t ScorePodTopologySpread(const SpreadScoreState& s, const PodInfo& pod, const NodeInfo& node) {
  if (s.ignored_nodes.count(node.name)) return 0;
  double score = 0;
  for (size_t i = 0; i < s.constraints.size(); i++) {
    const SpreadConstraint& c = s.constraints[i];
    std::string value;
    if (!node.Label(c.topology_key, &value)) continue;
    int64_t count = 0;
    if (c.topology_key == kHostname) {
      auto memo = s.matching.find(&node);
      count = memo != s.matching.end() ? memo->second : CountMatching(node, c.selector, pod.ns);
    } else if (auto it = s.counts[i].find(value); it != s.counts[i].end()) {
      count = it->second;
    }
    score += double(count) * s.weights[i] + double(c.max_skew - 1);
  }
  return std::llround(score);
}

void NormalizePodTopologySpread(const SpreadScoreState& s, const std::vector<const NodeInfo*>& feasible,
                                std::vector<int64_t>* scores) {
  int64_t min = std::numeric_limits<int64_t>::max(), max = 0;
  for (size_t i = 0; i < feasible.size(); i++) {
    if (s.ignored_nodes.count(feasible[i]->name)) continue;
    min = std::min(min, (*scores)[i]);
    max = std::max(max, (*scores)[i]);
  }
  for (size_t i = 0; i < feasible.size(); i++) {
    int64_t& score = (*scores)[i];
    if (s.ignored_nodes.count(feasible[i]->name)) {
      score = 0;
    } else if (max == 0) {
      score = kMaxNodeScore;
    } else {
      score = kMaxNodeScore * (max + min - score) / max;
    }
  }
}

}  // namespace kubit::scheduler
