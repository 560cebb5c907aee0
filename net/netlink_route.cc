#include "net/netlink_route.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <string.h>
#include <unistd.h>

#include "net/ipam_ipv4.h"

namespace kubit::net::rtnl {

using netlink::Attrs;
using netlink::Message;

namespace {

void PutIfinfo(Message* m, int index, unsigned flags, unsigned change) {
  ifinfomsg ifi{};
  ifi.ifi_family = AF_UNSPEC;
  ifi.ifi_index = index;
  ifi.ifi_flags = flags;
  ifi.ifi_change = change;
  m->PutHeader(&ifi, sizeof(ifi));
}

Link ParseLink(const nlmsghdr* h) {
  Link l;
  const auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
  l.index = ifi->ifi_index;
  size_t off = NLMSG_LENGTH(sizeof(ifinfomsg));
  Attrs a = Attrs::Parse(reinterpret_cast<const uint8_t*>(h) + NLMSG_ALIGN(off), h->nlmsg_len - NLMSG_ALIGN(off));
  l.name = a.String(IFLA_IFNAME);
  l.mtu = static_cast<int>(a.U32(IFLA_MTU));
  l.master = static_cast<int>(a.U32(IFLA_MASTER));
  if (const std::string* info = a.Get(IFLA_LINKINFO))
    l.kind = Attrs::Parse(info->data(), info->size()).String(IFLA_INFO_KIND);
  return l;
}

}  // namespace

Message BuildNewBridge(const std::string& name, int mtu, const std::string& mac) {
  Message m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  PutIfinfo(&m, 0, 0, 0);
  m.PutString(IFLA_IFNAME, name);
  if (mtu > 0) m.PutU32(IFLA_MTU, mtu);
  if (!mac.empty()) m.PutAttr(IFLA_ADDRESS, mac.data(), mac.size());
  size_t info = m.BeginNested(IFLA_LINKINFO);
  m.PutString(IFLA_INFO_KIND, "bridge");
  m.EndNested(info);
  return m;
}

Message BuildNewVeth(const std::string& name, const std::string& peer_name, int peer_netns_fd, int mtu) {
  Message m(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL);
  PutIfinfo(&m, 0, 0, 0);
  m.PutString(IFLA_IFNAME, name);
  if (mtu > 0) m.PutU32(IFLA_MTU, mtu);
  size_t info = m.BeginNested(IFLA_LINKINFO);
  m.PutString(IFLA_INFO_KIND, "veth");
  size_t data = m.BeginNested(IFLA_INFO_DATA);
  // VETH_INFO_PEER holds a whole ifinfomsg and the peer's own attributes.
  size_t peer = m.BeginNested(VETH_INFO_PEER);
  PutIfinfo(&m, 0, 0, 0);
  m.PutString(IFLA_IFNAME, peer_name);
  if (mtu > 0) m.PutU32(IFLA_MTU, mtu);
  if (peer_netns_fd >= 0) m.PutU32(IFLA_NET_NS_FD, peer_netns_fd);
  m.EndNested(peer);
  m.EndNested(data);
  m.EndNested(info);
  return m;
}

Message BuildSetLink(int index, int master, bool up) {
  Message m(RTM_NEWLINK, 0);
  PutIfinfo(&m, index, up ? IFF_UP : 0, IFF_UP);
  if (master >= 0) m.PutU32(IFLA_MASTER, master);
  return m;
}

Message BuildAddAddress(int index, uint32_t ip, int prefix_len) {
  Message m(RTM_NEWADDR, NLM_F_CREATE | NLM_F_REPLACE);
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET;
  ifa.ifa_prefixlen = prefix_len;
  ifa.ifa_scope = RT_SCOPE_UNIVERSE;
  ifa.ifa_index = index;
  m.PutHeader(&ifa, sizeof(ifa));
  uint32_t be = htonl(ip);
  m.PutAttr(IFA_LOCAL, &be, 4);
  m.PutAttr(IFA_ADDRESS, &be, 4);
  uint32_t host = prefix_len >= 32 ? 0 : (~uint32_t(0) >> prefix_len);
  uint32_t brd = htonl(ip | host);
  m.PutAttr(IFA_BROADCAST, &brd, 4);
  return m;
}

Message BuildDefaultRoute(uint32_t gateway, int oif) {
  Message m(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE);
  rtmsg rt{};
  rt.rtm_family = AF_INET;
  rt.rtm_table = RT_TABLE_MAIN;
  rt.rtm_protocol = RTPROT_BOOT;
  rt.rtm_scope = RT_SCOPE_UNIVERSE;
  rt.rtm_type = RTN_UNICAST;
  m.PutHeader(&rt, sizeof(rt));
  uint32_t be = htonl(gateway);
  m.PutAttr(RTA_GATEWAY, &be, 4);
  m.PutU32(RTA_OIF, oif);
  return m;
}

bool GetLink(netlink::Socket* s, const std::string& name, Link* out, bool* found, std::string* error) {
  Message m(RTM_GETLINK, 0);
  PutIfinfo(&m, 0, 0, 0);
  m.PutString(IFLA_IFNAME, name);
  *found = false;
  int err;
  bool ok = s->Query(&m, "RTM_GETLINK " + name, [&](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWLINK) return;
    *out = ParseLink(h);
    *found = true;
  }, &err, error);
  if (!ok && err == ENODEV) return true;
  return ok;
}

