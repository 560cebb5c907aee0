#include "core/scheduler/resources.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/api/defaults_quantity.h"

namespace kubit::scheduler {
namespace {

// The quantity scaled by 10^scale, rounded up, as Quantity.ScaledValue.
int64_t Scaled(const Json& v, int32_t scale) {
  std::optional<api::Quantity> q = api::QuantityFromJson(v);
  if (!q || q->negative) return 0;
  q->exp += scale;
  q->RoundUp(0);
  int64_t out = 0;
  return q->ToInt64(&out) ? out : INT64_MAX;
}

const Json& Field(const Json& obj, const char* name) {
  static const Json kNull;
  if (!obj.is_object()) return kNull;
  auto it = obj.find(name);
  return it == obj.end() ? kNull : *it;
}

Resources ContainerRequests(const Json& container, bool non_zero) {
  const Json& requests = Field(Field(container, "resources"), "requests");
  Resources r = ParseResourceList(requests);
  if (non_zero) {
    if (!requests.is_object() || !requests.contains("cpu")) r.milli_cpu = kDefaultMilliCpuRequest;
    if (!requests.is_object() || !requests.contains("memory")) r.memory = kDefaultMemoryRequest;
  }
  return r;
}

}  // namespace

void Resources::Add(const Resources& r) {
  milli_cpu += r.milli_cpu;
  memory += r.memory;
  ephemeral_storage += r.ephemeral_storage;
  pods += r.pods;
  for (const auto& [k, v] : r.scalar) scalar[k] += v;
}

void Resources::Subtract(const Resources& r) {
  milli_cpu -= r.milli_cpu;
  memory -= r.memory;
  ephemeral_storage -= r.ephemeral_storage;
  pods -= r.pods;
  for (const auto& [k, v] : r.scalar) scalar[k] -= v;
}

void Resources::SetMax(const Resources& r) {
  milli_cpu = std::max(milli_cpu, r.milli_cpu);
  memory = std::max(memory, r.memory);
  ephemeral_storage = std::max(ephemeral_storage, r.ephemeral_storage);
  pods = std::max(pods, r.pods);
  for (const auto& [k, v] : r.scalar) scalar[k] = std::max(scalar[k], v);
}

bool Resources::IsZero() const {
  if (milli_cpu != 0 || memory != 0 || ephemeral_storage != 0) return false;
  for (const auto& [k, v] : scalar)
    if (v != 0) return false;
  return true;
}

int64_t Resources::Get(const std::string& name) const {
  if (name == "cpu") return milli_cpu;
  if (name == "memory") return memory;
  if (name == "ephemeral-storage") return ephemeral_storage;
  if (name == "pods") return pods;
  auto it = scalar.find(name);
  return it == scalar.end() ? 0 : it->second;
}

Resources ParseResourceList(const Json& list) {
  Resources r;
  if (!list.is_object()) return r;
  for (const auto& [name, value] : list.items()) {
    if (name == "cpu") {
      r.milli_cpu = Scaled(value, 3);
    } else if (name == "memory") {
      r.memory = Scaled(value, 0);
    } else if (name == "ephemeral-storage") {
      r.ephemeral_storage = Scaled(value, 0);
    } else if (name == "pods") {
      r.pods = Scaled(value, 0);
    } else if (name != "storage") {
      r.scalar[name] = Scaled(value, 0);
    }
  }
  return r;
}

Resources PodRequests(const Json& pod, bool non_zero) {
  const Json& spec = Field(pod, "spec");
  Resources sum;
  if (const Json& cs = Field(spec, "containers"); cs.is_array())
    for (const auto& c : cs) sum.Add(ContainerRequests(c, non_zero));
  Resources sidecars, init_max;
  if (const Json& cs = Field(spec, "initContainers"); cs.is_array())
    for (const auto& c : cs) {
      Resources r = ContainerRequests(c, non_zero);
      const Json& policy = Field(c, "restartPolicy");
      if (policy.is_string() && policy.get<std::string>() == "Always") {
        // A sidecar runs beside everything started after it.
        sum.Add(r);
        sidecars.Add(r);
        init_max.SetMax(sidecars);
      } else {
        r.Add(sidecars);
        init_max.SetMax(r);
      }
    }
  sum.SetMax(init_max);
  sum.Add(ParseResourceList(Field(spec, "overhead")));
  return sum;
}

Resources NodeAllocatable(const Json& node) {
  const Json& status = Field(node, "status");
  const Json& alloc = Field(status, "allocatable");
  return ParseResourceList(alloc.is_object() ? alloc : Field(status, "capacity"));
}

}  // namespace kubit::scheduler
