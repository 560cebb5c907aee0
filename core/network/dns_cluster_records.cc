#include "core/network/dns_cluster_records.h"

#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

namespace kubit::network {

using client::Json;
using client::ObjectPtr;

namespace {

const Json& Member(const Json& j, const char* key) {
  static const Json null;
  return j.is_object() && j.contains(key) ? j[key] : null;
}

std::string String(const Json& j, const char* key) {
  const Json& v = Member(j, key);
  return v.is_string() ? v.get<std::string>() : "";
}

// The record data of an address: A or AAAA; false for anything else.
bool AddressRecord(const std::string& ip, uint16_t* type, std::string* rdata) {
  in_addr v4;
  if (inet_pton(AF_INET, ip.c_str(), &v4) == 1) {
    *type = net::dns::kTypeA;
    *rdata = net::RdataA(ntohl(v4.s_addr));
    return true;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, ip.c_str(), &v6) == 1) {
    *type = net::dns::kTypeAAAA;
    *rdata = net::RdataAAAA(v6.s6_addr);
    return true;
  }
  return false;
}

// An endpoint's name without a hostname: its address with dashes, as
// CoreDNS makes it ("10-42-0-5", "fd00--5").
std::string DashedAddress(const std::string& ip) {
  std::string s = ip;
  std::replace(s.begin(), s.end(), '.', '-');
  std::replace(s.begin(), s.end(), ':', '-');
  return s;
}

std::string LowerProtocol(const Json& port) {
  std::string p = String(port, "protocol");
  if (p.empty()) p = "TCP";
  std::transform(p.begin(), p.end(), p.begin(), [](unsigned char c) { return static_cast<char>(tolower(c)); });
  return p;
}

void AddAddress(net::DnsRecordTable* t, const std::string& name, const std::string& ip) {
  uint16_t type;
  std::string rdata;
  if (AddressRecord(ip, &type, &rdata)) t->Add(name, type, rdata);
}

void AddPtr(net::DnsRecordTable* t, const std::string& ip, const std::string& name) {
  std::string reverse = ReverseDnsName(ip);
  if (!reverse.empty()) t->Add(reverse, net::dns::kTypePTR, net::RdataName(name));
}

struct Endpoint {
  std::string ip, host;  // host: the name under the Service
};

// The ready endpoints of a headless Service and the named ports its
// slices carry ("name/proto" -> port number).
void HeadlessEndpoints(const std::vector<ObjectPtr>& slices, std::vector<Endpoint>* endpoints,
                       std::map<std::pair<std::string, std::string>, int>* ports) {
  std::set<std::string> seen;
  for (const ObjectPtr& s : slices) {
    std::string type = String(*s, "addressType");
    if (type != "IPv4" && type != "IPv6") continue;  // FQDN slices have no addresses to give
    const Json& sp = Member(*s, "ports");
    if (sp.is_array())
      for (const Json& p : sp) {
        std::string name = String(p, "name");
        const Json& num = Member(p, "port");
        if (!name.empty() && num.is_number_integer()) (*ports)[{name, LowerProtocol(p)}] = num.get<int>();
      }
    const Json& eps = Member(*s, "endpoints");
    if (!eps.is_array()) continue;
    for (const Json& ep : eps) {
      // An unknown readiness counts as ready (the EndpointSlice API's rule).
      const Json& ready = Member(Member(ep, "conditions"), "ready");
      if (ready.is_boolean() && !ready.get<bool>()) continue;
      const Json& addrs = Member(ep, "addresses");
      if (!addrs.is_array()) continue;
      for (const Json& a : addrs) {
        if (!a.is_string() || !seen.insert(a.get<std::string>()).second) continue;
        std::string host = String(ep, "hostname");
        endpoints->push_back({a.get<std::string>(), host.empty() ? DashedAddress(a.get<std::string>()) : host});
      }
    }
  }
}

void AddService(net::DnsRecordTable* t, const Json& svc, const ClusterDnsObjects& objs) {
  const Json& meta = Member(svc, "metadata");
  const Json& spec = Member(svc, "spec");
  std::string name = String(meta, "name"), ns = String(meta, "namespace");
  if (name.empty() || ns.empty()) return;
  const std::string fqdn = name + "." + ns + ".svc." + objs.domain;
  if (String(spec, "type") == "ExternalName") {
    std::string target = String(spec, "externalName");
    while (!target.empty() && target.back() == '.') target.pop_back();
    if (!target.empty()) t->Add(fqdn, net::dns::kTypeCNAME, net::RdataName(target));
    return;
  }
  std::vector<std::string> cluster_ips;
  const Json& ips = Member(spec, "clusterIPs");
  if (ips.is_array()) {
    for (const Json& ip : ips)
      if (ip.is_string()) cluster_ips.push_back(ip.get<std::string>());
  }
  if (cluster_ips.empty() && !String(spec, "clusterIP").empty()) cluster_ips.push_back(String(spec, "clusterIP"));
  bool headless = !cluster_ips.empty() && cluster_ips[0] == "None";
  if (cluster_ips.empty()) return;  // not allocated yet

  if (!headless) {
    for (const auto& ip : cluster_ips) {
      AddAddress(t, fqdn, ip);
      AddPtr(t, ip, fqdn);
    }
    const Json& ports = Member(spec, "ports");
    if (ports.is_array())
      for (const Json& p : ports) {
        std::string port_name = String(p, "name");
        const Json& num = Member(p, "port");
        if (port_name.empty() || !num.is_number_integer()) continue;
        t->Add("_" + port_name + "._" + LowerProtocol(p) + "." + fqdn, net::dns::kTypeSRV,
               net::RdataSrv(0, 100, static_cast<uint16_t>(num.get<int>()), fqdn));
      }
    return;
  }

  std::vector<Endpoint> endpoints;
  std::map<std::pair<std::string, std::string>, int> ports;
  if (objs.endpoint_slices) HeadlessEndpoints(objs.endpoint_slices(ns, name), &endpoints, &ports);
  for (const Endpoint& e : endpoints) {
    const std::string host = e.host + "." + fqdn;
    AddAddress(t, fqdn, e.ip);
    AddAddress(t, host, e.ip);
    AddPtr(t, e.ip, host);
  }
  // Equal weights summing to about 100 (CoreDNS's division).
  uint16_t weight = endpoints.empty() ? 100 : static_cast<uint16_t>(std::max<size_t>(1, 100 / endpoints.size()));
  for (const auto& [key, port] : ports)
    for (const Endpoint& e : endpoints)
      t->Add("_" + key.first + "._" + key.second + "." + fqdn, net::dns::kTypeSRV,
             net::RdataSrv(0, weight, static_cast<uint16_t>(port), e.host + "." + fqdn));
}

}  // namespace

