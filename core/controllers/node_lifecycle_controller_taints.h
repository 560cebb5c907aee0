// The node lifecycle rules as pure functions over Node and Pod JSON, as
// upstream's node lifecycle controller and taint manager have them: which
// node.kubernetes.io taints a node's conditions call for, and when a pod on
// a node with NoExecute taints must go.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace kubit::controllers {

using Json = nlohmann::json;

// The controller's taints a node should carry now (key and effect;
// NoExecute ones for Ready False/Unknown, NoSchedule ones for every
// condition and for spec.unschedulable).
std::vector<Json> ConditionTaints(const Json& node);
// spec.taints with the controller's taints brought to `wanted` (others
// untouched; a NoExecute taint added now gets timeAdded `now`). False when
// nothing changes.
bool ReconcileTaints(const Json& current, const std::vector<Json>& wanted, const std::string& now, Json* out);

// Seconds until `pod` is evicted from a node with these NoExecute taints
// (`now` and the taints' timeAdded in unix seconds): 0 at once (a taint it
// does not tolerate), -1 never. A pod without a toleration for the
// not-ready or unreachable taint is treated as tolerating it for 300 s,
// the toleration upstream's DefaultTolerationSeconds admission adds.
int64_t EvictionDelay(const Json& pod, const Json& node_taints, int64_t now);

}  // namespace kubit::controllers
