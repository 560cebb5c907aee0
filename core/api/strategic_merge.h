// Strategic merge patch, as kubectl sends for built-in kinds: maps merge
// (null deletes a key), lists with a merge key merge element by element
// (containers by name, ports by containerPort, env by name, ...), other
// lists are replaced. Directives: $patch (replace, delete, merge),
// $retainKeys, $setElementOrder/<list>, $deleteFromPrimitiveList/<list>.
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>

namespace kubit::api {

// Applies `patch` to `original` of the given kind. False with *error on a
// malformed patch.
bool StrategicMerge(const std::string& kind, const nlohmann::json& original,
                    const nlohmann::json& patch, nlohmann::json* out, std::string* error);

}  // namespace kubit::api
