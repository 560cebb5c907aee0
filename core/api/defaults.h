// Defaulting of the built-in kinds, as upstream's defaulters apply it when
// a request body is decoded: restartPolicy Always, imagePullPolicy from the
// image tag, replicas 1, Service type ClusterIP, and so on for every kind and
// every nested pod template (see the per-group defaults_*.cc).
//
// ApplyDefaults also gives the object the shape upstream's Go types give it
// on the way through the server (core/api/defaults_encoding.cc): unknown
// fields and empty optional values are dropped, quantities are canonical
// ("0.5" -> "500m"), and the values Go always writes are present
// (`resources: {}`, `status: {}`, a template's `creationTimestamp: null`).
// It does not do what the REST strategies do on create (status reset,
// clusterIP allocation, Job selector generation, generateName).
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "core/api/resources.h"

namespace kubit::api {

// Defaults `obj` (a whole object of `type`) in place. Kinds without
// defaults only get the canonical shape.
void ApplyDefaults(const ResourceType& type, nlohmann::json* obj);

}  // namespace kubit::api
