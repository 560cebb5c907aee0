#include "core/scheduler/preemption.h"

#include <algorithm>
#include <limits>
#include <random>

namespace kubit::scheduler {
namespace {

constexpr const char* kNotHelpful = "Preemption is not helpful for scheduling";

struct Candidate {
  const NodeInfo* node;
  std::vector<std::shared_ptr<const PodInfo>> victims;  // most important first
  int violations = 0;
};

bool TerminatingByPreemption(const PodInfo& p) {
  if (!p.terminating) return false;
  const Json& status = p.pod->value("status", Json::object());
  for (const auto& c : status.value("conditions", Json::array()))
    if (c.value("type", "") == "DisruptionTarget")
      return c.value("status", "") == "True" && c.value("reason", "") == "PreemptionByScheduler";
  return false;
}

// Splits pods (in order) into those whose eviction would break a budget
// and the rest, spending each budget's allowance as it goes.
void SplitByBudget(const std::vector<std::shared_ptr<const PodInfo>>& pods,
                   const std::vector<DisruptionBudget>& budgets,
                   std::vector<std::shared_ptr<const PodInfo>>* violating,
                   std::vector<std::shared_ptr<const PodInfo>>* fine) {
  std::vector<int64_t> allowed;
  for (const auto& b : budgets) allowed.push_back(b.disruptions_allowed);
  for (const auto& p : pods) {
    bool violates = false;
    if (!p->labels.empty())
      for (size_t i = 0; i < budgets.size(); i++) {
        const DisruptionBudget& b = budgets[i];
        if (b.ns != p->ns || !b.selector.present || b.selector.selector.empty() ||
            !b.selector.Matches(p->labels) || b.disrupted_pods.count(p->name))
          continue;
        if (--allowed[i] < 0) violates = true;
      }
    (violates ? violating : fine)->push_back(p);
  }
}

Status SelectVictims(const PodInfo& pod, const NodeInfo& node, const Snapshot& snapshot,
                     const NominatedPods& nominated, const CycleState& state,
                     const std::vector<DisruptionBudget>& budgets, Candidate* out) {
  NodeInfo what_if = node;
  CycleState st = state;
  std::vector<std::shared_ptr<const PodInfo>> potential;
  for (const auto& p : node.pods)
    if (p->priority < pod.priority) potential.push_back(p);
  if (potential.empty()) return Status::Unresolvable("No preemption victims found for incoming pod");
  for (const auto& p : potential) {
    what_if.RemovePod(p->key);
    UpdateStateForPod(&st, pod, *p, what_if, snapshot, -1);
  }
  // Affinity to a lower-priority pod is not worth a search (as upstream).
  if (Status s = RunFiltersWithNominated(st, pod, what_if, snapshot, nominated); !s.ok()) return s;
  std::sort(potential.begin(), potential.end(),
            [](const auto& a, const auto& b) { return MoreImportant(*a, *b); });
  std::vector<std::shared_ptr<const PodInfo>> violating, fine;
  SplitByBudget(potential, budgets, &violating, &fine);
  auto reprieve = [&](const std::shared_ptr<const PodInfo>& p) {
    what_if.AddPod(p);
    UpdateStateForPod(&st, pod, *p, what_if, snapshot, 1);
    if (RunFiltersWithNominated(st, pod, what_if, snapshot, nominated).ok()) return true;
    what_if.RemovePod(p->key);
    UpdateStateForPod(&st, pod, *p, what_if, snapshot, -1);
    out->victims.push_back(p);
    return false;
  };
  for (const auto& p : violating)
    if (!reprieve(p)) out->violations++;
  for (const auto& p : fine) reprieve(p);
  if (!violating.empty() && !fine.empty())
    std::sort(out->victims.begin(), out->victims.end(),
              [](const auto& a, const auto& b) { return MoreImportant(*a, *b); });
  out->node = &node;
  return {};
}

// Keeps the candidates with the least key(c); the first criterion that
// leaves one decides.
template <typename Key>
void KeepLeast(std::vector<Candidate>* cs, Key key) {
  if (cs->size() <= 1) return;
  auto best = key((*cs)[0]);
  for (const auto& c : *cs) best = std::min(best, key(c));
  std::erase_if(*cs, [&](const Candidate& c) { return key(c) != best; });
}

const Candidate* PickOne(std::vector<Candidate>* cs) {
  KeepLeast(cs, [](const Candidate& c) { return c.violations; });
  KeepLeast(cs, [](const Candidate& c) { return c.victims.front()->priority; });
  KeepLeast(cs, [](const Candidate& c) {
    int64_t sum = 0;
    for (const auto& v : c.victims) sum += int64_t(v->priority) + std::numeric_limits<int32_t>::max() + 1;
    return sum;
  });
  KeepLeast(cs, [](const Candidate& c) { return c.victims.size(); });
  // The node whose most important victims started last loses the least
  // work. Times are RFC 3339 in UTC: they order as strings; negated by
  // complementing each character so that "least" picks the latest.
  KeepLeast(cs, [](const Candidate& c) {
    int32_t top = c.victims.front()->priority;
    std::string earliest;
    for (const auto& v : c.victims)
      if (v->priority == top && (earliest.empty() || v->start_time < earliest)) earliest = v->start_time;
    for (char& ch : earliest) ch = char(0x7f - ch);
    return earliest;
  });
  return cs->empty() ? nullptr : &cs->front();
}

}  // namespace

DisruptionBudget ReadDisruptionBudget(const Json& pdb) {
  DisruptionBudget b;
  const Json meta = pdb.value("metadata", Json::object());
  const Json spec = pdb.value("spec", Json::object());
  const Json status = pdb.value("status", Json::object());
  b.ns = meta.value("namespace", "");
  if (auto s = spec.find("selector"); s != spec.end() && s->is_object()) {
    std::string error;
    b.selector.present = api::LabelSelector::FromJson(*s, &b.selector.selector, &error);
  }
  b.disruptions_allowed = status.value("disruptionsAllowed", int64_t{0});
  if (auto d = status.find("disruptedPods"); d != status.end() && d->is_object())
    for (const auto& [name, when] : d->items()) b.disrupted_pods.insert(name);
  return b;
}

bool MoreImportant(const PodInfo& a, const PodInfo& b) {
  if (a.priority != b.priority) return a.priority > b.priority;
  return a.start_time < b.start_time;
}

PreemptionResult Preempt(const PodInfo& pod, const Snapshot& snapshot, const NominatedPods& nominated,
                         const CycleState& state, const Diagnosis& diagnosis,
                         const std::vector<DisruptionBudget>& budgets, uint64_t seed) {
  PreemptionResult r;
  if (pod.preempt_never) {
    r.message = "preemption: not eligible due to preemptionPolicy=Never.";
    return r;
  }
  // Victims already on their way out for this pod: wait for them.
  if (!pod.nominated_node_name.empty()) {
    auto st = diagnosis.node_status.find(pod.nominated_node_name);
    bool unresolvable = st != diagnosis.node_status.end() && st->second.code == Code::kUnresolvable;
    const NodeInfo* n = snapshot.Find(pod.nominated_node_name);
    if (!unresolvable && n)
      for (const auto& p : n->pods)
        if (p->priority < pod.priority && TerminatingByPreemption(*p)) {
          r.message = "preemption: not eligible due to a terminating pod on the nominated node.";
          return r;
        }
  }
  std::vector<const NodeInfo*> potential;
  for (const auto& n : snapshot.nodes()) {
    auto st = diagnosis.node_status.find(n->name);
    if (st != diagnosis.node_status.end() && st->second.code == Code::kUnschedulable) potential.push_back(n.get());
  }
  Diagnosis dry_run;
  dry_run.absent_reason = kNotHelpful;
  std::vector<Candidate> candidates;
  if (!potential.empty()) {
    size_t want = std::max<size_t>(potential.size() / 10, 100);
    want = std::min(want, potential.size());
    std::mt19937_64 rng(seed);
    size_t offset = std::uniform_int_distribution<size_t>(0, potential.size() - 1)(rng);
    size_t fine = 0;
    for (size_t i = 0; i < potential.size(); i++) {
      const NodeInfo& node = *potential[(offset + i) % potential.size()];
      Candidate c;
      Status s = SelectVictims(pod, node, snapshot, nominated, state, budgets, &c);
      if (s.ok()) {
        if (c.violations == 0) fine++;
        candidates.push_back(std::move(c));
        if (fine > 0 && candidates.size() >= want) break;
      } else {
        dry_run.node_status[node.name] = std::move(s);
      }
    }
  }
  if (candidates.empty()) {
    r.message = "preemption: " + FitErrorMessage(snapshot.nodes().size(), dry_run);
    r.clear_nomination = true;
    return r;
  }
  const Candidate* best = PickOne(&candidates);
  r.node = best->node->name;
  r.victims = best->victims;
  return r;
}

}  // namespace kubit::scheduler
