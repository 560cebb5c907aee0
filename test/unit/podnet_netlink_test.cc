// Unit tests of the netlink messages the pod network sends (net/netlink.h,
// net/netlink_route.h, net/nftables.h), parsed back attribute by
// attribute, and of the names a data dir's network uses.
#include <doctest/doctest.h>
#include <arpa/inet.h>
#include <linux/if.h>
#include <linux/if_addr.h>
#include <linux/if_link.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <string.h>

#include "net/netlink_route.h"
#include "net/nftables.h"
#include "net/pod_network.h"

using namespace kubit::net;
using netlink::Attrs;

namespace {

const nlmsghdr* Header(const netlink::Message& m) { return reinterpret_cast<const nlmsghdr*>(m.bytes().data()); }

// The attributes after the header and a fixed part of `fixed` bytes.
Attrs Body(const netlink::Message& m, size_t fixed) {
  size_t off = NLMSG_HDRLEN + NLMSG_ALIGN(fixed);
  return Attrs::Parse(m.bytes().data() + off, m.bytes().size() - off);
}

Attrs Nested(const Attrs& a, uint16_t type) {
  const std::string* v = a.Get(type);
  REQUIRE(v != nullptr);
  return Attrs::Parse(v->data(), v->size());
}

uint32_t Be32Attr(const Attrs& a, uint16_t type) { return ntohl(a.U32(type)); }

}  // namespace

TEST_CASE("podnet netlink: attributes are aligned, nested lengths cover their children") {
  netlink::Message m(RTM_NEWLINK, NLM_F_CREATE);
  m.PutString(IFLA_IFNAME, "abc");  // 4 + 4 bytes
  size_t n = m.BeginNested(IFLA_LINKINFO);
  m.PutU8(1, 7);  // 4 + 1, padded to 8
  m.PutBe32(2, 0x01020304);
  m.EndNested(n);
  const auto& b = m.bytes();
  CHECK(b.size() == NLMSG_HDRLEN + 8 + 4 + 8 + 8);
  CHECK(Header(m)->nlmsg_len == b.size());
  CHECK(Header(m)->nlmsg_flags == (NLM_F_REQUEST | NLM_F_CREATE));
  Attrs top = Attrs::Parse(b.data() + NLMSG_HDRLEN, b.size() - NLMSG_HDRLEN);
  CHECK(top.String(IFLA_IFNAME) == "abc");
  nlattr info;
  memcpy(&info, b.data() + NLMSG_HDRLEN + 8, sizeof(info));
  CHECK(info.nla_len == 4 + 8 + 8);
  CHECK((info.nla_type & NLA_F_NESTED) != 0);
  Attrs inner = Nested(top, IFLA_LINKINFO);
  CHECK(inner.Get(1)->size() == 1);
  CHECK(Be32Attr(inner, 2) == 0x01020304);
}

TEST_CASE("podnet netlink: a veth pair's peer is created by name in the sandbox's namespace") {
  netlink::Message m = rtnl::BuildNewVeth("kv0123abcd", "eth0", 9, 1450);
  CHECK(Header(m)->nlmsg_type == RTM_NEWLINK);
  CHECK((Header(m)->nlmsg_flags & (NLM_F_CREATE | NLM_F_EXCL)) == (NLM_F_CREATE | NLM_F_EXCL));
  Attrs a = Body(m, sizeof(ifinfomsg));
  CHECK(a.String(IFLA_IFNAME) == "kv0123abcd");
  CHECK(a.U32(IFLA_MTU) == 1450);
  Attrs info = Nested(a, IFLA_LINKINFO);
  CHECK(info.String(IFLA_INFO_KIND) == "veth");
  Attrs data = Nested(info, IFLA_INFO_DATA);
  const std::string* peer = data.Get(VETH_INFO_PEER);
  REQUIRE(peer != nullptr);
  REQUIRE(peer->size() > sizeof(ifinfomsg));
  Attrs p = Attrs::Parse(peer->data() + sizeof(ifinfomsg), peer->size() - sizeof(ifinfomsg));
  CHECK(p.String(IFLA_IFNAME) == "eth0");
  CHECK(p.U32(IFLA_NET_NS_FD) == 9);
  CHECK(p.U32(IFLA_MTU) == 1450);
}

TEST_CASE("podnet netlink: a bridge with a fixed MAC") {
  netlink::Message m = rtnl::BuildNewBridge("kb123456", 1500, std::string("\x02\x01\x02\x03\x04\x05", 6));
  Attrs a = Body(m, sizeof(ifinfomsg));
  CHECK(a.String(IFLA_IFNAME) == "kb123456");
  REQUIRE(a.Get(IFLA_ADDRESS) != nullptr);
  CHECK(*a.Get(IFLA_ADDRESS) == std::string("\x02\x01\x02\x03\x04\x05", 6));
  CHECK(Nested(a, IFLA_LINKINFO).String(IFLA_INFO_KIND) == "bridge");
  CHECK(Body(rtnl::BuildNewBridge("kb123456", 0, ""), sizeof(ifinfomsg)).Get(IFLA_ADDRESS) == nullptr);
}

