// Controller references: the ownerReference with controller: true that
// ties a pod (or ReplicaSet) to the one object managing it, and upstream's
// ControllerRefManager rule for claiming objects: an owner keeps what it
// controls while its selector still matches, releases what no longer
// matches (drops its ownerReference), and adopts orphans its selector
// matches (adds one) — never while it is itself being deleted, and never
// objects that are being deleted.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/api/selectors.h"
#include "core/client/client.h"
#include "core/client/informer.h"

namespace kubit::controllers {

// The ownerReference a controller puts on what it creates: controller and
// blockOwnerDeletion true, so that foreground deletion of the owner waits
// for it.
client::Json ControllerRefFor(const client::Json& owner);
// The object's ownerReference with controller: true; null if none.
client::Json ControllerRefOf(const client::Json& obj);
// The key ("ns/name") of the owner of `obj` of kind `kind`, if that owner
// is its controller; empty otherwise.
std::string ControllerKeyOf(const client::Json& obj, const std::string& kind);
bool BeingDeleted(const client::Json& obj);

struct ClaimOptions {
  client::Resource resource;  // of the objects claimed (patched to adopt or release)
  // Checked once before the first adoption, with a fresh read of the
  // owner (upstream's RecheckDeletionTimestamp): false stops adoptions.
  std::function<client::Status()> can_adopt;
};

// The objects among `candidates` (all in the owner's namespace) that
// `owner` controls after adopting and releasing as above. A failed patch
// of one object is returned (the caller syncs again); NotFound ones are
// skipped, as upstream.
client::Status ClaimObjects(client::Client* client, const client::Json& owner,
                            const api::LabelSelector& selector,
                            const std::vector<client::ObjectPtr>& candidates, const ClaimOptions& options,
                            std::vector<client::ObjectPtr>* claimed);

}  // namespace kubit::controllers
