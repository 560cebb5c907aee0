// The vxlan overlay over rtnetlink: the device (made, or adopted when its
// VNI, local address and port still fit), then the per-peer routes,
// neighbours and FDB entries, each reconciled against what the kernel
// holds on the device, so a restarted kubit converges without flushing.
// glibc's netinet/in.h before the kernel's headers: it tells them what it defines.
#include <netinet/in.h>

#include "net/vxlan_overlay.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_link.h>
#include <linux/neighbour.h>
#include <linux/rtnetlink.h>
#include <stdio.h>

#include <map>
#include <set>

#include "net/ipam_ipv4.h"
#include "net/local_names.h"
#include "net/netlink.h"
#include "net/netlink_route.h"

namespace kubit::net {

namespace {

using netlink::Attrs;
using netlink::Message;

struct Route {
  uint32_t dst = 0;  // network, host order
  int len = 0;
  uint32_t gateway = 0;
};

const void* Payload(const nlmsghdr* h, size_t fixed, size_t* len) {
  size_t off = NLMSG_ALIGN(NLMSG_LENGTH(fixed));
  *len = h->nlmsg_len > off ? h->nlmsg_len - off : 0;
  return reinterpret_cast<const uint8_t*>(h) + off;
}

uint32_t Be32At(const std::string* v) {
  if (!v || v->size() < 4) return 0;
  uint32_t n;
  memcpy(&n, v->data(), 4);
  return ntohl(n);
}

class Overlay : public VxlanOverlay {
 public:
  bool Init(const VxlanOptions& o, std::string* error);
  std::string vtep_mac() const override { return FormatMac(mac_); }
  bool SetPeers(const std::vector<PeerNode>& peers, std::string* error) override;

 private:
  bool Adoptable(bool* ok, std::string* error);
  bool ListRoutes(std::vector<Route>* out, std::string* error);
  bool ListNeighbours(uint8_t family, std::map<std::string, std::string>* out, std::string* error);
  bool SetNeighbour(uint8_t family, uint32_t ip, const std::string& mac, bool add, std::string* error);
  bool SetRoute(const Route& r, bool add, std::string* error);

