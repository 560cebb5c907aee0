// PodNetwork: a node's pod network, the contract between the kubelet
// (which creates pod sandboxes, runtime/container/sandbox.h) and net/
// (which wires them). It knows sandbox ids and network namespace paths,
// not Pods. One PodNetwork per data dir: its bridge, addresses and rules
// carry names derived from the data dir, so two kubits on one machine
// never touch each other's.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace kubit::net {

// A hostPort of a pod: traffic to the node's host_port (on host_ip, or
// every address when empty) goes to the pod's container_port.
struct PortMapping {
  std::string protocol = "TCP";  // TCP, UDP or SCTP
  int container_port = 0;
  int host_port = 0;
  std::string host_ip;
};

struct PodNetworkOptions {
  std::string data_dir;      // state (address allocations) lives under <data_dir>/agent/
  std::string pod_cidr;      // this node's range, "10.42.0.0/24" (Node.spec.podCIDR)
  std::string cluster_cidr;  // every node's pods, "10.42.0.0/16": not masqueraded among themselves
                             // (empty: pod_cidr alone)
  int mtu = 0;               // 0: the default route's interface MTU (less overlay overhead later)
};

class PodNetwork {
 public:
  virtual ~PodNetwork() = default;
  // Gives the network namespace at `netns_path` an eth0 with the next free
  // address of the pod CIDR, a default route through the node's bridge,
  // outbound NAT, and the host ports. Idempotent for a sandbox id that is
  // already set up (returns its address). *ip is the pod's IPv4 address.
  virtual bool Setup(const std::string& sandbox_id, const std::string& netns_path,
                     const std::vector<PortMapping>& ports, std::string* ip, std::string* error) = 0;
  // Releases the sandbox's address, veth and host ports; missing is fine.
  virtual bool Teardown(const std::string& sandbox_id, std::string* error) = 0;
};

// The node's bridge-based pod network (net/pod_network_bridge.cc). Creates
// or adopts the bridge and rules; false with *error (names the netlink
// call that failed).
bool OpenBridgePodNetwork(const PodNetworkOptions& options, std::unique_ptr<PodNetwork>* out,
                          std::string* error);

// The names a data dir's pod network gives its things on the machine, from
// a short hash of the data dir's absolute path: the bridge "kb<6 hex>",
// a sandbox's host-side veth "kv<8 hex>" (of data dir and sandbox id) and
// the nftables table "kubit_<6 hex>". All fit IFNAMSIZ.
std::string PodBridgeName(const std::string& data_dir);
std::string PodVethName(const std::string& data_dir, const std::string& sandbox_id);
std::string PodNftTableName(const std::string& data_dir);

// For kubit killall: deletes the data dir's bridge, every veth on it or
// recorded for its sandboxes, and its nftables table. What is already gone
// is fine; other data dirs' are untouched. Address records stay (the next
// open reconciles them against the sandboxes that still exist).
bool RemoveBridgePodNetwork(const std::string& data_dir, std::string* error);

}  // namespace kubit::net
