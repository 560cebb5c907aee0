// ServiceProxy: a node's data path for Services, in the kernel, as
// kube-proxy's nftables mode builds it. It takes a plain table of service
// ports (virtual address, protocol and port, the endpoints behind them)
// and knows no Kubernetes objects; core/network/service_proxy_controller
// feeds it. All rules live in one nftables table per data dir,
// "kubitsvc_<6 hex>", rewritten in one transaction at every sync:
//
//   - ClusterIPs, external IPs and LoadBalancer ingress IPs are looked up
//     in one verdict map (address . protocol . port), NodePorts in another
//     (protocol . port) for every local address but loopback;
//   - a service port's chain picks one endpoint at random (numgen over an
//     anonymous verdict map), or, with ClientIP affinity, the endpoint a
//     client had within the timeout (a set with timeouts per endpoint);
//   - an endpoint's chain DNATs, and marks for masquerade a pod reaching
//     itself (hairpin);
//   - masquerade for ClusterIP traffic from outside the cluster CIDR, and
//     for external traffic under externalTrafficPolicy Cluster; Local
//     keeps the client's address and only uses this node's endpoints;
//   - a service with no usable endpoint is refused (TCP reset, ICMP port
//     unreachable otherwise); one with no endpoint for its Local policy
//     drops.
//
// Endpoints: ready ones; when none is ready, serving-and-terminating ones
// (upstream's fallback).
#pragma once

#include <netinet/in.h>
#include <stdint.h>

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "net/ipam_ipv4.h"
#include "net/nftables.h"

namespace kubit::net {

struct ServiceEndpoint {
  uint32_t ip = 0;
  uint16_t port = 0;
  bool ready = true, serving = true, terminating = false;
  bool local = false;  // runs on this node
};

// One port of one Service.
struct ServicePortEntry {
  std::string name;  // "namespace/service/port-name" (the port name may be empty): names its chains
  uint8_t protocol = IPPROTO_TCP;  // TCP, UDP or SCTP
  uint32_t cluster_ip = 0;
  uint16_t port = 0;
  uint16_t node_port = 0;  // 0: none
  std::vector<uint32_t> external_ips, load_balancer_ips;
  bool external_policy_local = false;  // externalTrafficPolicy Local
  bool internal_policy_local = false;  // internalTrafficPolicy Local
  uint32_t affinity_seconds = 0;       // sessionAffinity ClientIP timeout; 0: no affinity
  std::vector<ServiceEndpoint> endpoints;
};

struct ServiceRulesOptions {
  std::string table;  // ServiceNftTableName(data dir)
  Ipv4Prefix cluster_cidr;  // every node's pods; ClusterIP traffic from elsewhere is masqueraded
  // When bridged traffic skips netfilter (no br_netfilter), a pod's reply
  // to another pod of the same bridge would bypass the DNAT's undoing:
  // traffic that came in on this bridge is then masqueraded.
  std::string masquerade_from_bridge;
};

// The table for `ports` (nothing is programmed): what ServiceProxy::Sync
// hands the kernel; tests read it.
nft::TableSpec BuildServiceRules(const ServiceRulesOptions& options, const std::vector<ServicePortEntry>& ports);

struct ServiceProxyOptions {
  std::string data_dir;
  std::string cluster_cidr;  // "10.42.0.0/16"
};

class ServiceProxy {
 public:
  // Makes bridged traffic pass netfilter (bridge-nf-call-iptables), or
  // falls back to masquerading same-bridge traffic when the kernel cannot.
  // Programs nothing yet.
  static bool Open(const ServiceProxyOptions& options, std::unique_ptr<ServiceProxy>* out, std::string* error);

  // Programs the table for `ports` in one transaction. The table is
  // rewritten in place (affinity entries survive) when it is as the last
  // sync left it, else replaced whole; left alone when it holds these
  // rules already. Then UDP flows to endpoints that went (or to ports
  // that had none) are dropped from conntrack (service_proxy_conntrack.h);
  // a failure there is reported and tried again at the next Sync.
  bool Sync(const std::vector<ServicePortEntry>& ports, std::string* error);
  // Whether the table is still in the kernel (something else may have
  // removed it: kubit killall, a flush of the ruleset).
  bool TablePresent(bool* present, std::string* error);
  // "bridge-nf-call-iptables", or the masquerading fallback: for the log.
  const std::string& bridge_mode() const { return bridge_mode_; }

 private:
  bool ProgramLocked(nft::TableSpec spec, std::string* error);

  ServiceRulesOptions rules_;
  std::string bridge_mode_;
  std::mutex mu_;
  bool programmed_ = false;
  nft::TableSpec last_;
  // The ports conntrack was last cleaned for; none before the first sync
  // (flows of a previous run are left alone).
  bool have_ports_ = false;
  std::vector<ServicePortEntry> last_ports_;
};

// "kubitsvc_<6 hex>", from the data dir (net/local_names.h).
std::string ServiceNftTableName(const std::string& data_dir);

// For kubit killall and a node started with --disable-kube-proxy: deletes
// the data dir's service table; absent is fine.
bool RemoveServiceProxy(const std::string& data_dir, std::string* error);

}  // namespace kubit::net
