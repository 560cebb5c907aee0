// Tests of the service proxy's rule model (net/service_proxy.h's
// BuildServiceRules, read through nft's text of each rule and element),
// of the batches that program it (net/nftables.h, decoded back), and of
// the service ports built from Services and EndpointSlices
// (core/network/service_proxy_ports.h). The kernel's side is
// svcproxy_kernel_test.cc.
#include <doctest/doctest.h>
// glibc's netinet/in.h before the kernel's headers: it tells them what it defines.
#include <netinet/in.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/network/service_proxy_ports.h"
#include "net/service_proxy.h"
#include "net/service_proxy_conntrack.h"

using namespace kubit;
using net::ServiceEndpoint;
using net::ServicePortEntry;
using Json = nlohmann::json;
namespace nft = kubit::net::nft;

namespace {

uint32_t Ip(const std::string& s) {
  uint32_t ip = 0;
  REQUIRE(net::ParseIpv4(s, &ip));
  return ip;
}

ServiceEndpoint Ep(const std::string& ip, bool ready = true, bool local = false) {
  ServiceEndpoint e;
  e.ip = Ip(ip);
  e.port = 8080;
  e.ready = e.serving = ready;
  e.local = local;
  return e;
}

ServicePortEntry Port(const std::string& name, const std::string& vip, std::vector<ServiceEndpoint> eps) {
  ServicePortEntry p;
  p.name = name;
  p.cluster_ip = Ip(vip);
  p.port = 80;
  p.endpoints = std::move(eps);
  return p;
}

net::ServiceRulesOptions Options() {
  net::ServiceRulesOptions o;
  o.table = "kubitsvc_test";
  std::string error;
  REQUIRE(net::ParseIpv4Prefix("10.42.0.0/16", &o.cluster_cidr, &error));
  return o;
}

std::vector<std::string> Texts(const nft::TableSpec& t, const std::string& set) {
  const nft::TableSet* s = t.Set(set);
  REQUIRE_MESSAGE(s != nullptr, set);
  return s->texts;
}

std::vector<std::string> Rules(const nft::TableSpec& t, const std::string& chain) {
  const nft::ChainSpec* c = t.Chain(chain);
  REQUIRE_MESSAGE(c != nullptr, (chain + "\n" + t.Text()));
  std::vector<std::string> out;
  for (const auto& r : c->rules) out.push_back(r.text);
  return out;
}

// The one chain whose name starts with `prefix` and ends with `suffix`.
std::string ChainNamed(const nft::TableSpec& t, const std::string& prefix, const std::string& suffix) {
  std::string found;
  for (const auto& c : t.chains)
    if (c.name.rfind(prefix, 0) == 0 && c.name.size() >= suffix.size() &&
        c.name.compare(c.name.size() - suffix.size(), suffix.size(), suffix) == 0) {
      CHECK_MESSAGE(found.empty(), ("two chains " + found + " and " + c.name));
      found = c.name;
    }
  REQUIRE_MESSAGE(!found.empty(), (prefix + "..." + suffix + " in\n" + t.Text()));
  return found;
}

bool Has(const std::vector<std::string>& v, const std::string& s) { return std::find(v.begin(), v.end(), s) != v.end(); }

}  // namespace

