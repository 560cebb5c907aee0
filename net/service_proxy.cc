#include "net/service_proxy.h"

// glibc's netinet/in.h (above) before the kernel's headers.
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_nat.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <net/if.h>
#include <netinet/ip_icmp.h>
#include <string.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <set>

#include "net/local_names.h"
#include "net/pod_network.h"
#include "net/service_proxy_conntrack.h"

namespace kubit::net {

namespace {

using nft::ChainRule;
using nft::ChainSpec;
using nft::SetElement;
using nft::TableSet;

// The packet mark bit that asks the masquerading chain to SNAT (kube-proxy's).
constexpr uint32_t kMasqueradeBit = 0x4000;
// Filters run on the destination as the client sent it: before DNAT.
constexpr int32_t kFilterPriority = -110, kDstNatPriority = -100, kSrcNatPriority = 100;

const char* kServicesChain = "services";
const char* kEndpointsCheckChain = "endpoints-check";
const char* kRejectChain = "reject-chain";
const char* kMarkMasqChain = "mark-for-masquerade";
const char* kMasqueradingChain = "masquerading";
const char* kServiceIpsMap = "service-ips";
const char* kServiceNodePortsMap = "service-nodeports";
const char* kNoEndpointServicesMap = "no-endpoint-services";
const char* kNoEndpointNodePortsMap = "no-endpoint-nodeports";

std::string ProtoName(uint8_t p) {
  switch (p) {
    case IPPROTO_UDP: return "udp";
    case IPPROTO_SCTP: return "sctp";
    default: return "tcp";
  }
}

std::string Hex(uint32_t v) {
  char buf[16];
  snprintf(buf, sizeof(buf), "0x%x", v);
  return buf;
}

// A piece of a rule: nft's words and the expressions they stand for.
struct Part {
  std::string text;
  nft::Rule exprs;
};

ChainRule Make(std::initializer_list<Part> parts) {
  ChainRule r;
  for (const Part& p : parts) {
    if (!r.text.empty() && !p.text.empty()) r.text += " ";
    r.text += p.text;
    r.exprs.insert(r.exprs.end(), p.exprs.begin(), p.exprs.end());
  }
  return r;
}

Part SaddrIn(const Ipv4Prefix& p, bool negate) {
  return {std::string("ip saddr ") + (negate ? "!= " : "") + p.String(), nft::IpSaddrIn(p, negate)};
}
Part SaddrIs(uint32_t ip) { return {"ip saddr " + FormatIpv4(ip), nft::IpSaddrIn({ip, 32})}; }
Part DaddrIs(uint32_t ip) { return {"ip daddr " + FormatIpv4(ip), nft::IpDaddrIn({ip, 32})}; }
Part NotLoopback() { return {"ip daddr != 127.0.0.0/8", nft::IpDaddrIn({0x7f000000, 8}, true)}; }
Part Proto(uint8_t p) { return {"meta l4proto " + ProtoName(p), nft::L4Proto(p)}; }
Part DPort(uint8_t p, uint16_t port) {
  return {ProtoName(p) + " dport " + std::to_string(port), nft::DestPort(port)};
}
Part Jump(const std::string& chain) { return {"jump " + chain, nft::Jump(chain)}; }
Part Goto(const std::string& chain) { return {"goto " + chain, nft::Goto(chain)}; }
Part LocalAddr(bool source) {
  return {std::string("fib ") + (source ? "saddr" : "daddr") + " type local", nft::FibAddrIsLocal(source)};
}
Part IifName(const std::string& name) {
  std::string padded = name;
  padded.resize(IFNAMSIZ, '\0');
  return {"iifname \"" + name + "\"",
          {nft::Meta(NFT_META_IIFNAME, nft::kReg1), nft::Cmp(NFT_CMP_EQ, nft::kReg1, padded)}};
}
// `key vmap @map`: the key loaded into the 4-byte registers, looked up.
Part VmapLookup(bool with_daddr, const std::string& map) {
  nft::Rule r = nft::LoadAddrProtoPort(with_daddr);
  r.push_back(nft::Lookup(map, 0, nft::kReg32, true));
  return {std::string(with_daddr ? "ip daddr . " : "") + "meta l4proto . th dport vmap @" + map, r};
}

ChainSpec Base(const std::string& name, const std::string& type, uint32_t hook, int32_t priority,
               std::vector<ChainRule> rules) {
  ChainSpec c;
  c.name = name;
  c.base = true;
  c.type = type;
  c.hook = hook;
  c.priority = priority;
  c.rules = std::move(rules);
  return c;
}

ChainSpec Regular(const std::string& name, std::vector<ChainRule> rules = {}) {
  ChainSpec c;
  c.name = name;
  c.rules = std::move(rules);
  return c;
}

TableSet Map(const std::string& name, bool with_daddr) {
  TableSet s;
  s.spec.name = name;
  s.spec.verdict_map = true;
  if (with_daddr) {
    s.spec.key_type = nft::ConcatType({nft::kTypeIpv4Addr, nft::kTypeInetProto, nft::kTypeInetService});
    s.spec.key_len = 12;
  } else {
    s.spec.key_type = nft::ConcatType({nft::kTypeInetProto, nft::kTypeInetService});
    s.spec.key_len = 8;
  }
  return s;
}

// Chain and set names as upstream's: "<prefix>-<hash>-ns/svc/proto/port",
// the hash telling apart names that differ late (endpoints of one port).
std::string NameBase(const std::string& s) { return HashHex(s, 8) + "-" + s; }

// A service port's chains and the endpoints they use.
struct PortPlan {
  const ServicePortEntry* port;
  std::string base;  // ns/svc/proto/port
  std::vector<const ServiceEndpoint*> cluster, local;
  bool has_any = false, externally_accessible = false, external_local = false;
  bool uses_cluster_chain = false, uses_local_chain = false;
};

std::string EndpointBase(const PortPlan& p, const ServiceEndpoint& ep) {
  return p.base + "__" + FormatIpv4(ep.ip) + "/" + std::to_string(ep.port);
}
std::string EndpointChain(const PortPlan& p, const ServiceEndpoint& ep) {
  return "endpoint-" + NameBase(EndpointBase(p, ep));
}
std::string AffinitySet(const PortPlan& p, const ServiceEndpoint& ep) {
  // The timeout is part of the name: a set keeps its timeout for life.
  std::string s = EndpointBase(p, ep);
  return "affinity-" + HashHex(s + "/" + std::to_string(p.port->affinity_seconds), 8) + "-" + s;
}

// Ready endpoints, else serving ones that are terminating (upstream's
// fallback, so that a rolling update does not drop connections).
std::vector<const ServiceEndpoint*> Usable(const std::vector<ServiceEndpoint>& eps, bool local_only) {
  std::vector<const ServiceEndpoint*> out;
  for (const ServiceEndpoint& e : eps)
    if (e.ready && (!local_only || e.local)) out.push_back(&e);
  if (!out.empty()) return out;
  for (const ServiceEndpoint& e : eps)
    if (e.serving && e.terminating && (!local_only || e.local)) out.push_back(&e);
  return out;
}

PortPlan Plan(const ServicePortEntry& port) {
  PortPlan p;
  p.port = &port;
  size_t slash = port.name.rfind('/');
  p.base = slash == std::string::npos ? port.name + "/" + ProtoName(port.protocol)
                                      : port.name.substr(0, slash) + "/" + ProtoName(port.protocol) +
                                            port.name.substr(slash);
  p.cluster = Usable(port.endpoints, false);
  p.local = Usable(port.endpoints, true);
  p.has_any = !p.cluster.empty();
  p.externally_accessible =
      port.node_port != 0 || !port.external_ips.empty() || !port.load_balancer_ips.empty();
  p.external_local = p.externally_accessible && port.external_policy_local;
  // The cluster chain serves internal traffic under Cluster, external
  // traffic under Cluster, and pods and the node itself reaching an
  // external address under Local (they are not "external").
  p.uses_cluster_chain = p.has_any && (!port.internal_policy_local || p.externally_accessible);
  p.uses_local_chain = !p.local.empty() && (port.internal_policy_local || p.external_local);
  return p;
}

// The affinity rules and the random choice among `eps`, for a policy chain.
std::vector<ChainRule> ChoiceRules(const PortPlan& p, const std::vector<const ServiceEndpoint*>& eps) {
  std::vector<ChainRule> rules;
  if (p.port->affinity_seconds)
    for (const ServiceEndpoint* ep : eps) {
      std::string set = AffinitySet(p, *ep);
      nft::Rule match{nft::Payload(NFT_PAYLOAD_NETWORK_HEADER, 12, 4, nft::kReg1),
                      nft::Lookup(set, 0, nft::kReg1, false)};
      rules.push_back(Make({{"ip saddr @" + set, match}, Goto(EndpointChain(p, *ep))}));
    }
  ChainRule pick;
  pick.text = "numgen random mod " + std::to_string(eps.size()) + " vmap { ";
  pick.exprs = {nft::NumgenRandom(static_cast<uint32_t>(eps.size()), nft::kReg1)};
  for (size_t i = 0; i < eps.size(); ++i) {
    std::string chain = EndpointChain(p, *eps[i]);
    pick.text += (i ? ", " : "") + std::to_string(i) + " : goto " + chain;
    pick.vmap.push_back({nft::U32Key(static_cast<uint32_t>(i)), nft::Verdict{NFT_GOTO, chain}});
  }
  pick.text += " }";
  rules.push_back(std::move(pick));
  return rules;
}

// Verdict map elements, the first for a key winning (two LoadBalancer
// Services on one port of the same node addresses, say: the first by
// name keeps it, as the second's svclb pod would stay Pending in k3s).
class Elements {
 public:
  explicit Elements(TableSet* set) : set_(set) {}
  void Add(const std::string& key, const std::string& key_text, const nft::Verdict& v) {
    if (!keys_.insert(key).second) return;
    set_->elements.push_back({key, v});
    std::string vt = v.code == NF_DROP ? "drop" : std::string(v.code == NFT_GOTO ? "goto " : "jump ") + v.chain;
    set_->texts.push_back(key_text + " : " + vt);
  }

