// PodStreams: pods/log, exec, attach and portforward for pods on any
// node, as upstream's API server proxies them to the kubelet: the pod read
// from the store (404 as upstream), its node's kubelet reached through the
// node tunnel (node_tunnel.h), the request passed on (path
// /containerLogs/..., /exec/..., /attach/... or /portForward/<ns>/<pod>/<uid>, the query
// unchanged, the upgrade headers (WebSocket's, SPDY's
// X-Stream-Protocol-Version) unchanged so that the kubelet's answer to
// them holds for the client), and the kubelet's answer relayed: a log body
// streamed as it arrives, a 101 turned into a byte pump both ways, an
// error status with its body as is.
#pragma once

#include "core/apiserver/node_tunnel.h"
#include "core/apiserver/request_info.h"
#include "store/store.h"

namespace kubit::net {
struct HttpRequest;
class HttpResponse;
}  // namespace kubit::net

namespace kubit::apiserver {

class PodStreams {
 public:
  PodStreams(store::Store* state, NodeTunnels* tunnels) : state_(state), tunnels_(tunnels) {}
  // A pods/log, exec, attach or portforward request, already authorized.
  void Serve(const RequestInfo& info, net::HttpRequest& req, net::HttpResponse& resp);

 private:
  store::Store* state_;
  NodeTunnels* tunnels_;
};

}  // namespace kubit::apiserver