TEST_CASE("svcproxy rules: ClusterIP with ready endpoints, off-cluster masquerade, hairpin, DNAT") {
  auto t = net::BuildServiceRules(
      Options(), {Port("default/web/http", "10.43.0.5", {Ep("10.42.0.7"), Ep("10.42.0.8"), Ep("10.42.0.9", false)})});
  std::string svc = ChainNamed(t, "service-", "-default/web/tcp/http");
  std::string ep7 = ChainNamed(t, "endpoint-", "-default/web/tcp/http__10.42.0.7/8080");
  std::string ep8 = ChainNamed(t, "endpoint-", "-default/web/tcp/http__10.42.0.8/8080");
  CHECK(Texts(t, "service-ips") == std::vector<std::string>{"10.43.0.5 . tcp . 80 : goto " + svc});
  CHECK(Texts(t, "no-endpoint-services").empty());
  CHECK(Rules(t, svc) == std::vector<std::string>{
                             "ip daddr 10.43.0.5 tcp dport 80 ip saddr != 10.42.0.0/16 jump mark-for-masquerade",
                             "numgen random mod 2 vmap { 0 : goto " + ep7 + ", 1 : goto " + ep8 + " }"});
  CHECK(Rules(t, ep7) == std::vector<std::string>{"ip saddr 10.42.0.7 jump mark-for-masquerade",
                                                  "meta l4proto tcp dnat to 10.42.0.7:8080"});
  // The unready endpoint has no chain at all.
  for (const auto& c : t.chains) CHECK(c.name.find("10.42.0.9") == std::string::npos);
  // The fixed part: dispatch, no-endpoint checks before DNAT, masquerading by mark.
  CHECK(Rules(t, "nat-prerouting") == std::vector<std::string>{"jump services"});
  CHECK(Rules(t, "filter-forward") == std::vector<std::string>{"ct state new jump endpoints-check"});
  CHECK(Rules(t, "services") ==
        std::vector<std::string>{"ip daddr . meta l4proto . th dport vmap @service-ips",
                                 "fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap "
                                 "@service-nodeports"});
  CHECK(Rules(t, "masquerading") == std::vector<std::string>{"mark and 0x4000 == 0 return",
                                                             "mark set mark xor 0x4000", "masquerade fully-random"});
  CHECK(Rules(t, "reject-chain") ==
        std::vector<std::string>{"meta l4proto tcp reject with tcp reset", "counter reject"});
  const nft::ChainSpec* pre = t.Chain("nat-prerouting");
  CHECK(pre->base);
  CHECK(pre->type == "nat");
  CHECK(pre->hook == NF_INET_PRE_ROUTING);
  CHECK(pre->priority == -100);
  CHECK(t.Chain("filter-output")->priority == -110);
}

TEST_CASE("svcproxy rules: no endpoints refuse, terminating ones serve when none is ready") {
  ServiceEndpoint term = Ep("10.42.0.7", false);
  term.serving = true;
  term.terminating = true;
  ServicePortEntry none = Port("default/none/", "10.43.0.6", {Ep("10.42.0.9", false)});
  none.node_port = 30006;
  auto t = net::BuildServiceRules(Options(), {none, Port("default/going/", "10.43.0.7", {term})});
  CHECK(Texts(t, "no-endpoint-services") == std::vector<std::string>{"10.43.0.6 . tcp . 80 : goto reject-chain"});
  CHECK(Texts(t, "no-endpoint-nodeports") == std::vector<std::string>{"tcp . 30006 : goto reject-chain"});
  CHECK(Texts(t, "service-nodeports").empty());
  std::string going = ChainNamed(t, "service-", "-default/going/tcp/");
  CHECK(Texts(t, "service-ips") == std::vector<std::string>{"10.43.0.7 . tcp . 80 : goto " + going});
  CHECK(Rules(t, "endpoints-check") ==
        std::vector<std::string>{"ip daddr . meta l4proto . th dport vmap @no-endpoint-services",
                                 "fib daddr type local ip daddr != 127.0.0.0/8 meta l4proto . th dport vmap "
                                 "@no-endpoint-nodeports"});
}