  VxlanOptions opts_;
  std::string name_, mac_;
  uint32_t local_ip_ = 0;
  Ipv4Prefix pod_cidr_;
  netlink::Socket route_;
  rtnl::Link link_;
};

Message BuildNewVxlan(const std::string& name, const VxlanOptions& o, uint32_t local, const std::string& mac,
                      int mtu) {
  Message m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  m.PutHeader(&ifi, sizeof(ifi));
  m.PutString(IFLA_IFNAME, name);
  if (mtu > 0) m.PutU32(IFLA_MTU, mtu);
  m.PutAttr(IFLA_ADDRESS, mac.data(), mac.size());
  size_t info = m.BeginNested(IFLA_LINKINFO);
  m.PutString(IFLA_INFO_KIND, "vxlan");
  size_t data = m.BeginNested(IFLA_INFO_DATA);
  m.PutU32(IFLA_VXLAN_ID, o.vni);
  m.PutBe32(IFLA_VXLAN_LOCAL, local);
  uint16_t port = htons(o.port);
  m.PutAttr(IFLA_VXLAN_PORT, &port, 2);
  // Every peer's MAC is known from its Node: nothing to learn, and no
  // flooding of unknown destinations.
  m.PutU8(IFLA_VXLAN_LEARNING, 0);
  m.EndNested(data);
  m.EndNested(info);
  return m;
}

bool Overlay::Init(const VxlanOptions& o, std::string* error) {
  opts_ = o;
  name_ = VxlanDeviceName(o.data_dir);
  mac_ = LocalMac(o.data_dir, "vxlan");
  if (!ParseIpv4(o.local_ip, &local_ip_)) {
    *error = "vxlan: node IP \"" + o.local_ip + "\" is not an IPv4 address";
    return false;
  }
  if (!ParseIpv4Prefix(o.pod_cidr, &pod_cidr_, error)) {
    *error = "vxlan: pod CIDR: " + *error;
    return false;
  }
  if (!netlink::Socket::Open(NETLINK_ROUTE, "", &route_, error)) return false;
  int mtu = o.mtu;
  if (mtu <= 0) {
    if (!rtnl::DefaultRouteMtu(&route_, &mtu, error)) return false;
    mtu -= kVxlanOverhead;
  }
  bool ok = false;
  if (!Adoptable(&ok, error)) return false;
  if (!ok) {
    // Absent, or made with other settings (the node's IP changed): anew.
    if (!rtnl::DeleteLink(&route_, name_, error)) return false;
    Message m = BuildNewVxlan(name_, o, local_ip_, mac_, mtu);
    if (!route_.Request(&m, "RTM_NEWLINK vxlan " + name_, nullptr, error)) return false;
  }
  bool found = false;
  if (!rtnl::GetLink(&route_, name_, &link_, &found, error)) return false;
  if (!found) {
    *error = "vxlan: " + name_ + " vanished after it was made";
    return false;
  }
  // The first address of this node's range, as flannel gives its device:
  // the source of packets the node itself sends to other nodes' pods.
  return rtnl::AddAddress(&route_, link_, pod_cidr_.addr, 32, error) &&
         rtnl::SetLink(&route_, link_, -1, true, error);
}

bool Overlay::Adoptable(bool* ok, std::string* error) {
  *ok = false;
  Message m(RTM_GETLINK, 0);
  ifinfomsg ifi{};
  m.PutHeader(&ifi, sizeof(ifi));
  m.PutString(IFLA_IFNAME, name_);
  int err = 0;
  bool queried = route_.Query(&m, "RTM_GETLINK " + name_, [&](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWLINK) return;
    size_t len;
    const void* p = Payload(h, sizeof(ifinfomsg), &len);
    Attrs a = Attrs::Parse(p, len);
    const std::string* info = a.Get(IFLA_LINKINFO);
    if (!info) return;
    Attrs li = Attrs::Parse(info->data(), info->size());
    const std::string* data = li.Get(IFLA_INFO_DATA);
    if (li.String(IFLA_INFO_KIND) != "vxlan" || !data) return;
    Attrs d = Attrs::Parse(data->data(), data->size());
    const std::string* port = d.Get(IFLA_VXLAN_PORT);
    uint16_t p16 = 0;
    if (port && port->size() >= 2) memcpy(&p16, port->data(), 2);
    const std::string* addr = a.Get(IFLA_ADDRESS);
    *ok = d.U32(IFLA_VXLAN_ID) == opts_.vni && Be32At(d.Get(IFLA_VXLAN_LOCAL)) == local_ip_ &&
          ntohs(p16) == opts_.port && addr && *addr == mac_;
  }, &err, error);
  return queried || err == ENODEV;
}

bool Overlay::ListRoutes(std::vector<Route>* out, std::string* error) {
  Message m(RTM_GETROUTE, NLM_F_DUMP);
  rtmsg rt{};
  rt.rtm_family = AF_INET;
  m.PutHeader(&rt, sizeof(rt));
  return route_.Query(&m, "RTM_GETROUTE (dump)", [&](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWROUTE) return;
    const auto* r = static_cast<const rtmsg*>(NLMSG_DATA(h));
    if (r->rtm_table != RT_TABLE_MAIN || r->rtm_type != RTN_UNICAST) return;
    size_t len;
    const void* p = Payload(h, sizeof(rtmsg), &len);
    Attrs a = Attrs::Parse(p, len);
    if (a.U32(RTA_OIF) != static_cast<uint32_t>(link_.index)) return;
    out->push_back({Be32At(a.Get(RTA_DST)), r->rtm_dst_len, Be32At(a.Get(RTA_GATEWAY))});
  }, nullptr, error);
}

