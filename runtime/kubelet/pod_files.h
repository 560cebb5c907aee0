// The per-pod files the kubelet bind-mounts into every container:
// /etc/hosts (upstream's "Kubernetes-managed hosts file": localhost, the
// pod's IP and name, hostAliases), /etc/resolv.conf by dnsPolicy
// (ClusterFirst: the cluster DNS and <ns>.svc.<domain> searches, ndots:5;
// Default: the node's; None: dnsConfig only; dnsConfig merged over the
// others), and /etc/hostname.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace kubit::kubelet {

struct DnsSettings {
  std::string cluster_dns = "10.43.0.10";  // --cluster-dns; empty: ClusterFirst acts as Default
  std::string cluster_domain = "cluster.local";
  // The node's resolver file (--resolv-conf, or as net/dns_resolv_conf.h
  // chooses): what dnsPolicy Default copies.
  std::string resolv_conf = "/etc/resolv.conf";
};

// The pod's hostname: spec.hostname, else its name (cut to 63 characters).
std::string PodHostname(const nlohmann::json& pod);

// `host_hosts`: the node's /etc/hosts, used as is for hostNetwork pods.
std::string HostsFile(const nlohmann::json& pod, const std::string& pod_ip,
                      const DnsSettings& dns, const std::string& host_hosts);

// `host_resolv`: the node's /etc/resolv.conf text.
std::string ResolvConf(const nlohmann::json& pod, const DnsSettings& dns,
                       const std::string& host_resolv);

}  // namespace kubit::kubelet
