// How many replicas a HorizontalPodAutoscaler asks for, as pure functions
// of upstream's podautoscaler: the metric formula desired =
// ceil(ready pods * current / target) with its 0.1 tolerance, and
// spec.behavior: stabilization windows over past recommendations, then the
// scale-up and scale-down rate policies over past scale events.
#pragma once

#include <cstdint>
#include <deque>
#include <nlohmann/json.hpp>

namespace kubit::controllers {

inline constexpr double kHpaTolerance = 0.1;

// `current_value` and `target_value` in the same unit (a utilization
// percentage, or an average per pod); `current_replicas` stays when the
// ratio is within the tolerance.
int64_t ReplicasForMetric(int64_t current_replicas, int64_t ready_pods, double current_value, double target_value);

struct Recommendation {
  int64_t replicas;
  int64_t at;  // unix seconds
};
struct ScaleEvent {
  int64_t change;  // replicas added (up) or removed (down), positive
  int64_t at;
};

// spec.behavior with upstream's defaults filled in (scaleUp: no window, 4
// pods or 100% per 15 s, Max; scaleDown: 300 s window, 100% per 15 s).
nlohmann::json DefaultBehavior(const nlohmann::json& behavior);

// The replicas to set now: `desired` stabilized against `recommendations`
// (which it is added to; old ones are dropped), then limited by the rate
// policies given the past `up`/`down` events, then by min/max.
int64_t NormalizeReplicas(const nlohmann::json& behavior, int64_t current, int64_t desired, int64_t min_replicas,
                          int64_t max_replicas, int64_t now, std::deque<Recommendation>* recommendations,
                          const std::deque<ScaleEvent>& up, const std::deque<ScaleEvent>& down);

}  // namespace kubit::controllers
