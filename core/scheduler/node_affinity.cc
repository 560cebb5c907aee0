// NodeAffinity: spec.nodeSelector and required node affinity filter;
// preferred node affinity terms score.
#include <algorithm>
#include <cerrno>
#include <cstdlib>

#include "core/scheduler/plugins.h"

namespace kubit::scheduler {
namespace {

bool ParseInt(const std::string& s, int64_t* out) {
  if (s.empty()) return false;
  errno = 0;
  char* end = nullptr;
  long long v = strtoll(s.c_str(), &end, 10);
  if (errno != 0 || *end) return false;
  *out = v;
  return true;
}

// One requirement against a value that may be missing (`has`).
bool Matches(const NodeSelectorRequirement& r, bool has, const std::string& value) {
  const auto& vs = r.values;
  if (r.op == "In") return has && std::find(vs.begin(), vs.end(), value) != vs.end();
  if (r.op == "NotIn") return !has || std::find(vs.begin(), vs.end(), value) == vs.end();
  if (r.op == "Exists") return has;
  if (r.op == "DoesNotExist") return !has;
  if (r.op == "Gt" || r.op == "Lt") {
    int64_t have = 0, want = 0;
    if (!has || vs.size() != 1 || !ParseInt(value, &have) || !ParseInt(vs[0], &want)) return false;
    return r.op == "Gt" ? have > want : have < want;
  }
  return false;
}

}  // namespace

bool MatchesNodeTerm(const NodeSelectorTerm& term, const NodeInfo& node) {
  if (term.match_expressions.empty() && term.match_fields.empty()) return false;
  for (const auto& r : term.match_expressions) {
    std::string value;
    bool has = node.Label(r.key, &value);
    if (!Matches(r, has, value)) return false;
  }
  for (const auto& r : term.match_fields) {
    // metadata.name is the only field upstream supports.
    if (r.key != "metadata.name" || !Matches(r, true, node.name)) return false;
  }
  return true;
}

bool MatchesRequiredNodeAffinity(const PodInfo& pod, const NodeInfo& node) {
  for (const auto& [k, v] : pod.node_selector) {
    std::string value;
    if (!node.Label(k, &value) || value != v) return false;
  }
  if (!pod.required_node_affinity) return true;
  for (const auto& term : *pod.required_node_affinity)
    if (MatchesNodeTerm(term, node)) return true;
  return false;
}

Status FilterNodeAffinity(const PodInfo& pod, const NodeInfo& node) {
  if (!MatchesRequiredNodeAffinity(pod, node)) return Status::Unresolvable(kReasonNodeAffinity);
  return {};
}

int64_t ScoreNodeAffinity(const PodInfo& pod, const NodeInfo& node) {
  int64_t sum = 0;
  for (const auto& p : pod.preferred_node_affinity)
    if (p.weight != 0 && MatchesNodeTerm(p.term, node)) sum += p.weight;
  return sum;
}

}  // namespace kubit::scheduler