TEST_CASE("svcproxy rules: NodePort, LoadBalancer and external IPs, Cluster and Local policies") {
  ServicePortEntry cluster = Port("default/lb/", "10.43.0.8", {Ep("10.42.0.7", true, true), Ep("10.42.1.7")});
  cluster.node_port = 30008;
  cluster.load_balancer_ips = {Ip("192.0.2.10")};
  cluster.external_ips = {Ip("198.51.100.1")};
  ServicePortEntry local = cluster;
  local.name = "default/local/";
  local.cluster_ip = Ip("10.43.0.9");
  local.node_port = 30009;
  local.load_balancer_ips = {Ip("192.0.2.10")};  // the same node address and port as lb's
  local.external_ips.clear();
  local.external_policy_local = true;
  ServicePortEntry remote = local;
  remote.name = "default/remote/";
  remote.cluster_ip = Ip("10.43.0.10");
  remote.node_port = 30010;
  remote.load_balancer_ips.clear();
  remote.endpoints = {Ep("10.42.1.7")};
  auto t = net::BuildServiceRules(Options(), {cluster, local, remote});

  std::string ext = ChainNamed(t, "external-", "-default/lb/tcp/");
  std::string svc = ChainNamed(t, "service-", "-default/lb/tcp/");
  auto ips = Texts(t, "service-ips");
  CHECK(Has(ips, "10.43.0.8 . tcp . 80 : goto " + svc));
  CHECK(Has(ips, "192.0.2.10 . tcp . 80 : goto " + ext));
  CHECK(Has(ips, "198.51.100.1 . tcp . 80 : goto " + ext));
  CHECK(Has(Texts(t, "service-nodeports"), "tcp . 30008 : goto " + ext));
  CHECK(Rules(t, ext) == std::vector<std::string>{"jump mark-for-masquerade", "goto " + svc});
  // The second Service on the same address and port loses it (first by name wins).
  CHECK(std::count_if(ips.begin(), ips.end(), [](const std::string& s) { return s.rfind("192.0.2.10 ", 0) == 0; }) == 1);

  std::string lext = ChainNamed(t, "external-", "-default/local/tcp/");
  std::string lsvc = ChainNamed(t, "service-", "-default/local/tcp/");
  std::string lloc = ChainNamed(t, "local-", "-default/local/tcp/");
  CHECK(Rules(t, lext) == std::vector<std::string>{"ip saddr 10.42.0.0/16 goto " + lsvc,
                                                   "fib saddr type local jump mark-for-masquerade",
                                                   "fib saddr type local goto " + lsvc, "goto " + lloc});
  // Only the local endpoint for external traffic.
  CHECK(Rules(t, lloc).size() == 1);
  CHECK(Rules(t, lloc)[0].find("numgen random mod 1 vmap") == 0);
  CHECK(Rules(t, lloc)[0].find("10.42.0.7/8080") != std::string::npos);

  // Local policy without a local endpoint: external traffic dropped, pods still served.
  std::string rext = ChainNamed(t, "external-", "-default/remote/tcp/");
  CHECK(Has(Texts(t, "no-endpoint-nodeports"), "tcp . 30010 : drop"));
  CHECK(Has(Texts(t, "service-nodeports"), "tcp . 30010 : goto " + rext));
  CHECK(Rules(t, rext).size() == 3);  // the short-circuits, no fall-through
}

TEST_CASE("svcproxy rules: internalTrafficPolicy Local, affinity sets, the bridge masquerade fallback") {
  ServicePortEntry internal = Port("default/int/", "10.43.0.11", {Ep("10.42.0.7", true, true), Ep("10.42.1.7")});
  internal.internal_policy_local = true;
  ServicePortEntry lonely = Port("default/lonely/", "10.43.0.12", {Ep("10.42.1.7")});
  lonely.internal_policy_local = true;
  ServicePortEntry sticky = Port("default/sticky/", "10.43.0.13", {Ep("10.42.0.7", true, true), Ep("10.42.1.7")});
  sticky.affinity_seconds = 30;
  net::ServiceRulesOptions o = Options();
  o.masquerade_from_bridge = "kb123456";
  auto t = net::BuildServiceRules(o, {internal, lonely, sticky});

  std::string iloc = ChainNamed(t, "local-", "-default/int/tcp/");
  CHECK(Has(Texts(t, "service-ips"), "10.43.0.11 . tcp . 80 : goto " + iloc));
  CHECK(t.Chain(ChainNamed(t, "endpoint-", "-default/int/tcp/__10.42.0.7/8080")) != nullptr);
  for (const auto& c : t.chains) CHECK(c.name.find("default/int/tcp/__10.42.1.7") == std::string::npos);
  // No local endpoint: dropped, not refused (other nodes have some).
  CHECK(Has(Texts(t, "no-endpoint-services"), "10.43.0.12 . tcp . 80 : drop"));

  std::string ssvc = ChainNamed(t, "service-", "-default/sticky/tcp/");
  std::string ep7 = ChainNamed(t, "endpoint-", "-default/sticky/tcp/__10.42.0.7/8080");
  const nft::TableSet* aff = nullptr;
  for (const auto& s : t.sets)
    if (s.spec.name.rfind("affinity-", 0) == 0 && s.spec.name.find("__10.42.0.7/8080") != std::string::npos) aff = &s;
  REQUIRE(aff != nullptr);
  CHECK(aff->spec.timeout_ms == 30000);
  CHECK(aff->spec.key_len == 4);
  CHECK(Rules(t, ssvc)[1] == "ip saddr @" + aff->spec.name + " goto " + ep7);
  CHECK(Rules(t, ep7) == std::vector<std::string>{"ip saddr 10.42.0.7 jump mark-for-masquerade",
                                                  "iifname \"kb123456\" jump mark-for-masquerade",
                                                  "update @" + aff->spec.name + " { ip saddr }",
                                                  "meta l4proto tcp dnat to 10.42.0.7:8080"});
  // A remote endpoint's traffic never came in on this bridge to go back out on it.
  CHECK(Rules(t, ChainNamed(t, "endpoint-", "-default/sticky/tcp/__10.42.1.7/8080")).size() == 3);
}

