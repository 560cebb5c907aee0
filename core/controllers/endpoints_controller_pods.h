// What the Endpoints and EndpointSlice controllers both read off Services
// and pods, as upstream's endpoint utilities: which Services select a pod,
// whether a pod belongs in endpoints at all, and the pod port a Service
// port resolves to (a number, or a container port's name).
#pragma once

#include <string>
#include <vector>

#include "core/client/informer.h"

namespace kubit::controllers {

// Services with a selector (not the API server's own "kubernetes" one)
// are the ones endpoints are made for.
bool ServiceManagesEndpoints(const client::Json& svc);
bool ServiceSelects(const client::Json& svc, const client::Json& pod);
// Keys of the Services in `services` that select the pod.
std::vector<std::string> ServicesSelecting(const std::vector<client::ObjectPtr>& services, const client::Json& pod);
// Has an IP, is not finished for good, and (unless unready pods are
// published) is not being deleted.
bool PodInEndpoints(const client::Json& pod, bool include_terminating);
// The pod's port for a Service port: targetPort as a number, or the
// named container port with the same protocol; false if the pod has none.
bool FindPodPort(const client::Json& pod, const client::Json& service_port, int* port);
// spec.hostname when the pod's subdomain is the Service's name; else "".
std::string EndpointHostname(const client::Json& pod, const client::Json& svc);
client::Json PodTargetRef(const client::Json& pod);

}  // namespace kubit::controllers
