// The service ports a node's proxy programs (net/service_proxy.h's plain
// table), from Services and their EndpointSlices, as kube-proxy reads
// them: ExternalName and headless Services get nothing, nor do Services
// that every node serves itself (annotation kubit.io/node-local "true":
// the cluster DNS); endpoints come from the slices' ports by the Service
// port's name and protocol (so a named targetPort is already resolved per
// pod), with their ready/serving/terminating conditions, local when their
// nodeName is this node. IPv4 only.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/client/informer.h"
#include "net/service_proxy.h"

namespace kubit::network {

inline constexpr const char* kNodeLocalAnnotation = "kubit.io/node-local";

// The EndpointSlices of Service ns/name (label kubernetes.io/service-name).
using SlicesOf = std::function<std::vector<client::ObjectPtr>(const std::string& ns, const std::string& name)>;

std::vector<net::ServicePortEntry> ServicePortsFor(const std::vector<client::ObjectPtr>& services,
                                                   const SlicesOf& slices, const std::string& node_name);

}  // namespace kubit::network
