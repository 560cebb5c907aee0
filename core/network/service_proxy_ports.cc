#include "core/network/service_proxy_ports.h"

#include <nlohmann/json.hpp>

namespace kubit::network {

using client::Json;
using client::ObjectPtr;

namespace {

const Json& Field(const Json& o, const char* key) {
  static const Json null;
  return o.is_object() && o.contains(key) ? o[key] : null;
}

std::string Str(const Json& o, const char* key) {
  const Json& v = Field(o, key);
  return v.is_string() ? v.get<std::string>() : "";
}

const Json& Items(const Json& o, const char* key) {
  static const Json empty = Json::array();
  const Json& v = Field(o, key);
  return v.is_array() ? v : empty;
}

// A condition: unset means `fallback` (ready unset is ready; serving
// unset is ready's value; terminating unset is false).
bool Condition(const Json& conditions, const char* key, bool fallback) {
  const Json& v = Field(conditions, key);
  return v.is_boolean() ? v.get<bool>() : fallback;
}

uint8_t Protocol(const std::string& p) {
  if (p == "UDP") return IPPROTO_UDP;
  if (p == "SCTP") return IPPROTO_SCTP;
  return IPPROTO_TCP;
}

std::vector<uint32_t> Ipv4s(const std::vector<std::string>& in) {
  std::vector<uint32_t> out;
  for (const std::string& s : in) {
    uint32_t ip;
    if (net::ParseIpv4(s, &ip)) out.push_back(ip);
  }
  return out;
}

// The endpoints of one Service port across its slices, each ip:port once.
std::vector<net::ServiceEndpoint> Endpoints(const std::vector<ObjectPtr>& slices, const std::string& port_name,
                                            const std::string& protocol, const std::string& node_name) {
  std::vector<net::ServiceEndpoint> out;
  for (const ObjectPtr& slice : slices) {
    if (Str(*slice, "addressType") != "IPv4") continue;
    int64_t port = -1;
    for (const Json& p : Items(*slice, "ports")) {
      std::string proto = Str(p, "protocol");
      if (Str(p, "name") == port_name && (proto.empty() ? "TCP" : proto) == protocol &&
          Field(p, "port").is_number_integer())
        port = p["port"].get<int64_t>();
    }
    if (port <= 0 || port > 65535) continue;
    for (const Json& e : Items(*slice, "endpoints")) {
      const Json& addrs = Items(e, "addresses");
      uint32_t ip;
      if (addrs.empty() || !addrs[0].is_string() || !net::ParseIpv4(addrs[0].get<std::string>(), &ip)) continue;
      const Json& cond = Field(e, "conditions");
      net::ServiceEndpoint ep;
      ep.ip = ip;
      ep.port = static_cast<uint16_t>(port);
      ep.ready = Condition(cond, "ready", true);
      ep.serving = Condition(cond, "serving", ep.ready);
      ep.terminating = Condition(cond, "terminating", false);
      ep.local = !node_name.empty() && Str(e, "nodeName") == node_name;
      bool seen = false;
      for (net::ServiceEndpoint& have : out)
        if (have.ip == ep.ip && have.port == ep.port) {
          // Listed in two slices (a move between them): the better state counts.
          have.ready = have.ready || ep.ready;
          have.serving = have.serving || ep.serving;
          have.terminating = have.terminating && ep.terminating;
          seen = true;
        }
      if (!seen) out.push_back(ep);
    }
  }
  return out;
}

}  // namespace

std::vector<net::ServicePortEntry> ServicePortsFor(const std::vector<ObjectPtr>& services, const SlicesOf& slices,
                                                   const std::string& node_name) {
  std::vector<net::ServicePortEntry> out;
  for (const ObjectPtr& svc : services) {
    const Json& meta = Field(*svc, "metadata");
    const Json& spec = Field(*svc, "spec");
    if (Str(Field(meta, "annotations"), kNodeLocalAnnotation) == "true") continue;
    std::string type = Str(spec, "type");
    if (type == "ExternalName") continue;
    uint32_t cluster_ip;
    if (!net::ParseIpv4(Str(spec, "clusterIP"), &cluster_ip)) continue;  // headless ("None"), IPv6, unset
    const std::string ns = Str(meta, "namespace"), name = Str(meta, "name");
    bool node_ports = type == "NodePort" || type == "LoadBalancer";
    std::vector<std::string> external, lb;
    for (const Json& ip : Items(spec, "externalIPs"))
      if (ip.is_string()) external.push_back(ip.get<std::string>());
    // ipMode Proxy: the load balancer proxies to the nodes itself, so its
    // address must not be short-circuited here (upstream's rule).
    if (type == "LoadBalancer")
      for (const Json& ing : Items(Field(Field(*svc, "status"), "loadBalancer"), "ingress"))
        if (!Str(ing, "ip").empty() && Str(ing, "ipMode") != "Proxy") lb.push_back(Str(ing, "ip"));
    uint32_t affinity = 0;
    if (Str(spec, "sessionAffinity") == "ClientIP") {
      const Json& t = Field(Field(Field(spec, "sessionAffinityConfig"), "clientIP"), "timeoutSeconds");
      affinity = t.is_number_integer() && t.get<int64_t>() > 0 ? static_cast<uint32_t>(t.get<int64_t>()) : 10800;
    }
    std::vector<ObjectPtr> svc_slices = slices(ns, name);
    for (const Json& p : Items(spec, "ports")) {
      const Json& port = Field(p, "port");
      if (!port.is_number_integer() || port.get<int64_t>() <= 0 || port.get<int64_t>() > 65535) continue;
      std::string protocol = Str(p, "protocol").empty() ? "TCP" : Str(p, "protocol");
      net::ServicePortEntry e;
      e.name = ns + "/" + name + "/" + Str(p, "name");
      e.protocol = Protocol(protocol);
      e.cluster_ip = cluster_ip;
      e.port = static_cast<uint16_t>(port.get<int64_t>());
      const Json& node_port = Field(p, "nodePort");
      if (node_ports && node_port.is_number_integer() && node_port.get<int64_t>() > 0 &&
          node_port.get<int64_t>() <= 65535)
        e.node_port = static_cast<uint16_t>(node_port.get<int64_t>());
      e.external_ips = Ipv4s(external);
      e.load_balancer_ips = Ipv4s(lb);
      e.external_policy_local = Str(spec, "externalTrafficPolicy") == "Local";
      e.internal_policy_local = Str(spec, "internalTrafficPolicy") == "Local";
      e.affinity_seconds = affinity;
      e.endpoints = Endpoints(svc_slices, Str(p, "name"), protocol, node_name);
      out.push_back(std::move(e));
    }
  }
  return out;
}

}  // namespace kubit::network
