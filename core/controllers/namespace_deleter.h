// NamespaceDeleter: one pass of emptying a namespace that is being
// deleted, as upstream's namespaced resources deleter: every namespaced
// type the server serves (from discovery, custom resources included) is
// deleted (deletecollection, or each object); what remains is counted;
// the namespace's status conditions say how it went
// (NamespaceDeletionDiscoveryFailure, NamespaceDeletionGroupVersionParsingFailure,
// NamespaceDeletionContentFailure, NamespaceContentRemaining,
// NamespaceFinalizersRemaining); once nothing remains the "kubernetes"
// finalizer is removed through /finalize and the namespace deleted.
#pragma once

#include <cstdint>
#include <string>

#include "core/client/client.h"

namespace kubit::controllers {

inline constexpr const char* kNamespaceFinalizer = "kubernetes";

class NamespaceDeleter {
 public:
  explicit NamespaceDeleter(client::Client* client) : client_(client) {}
  // One pass over namespace `name`. OK with *remaining_seconds > 0: content
  // remains (finalizers, graceful deletion) and the pass should run again
  // in about that time. Not OK: something failed; run again after a
  // back-off.
  client::Status Delete(const std::string& name, int64_t* remaining_seconds);

 private:
  client::Client* client_;
};

}  // namespace kubit::controllers
