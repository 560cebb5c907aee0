// Discovery through a Client: which resources the server serves, in each
// group's preferred version, as client-go's ServerPreferredResources
// answers. The namespace controller deletes "every namespaced type" from
// this, custom resources included.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/client/client.h"

namespace kubit::client {

struct ApiResource {
  Resource resource;  // group, preferred version, plural
  std::string kind;
  bool namespaced = false;
  std::vector<std::string> verbs;
  bool Supports(const std::string& verb) const;
};

// Top-level resources (no subresources) of every group's preferred
// version. A group whose resource list cannot be read is left out and
// named in *failed ("group/version" -> error); the call still succeeds
// with the rest. A failure to read the group lists themselves is the
// returned Status.
Status ServerPreferredResources(Client& client, std::vector<ApiResource>* out,
                                std::map<std::string, std::string>* failed);

}  // namespace kubit::client
