// glibc's netinet/in.h before the kernel's headers: it tells them what it defines.
#include <netinet/in.h>

#include "net/host_gw_routes.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include <map>

#include "net/ipam_ipv4.h"
#include "net/local_names.h"
#include "net/netlink.h"

namespace kubit::net {

namespace {

using netlink::Attrs;
using netlink::Message;

struct Route {
  uint32_t dst = 0;
  int len = 0;
  uint32_t gateway = 0;
};

uint8_t RouteProtocol(const std::string& data_dir) {
  return static_cast<uint8_t>(0x60 + std::stoul(HashHex(CanonicalDataDir(data_dir), 2), nullptr, 16) % 0x20);
}

uint32_t Be32At(const std::string* v) {
  if (!v || v->size() < 4) return 0;
  uint32_t n;
  memcpy(&n, v->data(), 4);
  return ntohl(n);
}

bool ListRoutes(netlink::Socket* s, uint8_t protocol, std::vector<Route>* out, std::string* error) {
  Message m(RTM_GETROUTE, NLM_F_DUMP);
  rtmsg rt{};
  rt.rtm_family = AF_INET;
  m.PutHeader(&rt, sizeof(rt));
  return s->Query(&m, "RTM_GETROUTE (dump)", [&](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWROUTE) return;
    const auto* r = static_cast<const rtmsg*>(NLMSG_DATA(h));
    if (r->rtm_protocol != protocol || r->rtm_table != RT_TABLE_MAIN) return;
    size_t off = NLMSG_ALIGN(NLMSG_LENGTH(sizeof(rtmsg)));
    Attrs a = Attrs::Parse(reinterpret_cast<const uint8_t*>(h) + off, h->nlmsg_len - off);
    out->push_back({Be32At(a.Get(RTA_DST)), r->rtm_dst_len, Be32At(a.Get(RTA_GATEWAY))});
  }, nullptr, error);
}

bool SetRoute(netlink::Socket* s, uint8_t protocol, const Route& r, bool add, std::string* error) {
  Message m(add ? RTM_NEWROUTE : RTM_DELROUTE, add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
  rtmsg rt{};
  rt.rtm_family = AF_INET;
  rt.rtm_dst_len = static_cast<unsigned char>(r.len);
  rt.rtm_table = RT_TABLE_MAIN;
  rt.rtm_protocol = protocol;
  rt.rtm_scope = RT_SCOPE_UNIVERSE;
  rt.rtm_type = RTN_UNICAST;
  m.PutHeader(&rt, sizeof(rt));
  m.PutBe32(RTA_DST, r.dst);
  if (add) m.PutBe32(RTA_GATEWAY, r.gateway);
  int err = 0;
  std::string what = std::string(add ? "RTM_NEWROUTE " : "RTM_DELROUTE ") + FormatIpv4(r.dst) + "/" +
                     std::to_string(r.len) + " via " + FormatIpv4(r.gateway);
  if (s->Request(&m, what, &err, error)) return true;
  if (!add && err == ESRCH) return true;
  // The gateway must be on a network this node is on.
  if (add && err == ENETUNREACH) *error += " (host-gw needs the nodes on one L2 network; use vxlan otherwise)";
  return false;
}

class Routes : public HostGwRoutes {
 public:
  Routes(netlink::Socket s, uint8_t protocol) : route_(std::move(s)), protocol_(protocol) {}

  bool SetPeers(const std::vector<PeerNode>& peers, std::string* error) override {
    std::map<uint32_t, Route> want;
    std::string bad;
    for (const auto& p : peers) {
      uint32_t ip = 0;
      Ipv4Prefix cidr;
      std::string why;
      if (!ParseIpv4(p.node_ip, &ip) || !ParseIpv4Prefix(p.pod_cidr, &cidr, &why)) {
        bad += (bad.empty() ? "" : ", ") + p.node_ip + " (" + p.pod_cidr + ")";
        continue;
      }
      want[cidr.addr] = {cidr.addr, cidr.len, ip};
    }
    std::vector<Route> have;
    if (!ListRoutes(&route_, protocol_, &have, error)) return false;
    std::map<uint32_t, bool> kept;
    for (const auto& r : have) {
      auto it = want.find(r.dst);
      if (it != want.end() && it->second.len == r.len && it->second.gateway == r.gateway) {
        kept[r.dst] = true;
      } else if (!SetRoute(&route_, protocol_, r, false, error)) {
        return false;
      }
    }
    std::string failed;
    for (const auto& [dst, r] : want) {
      std::string why;
      if (!kept.count(dst) && !SetRoute(&route_, protocol_, r, true, &why)) failed += (failed.empty() ? "" : "; ") + why;
    }
    if (!bad.empty()) failed += (failed.empty() ? "" : "; ") + std::string("peers with unusable addresses: ") + bad;
    if (!failed.empty()) {
      *error = "host-gw: " + failed;
      return false;
    }
    return true;
  }

 private:
  netlink::Socket route_;
  uint8_t protocol_;
};

}  // namespace

bool HostGwRoutes::Open(const std::string& data_dir, std::unique_ptr<HostGwRoutes>* out, std::string* error) {
  netlink::Socket s;
  if (!netlink::Socket::Open(NETLINK_ROUTE, "", &s, error)) return false;
  *out = std::make_unique<Routes>(std::move(s), RouteProtocol(data_dir));
  return true;
}

bool RemoveHostGwRoutes(const std::string& data_dir, std::string* error) {
  std::unique_ptr<HostGwRoutes> routes;
  return HostGwRoutes::Open(data_dir, &routes, error) && routes->SetPeers({}, error);
}

}  // namespace kubit::net