namespace {

struct Decoded {
  uint16_t type;
  std::string name;  // chain, set or table name the message is about
};

// The nftables messages of a batch: type and the object they name.
std::vector<Decoded> Decode(std::vector<net::netlink::Message> messages) {
  std::vector<Decoded> out;
  for (const auto& m : messages) {
    const auto* h = reinterpret_cast<const nlmsghdr*>(m.bytes().data());
    if (h->nlmsg_type >> 8 != NFNL_SUBSYS_NFTABLES) continue;  // the batch markers
    uint16_t type = h->nlmsg_type & 0xff;
    size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg));
    auto attrs = net::netlink::Attrs::Parse(m.bytes().data() + off, h->nlmsg_len - off);
    std::string name;
    switch (type) {
      case NFT_MSG_NEWCHAIN: case NFT_MSG_DELCHAIN: name = attrs.String(NFTA_CHAIN_NAME); break;
      case NFT_MSG_NEWRULE: case NFT_MSG_DELRULE: name = attrs.String(NFTA_RULE_CHAIN); break;
      case NFT_MSG_NEWSET: case NFT_MSG_DELSET: name = attrs.String(NFTA_SET_NAME); break;
      case NFT_MSG_NEWSETELEM: case NFT_MSG_DELSETELEM: name = attrs.String(NFTA_SET_ELEM_LIST_SET); break;
      default: name = attrs.String(NFTA_TABLE_NAME);
    }
    out.push_back({type, name});
  }
  return out;
}

int Count(const std::vector<Decoded>& d, uint16_t type, const std::string& name) {
  return static_cast<int>(std::count_if(d.begin(), d.end(), [&](const Decoded& x) { return x.type == type && x.name == name; }));
}

int Index(const std::vector<Decoded>& d, uint16_t type, const std::string& name) {
  for (size_t i = 0; i < d.size(); ++i)
    if (d[i].type == type && d[i].name == name) return static_cast<int>(i);
  return -1;
}

}  // namespace

TEST_CASE("svcproxy rules: a resync rewrites chains and maps, deletes what went, keeps affinity entries") {
  ServicePortEntry sticky = Port("default/sticky/", "10.43.0.13", {Ep("10.42.0.7")});
  sticky.affinity_seconds = 30;
  ServicePortEntry gone = Port("default/gone/", "10.43.0.14", {Ep("10.42.0.8")});
  auto before = net::BuildServiceRules(Options(), {sticky, gone});
  auto after = net::BuildServiceRules(Options(), {sticky});
  std::string gone_chain = ChainNamed(before, "service-", "-default/gone/tcp/");
  std::string gone_ep = ChainNamed(before, "endpoint-", "-default/gone/tcp/__10.42.0.8/8080");
  std::string aff;
  for (const auto& s : after.sets)
    if (s.spec.name.rfind("affinity-", 0) == 0) aff = s.spec.name;
  REQUIRE(!aff.empty());

  nft::Batch b(NFPROTO_IPV4);
  nft::UpdateTable(before, after, &b);
  auto d = Decode(b.Finish());
  CHECK(Count(d, NFT_MSG_DELTABLE, "kubitsvc_test") == 0);
  // Stale chains: emptied, then deleted after the maps that name them.
  CHECK(Index(d, NFT_MSG_DELRULE, gone_chain) >= 0);
  CHECK(Index(d, NFT_MSG_DELCHAIN, gone_chain) > Index(d, NFT_MSG_DELSETELEM, "service-ips"));
  CHECK(Index(d, NFT_MSG_DELCHAIN, gone_ep) > Index(d, NFT_MSG_DELRULE, gone_chain));
  CHECK(Count(d, NFT_MSG_NEWCHAIN, gone_chain) == 0);
  // Maps emptied and filled again; the affinity set kept as it is.
  CHECK(Index(d, NFT_MSG_NEWSETELEM, "service-ips") > Index(d, NFT_MSG_DELSETELEM, "service-ips"));
  CHECK(Count(d, NFT_MSG_NEWSET, aff) == 1);
  CHECK(Count(d, NFT_MSG_DELSETELEM, aff) == 0);
  CHECK(Count(d, NFT_MSG_DELSET, aff) == 0);
  // The random choice brings its anonymous map along, before its rule.
  std::string svc = ChainNamed(after, "service-", "-default/sticky/tcp/");
  int anon = Index(d, NFT_MSG_NEWSET, "__map%d");
  CHECK(anon >= 0);
  CHECK(Index(d, NFT_MSG_NEWSETELEM, "__map%d") > anon);

  nft::Batch r(NFPROTO_IPV4);
  nft::ReplaceTable(after, &r);
  auto rd = Decode(r.Finish());
  CHECK(Index(rd, NFT_MSG_DELTABLE, "kubitsvc_test") == 1);
  CHECK(Count(rd, NFT_MSG_NEWCHAIN, svc) == 1);
  CHECK(Count(rd, NFT_MSG_DELCHAIN, svc) == 0);
}