 private:
  TableSet* set_;
  std::set<std::string> keys_;
};

}  // namespace

nft::TableSpec BuildServiceRules(const ServiceRulesOptions& options, const std::vector<ServicePortEntry>& in) {
  std::vector<const ServicePortEntry*> ports;
  for (const ServicePortEntry& p : in) ports.push_back(&p);
  std::sort(ports.begin(), ports.end(), [](const ServicePortEntry* a, const ServicePortEntry* b) {
    return std::tie(a->name, a->protocol) < std::tie(b->name, b->protocol);
  });

  nft::TableSpec t;
  t.name = options.table;
  t.sets = {Map(kServiceIpsMap, true), Map(kServiceNodePortsMap, false), Map(kNoEndpointServicesMap, true),
            Map(kNoEndpointNodePortsMap, false)};
  Elements service_ips(&t.sets[0]), node_ports(&t.sets[1]), no_ep_services(&t.sets[2]), no_ep_node_ports(&t.sets[3]);

  auto jump_to = [](const char* chain) { return ChainRule(Make({Jump(chain)})); };
  ChainRule new_conn = Make({{"ct state new", nft::CtStateNew()}, Jump(kEndpointsCheckChain)});
  t.chains.push_back(Base("filter-input", "filter", NF_INET_LOCAL_IN, kFilterPriority, {new_conn}));
  t.chains.push_back(Base("filter-forward", "filter", NF_INET_FORWARD, kFilterPriority, {new_conn}));
  t.chains.push_back(Base("filter-output", "filter", NF_INET_LOCAL_OUT, kFilterPriority, {new_conn}));
  t.chains.push_back(Base("nat-prerouting", "nat", NF_INET_PRE_ROUTING, kDstNatPriority, {jump_to(kServicesChain)}));
  t.chains.push_back(Base("nat-output", "nat", NF_INET_LOCAL_OUT, kDstNatPriority, {jump_to(kServicesChain)}));
  t.chains.push_back(
      Base("nat-postrouting", "nat", NF_INET_POST_ROUTING, kSrcNatPriority, {jump_to(kMasqueradingChain)}));
  // NodePorts answer on every local address but loopback (upstream's default).
  t.chains.push_back(Regular(kServicesChain, {Make({VmapLookup(true, kServiceIpsMap)}),
                                              Make({LocalAddr(false), NotLoopback(),
                                                    VmapLookup(false, kServiceNodePortsMap)})}));
  t.chains.push_back(Regular(kEndpointsCheckChain, {Make({VmapLookup(true, kNoEndpointServicesMap)}),
                                                    Make({LocalAddr(false), NotLoopback(),
                                                          VmapLookup(false, kNoEndpointNodePortsMap)})}));
  // Refused as a closed port would be: a TCP reset, ICMP port unreachable for the rest.
  t.chains.push_back(Regular(
      kRejectChain,
      {Make({Proto(IPPROTO_TCP), {"reject with tcp reset", {nft::Reject(NFT_REJECT_TCP_RST, 0)}}}),
       Make({{"counter", {nft::Counter()}}, {"reject", {nft::Reject(NFT_REJECT_ICMP_UNREACH, ICMP_PORT_UNREACH)}}})}));
  t.chains.push_back(Regular(kMarkMasqChain, {Make({{"mark set mark or " + Hex(kMasqueradeBit), nft::MarkOr(kMasqueradeBit)}})}));
  t.chains.push_back(Regular(
      kMasqueradingChain,
      {Make({{"mark and " + Hex(kMasqueradeBit) + " == 0", nft::MarkHasBits(kMasqueradeBit, true)},
             {"return", nft::Return()}}),
       Make({{"mark set mark xor " + Hex(kMasqueradeBit), nft::MarkXor(kMasqueradeBit)}}),
       Make({{"masquerade fully-random", {nft::Masquerade(NF_NAT_RANGE_PROTO_RANDOM_FULLY)}}})}));

  std::set<std::string> endpoint_chains;
  std::vector<TableSet> affinity_sets;  // after the loop: the maps above are written through pointers
  for (const ServicePortEntry* port : ports) {
    if (port->port == 0 || port->cluster_ip == 0) continue;
    PortPlan p = Plan(*port);
    const std::string proto = ProtoName(port->protocol);
    const std::string cluster_chain = "service-" + NameBase(p.base);
    const std::string local_chain = "local-" + NameBase(p.base);
    const std::string external_chain = "external-" + NameBase(p.base);
    const std::string internal_chain = port->internal_policy_local ? local_chain : cluster_chain;
    const std::string external_policy_chain = p.external_local ? local_chain : cluster_chain;
    bool has_internal = p.has_any && (!port->internal_policy_local || !p.local.empty());
    bool has_external = p.has_any && (!p.external_local || !p.local.empty());
    // No endpoint anywhere: refused; none for a Local policy: dropped.
    nft::Verdict none = p.has_any ? nft::Verdict{NF_DROP, ""} : nft::Verdict{NFT_GOTO, kRejectChain};
    auto key3 = [&](uint32_t ip) { return FormatIpv4(ip) + " . " + proto + " . " + std::to_string(port->port); };

    if (has_internal)
      service_ips.Add(nft::ConcatKey(port->cluster_ip, port->protocol, port->port), key3(port->cluster_ip),
                      {NFT_GOTO, internal_chain});
    else
      no_ep_services.Add(nft::ConcatKey(port->cluster_ip, port->protocol, port->port), key3(port->cluster_ip),
                         none);
    std::vector<uint32_t> external = port->external_ips;
    external.insert(external.end(), port->load_balancer_ips.begin(), port->load_balancer_ips.end());
    for (uint32_t ip : external) {
      std::string key = nft::ConcatKey(ip, port->protocol, port->port);
      if (p.has_any) service_ips.Add(key, key3(ip), {NFT_GOTO, external_chain});
      if (!has_external) no_ep_services.Add(key, key3(ip), none);
    }
    if (port->node_port) {
      std::string key = nft::ConcatKey(port->protocol, port->node_port);
      std::string text = proto + " . " + std::to_string(port->node_port);
      if (p.has_any) node_ports.Add(key, text, {NFT_GOTO, external_chain});
      if (!has_external) no_ep_node_ports.Add(key, text, none);
    }
    if (!p.has_any) continue;

    if (p.uses_cluster_chain) t.chains.push_back(Regular(cluster_chain, ChoiceRules(p, p.cluster)));
    if (p.uses_local_chain) t.chains.push_back(Regular(local_chain, ChoiceRules(p, p.local)));
    // ClusterIP traffic from outside the pods (the node itself, or a
    // router sending the service range here) leaves with the node's
    // address, so that answers come back through this node.
    if (has_internal && options.cluster_cidr.len > 0) {
      ChainSpec* c = nullptr;
      for (ChainSpec& x : t.chains) c = x.name == internal_chain ? &x : c;
      c->rules.insert(c->rules.begin(), Make({DaddrIs(port->cluster_ip), DPort(port->protocol, port->port),
                                              SaddrIn(options.cluster_cidr, true), Jump(kMarkMasqChain)}));
    }
    if (p.externally_accessible) {
      ChainSpec ext = Regular(external_chain);
      if (!p.external_local) {
        // The endpoint may be on another node: the answer must come back here.
        ext.rules.push_back(Make({Jump(kMarkMasqChain)}));
      } else if (p.uses_cluster_chain) {
        // Pods and the node itself reaching an external address are not
        // external clients: any endpoint will do (the node's own address
        // is masqueraded, the client being a local address).
        if (options.cluster_cidr.len > 0)
          ext.rules.push_back(Make({SaddrIn(options.cluster_cidr, false), Goto(cluster_chain)}));
        ext.rules.push_back(Make({LocalAddr(true), Jump(kMarkMasqChain)}));
        ext.rules.push_back(Make({LocalAddr(true), Goto(cluster_chain)}));
      }
      if (has_external) ext.rules.push_back(Make({Goto(external_policy_chain)}));
      t.chains.push_back(std::move(ext));
    }

    std::vector<const ServiceEndpoint*> reachable;
    if (p.uses_cluster_chain) reachable = p.cluster;
    if (p.uses_local_chain)
      for (const ServiceEndpoint* e : p.local)
        if (std::find(reachable.begin(), reachable.end(), e) == reachable.end()) reachable.push_back(e);
    for (const ServiceEndpoint* ep : reachable) {
      std::string chain = EndpointChain(p, *ep);
      if (!endpoint_chains.insert(chain).second) continue;  // listed twice in the table given
      ChainSpec c = Regular(chain);
      // A pod reaching itself through its Service must not see its own
      // address as the source of the answer.
      c.rules.push_back(Make({SaddrIs(ep->ip), Jump(kMarkMasqChain)}));
      if (ep->local && !options.masquerade_from_bridge.empty())
        c.rules.push_back(Make({IifName(options.masquerade_from_bridge), Jump(kMarkMasqChain)}));
      if (port->affinity_seconds) {
        std::string set = AffinitySet(p, *ep);
        TableSet s;
        s.spec.name = set;
        s.spec.timeout_ms = uint64_t(port->affinity_seconds) * 1000;
        affinity_sets.push_back(std::move(s));
        nft::Rule update{nft::Payload(NFT_PAYLOAD_NETWORK_HEADER, 12, 4, nft::kReg1),
                         nft::DynsetUpdate(set, nft::kReg1)};
        c.rules.push_back(Make({{"update @" + set + " { ip saddr }", update}}));
      }
      c.rules.push_back(Make({Proto(port->protocol),
                              {"dnat to " + FormatIpv4(ep->ip) + ":" + std::to_string(ep->port),
                               nft::DnatTo(ep->ip, ep->port)}}));
      t.chains.push_back(std::move(c));
    }
  }
  for (TableSet& s : affinity_sets) t.sets.push_back(std::move(s));
  return t;
}

namespace {

bool ReadSmallFile(const std::string& path, std::string* out) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buf[64];
  ssize_t n = read(fd, buf, sizeof(buf));
  close(fd);
  if (n < 0) return false;
  out->assign(buf, n);
  return true;
}

// Whether bridged IPv4 traffic passes netfilter in this network namespace,
// turning it on when the switch exists. br_netfilter is built in or
// loaded here when the file exists; a static binary cannot run modprobe.
bool BridgeNetfilterOn() {
  const std::string path = "/proc/sys/net/bridge/bridge-nf-call-iptables";
  std::string v;
  if (!ReadSmallFile(path, &v)) return false;
  if (!v.empty() && v[0] == '1') return true;
  int fd = open(path.c_str(), O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  bool ok = write(fd, "1", 1) == 1;
  close(fd);
  return ok;
}

bool Program(netlink::Socket* s, nft::Batch* b, const std::string& what, std::string* error) {
  std::vector<netlink::Message> messages = b->Finish();
  return s->Batch(&messages, what, error);
}

}  // namespace

bool ServiceProxy::Open(const ServiceProxyOptions& options, std::unique_ptr<ServiceProxy>* out,
                        std::string* error) {
  auto proxy = std::unique_ptr<ServiceProxy>(new ServiceProxy());
  proxy->rules_.table = ServiceNftTableName(options.data_dir);
  if (!options.cluster_cidr.empty() && !ParseIpv4Prefix(options.cluster_cidr, &proxy->rules_.cluster_cidr, error)) {
    *error = "cluster CIDR: " + *error;
    return false;
  }
  // A pod's answer to a pod of its own bridge must pass the host's
  // conntrack to have the Service's DNAT undone: with br_netfilter (as
  // kube-proxy requires of bridge CNIs), else by masquerading traffic
  // that came from this bridge so that answers come back through the node.
  if (BridgeNetfilterOn()) {
    proxy->bridge_mode_ = "bridge-nf-call-iptables";
  } else {
    proxy->rules_.masquerade_from_bridge = PodBridgeName(options.data_dir);
    proxy->bridge_mode_ = "no br_netfilter: masquerading service traffic from bridge " +
                          proxy->rules_.masquerade_from_bridge;
  }
  *out = std::move(proxy);
  return true;
}

bool ServiceProxy::Sync(const std::vector<ServicePortEntry>& ports, std::string* error) {
  nft::TableSpec spec = BuildServiceRules(rules_, ports);
  std::lock_guard<std::mutex> lock(mu_);
  if (!ProgramLocked(std::move(spec), error)) return false;
  if (have_ports_) {
    int deleted = 0;
    if (!DeleteConntrackFlows(StaleUdpFlows(last_ports_, ports), &deleted, error)) {
      *error = "rules programmed, but stale UDP flows stay: " + *error;
      return false;
    }
  }
  have_ports_ = true;
  last_ports_ = ports;
  return true;
}

bool ServiceProxy::ProgramLocked(nft::TableSpec spec, std::string* error) {
  netlink::Socket s;
  if (!netlink::Socket::Open(NETLINK_NETFILTER, "", &s, error)) return false;
  if (programmed_ && spec.Text() == last_.Text()) {
    // Nothing changed (an EndpointSlice rewritten as it was, say): the
    // kernel is left alone if the table is still there.
    bool present = false;
    if (nft::TableExists(&s, NFPROTO_IPV4, spec.name, &present, error) && present) return true;
  }
  if (programmed_) {
    nft::Batch update(NFPROTO_IPV4);
    nft::UpdateTable(last_, spec, &update);
    std::string ignored;
    if (Program(&s, &update, "nftables table ip " + spec.name, &ignored)) {
      last_ = std::move(spec);
      return true;
    }
    // Not as the last sync left it (removed, or an older kernel refusing
    // a step): made again whole, affinity entries lost.
  }
  nft::Batch replace(NFPROTO_IPV4);
  nft::ReplaceTable(spec, &replace);
  programmed_ = false;
  if (!Program(&s, &replace, "nftables table ip " + spec.name, error)) return false;
  programmed_ = true;
  last_ = std::move(spec);
  return true;
}

bool ServiceProxy::TablePresent(bool* present, std::string* error) {
  netlink::Socket s;
  if (!netlink::Socket::Open(NETLINK_NETFILTER, "", &s, error)) return false;
  return nft::TableExists(&s, NFPROTO_IPV4, rules_.table, present, error);
}

std::string ServiceNftTableName(const std::string& data_dir) {
  return "kubitsvc_" + HashHex(CanonicalDataDir(data_dir), 6);
}

bool RemoveServiceProxy(const std::string& data_dir, std::string* error) {
  netlink::Socket s;
  // A kernel without nftables has no table to remove.
  if (!netlink::Socket::Open(NETLINK_NETFILTER, "", &s, error)) return errno == EPROTONOSUPPORT;
  const std::string table = ServiceNftTableName(data_dir);
  bool exists;
  if (!nft::TableExists(&s, NFPROTO_IPV4, table, &exists, error)) return false;
  if (!exists) return true;
  nft::Batch b(NFPROTO_IPV4);
  b.DeleteTable(table);
  return Program(&s, &b, "delete nftables table ip " + table, error);
}

}  // namespace kubit::net
