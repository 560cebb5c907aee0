// Tests of NetworkPolicy's rule model (net/network_policy_rules.h's
// BuildNetworkPolicyRules, read through nft's text of each rule and
// element) and of the table in the kernel: in a network namespace of the
// test's own, loopback connections from 127.0.0.0/8 source addresses
// standing for an egress-isolated pod pass the input hook or not. Needs
// root, as the e2e tests.
#include <doctest/doctest.h>
#include <netinet/in.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "net/netlink_route.h"
#include "net/network_policy_rules.h"
#include "test/unit/temp_dir.h"

using namespace kubit;
namespace nft = kubit::net::nft;

namespace {

uint32_t Ip(const std::string& s) {
  uint32_t ip = 0;
  REQUIRE(net::ParseIpv4(s, &ip));
  return ip;
}

net::Ipv4Prefix Cidr(const std::string& s) {
  net::Ipv4Prefix p;
  std::string error;
  REQUIRE_MESSAGE(net::ParseIpv4Prefix(s, &p, &error), error);
  return p;
}

std::vector<std::string> Rules(const nft::TableSpec& t, const std::string& chain) {
  const nft::ChainSpec* c = t.Chain(chain);
  REQUIRE_MESSAGE(c != nullptr, (chain + " in\n" + t.Text()));
  std::vector<std::string> out;
  for (const nft::ChainRule& r : c->rules) out.push_back(r.text);
  return out;
}

std::vector<std::string> Elements(const nft::TableSpec& t, const std::string& set) {
  const nft::TableSet* s = t.Set(set);
  REQUIRE_MESSAGE(s != nullptr, (set + " in\n" + t.Text()));
  return s->texts;
}

net::PolicyPort Port(uint8_t proto, uint16_t port, uint16_t end = 0) {
  net::PolicyPort p;
  p.protocol = proto;
  p.port = port;
  p.end_port = end;
  return p;
}

}  // namespace

TEST_CASE("netpol rules: no isolated pod leaves only the established and lookup rules") {
  nft::TableSpec t = net::BuildNetworkPolicyRules("kubitnp_t", {});
  CHECK(Rules(t, "forward") == std::vector<std::string>{"ct state established,related accept",
                                                        "ip saddr vmap @egress-pods", "ip daddr vmap @ingress-pods"});
  CHECK(Rules(t, "input") ==
        std::vector<std::string>{"ct state established,related accept", "ip saddr vmap @egress-pods"});
  CHECK(Elements(t, "ingress-pods").empty());
  CHECK(Elements(t, "egress-pods").empty());
  CHECK(t.chains.size() == 2);
}

TEST_CASE("netpol rules: an ingress-isolated pod gets a chain of its allowed peers and ports, then drop") {
  net::PodPolicy p;
  p.name = "ns1/web";
  p.ip = Ip("10.42.0.5");
  p.ingress_isolated = true;
  net::PolicyRule by_pods;
  by_pods.pod_ips = {Ip("10.42.0.7"), Ip("10.42.1.3"), Ip("10.42.0.7")};
  by_pods.ports = {Port(IPPROTO_TCP, 80), Port(IPPROTO_UDP, 5000, 5010)};
  net::PolicyRule by_block;
  by_block.blocks.push_back({Cidr("192.168.0.0/16"), {Cidr("192.168.5.0/24"), Cidr("192.168.9.0/24")}});
  net::PolicyRule nobody;  // selectors that matched no pod
  nobody.ports = {Port(IPPROTO_TCP, 22)};
  p.ingress = {by_pods, by_block, nobody};

  nft::TableSpec t = net::BuildNetworkPolicyRules("kubitnp_t", {p});
  CHECK(Elements(t, "ingress-pods") == std::vector<std::string>{"10.42.0.5 : jump ingress-10.42.0.5"});
  CHECK(Elements(t, "egress-pods").empty());
  CHECK(t.Chain("egress-10.42.0.5") == nullptr);
  // Duplicates go: the kernel refuses an element twice in one batch.
  CHECK(Elements(t, "ingress-10.42.0.5-0") == std::vector<std::string>{"10.42.0.7", "10.42.1.3"});
  CHECK(Rules(t, "ingress-10.42.0.5") ==
        std::vector<std::string>{
            "ip saddr @ingress-10.42.0.5-0 meta l4proto tcp th dport 80 return",
            "ip saddr @ingress-10.42.0.5-0 meta l4proto udp th dport 5000-5010 return",
            "ip saddr 192.168.0.0/16 ip saddr != 192.168.5.0/24 ip saddr != 192.168.9.0/24 return",
            "drop comment \"ingress to ns1/web\"",
        });
}

