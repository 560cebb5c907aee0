// Quota evaluation as upstream's pkg/quota/v1: what an object uses of the
// resources a ResourceQuota limits (evaluators for pods, services,
// persistentvolumeclaims, and object counts of any resource), whether a
// quota's scopes select it, and which resources a pod must specify for a
// quota. The API server's admission charges quotas with it; the resource
// quota controller sums it over a namespace.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <set>
#include <string>
#include <vector>

#include "core/api/defaults_quantity.h"

namespace kubit::api {

// A ResourceList ({"cpu": "500m", "pods": "2"}) with parsed quantities.
using ResourceList = std::map<std::string, Quantity>;

// Entries whose quantity does not parse are left out (validation refuses them).
ResourceList ResourceListFromJson(const nlohmann::json& list);
nlohmann::json ResourceListToJson(const ResourceList& list);
// Exact decimal sums; a zero takes the other's format, as Quantity.Add.
Quantity AddQuantity(const Quantity& a, const Quantity& b);
// Per name: the sum where both have it, else whichever has it.
ResourceList AddResources(const ResourceList& a, const ResourceList& b);
// a - b per name of a, never below zero (quota.SubtractWithNonNegativeResult).
ResourceList SubtractNonNegative(const ResourceList& a, const ResourceList& b);
ResourceList MaskResources(const ResourceList& list, const std::set<std::string>& names);
std::set<std::string> ResourceNames(const ResourceList& list);
// The names of `used` above `hard` (names only in one of them are fine).
std::vector<std::string> ExceededResources(const ResourceList& used, const ResourceList& hard);
// "pods=1,requests.cpu=500m": sorted, as the quota admission's messages.
std::string PrettyPrintResources(const ResourceList& list);

// A pod's requests and limits as upstream's PodRequests/PodLimits: app
// containers and sidecars add up, an init container counts with the
// sidecars started before it, the pod takes the larger; plus overhead
// (for limits only where a limit exists).
ResourceList PodRequests(const nlohmann::json& pod);
ResourceList PodLimits(const nlohmann::json& pod);

// The resource a quota evaluator serves: ("", "pods"), ("apps", "deployments").
struct GroupResource {
  std::string group, resource;
  auto operator<=>(const GroupResource&) const = default;
};

// The quota resource names, of `names`, that objects of `gr` use.
std::set<std::string> QuotaMatchingResources(const GroupResource& gr, const std::set<std::string>& names);
// What one object uses; `now` (unix seconds) decides whether a pod being
// deleted has passed its grace period and stopped counting.
ResourceList QuotaUsage(const GroupResource& gr, const nlohmann::json& obj, int64_t now);
// True when every scope of the quota (spec.scopes, spec.scopeSelector)
// selects the object; objects other than pods match no scope.
bool QuotaScopesSelect(const GroupResource& gr, const nlohmann::json& quota, const nlohmann::json& obj);
// The quota limits something objects of `gr` use (by status.hard) and its
// scopes select the object: admission charges it.
bool QuotaMatches(const GroupResource& gr, const nlohmann::json& quota, const nlohmann::json& obj);
// "" or why the object cannot be admitted under a quota limiting
// `required`: each container of a pod must state the cpu and memory
// requests and limits the quota limits ("must specify limits.cpu for: app").
std::string QuotaConstraints(const GroupResource& gr, const std::set<std::string>& required,
                             const nlohmann::json& obj);
// Whether an update can change the usage of `gr` (services, claims);
// everything else is charged on create only.
bool QuotaChargesUpdates(const GroupResource& gr);

// The resources whose objects the quota's hard names count.
std::vector<GroupResource> QuotaTrackedResources(const std::set<std::string>& hard);
// Every object of one resource in the quota's namespace.
using ListObjects = std::function<bool(const GroupResource& gr, std::vector<nlohmann::json>* out,
                                       std::string* error)>;
// status.used of `quota` from the namespace's objects: each resource of
// spec.hard, zero when nothing uses it (quota.CalculateUsage).
bool CalculateQuotaUsage(const nlohmann::json& quota, const ListObjects& list, int64_t now,
                         ResourceList* used, std::string* error);

}  // namespace kubit::api
