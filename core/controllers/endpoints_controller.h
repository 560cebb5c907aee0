// EndpointsController: the core/v1 Endpoints of every Service with a
// selector, as upstream's endpoint controller: one address per selected
// pod with an IP (targetRef, nodeName, hostname), under addresses when
// the pod is ready (or the Service publishes not-ready addresses) and
// notReadyAddresses otherwise; ports resolved per pod (named target ports
// may differ between pods), addresses with the same ports grouped into
// one subset, at most 1,000 addresses. The Endpoints go when the Service goes. Services without a
// selector keep whatever Endpoints their users write.
#pragma once

#include <string>

#include "core/client/client.h"
#include "core/client/informer.h"
#include "core/controllers/sync_loop.h"

namespace kubit::controllers {

class EndpointsController {
 public:
  // Registers its informers (services, pods, endpoints) with `informers`.
  EndpointsController(client::Client* client, client::SharedInformerFactory* informers, Logger log);
  void Start(int workers = 2);
  void Stop();
  client::Status Sync(const std::string& key);

 private:
  void EnqueueServicesOf(const client::Json& pod);

  client::Client* client_;
  client::Informer* services_;
  client::Informer* pods_;
  client::Informer* endpoints_;
  Logger log_;
  SyncLoop loop_;
};

// The subsets for a Service from its pods (sorted, grouped by ports).
client::Json EndpointSubsets(const client::Json& svc, const std::vector<client::ObjectPtr>& pods);
// Endpoints hold at most 1,000 addresses (EndpointSlices have them all):
// cuts `subsets` down to that, each subset in proportion, ready addresses
// kept before not-ready ones, as upstream; true if anything was cut (the
// Endpoints are then annotated endpoints.kubernetes.io/over-capacity).
bool TruncateEndpointSubsets(client::Json* subsets);

}  // namespace kubit::controllers
