// KindResolver: which REST resource serves an (apiVersion, kind), as a
// manifest names its objects, from the server's discovery of that group
// version (so custom resources of a CRD applied a moment ago resolve once
// the server serves them).
#pragma once

#include <map>
#include <mutex>
#include <string>

#include "core/client/client.h"

namespace kubit::manifests {

struct ResolvedKind {
  client::Resource resource;
  bool namespaced = false;
};

class KindResolver {
 public:
  explicit KindResolver(client::Client* client) : client_(client) {}

  enum Result { kResolved, kUnknown, kError };
  // kUnknown when the server does not serve the kind (yet): the group
  // version is asked again on the next call; kError when the server could
  // not be asked. *error says which.
  Result Resolve(const std::string& api_version, const std::string& kind, ResolvedKind* out,
                 std::string* error);

 private:
  client::Client* client_;
  std::mutex mu_;
  // apiVersion -> kind -> resource, for group versions read successfully.
  std::map<std::string, std::map<std::string, ResolvedKind>> cache_;
};

}  // namespace kubit::manifests
