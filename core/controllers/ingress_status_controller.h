// IngressStatusController: the status of every Ingress that kubit's
// ingress proxy serves (IngressClass "kubit", core/network/ingress_class.h)
// lists where to reach it: status.loadBalancer.ingress holds the
// InternalIP of each Ready node, since every node runs the proxy (k3s's
// Traefik behind ServiceLB reports the same). Updated when Ingresses,
// the class, or nodes' addresses or readiness change.
#pragma once

#include <string>
#include <vector>

#include "core/client/client.h"
#include "core/client/informer.h"
#include "core/controllers/sync_loop.h"

namespace kubit::controllers {

// [{"ip": ...}] for the Ready nodes' InternalIPs, sorted, no duplicates.
client::Json IngressLoadBalancerStatus(const std::vector<client::ObjectPtr>& nodes);

class IngressStatusController {
 public:
  // Registers its informers (ingresses, ingressclasses, nodes).
  IngressStatusController(client::Client* client, client::SharedInformerFactory* informers, Logger log);
  void Start(int workers = 1);
  void Stop();
  client::Status Sync(const std::string& key);

 private:
  void EnqueueAll();

  client::Client* client_;
  client::Informer* ingresses_;
  client::Informer* classes_;
  client::Informer* nodes_;
  Logger log_;
  SyncLoop loop_;
};

}  // namespace kubit::controllers
