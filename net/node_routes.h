// NodeRoutes: how a node's pods reach the pods of the other nodes, one
// backend per flannel mode: vxlan (net/vxlan_overlay.h) encapsulates,
// host-gw (net/host_gw_routes.h) routes straight to the other node over a
// shared L2 network. Either is fed the other nodes; neither knows Nodes.
#pragma once

#include <string>
#include <vector>

namespace kubit::net {

struct PeerNode {
  std::string node_ip;
  std::string vtep_mac;  // vxlan only: "aa:bb:cc:dd:ee:ff"
  std::string pod_cidr;
};

class NodeRoutes {
 public:
  virtual ~NodeRoutes() = default;
  // Makes the kernel's state for other nodes that of `peers` exactly
  // (entries of nodes gone are removed). Peers with unusable fields are
  // skipped and named in *error; the rest are still programmed.
  virtual bool SetPeers(const std::vector<PeerNode>& peers, std::string* error) = 0;
};

}  // namespace kubit::net
