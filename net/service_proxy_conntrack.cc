#include "net/service_proxy_conntrack.h"

// glibc's netinet/in.h (through service_proxy.h) before the kernel's headers.
#include <arpa/inet.h>
#include <errno.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <string.h>

#include <map>
#include <set>

namespace kubit::net {

namespace {

using Endpoint = std::pair<uint32_t, uint16_t>;

// The endpoints a port's rules may send to: ready, or serving and terminating.
std::set<Endpoint> Usable(const ServicePortEntry& p) {
  std::set<Endpoint> out;
  for (const ServiceEndpoint& e : p.endpoints)
    if (e.ready || (e.serving && e.terminating)) out.insert({e.ip, e.port});
  return out;
}

void AddFlows(const ServicePortEntry& p, uint32_t reply_src, std::vector<StaleFlow>* out) {
  std::vector<uint32_t> addrs = {p.cluster_ip};
  addrs.insert(addrs.end(), p.external_ips.begin(), p.external_ips.end());
  addrs.insert(addrs.end(), p.load_balancer_ips.begin(), p.load_balancer_ips.end());
  for (uint32_t a : addrs) out->push_back({p.protocol, a, p.port, reply_src});
  if (p.node_port) out->push_back({p.protocol, 0, p.node_port, reply_src});
}

// A tuple of a conntrack entry: addresses, protocol and ports.
struct Tuple {
  uint32_t src = 0, dst = 0;
  uint8_t proto = 0;
  uint16_t sport = 0, dport = 0;
  std::string raw;  // the CTA_TUPLE_* attribute's payload, sent back to delete the entry
};

uint32_t Be32At(const std::string* s) {
  uint32_t v = 0;
  if (s && s->size() >= 4) memcpy(&v, s->data(), 4);
  return ntohl(v);
}

uint16_t Be16At(const std::string* s) {
  uint16_t v = 0;
  if (s && s->size() >= 2) memcpy(&v, s->data(), 2);
  return ntohs(v);
}

Tuple ParseTuple(const std::string& payload) {
  Tuple t;
  t.raw = payload;
  netlink::Attrs a = netlink::Attrs::Parse(payload.data(), payload.size());
  if (const std::string* ip = a.Get(CTA_TUPLE_IP)) {
    netlink::Attrs i = netlink::Attrs::Parse(ip->data(), ip->size());
    t.src = Be32At(i.Get(CTA_IP_V4_SRC));
    t.dst = Be32At(i.Get(CTA_IP_V4_DST));
  }
  if (const std::string* proto = a.Get(CTA_TUPLE_PROTO)) {
    netlink::Attrs p = netlink::Attrs::Parse(proto->data(), proto->size());
    if (const std::string* n = p.Get(CTA_PROTO_NUM); n && !n->empty()) t.proto = static_cast<uint8_t>((*n)[0]);
    t.sport = Be16At(p.Get(CTA_PROTO_SRC_PORT));
    t.dport = Be16At(p.Get(CTA_PROTO_DST_PORT));
  }
  return t;
}

netlink::Message CtMessage(uint16_t type, uint16_t flags) {
  netlink::Message m((NFNL_SUBSYS_CTNETLINK << 8) | type, flags);
  nfgenmsg g{};
  g.nfgen_family = AF_INET;
  g.version = NFNETLINK_V0;
  m.PutHeader(&g, sizeof(g));
  return m;
}

}  // namespace

std::vector<StaleFlow> StaleUdpFlows(const std::vector<ServicePortEntry>& before,
                                     const std::vector<ServicePortEntry>& after) {
  std::map<std::pair<std::string, uint8_t>, const ServicePortEntry*> now;
  for (const ServicePortEntry& p : after) now[{p.name, p.protocol}] = &p;
  std::vector<StaleFlow> out;
  for (const ServicePortEntry& old : before) {
    if (old.protocol != IPPROTO_UDP) continue;
    auto it = now.find({old.name, old.protocol});
    std::set<Endpoint> had = Usable(old);
    std::set<Endpoint> has = it == now.end() ? std::set<Endpoint>() : Usable(*it->second);
    for (const Endpoint& e : had)
      if (!has.count(e)) AddFlows(old, e.first, &out);
  }
  for (const ServicePortEntry& p : after) {
    if (p.protocol != IPPROTO_UDP || Usable(p).empty()) continue;
    bool had_any = false;
    for (const ServicePortEntry& old : before)
      if (old.name == p.name && old.protocol == p.protocol) had_any = !Usable(old).empty();
    if (!had_any) AddFlows(p, 0, &out);
  }
  return out;
}

bool DeleteConntrackFlows(const std::vector<StaleFlow>& flows, int* deleted, std::string* error) {
  *deleted = 0;
  if (flows.empty()) return true;
  netlink::Socket s;
  if (!netlink::Socket::Open(NETLINK_NETFILTER, "", &s, error)) return false;
  std::vector<std::string> doomed;  // original tuples
  netlink::Message dump = CtMessage(IPCTNL_MSG_CT_GET, NLM_F_DUMP);
  bool ok = s.Query(&dump, "conntrack dump", [&](const nlmsghdr* h) {
    size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(sizeof(nfgenmsg));
    if (h->nlmsg_len < off) return;
    netlink::Attrs a = netlink::Attrs::Parse(reinterpret_cast<const uint8_t*>(h) + off, h->nlmsg_len - off);
    const std::string* orig = a.Get(CTA_TUPLE_ORIG);
    const std::string* reply = a.Get(CTA_TUPLE_REPLY);
    if (!orig || !reply) return;
    Tuple o = ParseTuple(*orig), r = ParseTuple(*reply);
    for (const StaleFlow& f : flows)
      if (o.proto == f.protocol && o.dport == f.port && (f.dst == 0 || o.dst == f.dst) &&
          (f.reply_src == 0 || r.src == f.reply_src) &&
          (f.dst != 0 || o.dst != r.src)) {  // on any address: only flows a NodePort's DNAT made
        doomed.push_back(o.raw);
        break;
      }
  }, nullptr, error);
  if (!ok) return false;
  for (const std::string& tuple : doomed) {
    netlink::Message del = CtMessage(IPCTNL_MSG_CT_DELETE, 0);
    del.PutAttr(CTA_TUPLE_ORIG | NLA_F_NESTED, tuple.data(), tuple.size());
    int err = 0;
    if (s.Request(&del, "conntrack delete", &err, error))
      ++*deleted;
    else if (err != ENOENT)
      return false;
  }
  return true;
}

}  // namespace kubit::net