namespace {

Json Svc(const std::string& name, Json spec, Json extra = Json::object()) {
  Json s = {{"apiVersion", "v1"}, {"kind", "Service"},
            {"metadata", {{"name", name}, {"namespace", "default"}}}, {"spec", std::move(spec)}};
  s.update(extra, true);
  return s;
}

Json Slice(const std::string& svc, Json ports, Json endpoints) {
  return {{"addressType", "IPv4"},
          {"metadata", {{"namespace", "default"}, {"labels", {{"kubernetes.io/service-name", svc}}}}},
          {"ports", std::move(ports)},
          {"endpoints", std::move(endpoints)}};
}

std::vector<client::ObjectPtr> Ptrs(std::vector<Json> v) {
  std::vector<client::ObjectPtr> out;
  for (auto& j : v) out.push_back(std::make_shared<const Json>(std::move(j)));
  return out;
}

}  // namespace

TEST_CASE("svcproxy ports: Services and EndpointSlices as the proxy's table") {
  auto services = Ptrs({
      Svc("web", {{"clusterIP", "10.43.0.5"},
                  {"type", "LoadBalancer"},
                  {"externalTrafficPolicy", "Local"},
                  {"sessionAffinity", "ClientIP"},
                  {"externalIPs", {"198.51.100.1"}},
                  {"ports", {{{"name", "http"}, {"port", 80}, {"nodePort", 30080}},
                             {{"name", "dns"}, {"port", 53}, {"protocol", "UDP"}}}}},
          {{"status", {{"loadBalancer", {{"ingress", {{{"ip", "192.0.2.10"}, {"ipMode", "VIP"}},
                                                      {{"ip", "192.0.2.11"}, {"ipMode", "Proxy"}},
                                                      {{"hostname", "lb.example"}}}}}}}}}),
      Svc("plain", {{"clusterIP", "10.43.0.6"},
                    {"sessionAffinity", "ClientIP"},
                    {"sessionAffinityConfig", {{"clientIP", {{"timeoutSeconds", 60}}}}},
                    {"ports", {{{"port", 80}, {"nodePort", 30081}}}}}),
      Svc("headless", {{"clusterIP", "None"}, {"ports", {{{"port", 80}}}}}),
      Svc("external", {{"type", "ExternalName"}, {"externalName", "example.com"}, {"ports", {{{"port", 80}}}}}),
      Svc("dns", {{"clusterIP", "10.43.0.10"}, {"ports", {{{"port", 53}}}}},
          {{"metadata", {{"name", "dns"}, {"namespace", "default"}, {"annotations", {{"kubit.io/node-local", "true"}}}}}}),
  });
  std::vector<Json> web_slices = {
      // Named targetPort: each slice carries the port its pods resolved it to.
      Slice("web", {{{"name", "http"}, {"port", 8080}, {"protocol", "TCP"}}, {{"name", "dns"}, {"port", 5353}, {"protocol", "UDP"}}},
            {{{"addresses", {"10.42.0.7"}}, {"nodeName", "n1"}, {"conditions", {{"ready", true}}}},
             {{"addresses", {"10.42.1.7"}}, {"nodeName", "n2"},
              {"conditions", {{"ready", false}, {"serving", true}, {"terminating", true}}}}}),
      Slice("web", {{{"name", "http"}, {"port", 8081}, {"protocol", "TCP"}}},
            {{{"addresses", {"10.42.0.8"}}, {"nodeName", "n1"}}}),
      {{"addressType", "IPv6"}, {"ports", {{{"name", "http"}, {"port", 8080}}}},
       {"endpoints", {{{"addresses", {"fd00::1"}}}}}},
  };
  auto slices = [&](const std::string& ns, const std::string& name) {
    CHECK(ns == "default");
    return name == "web" ? Ptrs(web_slices) : std::vector<client::ObjectPtr>{};
  };
  auto ports = network::ServicePortsFor(services, slices, "n1");
  REQUIRE(ports.size() == 3);  // web's two, plain's; no headless, ExternalName or node-local
  const ServicePortEntry& http = ports[0];
  CHECK(http.name == "default/web/http");
  CHECK(http.protocol == IPPROTO_TCP);
  CHECK(http.cluster_ip == Ip("10.43.0.5"));
  CHECK(http.node_port == 30080);
  CHECK(http.load_balancer_ips == std::vector<uint32_t>{Ip("192.0.2.10")});
  CHECK(http.external_ips == std::vector<uint32_t>{Ip("198.51.100.1")});
  CHECK(http.external_policy_local);
  CHECK(http.affinity_seconds == 10800);
  REQUIRE(http.endpoints.size() == 3);
  CHECK(http.endpoints[0].ip == Ip("10.42.0.7"));
  CHECK(http.endpoints[0].port == 8080);
  CHECK(http.endpoints[0].local);
  CHECK(http.endpoints[0].ready);
  CHECK_FALSE(http.endpoints[1].local);
  CHECK_FALSE(http.endpoints[1].ready);
  CHECK(http.endpoints[1].serving);
  CHECK(http.endpoints[1].terminating);
  CHECK(http.endpoints[2].port == 8081);
  CHECK(http.endpoints[2].ready);  // unset conditions: ready
  const ServicePortEntry& dns = ports[1];
  CHECK(dns.protocol == IPPROTO_UDP);
  REQUIRE(dns.endpoints.size() == 2);
  CHECK(dns.endpoints[0].port == 5353);
  const ServicePortEntry& plain = ports[2];
  CHECK(plain.name == "default/plain/");
  CHECK(plain.node_port == 0);  // a ClusterIP Service has none, whatever the spec says
  CHECK(plain.affinity_seconds == 60);
  CHECK(plain.endpoints.empty());
}

