// The ingress proxy's route table from the cluster's objects: each rule
// path of the Ingresses kubit serves becomes a route to the ready
// endpoints of its backend Service's port (by number or name, resolved
// through the Service to the EndpointSlices' port of the same name),
// spec.defaultBackend the table's default, spec.tls the certificates from
// the named kubernetes.io/tls Secrets. Pure: the caller looks objects up.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/client/informer.h"
#include "net/http_proxy_routes.h"

namespace kubit::network {

struct IngressObjects {
  // The Ingresses to serve (already chosen by class).
  std::vector<client::ObjectPtr> ingresses;
  // Lookups by namespace and name; null when absent.
  std::function<client::ObjectPtr(const std::string& ns, const std::string& name)> service;
  std::function<std::vector<client::ObjectPtr>(const std::string& ns, const std::string& service)> endpoint_slices;
  std::function<client::ObjectPtr(const std::string& ns, const std::string& name)> secret;
};

// Oldest Ingress first (then by namespace/name): among equal rules the
// older one wins, and the oldest defaultBackend is the default.
// `problems` gets a line for each backend or certificate left out.
net::ProxyRouteTable BuildIngressRoutes(const IngressObjects& objects, std::vector<std::string>* problems);

// The ready "ip:port" endpoints of a Service port given as an Ingress
// backend names it: {"number": N} or {"name": "http"}.
std::vector<std::string> ServiceBackendEndpoints(const client::Json& service,
                                                 const std::vector<client::ObjectPtr>& slices,
                                                 const client::Json& backend_port, std::string* problem);

}  // namespace kubit::network
