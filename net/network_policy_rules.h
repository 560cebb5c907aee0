// NetworkPolicy's data path on a node, in the kernel: from a plain model
// of this node's pods (which are isolated for ingress and for egress, and
// which peers and ports their policies allow) one nftables table per data
// dir, "kubitnp_<6 hex>", replaced whole in one transaction at every sync.
// It knows no Kubernetes objects; core/network/network_policy_controller
// resolves the policies' selectors into this model.
//
// The table filters at the forward hook, after the service proxy's DNAT
// (prerouting), so a policy guards the pod a ClusterIP or NodePort led
// to; pods of one bridge reach it through br_netfilter (the service
// proxy's bridge-nf-call-iptables, as kube-router needs it too). At the
// input hook it filters what isolated pods send to the node itself (the
// node-local cluster DNS address, say), as kube-router's INPUT chain does.
// Traffic from the node to its pods (probes) leaves through the output
// hook and is never filtered; replies of allowed connections pass
// (conntrack established/related).
//
//   forward: ct state established,related accept
//            ip saddr vmap @egress-pods    -> egress-<pod ip>  (allow: return; else drop)
//            ip daddr vmap @ingress-pods   -> ingress-<pod ip> (allow: return; else drop)
//   input:   ct state established,related accept
//            ip saddr vmap @egress-pods
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

// A protocol and destination port or range; port 0: every port of it.
struct PolicyPort {
  uint8_t protocol = IPPROTO_TCP;  // TCP, UDP or SCTP
  uint16_t port = 0;
  uint16_t end_port = 0;  // 0: just `port`; else the range port..end_port
};

// A CIDR less the addresses of its excepts.
struct PolicyIpBlock {
  Ipv4Prefix cidr;
  std::vector<Ipv4Prefix> except;
};

// One rule of one direction: traffic with a peer (source for ingress,
// destination for egress) among `pod_ips` or `blocks` (or any peer when
// `any_peer`), to one of `ports` (every port and protocol when empty).
// A rule with no peer at all (selectors that match nothing) allows nothing.
struct PolicyRule {
  bool any_peer = false;
  std::vector<uint32_t> pod_ips;
  std::vector<PolicyIpBlock> blocks;
  std::vector<PolicyPort> ports;
};

// A pod of this node that some policy selects. An isolated direction lets
// only what one of its rules allows pass; no rule: nothing passes.
struct PodPolicy {
  std::string name;  // "namespace/pod", for the rules' text
  uint32_t ip = 0;
  bool ingress_isolated = false, egress_isolated = false;
  std::vector<PolicyRule> ingress, egress;
};

// The table for `pods` (nothing is programmed): what NetworkPolicyFilter
// hands the kernel; tests read it.
nft::TableSpec BuildNetworkPolicyRules(const std::string& table, const std::vector<PodPolicy>& pods);

class NetworkPolicyFilter {
 public:
  // Makes bridged traffic pass netfilter (bridge-nf-call-iptables) when
  // the kernel can; without it pods of one bridge reach each other
  // unfiltered (bridge_mode() says so). Programs nothing yet.
  static void Open(const std::string& data_dir, std::unique_ptr<NetworkPolicyFilter>* out);

  // Replaces the table with the rules for `pods` in one transaction; left
  // alone when the kernel holds these rules already.
  bool Sync(const std::vector<PodPolicy>& pods, std::string* error);
  // Whether the table is still in the kernel (kubit killall or a flush of
  // the ruleset may have removed it).
  bool TablePresent(bool* present, std::string* error);
  const std::string& bridge_mode() const { return bridge_mode_; }

 private:
  std::string table_, bridge_mode_;
  std::mutex mu_;
  bool programmed_ = false;
  std::string last_text_;
};

// "kubitnp_<6 hex>", from the data dir (net/local_names.h).
std::string NetworkPolicyNftTableName(const std::string& data_dir);

// For kubit killall: deletes the data dir's policy table; absent is fine.
bool RemoveNetworkPolicyFilter(const std::string& data_dir, std::string* error);

}  // namespace kubit::net
