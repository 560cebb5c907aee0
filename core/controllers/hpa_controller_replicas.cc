#include "core/controllers/hpa_controller_replicas.h"

#include <algorithm>
#include <cmath>

namespace kubit::controllers {

using Json = nlohmann::json;

namespace {

// Replicas added (or removed) within the policy's period.
int64_t ChangedWithin(const std::deque<ScaleEvent>& events, int64_t period, int64_t now) {
  int64_t sum = 0;
  for (const ScaleEvent& e : events)
    if (e.at > now - period) sum += e.change;
  return sum;
}

}  // namespace

int64_t ReplicasForMetric(int64_t current_replicas, int64_t ready_pods, double current_value, double target_value) {
  if (target_value <= 0) return current_replicas;
  const double ratio = current_value / target_value;
  if (std::fabs(ratio - 1.0) <= kHpaTolerance) return current_replicas;
  return static_cast<int64_t>(std::ceil(ratio * double(ready_pods)));
}

Json DefaultBehavior(const Json& behavior) {
  Json b = behavior.is_object() ? behavior : Json::object();
  Json& up = b["scaleUp"];
  if (!up.is_object()) up = Json::object();
  if (!up.contains("stabilizationWindowSeconds")) up["stabilizationWindowSeconds"] = 0;
  if (!up.contains("selectPolicy")) up["selectPolicy"] = "Max";
  if (!up.contains("policies"))
    up["policies"] = {{{"type", "Pods"}, {"value", 4}, {"periodSeconds", 15}},
                      {{"type", "Percent"}, {"value", 100}, {"periodSeconds", 15}}};
  Json& down = b["scaleDown"];
  if (!down.is_object()) down = Json::object();
  if (!down.contains("stabilizationWindowSeconds")) down["stabilizationWindowSeconds"] = 300;
  if (!down.contains("selectPolicy")) down["selectPolicy"] = "Max";
  if (!down.contains("policies")) down["policies"] = {{{"type", "Percent"}, {"value", 100}, {"periodSeconds", 15}}};
  return b;
}

int64_t NormalizeReplicas(const Json& behavior_in, int64_t current, int64_t desired, int64_t min_replicas,
                          int64_t max_replicas, int64_t now, std::deque<Recommendation>* recs,
                          const std::deque<ScaleEvent>& up_events, const std::deque<ScaleEvent>& down_events) {
  const Json b = DefaultBehavior(behavior_in);
  const int64_t up_window = b["scaleUp"].value("stabilizationWindowSeconds", 0);
  const int64_t down_window = b["scaleDown"].value("stabilizationWindowSeconds", 300);

  // Stabilization: up to the least, down to the most recommended within
  // each window (upstream's stabilizeRecommendationWithBehaviors).
  int64_t up_rec = desired, down_rec = desired;
  for (const Recommendation& r : *recs) {
    if (r.at > now - up_window) up_rec = std::min(up_rec, r.replicas);
    if (r.at > now - down_window) down_rec = std::max(down_rec, r.replicas);
  }
  recs->push_back({desired, now});
  const int64_t longest = std::max(up_window, down_window);
  while (!recs->empty() && recs->front().at <= now - longest) recs->pop_front();
  int64_t stabilized = current;
  if (up_rec > current) stabilized = up_rec;
  if (down_rec < current) stabilized = down_rec;

  // Rate policies (convertDesiredReplicasWithBehaviorRate).
  int64_t result = stabilized;
  if (stabilized > current) {
    const Json& up = b["scaleUp"];
    const std::string select = up.value("selectPolicy", "Max");
    int64_t limit = select == "Min" ? INT64_MAX : INT64_MIN;
    for (const Json& p : up["policies"]) {
      const int64_t start = current - ChangedWithin(up_events, p.value("periodSeconds", 15), now);
      const int64_t v = p.value("value", 0);
      const int64_t l = p.value("type", "") == "Pods" ? start + v
                                                      : static_cast<int64_t>(std::ceil(double(start) * (1.0 + double(v) / 100.0)));
      limit = select == "Min" ? std::min(limit, l) : std::max(limit, l);
    }
    // Scaling up never turns into scaling down, however much was added.
    if (select == "Disabled" || limit < current) limit = current;
    result = std::min({stabilized, limit, max_replicas});
  } else if (stabilized < current) {
    const Json& down = b["scaleDown"];
    const std::string select = down.value("selectPolicy", "Max");
    int64_t limit = select == "Min" ? INT64_MIN : INT64_MAX;
    for (const Json& p : down["policies"]) {
      const int64_t start = current + ChangedWithin(down_events, p.value("periodSeconds", 15), now);
      const int64_t v = p.value("value", 0);
      const int64_t l = p.value("type", "") == "Pods" ? start - v
                                                      : static_cast<int64_t>(std::floor(double(start) * (1.0 - double(v) / 100.0)));
      limit = select == "Min" ? std::max(limit, l) : std::min(limit, l);
    }
    if (select == "Disabled" || limit > current) limit = current;
    result = std::max({stabilized, limit, min_replicas});
  }
  return std::clamp(result, min_replicas, std::max(max_replicas, min_replicas));
}

}  // namespace kubit::controllers
