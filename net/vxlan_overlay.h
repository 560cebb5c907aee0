// VxlanOverlay: pod traffic between nodes through the kernel's vxlan
// device, as flannel's default backend does it. Each node has one vxlan
// device (VNI 1, UDP 8472, learning off) with a fixed MAC and the first
// address of its podCIDR; for every other node it keeps
//   a route     <peer podCIDR> via <peer podCIDR's first address> onlink,
//   a neighbour <peer podCIDR's first address> -> <peer VTEP MAC>,
//   an FDB entry <peer VTEP MAC> -> <peer node IP>,
// so the kernel encapsulates pod packets to the right board. It knows node
// IPs, MACs and CIDRs, not Nodes (core/network feeds it).
#pragma once

#include <stdint.h>

#include <memory>
#include <string>
#include <vector>

#include "net/node_routes.h"

namespace kubit::net {

inline constexpr int kVxlanOverhead = 50;  // outer IPv4 + UDP + VXLAN + inner Ethernet

struct VxlanOptions {
  std::string data_dir;  // names the device, as the pod network's bridge
  std::string local_ip;  // this node's address the tunnels start from
  std::string pod_cidr;  // this node's range
  uint32_t vni = 1;
  uint16_t port = 8472;  // the Linux default flannel also uses
  int mtu = 0;           // 0: the default route's MTU less kVxlanOverhead
};

class VxlanOverlay : public NodeRoutes {
 public:
  // Creates or adopts the device, sets its address and brings it up.
  static bool Open(const VxlanOptions& options, std::unique_ptr<VxlanOverlay>* out, std::string* error);
  virtual ~VxlanOverlay() = default;
  // This node's VTEP MAC, for the other nodes ("aa:bb:...").
  virtual std::string vtep_mac() const = 0;
};

// The device's name for a data dir: "kx<6 hex>" (fits IFNAMSIZ).
std::string VxlanDeviceName(const std::string& data_dir);
// The MTU pods get when the overlay carries them.
int VxlanPodMtu();
// For kubit killall: deletes the data dir's device (its routes, neighbours
// and FDB entries go with it). Gone already is fine.
bool RemoveVxlanOverlay(const std::string& data_dir, std::string* error);
// "aa:bb:cc:dd:ee:ff" <-> 6 bytes.
bool ParseMac(const std::string& text, std::string* bytes);
std::string FormatMac(const std::string& bytes);

}  // namespace kubit::net
