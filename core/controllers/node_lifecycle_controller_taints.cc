#include "core/controllers/node_lifecycle_controller_taints.h"

#include <algorithm>

#include "core/controllers/pod_state.h"

namespace kubit::controllers {
namespace {

constexpr const char* kNotReady = "node.kubernetes.io/not-ready";
constexpr const char* kUnreachable = "node.kubernetes.io/unreachable";
constexpr int64_t kDefaultTolerationSeconds = 300;

const char* const kControlled[] = {kNotReady,
                                   kUnreachable,
                                   "node.kubernetes.io/memory-pressure",
                                   "node.kubernetes.io/disk-pressure",
                                   "node.kubernetes.io/pid-pressure",
                                   "node.kubernetes.io/network-unavailable",
                                   "node.kubernetes.io/unschedulable"};

std::string ConditionStatus(const Json& node, const char* type) {
  for (const Json& c : node.value("status", Json::object()).value("conditions", Json::array()))
    if (c.value("type", "") == type) return c.value("status", "");
  return "";
}

bool Controlled(const Json& taint) {
  const std::string key = taint.value("key", "");
  return std::any_of(std::begin(kControlled), std::end(kControlled), [&](const char* k) { return key == k; });
}

bool Tolerates(const Json& tol, const Json& taint) {
  const std::string effect = tol.value("effect", "");
  if (!effect.empty() && effect != taint.value("effect", "")) return false;
  const std::string key = tol.value("key", "");
  if (tol.value("operator", "Equal") == "Exists") return key.empty() || key == taint.value("key", "");
  return key == taint.value("key", "") && tol.value("value", "") == taint.value("value", "");
}

}  // namespace

std::vector<Json> ConditionTaints(const Json& node) {
  std::vector<Json> out;
  auto add = [&](const char* key, const char* effect) { out.push_back({{"key", key}, {"effect", effect}}); };
  const std::string ready = ConditionStatus(node, "Ready");
  if (ready == "False") add(kNotReady, "NoExecute"), add(kNotReady, "NoSchedule");
  // No Ready condition at all: nothing yet (a node is given the grace
  // period to post its first status; then it is Unknown).
  if (ready == "Unknown") add(kUnreachable, "NoExecute"), add(kUnreachable, "NoSchedule");
  if (ConditionStatus(node, "MemoryPressure") == "True") add("node.kubernetes.io/memory-pressure", "NoSchedule");
  if (ConditionStatus(node, "DiskPressure") == "True") add("node.kubernetes.io/disk-pressure", "NoSchedule");
  if (ConditionStatus(node, "PIDPressure") == "True") add("node.kubernetes.io/pid-pressure", "NoSchedule");
  if (ConditionStatus(node, "NetworkUnavailable") == "True") add("node.kubernetes.io/network-unavailable", "NoSchedule");
  if (node.value("spec", Json::object()).value("unschedulable", false)) add("node.kubernetes.io/unschedulable", "NoSchedule");
  return out;
}

bool ReconcileTaints(const Json& current, const std::vector<Json>& wanted, const std::string& now, Json* out) {
  auto same = [](const Json& a, const Json& b) {
    return a.value("key", "") == b.value("key", "") && a.value("effect", "") == b.value("effect", "");
  };
  Json result = Json::array();
  bool changed = false;
  for (const Json& t : current.is_array() ? current : Json::array()) {
    if (Controlled(t) && std::none_of(wanted.begin(), wanted.end(), [&](const Json& w) { return same(w, t); })) {
      changed = true;
      continue;
    }
    result.push_back(t);
  }
  for (const Json& w : wanted) {
    if (std::any_of(result.begin(), result.end(), [&](const Json& t) { return same(w, t); })) continue;
    Json t = w;
    if (t["effect"] == "NoExecute") t["timeAdded"] = now;
    result.push_back(t);
    changed = true;
  }
  *out = result;
  return changed;
}

int64_t EvictionDelay(const Json& pod, const Json& node_taints, int64_t now) {
  const Json tolerations = pod.value("spec", Json::object()).value("tolerations", Json::array());
  int64_t delay = -1;  // never
  for (const Json& taint : node_taints.is_array() ? node_taints : Json::array()) {
    if (taint.value("effect", "") != "NoExecute") continue;
    const std::string key = taint.value("key", "");
    // The shortest tolerationSeconds among the tolerations of this taint;
    // one without seconds tolerates it for ever.
    bool tolerated = false;
    int64_t seconds = -1;
    for (const Json& tol : tolerations) {
      if (!Tolerates(tol, taint)) continue;
      int64_t s = tol.contains("tolerationSeconds") && tol["tolerationSeconds"].is_number_integer()
                      ? std::max<int64_t>(tol["tolerationSeconds"].get<int64_t>(), 0)
                      : -1;
      if (!tolerated || (s >= 0 && (seconds < 0 || s < seconds))) seconds = s;
      tolerated = true;
    }
    if (!tolerated && (key == kNotReady || key == kUnreachable)) tolerated = true, seconds = kDefaultTolerationSeconds;
    if (!tolerated) return 0;
    if (seconds < 0) continue;
    int64_t added = ParseTime(taint.value("timeAdded", ""));
    int64_t remaining = std::max<int64_t>((added ? added : now) + seconds - now, 0);
    if (delay < 0 || remaining < delay) delay = remaining;
  }
  return delay;
}

}  // namespace kubit::controllers
