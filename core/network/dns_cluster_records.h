// The cluster DNS's records (Kubernetes' DNS-based service discovery
// specification, as CoreDNS's kubernetes plugin serves it in k3s with
// "pods insecure"), built from Services, their EndpointSlices and the
// Namespaces into a plain net::DnsRecordTable:
//   <svc>.<ns>.svc.<domain>          A/AAAA: the ClusterIPs; for a headless
//                                    Service the ready endpoints' addresses
//   <host>.<svc>.<ns>.svc.<domain>   A/AAAA of a headless Service's endpoint:
//                                    its hostname (StatefulSet pods), else its
//                                    address with dashes
//   _<port>._<proto>.<svc>.<ns>.svc.<domain>  SRV for each named port (to the
//                                    Service's name, or to each endpoint's)
//   <svc>.<ns>.svc.<domain>          CNAME for an ExternalName Service
//   <a-b-c-d>.<ns>.pod.<domain>      A for any address in an existing namespace
//   PTR for ClusterIPs and headless endpoints; dns-version.<domain> TXT "1.1.0";
//   the zone's NS ns.dns.<domain> at the cluster DNS address.
// Names not there under <domain> are NXDOMAIN; the namespaces exist as
// names, so "<ns>.svc.<domain>" is NODATA. TTL 5 s, as CoreDNS's.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/client/informer.h"
#include "net/dns_records.h"

namespace kubit::network {

inline constexpr uint32_t kClusterDnsTtl = 5;

struct ClusterDnsObjects {
  std::string domain = "cluster.local";
  std::vector<std::string> dns_ips;  // the kube-dns Service's addresses
  std::vector<client::ObjectPtr> services, namespaces;
  // The EndpointSlices of a Service (by the kubernetes.io/service-name label).
  std::function<std::vector<client::ObjectPtr>(const std::string& ns, const std::string& service)> endpoint_slices;
  uint32_t serial = 1;  // the SOA's
};

std::shared_ptr<net::DnsRecordTable> BuildClusterDnsTable(const ClusterDnsObjects& objects);

// "10.43.0.10" -> "10.0.43.10.in-addr.arpa", IPv6 by nibbles under
// ip6.arpa; "" for anything else.
std::string ReverseDnsName(const std::string& ip);

}  // namespace kubit::network
