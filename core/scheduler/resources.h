// Resource amounts as the scheduler adds and compares them: cpu in
// millicores, memory and ephemeral-storage in bytes, every other resource
// (extended resources, hugepages) as its integer value. What a pod asks for
// follows upstream's PodRequests: app containers and sidecars (restartable
// init containers) add up, each ordinary init container needs its own
// request plus the sidecars started before it, the pod needs the larger of
// the two, plus its overhead.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <string>

namespace kubit::scheduler {

using Json = nlohmann::json;

struct Resources {
  int64_t milli_cpu = 0;
  int64_t memory = 0;
  int64_t ephemeral_storage = 0;
  int64_t pods = 0;  // allocatable pod slots (nodes only)
  std::map<std::string, int64_t> scalar;

  void Add(const Resources& r);
  void Subtract(const Resources& r);
  // Per resource, the larger amount.
  void SetMax(const Resources& r);
  // No amount of any resource (pods aside).
  bool IsZero() const;
  // The amount of a resource by its API name ("cpu", "memory", ...).
  int64_t Get(const std::string& name) const;
};

// A resource list ({"cpu": "500m", "memory": "1Gi"}); bad quantities count
// as zero, as validation refuses them before they are stored.
Resources ParseResourceList(const Json& list);

// What upstream counts for a container without cpu or memory requests when
// spreading load (schedutil.DefaultMilliCPURequest, DefaultMemoryRequest).
inline constexpr int64_t kDefaultMilliCpuRequest = 100;
inline constexpr int64_t kDefaultMemoryRequest = 200 * 1024 * 1024;

// The pod's requests. `non_zero`: a container that asks for no cpu or
// memory counts as the defaults above (for scoring, never for fitting).
Resources PodRequests(const Json& pod, bool non_zero);

// The node's status.allocatable (status.capacity where allocatable is
// missing, as the kubelet reports both).
Resources NodeAllocatable(const Json& node);

}  // namespace kubit::scheduler
