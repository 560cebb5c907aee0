// RequestInfo: what a resource request asks for, read off its path and
// method as upstream's RequestInfoFactory does.
#pragma once

#include <string>

#include "core/api/resources.h"

namespace kubit::apiserver {

struct RequestInfo {
  std::string verb;  // get list watch create update patch delete deletecollection
  std::string group, version, plural;
  const api::ResourceType* type = nullptr;  // null: unknown resource
  std::string ns, name, subresource;
};

// False if `path` is not a resource path (/api/v1/... or /apis/g/v/...).
bool ParseRequestInfo(const std::string& method, const std::string& path, bool watch_param,
                      RequestInfo* out);

}  // namespace kubit::apiserver
