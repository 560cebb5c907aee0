// A container's environment as upstream's kubelet makes it
// (makeEnvironmentVariables): envFrom (configMapRef, secretRef, prefix),
// then env (value with $(VAR) expansion over the variables defined before
// it, valueFrom configMapKeyRef, secretKeyRef, fieldRef,
// resourceFieldRef); a name defined twice keeps its first place and its
// last value. A missing ConfigMap, Secret or key that is not optional is
// the container's CreateContainerConfigError, with upstream's message.
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

#include "runtime/kubelet/object_source.h"

namespace kubit::kubelet {

using EnvList = std::vector<std::pair<std::string, std::string>>;

// $(NAME) -> lookup(NAME) when it knows NAME, else left as written;
// $$ -> $; any other $ stays. Upstream's third_party/forked/golang/expansion.
std::string ExpandVars(const std::string& in,
                       const std::function<bool(const std::string& name, std::string* value)>& lookup);
// Expansion over a list (the last definition of a name wins).
std::string ExpandVars(const std::string& in, const EnvList& env);

struct PodFacts {
  std::string pod_ip, host_ip;
  int64_t node_cpu_milli = 0;  // allocatable: the value of an unset limit
  int64_t node_memory_bytes = 0;
};

// The value of a downward API fieldRef path ("metadata.labels['app']",
// "status.podIP"); false with upstream's message for an unsupported path.
bool PodFieldValue(const nlohmann::json& pod, const PodFacts& facts, const std::string& path,
                   std::string* value, std::string* error);
// The value of a resourceFieldRef ({resource, divisor, containerName}) for
// `container` (the container the ref names, already looked up).
bool ResourceFieldValue(const nlohmann::json& container, const PodFacts& facts,
                        const nlohmann::json& ref, std::string* value, std::string* error);

bool BuildEnv(const nlohmann::json& pod, const nlohmann::json& container, const PodFacts& facts,
              const ObjectSource& objects, EnvList* out, std::string* error);

// A quantity (JSON string or number) in thousandths, rounded up; false if malformed.
bool QuantityMilli(const nlohmann::json& q, int64_t* milli);

}  // namespace kubit::kubelet
