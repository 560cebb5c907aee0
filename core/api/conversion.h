// Conversion between the versions that serve one stored resource: each
// such resource is stored in one version (its storage version) and
// converted on the way in and out, as upstream's conversion functions do.
//   autoscaling/v1 HorizontalPodAutoscaler  <->  autoscaling/v2 (stored)
//   events.k8s.io/v1 Event                  <->  core/v1 Event (stored)
//   a custom resource's versions            <->  its CRD's storage version
//                                               ("None" strategy: apiVersion only)
#pragma once

#include <nlohmann/json_fwd.hpp>

#include "core/api/resources.h"

namespace kubit::api {

// True when objects of `t` are stored in another version than `t`'s.
bool StoredInOtherVersion(const ResourceType& t);
// A stored object to the version `t` serves (and apiVersion/kind set).
void ConvertFromStorage(const ResourceType& t, nlohmann::json* o);
// An object of `t`'s version to its storage version.
void ConvertToStorage(const ResourceType& t, nlohmann::json* o);

}  // namespace kubit::api
