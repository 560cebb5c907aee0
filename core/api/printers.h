// Table printing: the columns `kubectl get` shows for each kind, computed
// on the server as upstream's printers do (Table of meta.k8s.io/v1).
#pragma once

#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "core/api/resources.h"

namespace kubit::api {

// A Table of `objects`; each row carries the object's metadata
// (includeObject=Metadata, kubectl's default) or the object ("Object").
nlohmann::json ToTable(const ResourceType& type, const std::vector<nlohmann::json>& objects,
                       const std::string& include_object);
// Upstream's duration.HumanDuration: "45s", "3m20s", "5h", "12d" ...
std::string HumanDuration(int64_t seconds);
// Seconds since an RFC 3339 timestamp ("" -> 0).
int64_t SecondsSince(const std::string& rfc3339);

}  // namespace kubit::api
