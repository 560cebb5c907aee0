#include "core/controllers/replicaset_pod_ranking.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/controllers/pod_state.h"

namespace kubit::controllers {

using client::Json;
using client::ObjectPtr;

namespace {

constexpr const char* kDeletionCostAnnotation = "controller.kubernetes.io/pod-deletion-cost";

std::string NodeOf(const Json& pod) { return pod.value("spec", Json::object()).value("nodeName", ""); }

int PhaseOrdinal(const Json& pod) {
  const std::string phase = pod.value("status", Json::object()).value("phase", "");
  if (phase == "Pending") return 0;
  if (phase == "Unknown") return 1;
  if (phase == "Running") return 2;
  return 3;
}

int64_t DeletionCost(const Json& pod) {
  const Json annotations = pod["metadata"].value("annotations", Json::object());
  if (!annotations.is_object() || !annotations.contains(kDeletionCostAnnotation)) return 0;
  try {
    return std::stoll(annotations[kDeletionCostAnnotation].get<std::string>());
  } catch (...) {
    return 0;  // invalid costs are rejected by validation; count them as none
  }
}

int MaxRestarts(const Json& pod) {
  int most = 0;
  for (const Json& cs : pod.value("status", Json::object()).value("containerStatuses", Json::array()))
    most = std::max(most, cs.value("restartCount", 0));
  return most;
}

struct Ranked {
  ObjectPtr pod;
  int rank;
};

// Upstream's LogarithmicScaleDown: times fall into buckets of powers of
// two (in nanoseconds of age), and within one bucket the uid decides, so
// that scaling down spreads over pods of about the same age instead of
// always taking the very newest. A missing time (0) goes first.
bool YoungerFirst(int64_t t1, int64_t t2, const Json& p, const Json& q, int64_t now) {
  if (t1 == 0 || t2 == 0) return t1 == 0 && t2 != 0;
  auto bucket = [now](int64_t t) {
    int64_t age_ns = (now - t) * 1000000000;
    return age_ns <= 0 ? -1 : static_cast<int>(std::log2(static_cast<double>(age_ns)));
  };
  if (bucket(t1) != bucket(t2)) return bucket(t1) < bucket(t2);
  return p["metadata"].value("uid", "") < q["metadata"].value("uid", "");
}

bool DeleteFirst(const Ranked& a, const Ranked& b, int64_t now) {
  const Json &p = *a.pod, &q = *b.pod;
  const std::string pn = NodeOf(p), qn = NodeOf(q);
  if (pn != qn && (pn.empty() || qn.empty())) return pn.empty();
  if (PhaseOrdinal(p) != PhaseOrdinal(q)) return PhaseOrdinal(p) < PhaseOrdinal(q);
  if (IsPodReady(p) != IsPodReady(q)) return !IsPodReady(p);
  if (DeletionCost(p) != DeletionCost(q)) return DeletionCost(p) < DeletionCost(q);
  if (a.rank != b.rank) return a.rank > b.rank;
  if (IsPodReady(p) && IsPodReady(q)) {
    int64_t ps = PodReadySince(p), qs = PodReadySince(q);
    if (ps != qs) return YoungerFirst(ps, qs, p, q, now);
  }
  if (MaxRestarts(p) != MaxRestarts(q)) return MaxRestarts(p) > MaxRestarts(q);
  int64_t pc = ParseTime(p["metadata"].value("creationTimestamp", ""));
  int64_t qc = ParseTime(q["metadata"].value("creationTimestamp", ""));
  if (pc != qc) return YoungerFirst(pc, qc, p, q, now);
  return false;
}

}  // namespace

std::vector<ObjectPtr> RankPodsForDeletion(std::vector<ObjectPtr> pods, const std::vector<ObjectPtr>& related,
                                           int64_t now_unix) {
  std::map<std::string, int> on_node;
  for (const ObjectPtr& r : related)
    if (IsPodActive(*r) && !NodeOf(*r).empty()) on_node[NodeOf(*r)]++;
  std::vector<Ranked> ranked;
  for (const ObjectPtr& p : pods) ranked.push_back({p, NodeOf(*p).empty() ? 0 : on_node[NodeOf(*p)]});
  std::stable_sort(ranked.begin(), ranked.end(),
                   [now_unix](const Ranked& a, const Ranked& b) { return DeleteFirst(a, b, now_unix); });
  std::vector<ObjectPtr> out;
  for (const Ranked& r : ranked) out.push_back(r.pod);
  return out;
}

}  // namespace kubit::controllers
