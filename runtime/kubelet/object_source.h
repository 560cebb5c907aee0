// ObjectSource: how pod workers read the ConfigMaps, Secrets and other
// objects a pod refers to (env, volumes, pull secrets). A function, so the
// manager can serve them from the server (or a cache) and tests from a map.
#pragma once

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

namespace kubit::kubelet {

enum class Lookup { kFound, kNotFound, kError };

// resource is the plural: "configmaps", "secrets", "persistentvolumeclaims".
using ObjectSource = std::function<Lookup(const std::string& resource, const std::string& ns,
                                          const std::string& name, nlohmann::json* out,
                                          std::string* error)>;

// Bytes of a Secret's data value (base64 in the API) or a ConfigMap's
// data/binaryData value; false when the key is absent.
bool ObjectValue(const std::string& resource, const nlohmann::json& obj, const std::string& key,
                 std::string* value);

}  // namespace kubit::kubelet
