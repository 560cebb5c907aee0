// LimitRange enforcement as upstream's limitranger admission plugin: the
// default limits and requests of a namespace's LimitRanges given to pod
// containers that state none, and the min, max and maxLimitRequestRatio
// of Container, Pod and PersistentVolumeClaim items checked, with
// upstream's messages.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

namespace kubit::api {

// Gives every container and init container of `pod` the Container
// items' default (limits) and defaultRequest (requests) for resources it
// does not state, and records what it set in the kubernetes.io/limit-ranger
// annotation. `range` is one LimitRange object.
void ApplyLimitRangeDefaults(const nlohmann::json& range, nlohmann::json* pod);

// Appends to *errs where the pod (kind "Pod") or claim (kind
// "PersistentVolumeClaim") goes beyond `range`, in upstream's words
// ("maximum cpu usage per Container is 500m, but limit is 1").
void CheckLimitRange(const nlohmann::json& range, const std::string& kind, const nlohmann::json& obj,
                     std::vector<std::string>* errs);
// Several messages as one, as upstream's aggregate error prints them:
// duplicates dropped, "[a, b]" for more than one.
std::string AggregateMessages(const std::vector<std::string>& errs);

}  // namespace kubit::api
