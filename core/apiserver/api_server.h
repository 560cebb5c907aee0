// ApiServer: the Kubernetes REST API over HTTPS in front of the store.
// Authenticates each request (x509 client certificates), authorizes it,
// and serves discovery and the built-in resources.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/apiserver/authn.h"
#include "core/apiserver/cluster_pki.h"
#include "core/apiserver/request_info.h"
#include "core/apiserver/crd_controller.h"
#include "core/apiserver/metrics.h"
#include "core/apiserver/metrics_api.h"
#include "core/apiserver/node_authorizer.h"
#include "core/apiserver/node_join.h"
#include "core/apiserver/node_tunnel.h"
#include "core/apiserver/pod_streams.h"
#include "core/apiserver/rbac.h"
#include "core/apiserver/rest.h"
#include "core/apiserver/reviews.h"
#include "store/store.h"

namespace kubit::net {
class HttpServer;
struct HttpRequest;
class HttpResponse;
}  // namespace kubit::net

namespace kubit::apiserver {

struct ApiServerOptions {
  std::string bind_address = "0.0.0.0";
  int port = 6443;
  std::string version = "v0.0.0";  // kubit's version, for /version
  RestOptions rest;
  ClusterNetwork network;  // served to agents at /v1-kubit/config
  MetricsApiOptions metrics;  // metrics.k8s.io (kubectl top, HPAs)
};

class ApiServer {
 public:
  ApiServer(ApiServerOptions options, store::Store* state, const ClusterPKI* pki);
  ~ApiServer();
  // Creates the default namespaces, then listens. False with *error.
  bool Start(std::string* error);
  void Stop();
  int port() const;
  // A dialer for net::HttpClientOptions::dial, for the controllers and the
  // kubelet inside `kubit server`: each call makes a socketpair, serves one
  // end as if a verified client certificate CN=user, O=groups had come in
  // on it, and returns the other. Same HTTP, authentication, authorization
  // and REST path as kubectl's requests, without TLS or TCP. Dials fail
  // until Start has succeeded.
  std::function<int(std::string* error)> InProcessDialer(std::string user,
                                                         std::vector<std::string> groups);
  // The agents' tunnels: the way to any node's kubelet (logs, exec).
  NodeTunnels* tunnels() { return &tunnels_; }

 private:
  void Handle(net::HttpRequest& req, net::HttpResponse& resp);
  void Serve(net::HttpRequest& req, net::HttpResponse& resp, RequestInfo* info);
  bool Authorize(const Attributes& a) const;
  bool Impersonate(net::HttpRequest& req, net::HttpResponse& resp, UserInfo* user) const;
  ApiServerOptions opts_;
  store::Store* state_;
  const ClusterPKI* pki_;
  Authenticator authn_;
  RbacAuthorizer rbac_;
  NodeAuthorizer nodes_;
  Reviews reviews_;
  Metrics metrics_;
  CrdController crds_;
  Rest rest_;
  NodeJoin join_;
  NodeTunnels tunnels_;
  PodStreams streams_;
  MetricsApi metrics_api_;
  std::unique_ptr<net::HttpServer> http_;
};

}  // namespace kubit::apiserver