TEST_CASE("netpol rules: egress rules match the destination; an isolated pod with no rule drops all") {
  net::PodPolicy a;
  a.name = "ns1/client";
  a.ip = Ip("10.42.0.9");
  a.egress_isolated = true;
  net::PolicyRule dns;
  dns.any_peer = true;
  dns.ports = {Port(IPPROTO_UDP, 53), Port(IPPROTO_TCP, 53)};
  net::PolicyRule all_to;
  all_to.pod_ips = {Ip("10.42.0.5")};
  a.egress = {dns, all_to};
  net::PodPolicy b;
  b.name = "ns1/locked";
  b.ip = Ip("10.42.0.2");
  b.ingress_isolated = b.egress_isolated = true;

  nft::TableSpec t = net::BuildNetworkPolicyRules("kubitnp_t", {a, b});
  CHECK(Rules(t, "egress-10.42.0.9") == std::vector<std::string>{
                                            "meta l4proto udp th dport 53 return",
                                            "meta l4proto tcp th dport 53 return",
                                            "ip daddr @egress-10.42.0.9-1 return",
                                            "drop comment \"egress from ns1/client\"",
                                        });
  CHECK(Rules(t, "ingress-10.42.0.2") == std::vector<std::string>{"drop comment \"ingress to ns1/locked\""});
  CHECK(Rules(t, "egress-10.42.0.2") == std::vector<std::string>{"drop comment \"egress from ns1/locked\""});
  // Sorted by address: the same pods make the same table.
  CHECK(Elements(t, "egress-pods") ==
        std::vector<std::string>{"10.42.0.2 : jump egress-10.42.0.2", "10.42.0.9 : jump egress-10.42.0.9"});
  CHECK(Elements(t, "ingress-pods") == std::vector<std::string>{"10.42.0.2 : jump ingress-10.42.0.2"});
  CHECK(net::BuildNetworkPolicyRules("kubitnp_t", {b, a}).Text() == t.Text());
}

TEST_CASE("netpol rules: the table name is per data dir") {
  std::string a = net::NetworkPolicyNftTableName("/var/lib/kubit-a");
  CHECK(a.rfind("kubitnp_", 0) == 0);
  CHECK(a.size() == 14);
  CHECK(a != net::NetworkPolicyNftTableName("/var/lib/kubit-b"));
}

namespace {

// The calling thread in a new network namespace with lo up, put back at the end.
class PrivateNetns {
 public:
  PrivateNetns() {
    saved_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    REQUIRE(saved_ >= 0);
    REQUIRE(unshare(CLONE_NEWNET) == 0);
    net::netlink::Socket s;
    std::string error;
    REQUIRE_MESSAGE(net::netlink::Socket::Open(NETLINK_ROUTE, "", &s, &error), error);
    net::rtnl::Link lo;
    bool found;
    REQUIRE(net::rtnl::GetLink(&s, "lo", &lo, &found, &error));
    REQUIRE(net::rtnl::SetLink(&s, lo, -1, true, &error));
  }
  ~PrivateNetns() {
    if (setns(saved_, CLONE_NEWNET) != 0) FAIL("setns back to the test's namespace failed");
    close(saved_);
  }

 private:
  int saved_ = -1;
};

int Listen(int type, uint16_t port) {
  int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  int one = 1;
  setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  if (type == SOCK_STREAM) REQUIRE(listen(fd, 8) == 0);
  return fd;
}

// Whether a TCP connection from `from` to 127.0.0.1:port is established.
// A dropped SYN is waited for a bounded moment; an allowed one on
// loopback completes at once.
bool Connects(const std::string& from, uint16_t port) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  src.sin_addr.s_addr = htonl(Ip(from));
  REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof(src)) == 0);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(port);
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int r = connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof(dst));
  bool ok = r == 0;
  if (!ok && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    if (poll(&p, 1, 500) == 1) {
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
      ok = err == 0;
    }
  }
  close(fd);
  return ok;
}

}  // namespace

TEST_CASE("netpol kernel: an egress-isolated address reaches only the ports and blocks its rules allow") {
  PrivateNetns ns;
  test::TempDir dir;
  std::unique_ptr<net::NetworkPolicyFilter> filter;
  net::NetworkPolicyFilter::Open(dir.path(), &filter);
  int l1 = Listen(SOCK_STREAM, 18081), l2 = Listen(SOCK_STREAM, 18082), l3 = Listen(SOCK_STREAM, 18090);

  net::PodPolicy p;
  p.name = "ns1/client";
  p.ip = Ip("127.0.0.2");
  p.egress_isolated = true;
  net::PolicyRule to_port;
  to_port.any_peer = true;
  to_port.ports = {Port(IPPROTO_TCP, 18081)};
  net::PolicyRule range_to_block;
  range_to_block.blocks.push_back({Cidr("127.0.0.0/8"), {Cidr("127.0.0.1/32")}});
  range_to_block.ports = {Port(IPPROTO_TCP, 18089, 18095)};
  p.egress = {to_port, range_to_block};
  net::PolicyRule to_loopback_range = range_to_block;
  to_loopback_range.blocks[0].except.clear();

  std::string error;
  REQUIRE_MESSAGE(filter->Sync({p}, &error), error);
  bool present = false;
  REQUIRE(filter->TablePresent(&present, &error));
  CHECK(present);
  CHECK(Connects("127.0.0.2", 18081));   // the port rule
  CHECK(!Connects("127.0.0.2", 18082));  // no rule
  CHECK(!Connects("127.0.0.2", 18090));  // in the range, but to the block's except
  CHECK(Connects("127.0.0.3", 18082));   // not an isolated address

  p.egress = {to_port, to_loopback_range};
  REQUIRE_MESSAGE(filter->Sync({p}, &error), error);
  CHECK(Connects("127.0.0.2", 18090));
  CHECK(!Connects("127.0.0.2", 18082));

  // Not isolated any more: everything passes; then the table goes.
  REQUIRE_MESSAGE(filter->Sync({}, &error), error);
  CHECK(Connects("127.0.0.2", 18082));
  REQUIRE_MESSAGE(net::RemoveNetworkPolicyFilter(dir.path(), &error), error);
  REQUIRE(filter->TablePresent(&present, &error));
  CHECK(!present);
  REQUIRE_MESSAGE(net::RemoveNetworkPolicyFilter(dir.path(), &error), error);  // absent is fine
  close(l1);
  close(l2);
  close(l3);
}
