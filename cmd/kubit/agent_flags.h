// The node agent's flags, which `kubit agent` and `kubit server` (whose
// own node runs the same agent) share.
#pragma once

#include <string>
#include <vector>

#include "cmd/kubit/flags.h"
#include "core/network/dns_node.h"
#include "core/network/ingress_proxy.h"
#include "core/network/network_policy_controller.h"
#include "core/network/overlay_controller.h"
#include "core/network/service_proxy_controller.h"
#include "runtime/kubelet/node_status.h"
#include "runtime/kubelet/pod_manager.h"

namespace kubit::cmd {

struct AgentFlags {
  std::string node_name;
  std::vector<std::string> node_labels, node_taints;
  std::string private_registry;
  std::string cluster_dns;  // empty: the server's 10th address of --service-cidr (agents: the server's)
  std::string resolv_conf;  // --resolv-conf
  int64_t ingress_http_port = 80, ingress_https_port = 443;
  bool disable_kube_proxy = false;
  bool disable_network_policy = false;

  void Register(FlagSet* flags);
  // Fills defaults (the node name) and checks labels and taints.
  bool Check(std::string* error);
  kubelet::NodeOptions NodeOptionsFor(const std::string& data_dir, const std::vector<std::string>& ips,
                                      bool control_plane) const;
  network::IngressProxyOptions IngressOptions() const;
  // The node's part of the cluster DNS.
  network::NodeDnsOptions DnsOptionsFor(const std::string& data_dir) const;
  // The pod network between this node and the others (--flannel-backend
  // vxlan or host-gw), from this node's `node_ip`.
  network::OverlayOptions OverlayOptionsFor(const std::string& data_dir, const std::string& node_ip,
                                            const std::string& backend) const;
  // Services' data path on this node (kube-proxy's part), for pods of `cluster_cidr`.
  network::ServiceProxyControllerOptions ServiceProxyOptionsFor(const std::string& data_dir,
                                                                const std::string& cluster_cidr) const;
  // NetworkPolicy's data path for this node's pods (kube-router's part).
  network::NetworkPolicyControllerOptions NetworkPolicyOptionsFor(const std::string& data_dir) const;
  kubelet::PodManagerOptions PodOptionsFor(const std::string& data_dir, const std::string& ip) const;
};

}  // namespace kubit::cmd