TEST_CASE("podnet netlink: address, default route and link changes") {
  uint32_t ip = (10u << 24) | (42u << 16) | 7;
  netlink::Message addr = rtnl::BuildAddAddress(5, ip, 24);
  const auto* ifa = reinterpret_cast<const ifaddrmsg*>(addr.bytes().data() + NLMSG_HDRLEN);
  CHECK(ifa->ifa_family == AF_INET);
  CHECK(ifa->ifa_prefixlen == 24);
  CHECK(ifa->ifa_index == 5);
  Attrs a = Body(addr, sizeof(ifaddrmsg));
  CHECK(Be32Attr(a, IFA_LOCAL) == ip);
  CHECK(Be32Attr(a, IFA_BROADCAST) == (ip | 0xff));

  netlink::Message route = rtnl::BuildDefaultRoute(ip - 6, 3);
  const auto* rt = reinterpret_cast<const rtmsg*>(route.bytes().data() + NLMSG_HDRLEN);
  CHECK(rt->rtm_dst_len == 0);
  CHECK(rt->rtm_table == RT_TABLE_MAIN);
  CHECK((Header(route)->nlmsg_flags & NLM_F_REPLACE) != 0);
  Attrs r = Body(route, sizeof(rtmsg));
  CHECK(Be32Attr(r, RTA_GATEWAY) == ip - 6);
  CHECK(r.U32(RTA_OIF) == 3);

  netlink::Message set = rtnl::BuildSetLink(4, 2, true);
  const auto* ifi = reinterpret_cast<const ifinfomsg*>(set.bytes().data() + NLMSG_HDRLEN);
  CHECK(ifi->ifi_index == 4);
  CHECK(ifi->ifi_flags == IFF_UP);
  CHECK(ifi->ifi_change == IFF_UP);
  CHECK(Body(set, sizeof(ifinfomsg)).U32(IFLA_MASTER) == 2);
}

TEST_CASE("podnet nftables: a batch is framed by markers and a rule lists its expressions in order") {
  Ipv4Prefix pods, cluster;
  std::string error;
  REQUIRE(ParseIpv4Prefix("10.42.0.0/24", &pods, &error));
  REQUIRE(ParseIpv4Prefix("10.42.0.0/16", &cluster, &error));
  nft::Batch b(NFPROTO_IPV4);
  b.AddTable("kubit_abc");
  b.AddChain("kubit_abc", "postrouting", "nat", NF_INET_POST_ROUTING, 100);
  b.AddRule("kubit_abc", "postrouting",
            nft::Join({nft::IpSaddrIn(pods), nft::IpDaddrIn(cluster, true), {nft::Masquerade()}}));
  std::vector<netlink::Message> msgs = b.Finish();
  REQUIRE(msgs.size() == 5);
  CHECK(msgs.front().type() == NFNL_MSG_BATCH_BEGIN);
  CHECK(msgs.back().type() == NFNL_MSG_BATCH_END);
  CHECK(msgs[1].type() == ((NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWTABLE));

  Attrs chain = Body(msgs[2], sizeof(nfgenmsg));
  CHECK(chain.String(NFTA_CHAIN_TYPE) == "nat");
  Attrs hook = Nested(chain, NFTA_CHAIN_HOOK);
  CHECK(Be32Attr(hook, NFTA_HOOK_HOOKNUM) == NF_INET_POST_ROUTING);
  CHECK(Be32Attr(hook, NFTA_HOOK_PRIORITY) == 100);

  Attrs rule = Body(msgs[3], sizeof(nfgenmsg));
  CHECK(rule.String(NFTA_RULE_TABLE) == "kubit_abc");
  CHECK(rule.String(NFTA_RULE_CHAIN) == "postrouting");
  Attrs list = Nested(rule, NFTA_RULE_EXPRESSIONS);
  std::vector<std::string> names;
  for (const auto& [type, value] : list.list) {
    CHECK(type == NFTA_LIST_ELEM);
    names.push_back(Attrs::Parse(value.data(), value.size()).String(NFTA_EXPR_NAME));
  }
  CHECK(names == std::vector<std::string>{"payload", "bitwise", "cmp", "payload", "bitwise", "cmp", "masq"});
  // The second cmp is a "!=" against 10.42.0.0 in network order.
  Attrs elem = Attrs::Parse(list.list[5].second.data(), list.list[5].second.size());
  Attrs cmp = Nested(elem, NFTA_EXPR_DATA);
  CHECK(Be32Attr(cmp, NFTA_CMP_OP) == NFT_CMP_NEQ);
  Attrs value = Nested(cmp, NFTA_CMP_DATA);
  CHECK(Be32Attr(value, NFTA_DATA_VALUE) == cluster.addr);
}

TEST_CASE("podnet names: short, per data dir, stable for the same dir spelled differently") {
  std::string bridge = PodBridgeName("/var/lib/kubit");
  CHECK(bridge.size() == 8);
  CHECK(bridge.rfind("kb", 0) == 0);
  CHECK(PodBridgeName("/var/lib/kubit/") == bridge);
  CHECK(PodBridgeName("/var/lib/../lib/kubit") == bridge);
  CHECK(PodBridgeName("/var/lib/kubit2") != bridge);
  CHECK(PodNftTableName("/var/lib/kubit") == "kubit_" + bridge.substr(2));
  std::string veth = PodVethName("/var/lib/kubit", "sandbox-1");
  CHECK(veth.size() <= IFNAMSIZ - 1);
  CHECK(veth.rfind("kv", 0) == 0);
  CHECK(PodVethName("/var/lib/kubit", "sandbox-2") != veth);
  CHECK(PodVethName("/var/lib/kubit2", "sandbox-1") != veth);
}
