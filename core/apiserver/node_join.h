// NodeJoin: how an agent joins the cluster, as k3s does it.
//   GET  /cacerts                       no authentication: the cluster CA;
//                                       the agent checks it against the hash
//                                       in its K10 token before trusting it.
//   POST /v1-kubit/client-kubelet       HTTP basic "node:<token secret>",
//                                       headers Kubit-Node-Name and
//                                       Kubit-Node-Password: the node's client
//                                       certificate (CN=system:node:<name>,
//                                       O=system:nodes) and key, as JSON.
//   GET  /v1-kubit/config               HTTP basic "node:<token secret>": the
//                                       cluster's network settings an agent
//                                       must share with the server (as k3s's
//                                       /v1-k3s/config), as JSON.
// The first join of a name records a hash of its node password in the
// Secret kube-system/<name>.node-password.kubit; a later join of that name
// with another password is refused, so one board cannot take over
// another's identity by reusing its hostname.
#pragma once

#include "core/apiserver/cluster_pki.h"
#include "store/store.h"

namespace kubit::net {
struct HttpRequest;
class HttpResponse;
}  // namespace kubit::net

namespace kubit::apiserver {

// What every node of the cluster must agree on, decided by the server's
// flags.
struct ClusterNetwork {
  std::string cluster_cidr = "10.42.0.0/16";  // pods (each node a /24)
  std::string service_cidr = "10.43.0.0/16";
  std::string cluster_dns = "10.43.0.10";
  std::string cluster_domain = "cluster.local";
  std::string flannel_backend = "vxlan";  // how pods reach other nodes' pods: vxlan or none
};

class NodeJoin {
 public:
  NodeJoin(const ClusterPKI* pki, store::Store* state, ClusterNetwork network)
      : pki_(pki), state_(state), network_(std::move(network)) {}
  // True if the request was for one of the join paths (it is answered).
  bool Serve(net::HttpRequest& req, net::HttpResponse& resp);

 private:
  void IssueClientCertificate(net::HttpRequest& req, net::HttpResponse& resp);
  void SendClusterConfig(net::HttpRequest& req, net::HttpResponse& resp);
  // The request carries "node:<token secret>" as HTTP basic credentials.
  bool HasJoinToken(net::HttpRequest& req) const;
  // Checks (or, the first time, records) the node's password.
  bool CheckNodePassword(const std::string& node, const std::string& password, std::string* why);

  const ClusterPKI* pki_;
  store::Store* state_;
  ClusterNetwork network_;
};

}  // namespace kubit::apiserver