std::string ReverseDnsName(const std::string& ip) {
  in_addr v4;
  if (inet_pton(AF_INET, ip.c_str(), &v4) == 1) {
    const auto* b = reinterpret_cast<const uint8_t*>(&v4.s_addr);
    return std::to_string(b[3]) + "." + std::to_string(b[2]) + "." + std::to_string(b[1]) + "." +
           std::to_string(b[0]) + ".in-addr.arpa";
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, ip.c_str(), &v6) == 1) {
    static const char* hex = "0123456789abcdef";
    std::string s;
    for (int i = 15; i >= 0; i--) {
      s += hex[v6.s6_addr[i] & 0xf];
      s += '.';
      s += hex[v6.s6_addr[i] >> 4];
      s += '.';
    }
    return s + "ip6.arpa";
  }
  return "";
}

std::shared_ptr<net::DnsRecordTable> BuildClusterDnsTable(const ClusterDnsObjects& objs) {
  auto t = std::make_shared<net::DnsRecordTable>(std::vector<std::string>{objs.domain}, kClusterDnsTtl, objs.serial);
  const std::string& d = objs.domain;
  t->Add("dns-version." + d, net::dns::kTypeTXT, net::RdataTxt("1.1.0"));
  if (!objs.dns_ips.empty()) {
    t->Add(d, net::dns::kTypeNS, net::RdataName("ns.dns." + d));
    for (const auto& ip : objs.dns_ips) AddAddress(t.get(), "ns.dns." + d, ip);
  }
  t->AddAddressNames("pod." + d);
  for (const ObjectPtr& n : objs.namespaces) {
    std::string ns = String(Member(*n, "metadata"), "name");
    if (ns.empty()) continue;
    t->AddName(ns + ".svc." + d);
    t->AddName(ns + ".pod." + d);
  }
  for (const ObjectPtr& s : objs.services) AddService(t.get(), *s, objs);
  return t;
}

}  // namespace kubit::network
