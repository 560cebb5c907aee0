#include "net/dns_node_address.h"

#include <arpa/inet.h>
#include <linux/if_addr.h>
#include <linux/rtnetlink.h>
#include <string.h>

#include <algorithm>

#include "net/ipam_ipv4.h"
#include "net/netlink.h"
#include "net/netlink_route.h"

namespace kubit::net {

namespace {

// A /32 without a broadcast address (one equal to the address itself
// would add a broadcast route for it beside the local one).
netlink::Message BuildHostAddress(uint16_t type, int index, uint32_t ip) {
  netlink::Message m(type, type == RTM_NEWADDR ? NLM_F_CREATE | NLM_F_REPLACE : 0);
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET;
  ifa.ifa_prefixlen = 32;
  ifa.ifa_scope = RT_SCOPE_UNIVERSE;
  ifa.ifa_index = static_cast<uint32_t>(index);
  m.PutHeader(&ifa, sizeof(ifa));
  uint32_t be = htonl(ip);
  m.PutAttr(IFA_LOCAL, &be, 4);
  m.PutAttr(IFA_ADDRESS, &be, 4);
  return m;
}

// The /32 IPv4 addresses on link `index`.
bool HostAddresses(netlink::Socket* s, int index, std::vector<uint32_t>* out, std::string* error) {
  netlink::Message m(RTM_GETADDR, NLM_F_DUMP);
  ifaddrmsg ifa{};
  ifa.ifa_family = AF_INET;
  m.PutHeader(&ifa, sizeof(ifa));
  out->clear();
  return s->Query(&m, "RTM_GETADDR (dump)", [&](const nlmsghdr* h) {
    if (h->nlmsg_type != RTM_NEWADDR) return;
    const auto* a = static_cast<const ifaddrmsg*>(NLMSG_DATA(h));
    if (static_cast<int>(a->ifa_index) != index || a->ifa_prefixlen != 32) return;
    size_t off = NLMSG_LENGTH(NLMSG_ALIGN(sizeof(ifaddrmsg)));
    netlink::Attrs attrs = netlink::Attrs::Parse(reinterpret_cast<const uint8_t*>(h) + off, h->nlmsg_len - off);
    const std::string* local = attrs.Get(IFA_LOCAL);
    if (local && local->size() == 4) {
      uint32_t be;
      memcpy(&be, local->data(), 4);
      out->push_back(ntohl(be));
    }
  }, nullptr, error);
}

}  // namespace

bool SyncDnsAddresses(const std::string& bridge, const std::vector<std::string>& ips, bool* bridge_found,
                      std::string* error) {
  std::vector<uint32_t> want;
  for (const auto& s : ips) {
    uint32_t ip;
    if (!ParseIpv4(s, &ip)) {
      *error = "cluster DNS address " + s + ": not an IPv4 address";
      return false;
    }
    want.push_back(ip);
  }
  netlink::Socket s;
  if (!netlink::Socket::Open(NETLINK_ROUTE, "", &s, error)) return false;
  rtnl::Link link;
  if (!rtnl::GetLink(&s, bridge, &link, bridge_found, error)) return false;
  if (!*bridge_found) return true;
  std::vector<uint32_t> have;
  if (!HostAddresses(&s, link.index, &have, error)) return false;
  for (uint32_t ip : have) {
    if (std::find(want.begin(), want.end(), ip) != want.end()) continue;
    netlink::Message m = BuildHostAddress(RTM_DELADDR, link.index, ip);
    int err;
    if (!s.Request(&m, "RTM_DELADDR " + FormatIpv4(ip) + "/32 on " + bridge, &err, error) &&
        err != EADDRNOTAVAIL)
      return false;
  }
  for (uint32_t ip : want) {
    if (std::find(have.begin(), have.end(), ip) != have.end()) continue;
    netlink::Message m = BuildHostAddress(RTM_NEWADDR, link.index, ip);
    if (!s.Request(&m, "RTM_NEWADDR " + FormatIpv4(ip) + "/32 on " + bridge, nullptr, error)) return false;
  }
  return true;
}

}  // namespace kubit::net
