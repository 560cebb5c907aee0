#include "net/network_policy_rules.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netlink.h>
#include <unistd.h>

#include <algorithm>

#include "net/local_names.h"
#include "net/pod_network.h"

namespace kubit::net {

using nft::ChainRule;
using nft::ChainSpec;
using nft::TableSet;

namespace {

const char* kIngressPods = "ingress-pods";
const char* kEgressPods = "egress-pods";

// A match or action: nft's text and the kernel's expressions.
struct Part {
  std::string text;
  nft::Rule exprs;
};

ChainRule Make(std::initializer_list<Part> parts) {
  ChainRule r;
  for (const Part& p : parts) {
    if (p.text.empty()) continue;
    r.text += (r.text.empty() ? "" : " ") + p.text;
    r.exprs.insert(r.exprs.end(), p.exprs.begin(), p.exprs.end());
  }
  return r;
}

std::string Be16(uint16_t v) {
  uint16_t n = htons(v);
  return std::string(reinterpret_cast<const char*>(&n), 2);
}
std::string Host32(uint32_t v) { return std::string(reinterpret_cast<const char*>(&v), 4); }

Part EstablishedAccept() {
  uint32_t bits = NF_CT_STATE_BIT(IP_CT_ESTABLISHED) | NF_CT_STATE_BIT(IP_CT_RELATED);
  return {"ct state established,related accept",
          {nft::CtKey(NFT_CT_STATE, nft::kReg1), nft::Bitwise(nft::kReg1, nft::kReg1, Host32(bits), Host32(0)),
           nft::Cmp(NFT_CMP_NEQ, nft::kReg1, Host32(0)), nft::SetVerdict({NF_ACCEPT, ""})}};
}

// `ip saddr|daddr vmap @map` or `... @set` (a plain set: the rule matches
// when the address is in it).
Part AddrLookup(bool source, const std::string& set, bool verdict_map) {
  return {std::string(source ? "ip saddr " : "ip daddr ") + (verdict_map ? "vmap @" : "@") + set,
          {nft::Payload(NFT_PAYLOAD_NETWORK_HEADER, source ? 12 : 16, 4, nft::kReg1),
           nft::Lookup(set, 0, nft::kReg1, verdict_map)}};
}

Part AddrIn(bool source, const Ipv4Prefix& p, bool negate) {
  return {std::string(source ? "ip saddr " : "ip daddr ") + (negate ? "!= " : "") + p.String(),
          source ? nft::IpSaddrIn(p, negate) : nft::IpDaddrIn(p, negate)};
}

std::string ProtoName(uint8_t proto) {
  switch (proto) {
    case IPPROTO_TCP: return "tcp";
    case IPPROTO_UDP: return "udp";
    case IPPROTO_SCTP: return "sctp";
  }
  return std::to_string(proto);
}

// `meta l4proto P [th dport N | th dport N-M]`.
Part PortMatch(const PolicyPort& port) {
  Part p{"meta l4proto " + ProtoName(port.protocol), nft::L4Proto(port.protocol)};
  if (port.port == 0) return p;
  if (port.end_port <= port.port) {
    p.text += " th dport " + std::to_string(port.port);
    nft::Rule d = nft::DestPort(port.port);
    p.exprs.insert(p.exprs.end(), d.begin(), d.end());
    return p;
  }
  // TCP, UDP and SCTP keep the destination port at offset 2; the kernel
  // compares ranges bytewise, so big-endian bounds order as numbers.
  p.text += " th dport " + std::to_string(port.port) + "-" + std::to_string(port.end_port);
  p.exprs.push_back(nft::Payload(NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, nft::kReg1));
  p.exprs.push_back(nft::Cmp(NFT_CMP_GTE, nft::kReg1, Be16(port.port)));
  p.exprs.push_back(nft::Cmp(NFT_CMP_LTE, nft::kReg1, Be16(port.end_port)));
  return p;
}

// The chain of one isolated direction of one pod: a `return` for every
// peer and port a rule allows, then drop.
ChainSpec PodChain(const std::string& name, bool ingress, const std::string& pod, const std::vector<PolicyRule>& rules,
                   std::vector<TableSet>* sets) {
  ChainSpec c;
  c.name = name;
  const bool source = ingress;  // the peer's address: the source of ingress traffic
  const Part ret{"return", nft::Return()};
  for (size_t i = 0; i < rules.size(); ++i) {
    const PolicyRule& r = rules[i];
    std::vector<Part> peers;
    if (r.any_peer) {
      peers.push_back({"", {}});
    } else {
      std::vector<uint32_t> ips = r.pod_ips;
      std::sort(ips.begin(), ips.end());
      ips.erase(std::unique(ips.begin(), ips.end()), ips.end());
      if (!ips.empty()) {
        TableSet s;
        s.spec.name = name + "-" + std::to_string(i);
        s.spec.key_type = nft::kTypeIpv4Addr;
        s.spec.key_len = 4;
        for (uint32_t ip : ips) {
          s.elements.push_back({nft::AddrKey(ip), std::nullopt});
          s.texts.push_back(FormatIpv4(ip));
        }
        peers.push_back(AddrLookup(source, s.spec.name, false));
        sets->push_back(std::move(s));
      }
      for (const PolicyIpBlock& b : r.blocks) {
        Part p = AddrIn(source, b.cidr, false);
        for (const Ipv4Prefix& e : b.except) {
          Part x = AddrIn(source, e, true);
          p.text += " " + x.text;
          p.exprs.insert(p.exprs.end(), x.exprs.begin(), x.exprs.end());
        }
        peers.push_back(std::move(p));
      }
    }
    for (const Part& peer : peers) {
      if (r.ports.empty()) {
        c.rules.push_back(Make({peer, ret}));
        continue;
      }
      for (const PolicyPort& port : r.ports) c.rules.push_back(Make({peer, PortMatch(port), ret}));
    }
  }
  ChainRule drop = Make({{"drop", nft::Drop()}});
  drop.text += " comment \"" + std::string(ingress ? "ingress to " : "egress from ") + pod + "\"";
  c.rules.push_back(std::move(drop));
  return c;
}

ChainSpec Base(const std::string& name, uint32_t hook, std::vector<ChainRule> rules) {
  ChainSpec c;
  c.name = name;
  c.base = true;
  c.type = "filter";
  c.hook = hook;
  c.priority = 0;
  c.rules = std::move(rules);
  return c;
}

TableSet PodMap(const std::string& name) {
  TableSet s;
  s.spec.name = name;
  s.spec.key_type = nft::kTypeIpv4Addr;
  s.spec.key_len = 4;
  s.spec.verdict_map = true;
  return s;
}

void AddPod(TableSet* map, uint32_t ip, const std::string& chain) {
  map->elements.push_back({nft::AddrKey(ip), nft::Verdict{NFT_JUMP, chain}});
  map->texts.push_back(FormatIpv4(ip) + " : jump " + chain);
}

}  // namespace

nft::TableSpec BuildNetworkPolicyRules(const std::string& table, const std::vector<PodPolicy>& pods) {
  nft::TableSpec t;
  t.name = table;
  TableSet ingress = PodMap(kIngressPods), egress = PodMap(kEgressPods);
  std::vector<TableSet> peer_sets;
  std::vector<ChainSpec> pod_chains;
  std::vector<const PodPolicy*> sorted;
  for (const PodPolicy& p : pods) sorted.push_back(&p);
  // One IP, one entry: the kernel refuses a map key twice in a batch.
  std::sort(sorted.begin(), sorted.end(), [](const PodPolicy* a, const PodPolicy* b) { return a->ip < b->ip; });
  sorted.erase(std::unique(sorted.begin(), sorted.end(),
                           [](const PodPolicy* a, const PodPolicy* b) { return a->ip == b->ip; }),
               sorted.end());
  for (const PodPolicy* p : sorted) {
    const std::string ip = FormatIpv4(p->ip);
    if (p->ingress_isolated) {
      pod_chains.push_back(PodChain("ingress-" + ip, true, p->name, p->ingress, &peer_sets));
      AddPod(&ingress, p->ip, "ingress-" + ip);
    }
    if (p->egress_isolated) {
      pod_chains.push_back(PodChain("egress-" + ip, false, p->name, p->egress, &peer_sets));
      AddPod(&egress, p->ip, "egress-" + ip);
    }
  }
  t.sets.push_back(std::move(ingress));
  t.sets.push_back(std::move(egress));
  for (TableSet& s : peer_sets) t.sets.push_back(std::move(s));
  // Regular chains first: the maps' verdicts and the base chains name them.
  t.chains = std::move(pod_chains);
  t.chains.push_back(Base("forward", NF_INET_FORWARD,
                          {Make({EstablishedAccept()}), Make({AddrLookup(true, kEgressPods, true)}),
                           Make({AddrLookup(false, kIngressPods, true)})}));
  t.chains.push_back(
      Base("input", NF_INET_LOCAL_IN, {Make({EstablishedAccept()}), Make({AddrLookup(true, kEgressPods, true)})}));
  return t;
}

namespace {

// Whether bridged IPv4 traffic passes netfilter in this network
// namespace, turning it on when the switch exists (br_netfilter built in
// or loaded; a static binary cannot run modprobe).
bool BridgeNetfilterOn() {
  const char* path = "/proc/sys/net/bridge/bridge-nf-call-iptables";
  int fd = open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char c = 0;
  bool on = read(fd, &c, 1) == 1 && c == '1';
  close(fd);
  if (on) return true;
  fd = open(path, O_WRONLY | O_CLOEXEC);
  if (fd < 0) return false;
  on = write(fd, "1", 1) == 1;
  close(fd);
  return on;
}

bool Program(netlink::Socket* s, nft::Batch* b, const std::string& what, std::string* error) {
  std::vector<netlink::Message> messages = b->Finish();
  return s->Batch(&messages, what, error);
}

}  // namespace

void NetworkPolicyFilter::Open(const std::string& data_dir, std::unique_ptr<NetworkPolicyFilter>* out) {
  auto f = std::unique_ptr<NetworkPolicyFilter>(new NetworkPolicyFilter());
  f->table_ = NetworkPolicyNftTableName(data_dir);
  f->bridge_mode_ = BridgeNetfilterOn() ? "bridge-nf-call-iptables"
                                        : "no br_netfilter: traffic between pods of bridge " +
                                              PodBridgeName(data_dir) + " is not filtered";
  *out = std::move(f);
}

bool NetworkPolicyFilter::Sync(const std::vector<PodPolicy>& pods, std::string* error) {
  nft::TableSpec spec = BuildNetworkPolicyRules(table_, pods);
  std::string text = spec.Text();
  std::lock_guard<std::mutex> lock(mu_);
  netlink::Socket s;
  if (!netlink::Socket::Open(NETLINK_NETFILTER, "", &s, error)) return false;
  if (programmed_ && text == last_text_) {
    bool present = false;
    if (nft::TableExists(&s, NFPROTO_IPV4, table_, &present, error) && present) return true;
  }
  nft::Batch b(NFPROTO_IPV4);
  nft::ReplaceTable(spec, &b);
  programmed_ = false;
  if (!Program(&s, &b, "nftables table ip " + table_, error)) return false;
  programmed_ = true;
  last_text_ = std::move(text);
  return true;
}

bool NetworkPolicyFilter::TablePresent(bool* present, std::string* error) {
  netlink::Socket s;
  if (!netlink::Socket::Open(NETLINK_NETFILTER, "", &s, error)) return false;
  return nft::TableExists(&s, NFPROTO_IPV4, table_, present, error);
}

std::string NetworkPolicyNftTableName(const std::string& data_dir) {
  return "kubitnp_" + HashHex(CanonicalDataDir(data_dir), 6);
}

bool RemoveNetworkPolicyFilter(const std::string& data_dir, std::string* error) {
  netlink::Socket s;
  // A kernel without nftables has no table to remove.
  if (!netlink::Socket::Open(NETLINK_NETFILTER, "", &s, error)) return errno == EPROTONOSUPPORT;
  const std::string table = NetworkPolicyNftTableName(data_dir);
  bool exists;
  if (!nft::TableExists(&s, NFPROTO_IPV4, table, &exists, error)) return false;
  if (!exists) return true;
  nft::Batch b(NFPROTO_IPV4);
  b.DeleteTable(table);
  return Program(&s, &b, "delete nftables table ip " + table, error);
}

}  // namespace kubit::net