bool Overlay::SetRoute(const Route& r, bool add, std::string* error) {
  Message m(add ? RTM_NEWROUTE : RTM_DELROUTE, add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
  rtmsg rt{};
  rt.rtm_family = AF_INET;
  rt.rtm_dst_len = static_cast<unsigned char>(r.len);
  rt.rtm_table = RT_TABLE_MAIN;
  rt.rtm_protocol = RTPROT_STATIC;
  rt.rtm_scope = RT_SCOPE_UNIVERSE;
  rt.rtm_type = RTN_UNICAST;
  // The gateway is the peer's device address, reachable only through
  // the tunnel: no connected route says so.
  rt.rtm_flags = RTNH_F_ONLINK;
  m.PutHeader(&rt, sizeof(rt));
  m.PutBe32(RTA_DST, r.dst);
  if (add) m.PutBe32(RTA_GATEWAY, r.gateway);
  m.PutU32(RTA_OIF, static_cast<uint32_t>(link_.index));
  int err = 0;
  std::string what = std::string(add ? "RTM_NEWROUTE " : "RTM_DELROUTE ") + FormatIpv4(r.dst) + "/" +
                     std::to_string(r.len) + " dev " + name_;
  return route_.Request(&m, what, &err, error) || (!add && err == ESRCH);
}

// family AF_INET: neighbour IP (dotted) -> MAC bytes; AF_BRIDGE: the FDB,
// MAC bytes -> destination IP (dotted).
bool Overlay::ListNeighbours(uint8_t family, std::map<std::string, std::string>* out, std::string* error) {
  Message m(RTM_GETNEIGH, NLM_F_DUMP);
  ndmsg nd{};
  nd.ndm_family = family;
  m.PutHeader(&nd, sizeof(nd));
  return route_.Query(&m, "RTM_GETNEIGH (dump)", [&](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWNEIGH) return;
    const auto* n = static_cast<const ndmsg*>(NLMSG_DATA(h));
    if (n->ndm_ifindex != link_.index || n->ndm_family != family) return;
    size_t len;
    const void* p = Payload(h, sizeof(ndmsg), &len);
    Attrs a = Attrs::Parse(p, len);
    const std::string* mac = a.Get(NDA_LLADDR);
    const std::string* dst = a.Get(NDA_DST);
    if (!mac || !dst || dst->size() != 4) return;
    if (family == AF_INET)
      (*out)[FormatIpv4(Be32At(dst))] = *mac;
    else
      (*out)[*mac] = FormatIpv4(Be32At(dst));
  }, nullptr, error);
}

bool Overlay::SetNeighbour(uint8_t family, uint32_t ip, const std::string& mac, bool add, std::string* error) {
  Message m(add ? RTM_NEWNEIGH : RTM_DELNEIGH, add ? NLM_F_CREATE | NLM_F_REPLACE : 0);
  ndmsg nd{};
  nd.ndm_family = family;
  nd.ndm_ifindex = link_.index;
  nd.ndm_state = NUD_PERMANENT;
  nd.ndm_type = RTN_UNICAST;
  // FDB entries belong to the vxlan device itself, not to a bridge above it.
  if (family == AF_BRIDGE) nd.ndm_flags = NTF_SELF;
  m.PutHeader(&nd, sizeof(nd));
  m.PutAttr(NDA_LLADDR, mac.data(), mac.size());
  m.PutBe32(NDA_DST, ip);
  int err = 0;
  std::string what = std::string(add ? "RTM_NEWNEIGH " : "RTM_DELNEIGH ") +
                     (family == AF_BRIDGE ? "fdb " + FormatMac(mac) + " dst " : "") + FormatIpv4(ip) + " dev " +
                     name_;
  return route_.Request(&m, what, &err, error) || (!add && err == ENOENT);
}

