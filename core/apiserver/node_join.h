// NodeJoin: how an agent joins the cluster, as k3s does it.
//   GET  /cacerts                       no authentication: the cluster CA;
//                                       the agent checks it against the hash
//                                       in its K10 token before trusting it.
//   POST /v1-kubit/client-kubelet       HTTP basic "node:<token secret>",
//                                       headers Kubit-Node-Name and
//                                       Kubit-Node-Password: the node's client
//                                       certificate (CN=system:node:<name>,
//                                       O=system:nodes) and key, as JSON.
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

class NodeJoin {
 public:
  NodeJoin(const ClusterPKI* pki, store::Store* state) : pki_(pki), state_(state) {}
  // True if the request was for one of the join paths (it is answered).
  bool Serve(net::HttpRequest& req, net::HttpResponse& resp);

 private:
  void IssueClientCertificate(net::HttpRequest& req, net::HttpResponse& resp);
  // Checks (or, the first time, records) the node's password.
  bool CheckNodePassword(const std::string& node, const std::string& password, std::string* why);

  const ClusterPKI* pki_;
  store::Store* state_;
};

}  // namespace kubit::apiserver
