// ResourceQuotaController: status.hard and status.used of every
// ResourceQuota, as upstream's resource quota controller. status.hard
// follows spec.hard; status.used is summed from the namespace's objects
// (core/api/quota_usage.h), read fresh from the API server rather than
// from caches, so that what admission charged for objects never written,
// or deleted since, is given back. A quota is computed again when its
// spec.hard changes, when an object it counts is deleted or a pod
// finishes, and every resync period.
#pragma once

#include <chrono>
#include <string>

#include "core/client/client.h"
#include "core/client/informer.h"
#include "core/controllers/sync_loop.h"

namespace kubit::controllers {

class ResourceQuotaController {
 public:
  // Registers its informers (resourcequotas, pods, services,
  // persistentvolumeclaims, configmaps).
  ResourceQuotaController(client::Client* client, client::SharedInformerFactory* informers, Logger log,
                          std::chrono::milliseconds resync = std::chrono::seconds(30));
  void Start(int workers = 1);
  void Stop();
  client::Status Sync(const std::string& key);

 private:
  void EnqueueNamespace(const client::Json& obj);
  // The version a group serves first ("v1" for core), for listing any resource.
  client::Status PreferredVersion(const std::string& group, std::string* version);

  client::Client* client_;
  client::Informer* quotas_;
  std::chrono::milliseconds resync_;
  SyncLoop loop_;
};

}  // namespace kubit::controllers