bool Overlay::SetPeers(const std::vector<PeerNode>& peers, std::string* error) {
  std::vector<std::string> bad;
  std::map<uint32_t, Route> routes;               // by destination network
  std::map<std::string, std::string> neighbours;  // gateway (dotted) -> MAC
  std::map<std::string, std::string> fdb;         // MAC -> node IP (dotted)
  for (const auto& p : peers) {
    uint32_t ip = 0;
    Ipv4Prefix cidr;
    std::string mac, why;
    if (!ParseIpv4(p.node_ip, &ip) || !ParseMac(p.vtep_mac, &mac) || !ParseIpv4Prefix(p.pod_cidr, &cidr, &why)) {
      bad.push_back(p.node_ip + " (" + p.vtep_mac + ", " + p.pod_cidr + ")");
      continue;
    }
    if (ip == local_ip_ || cidr.addr == pod_cidr_.addr) continue;  // this node
    routes[cidr.addr] = {cidr.addr, cidr.len, cidr.addr};
    neighbours[FormatIpv4(cidr.addr)] = mac;
    fdb[mac] = FormatIpv4(ip);
  }
  // FDB and neighbours before routes: a route is used the moment it exists.
  std::map<std::string, std::string> have_fdb, have_neigh;
  std::vector<Route> have_routes;
  if (!ListNeighbours(AF_BRIDGE, &have_fdb, error) || !ListNeighbours(AF_INET, &have_neigh, error) ||
      !ListRoutes(&have_routes, error))
    return false;
  for (const auto& [mac, ip] : fdb) {
    uint32_t n = 0;
    ParseIpv4(ip, &n);
    auto it = have_fdb.find(mac);
    if ((it == have_fdb.end() || it->second != ip) && !SetNeighbour(AF_BRIDGE, n, mac, true, error)) return false;
  }
  for (const auto& [gw, mac] : neighbours) {
    uint32_t n = 0;
    ParseIpv4(gw, &n);
    auto it = have_neigh.find(gw);
    if ((it == have_neigh.end() || it->second != mac) && !SetNeighbour(AF_INET, n, mac, true, error)) return false;
  }
  std::set<uint32_t> have_dst;
  for (const auto& r : have_routes) {
    auto it = routes.find(r.dst);
    bool keep = it != routes.end() && it->second.len == r.len && it->second.gateway == r.gateway;
    if (keep) {
      have_dst.insert(r.dst);
    } else if (!SetRoute(r, false, error)) {
      return false;
    }
  }
  for (const auto& [dst, r] : routes) {
    if (!have_dst.count(dst) && !SetRoute(r, true, error)) return false;
  }
  // What nodes that are gone left behind.
  for (const auto& [gw, mac] : have_neigh) {
    uint32_t n = 0;
    if (!neighbours.count(gw) && ParseIpv4(gw, &n) && !SetNeighbour(AF_INET, n, mac, false, error)) return false;
  }
  for (const auto& [mac, ip] : have_fdb) {
    uint32_t n = 0;
    if (!fdb.count(mac) && ParseIpv4(ip, &n) && !SetNeighbour(AF_BRIDGE, n, mac, false, error)) return false;
  }
  if (!bad.empty()) {
    std::string list;
    for (const auto& b : bad) list += (list.empty() ? "" : ", ") + b;
    *error = "vxlan: peers skipped for unusable addresses: " + list;
    return false;
  }
  return true;
}

}  // namespace

bool VxlanOverlay::Open(const VxlanOptions& options, std::unique_ptr<VxlanOverlay>* out, std::string* error) {
  auto o = std::make_unique<Overlay>();
  if (!o->Init(options, error)) return false;
  *out = std::move(o);
  return true;
}

std::string VxlanDeviceName(const std::string& data_dir) { return "kx" + HashHex(CanonicalDataDir(data_dir), 6); }

int VxlanPodMtu() {
  netlink::Socket s;
  std::string error;
  int mtu = 1500;
  if (netlink::Socket::Open(NETLINK_ROUTE, "", &s, &error)) rtnl::DefaultRouteMtu(&s, &mtu, &error);
  return mtu - kVxlanOverhead;
}

bool RemoveVxlanOverlay(const std::string& data_dir, std::string* error) {
  netlink::Socket s;
  if (!netlink::Socket::Open(NETLINK_ROUTE, "", &s, error)) return false;
  return rtnl::DeleteLink(&s, VxlanDeviceName(data_dir), error);
}

bool ParseMac(const std::string& text, std::string* bytes) {
  unsigned b[6];
  char tail;
  if (sscanf(text.c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6 ||
      text.size() != 17)
    return false;
  bytes->assign(6, '\0');
  for (int i = 0; i < 6; i++) (*bytes)[i] = static_cast<char>(b[i]);
  return true;
}

std::string FormatMac(const std::string& bytes) {
  std::string out;
  char buf[4];
  for (size_t i = 0; i < bytes.size(); i++) {
    snprintf(buf, sizeof(buf), i ? ":%02x" : "%02x", static_cast<unsigned char>(bytes[i]));
    out += buf;
  }
  return out;
}

}  // namespace kubit::net