bool ListLinks(netlink::Socket* s, std::vector<Link>* out, std::string* error) {
  Message m(RTM_GETLINK, NLM_F_DUMP);
  PutIfinfo(&m, 0, 0, 0);
  out->clear();
  return s->Query(&m, "RTM_GETLINK (dump)", [&](const nlmsghdr* h) {
    if (h->nlmsg_type == RTM_NEWLINK) out->push_back(ParseLink(h));
  }, nullptr, error);
}

bool EnsureBridge(netlink::Socket* s, const std::string& name, int mtu, const std::string& mac, Link* out,
                  std::string* error) {
  Message m = BuildNewBridge(name, mtu, mac);
  int err;
  if (!s->Request(&m, "RTM_NEWLINK bridge " + name, &err, error) && err != EEXIST) return false;
  bool found;
  if (!GetLink(s, name, out, &found, error)) return false;
  if (!found || out->kind != "bridge") {
    *error = "RTM_NEWLINK bridge " + name + ": a link of that name exists and is " +
             (found ? "a " + (out->kind.empty() ? std::string("device") : out->kind) : "gone");
    return false;
  }
  return true;
}

bool CreateVeth(netlink::Socket* s, const std::string& name, const std::string& peer_name,
                const std::string& peer_netns_path, int mtu, std::string* error) {
  int ns = open(peer_netns_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (ns < 0) {
    *error = "open " + peer_netns_path + ": " + strerror(errno);
    return false;
  }
  Message m = BuildNewVeth(name, peer_name, ns, mtu);
  bool ok = s->Request(&m, "RTM_NEWLINK veth " + name + " (peer " + peer_name + " in " + peer_netns_path + ")",
                       nullptr, error);
  close(ns);
  return ok;
}

bool SetLink(netlink::Socket* s, const Link& link, int master, bool up, std::string* error) {
  Message m = BuildSetLink(link.index, master, up);
  return s->Request(&m, "RTM_NEWLINK set " + link.name, nullptr, error);
}

bool SetBridgePortHairpin(netlink::Socket* s, const Link& port, std::string* error) {
  Message m(RTM_SETLINK, 0);
  ifinfomsg ifi{};
  ifi.ifi_family = AF_BRIDGE;
  ifi.ifi_index = port.index;
  m.PutHeader(&ifi, sizeof(ifi));
  size_t info = m.BeginNested(IFLA_PROTINFO);
  m.PutU8(IFLA_BRPORT_MODE, 1);
  m.EndNested(info);
  return s->Request(&m, "RTM_SETLINK hairpin " + port.name, nullptr, error);
}

bool DeleteLink(netlink::Socket* s, const std::string& name, std::string* error) {
  Message m(RTM_DELLINK, 0);
  PutIfinfo(&m, 0, 0, 0);
  m.PutString(IFLA_IFNAME, name);
  int err;
  if (s->Request(&m, "RTM_DELLINK " + name, &err, error)) return true;
  return err == ENODEV;
}

bool AddAddress(netlink::Socket* s, const Link& link, uint32_t ip, int prefix_len, std::string* error) {
  Message m = BuildAddAddress(link.index, ip, prefix_len);
  int err;
  if (s->Request(&m, "RTM_NEWADDR " + FormatIpv4(ip) + "/" + std::to_string(prefix_len) + " on " + link.name,
                 &err, error))
    return true;
  return err == EEXIST;
}

bool SetDefaultRoute(netlink::Socket* s, const Link& link, uint32_t gateway, std::string* error) {
  Message m = BuildDefaultRoute(gateway, link.index);
  return s->Request(&m, "RTM_NEWROUTE default via " + FormatIpv4(gateway) + " dev " + link.name, nullptr,
                    error);
}

bool DefaultRouteMtu(netlink::Socket* s, int* mtu, std::string* error) {
  Message m(RTM_GETROUTE, NLM_F_DUMP);
  rtmsg rt{};
  rt.rtm_family = AF_INET;
  m.PutHeader(&rt, sizeof(rt));
  int oif = 0;
  if (!s->Query(&m, "RTM_GETROUTE (dump)", [&](const nlmsghdr* h) {
        if (h->nlmsg_type != RTM_NEWROUTE || oif) return;
        const auto* r = static_cast<const rtmsg*>(NLMSG_DATA(h));
        if (r->rtm_dst_len != 0 || r->rtm_table != RT_TABLE_MAIN) return;
        size_t off = NLMSG_ALIGN(NLMSG_LENGTH(sizeof(rtmsg)));
        oif = static_cast<int>(
            Attrs::Parse(reinterpret_cast<const uint8_t*>(h) + off, h->nlmsg_len - off).U32(RTA_OIF));
      }, nullptr, error))
    return false;
  *mtu = 1500;
  if (!oif) return true;
  std::vector<Link> links;
  if (!ListLinks(s, &links, error)) return false;
  for (const Link& l : links)
    if (l.index == oif && l.mtu > 0) *mtu = l.mtu;
  return true;
}

}  // namespace kubit::net::rtnl
