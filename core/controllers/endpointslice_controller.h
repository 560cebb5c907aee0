// EndpointSliceController: the discovery.k8s.io/v1 EndpointSlices of
// every Service with a selector, as upstream's endpointslice controller:
// one endpoint per selected pod with an IP (conditions ready, serving,
// terminating; nodeName, targetRef, hostname), grouped by address type
// and by the ports the pod resolves, at most 100 endpoints a slice.
// Slices are labelled kubernetes.io/service-name and
// endpointslice.kubernetes.io/managed-by, and owned by the Service (the
// garbage collector removes them with it). Existing slices are reused for
// the same ports and address type, so unchanged slices are not rewritten;
// a Service with no endpoints keeps one empty placeholder slice.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/client/client.h"
#include "core/client/informer.h"
#include "core/controllers/sync_loop.h"

namespace kubit::controllers {

inline constexpr const char* kServiceNameLabel = "kubernetes.io/service-name";
inline constexpr const char* kManagedByLabel = "endpointslice.kubernetes.io/managed-by";
inline constexpr const char* kEndpointSliceControllerName = "endpointslice-controller.k8s.io";
inline constexpr size_t kMaxEndpointsPerSlice = 100;

// What one slice should hold.
struct DesiredSlice {
  std::string address_type;  // IPv4 or IPv6
  client::Json ports;        // sorted
  client::Json endpoints;    // sorted by address, at most kMaxEndpointsPerSlice
};

// The slices a Service should have from its pods (a placeholder if none).
std::vector<DesiredSlice> DesiredSlices(const client::Json& svc, const std::vector<client::ObjectPtr>& pods);

class EndpointSliceController {
 public:
  // Registers its informers (services, pods, endpointslices) with `informers`.
  EndpointSliceController(client::Client* client, client::SharedInformerFactory* informers, Logger log);
  void Start(int workers = 2);
  void Stop();
  client::Status Sync(const std::string& key);

 private:
  void EnqueueServicesOf(const client::Json& pod);

  client::Client* client_;
  client::Informer* services_;
  client::Informer* pods_;
  client::Informer* slices_;
  Logger log_;
  SyncLoop loop_;
};

}  // namespace kubit::controllers
