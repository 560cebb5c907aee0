// Applying one manifest file's objects, as `kubectl apply --server-side
// --force-conflicts` would: Namespaces and CustomResourceDefinitions
// first, objects without a namespace in the default one, every object
// applied even when another fails (each failure is reported).
#pragma once

#include <string>
#include <vector>

#include "core/client/client.h"
#include "manifests/addon.h"
#include "manifests/kinds.h"

namespace kubit::manifests {

inline constexpr const char* kFieldManager = "kubit-deploy";

// The objects of a YAML or JSON text ("---"-separated documents; `kind:
// List` documents give their items), in the order they are to be applied.
// False with *error for text that is not YAML or a document that is not an
// object with apiVersion, kind and metadata.name.
bool ParseManifest(const std::string& text, std::vector<client::Json>* out, std::string* error);

struct ApplyResult {
  std::vector<ObjectRef> applied;   // in order
  std::vector<std::string> errors;  // "<kind>/<name>: <why>", one per object that failed
};

// Applies `objects` (from ParseManifest); objects of a namespaced kind
// without a namespace go to `default_namespace`.
ApplyResult ApplyObjects(client::Client* client, KindResolver* kinds, const std::vector<client::Json>& objects,
                         const std::string& default_namespace);

// Deletes the objects (in reverse order, Background propagation); those
// already gone count as deleted. Returns the errors.
std::vector<std::string> DeleteObjects(client::Client* client, KindResolver* kinds,
                                       const std::vector<ObjectRef>& objects);

}  // namespace kubit::manifests