TEST_CASE("svcproxy conntrack: the UDP flows a change leaves stale") {
  ServicePortEntry dns = Port("default/dns/", "10.43.0.20", {Ep("10.42.0.7"), Ep("10.42.0.8")});
  dns.protocol = IPPROTO_UDP;
  dns.node_port = 30053;
  dns.load_balancer_ips = {Ip("192.0.2.10")};
  ServicePortEntry tcp = Port("default/web/", "10.43.0.21", {Ep("10.42.0.7")});
  ServicePortEntry dns_after = dns, tcp_after = tcp;
  dns_after.endpoints = {Ep("10.42.0.8"), Ep("10.42.0.9")};
  tcp_after.endpoints.clear();
  using net::StaleFlow;
  auto stale = net::StaleUdpFlows({dns, tcp}, {dns_after, tcp_after});
  // The endpoint that went, at each of the port's addresses; TCP never.
  CHECK(stale == std::vector<StaleFlow>{{IPPROTO_UDP, Ip("10.43.0.20"), 80, Ip("10.42.0.7")},
                                        {IPPROTO_UDP, Ip("192.0.2.10"), 80, Ip("10.42.0.7")},
                                        {IPPROTO_UDP, 0, 30053, Ip("10.42.0.7")}});
  // A port that had no usable endpoint: every flow to it (they were refused).
  ServicePortEntry none = dns;
  none.endpoints = {Ep("10.42.0.7", false)};
  none.node_port = 0;
  none.load_balancer_ips.clear();
  ServicePortEntry some = none;
  some.endpoints = {Ep("10.42.0.7")};
  CHECK(net::StaleUdpFlows({none}, {some}) == std::vector<StaleFlow>{{IPPROTO_UDP, Ip("10.43.0.20"), 80, 0}});
  CHECK(net::StaleUdpFlows({some}, {some}).empty());
}
