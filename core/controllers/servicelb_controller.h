// ServiceLBController: LoadBalancer Services the way k3s's ServiceLB
// serves them: every node accepts the Service's port on its own addresses
// (the node proxies map a LoadBalancer ingress IP to the Service, see
// net/service_proxy.h), so status.loadBalancer.ingress lists the
// InternalIP of each Ready node, with ipMode VIP. Services of another
// spec.loadBalancerClass are another controller's and left alone; a
// Service that stops being a LoadBalancer loses the ingress list.
// Updated when Services change, or nodes' addresses or readiness.
#pragma once

#include <string>
#include <vector>

#include "core/client/client.h"
#include "core/client/informer.h"
#include "core/controllers/sync_loop.h"

namespace kubit::controllers {

// status.loadBalancer.ingress for a Service of ServiceLB's: the Ready
// nodes' InternalIPs, sorted, each {"ip": ..., "ipMode": "VIP"}.
client::Json ServiceLoadBalancerIngress(const std::vector<client::ObjectPtr>& nodes);

class ServiceLBController {
 public:
  // Registers its informers (services, nodes).
  ServiceLBController(client::Client* client, client::SharedInformerFactory* informers, Logger log);
  void Start(int workers = 1);
  void Stop();
  client::Status Sync(const std::string& key);

 private:
  void EnqueueAll();

  client::Client* client_;
  client::Informer* services_;
  client::Informer* nodes_;
  Logger log_;
  SyncLoop loop_;
};

}  // namespace kubit::controllers
