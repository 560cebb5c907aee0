// Strategic merge patch, as kubectl sends for built-in kinds: maps merge
// (null deletes a key), lists merge or are replaced as the patchStrategy
// and patchMergeKey of each field in the built-in schema say (containers
// by name, container ports by containerPort, Service ports by port, env by
// name, finalizers as a merged set, tolerations replaced, ...), with
// upstream's ordering of merged lists. Directives: $patch (replace, delete),
// $retainKeys, $setElementOrder/<list>, $deleteFromPrimitiveList/<list>.
//
// Kinds the schema does not know (custom resources) merge with strategies
// guessed from the field names.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace kubit::api {

namespace schema {
struct Message;
}

// Applies `patch` to `original`, an object of `message` (nullptr: a kind
// without a schema, merged by field names). False with *error on a
// malformed patch.
bool StrategicMerge(const schema::Message* message, const std::string& kind,
                    const nlohmann::json& original, const nlohmann::json& patch,
                    nlohmann::json* out, std::string* error);

// The same for the object of apiVersion and kind, its message looked up in
// the built-in schema.
bool StrategicMerge(const std::string& api_version, const std::string& kind,
                    const nlohmann::json& original, const nlohmann::json& patch,
                    nlohmann::json* out, std::string* error);

// The same, the apiVersion taken from the original object (or the patch).
bool StrategicMerge(const std::string& kind, const nlohmann::json& original,
                    const nlohmann::json& patch, nlohmann::json* out, std::string* error);

}  // namespace kubit::api
