// Tests of net/service_proxy.cc against the kernel: the whole test runs
// in a network namespace of its own with a real pod network
// (net/pod_network_bridge.cc) and sandboxes for pods, and TCP connections
// show which endpoint a Service address led to and what source address it
// saw. Needs root, as the e2e tests.
#include <doctest/doctest.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <thread>

#include "net/netlink_route.h"
#include "net/nftables.h"
#include "net/pod_network.h"
#include "net/service_proxy.h"
#include "runtime/container/sandbox.h"
#include "test/unit/temp_dir.h"

using namespace kubit::net;
using kubit::test::TempDir;
namespace container = kubit::runtime::container;

namespace {

// The calling thread in a new network namespace with lo up, put back at the end.
class PrivateNetns {
 public:
  PrivateNetns() {
    saved_ = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
    REQUIRE(saved_ >= 0);
    REQUIRE(unshare(CLONE_NEWNET) == 0);
    netlink::Socket s;
    std::string error;
    REQUIRE_MESSAGE(netlink::Socket::Open(NETLINK_ROUTE, "", &s, &error), error);
    rtnl::Link lo;
    bool found;
    REQUIRE(rtnl::GetLink(&s, "lo", &lo, &found, &error));
    REQUIRE(rtnl::SetLink(&s, lo, -1, true, &error));
  }
  ~PrivateNetns() {
    if (setns(saved_, CLONE_NEWNET) != 0) FAIL("setns back to the test's namespace failed");
    close(saved_);
  }

 private:
  int saved_ = -1;
};

class Sandboxes {
 public:
  explicit Sandboxes(std::string data_dir) : data_dir_(std::move(data_dir)) {}
  ~Sandboxes() {
    std::string error;
    for (const auto& id : ids_) container::RemoveSandbox(data_dir_, id, &error);
  }
  std::string Make(const std::string& id) {
    container::SandboxPaths paths;
    std::string error;
    REQUIRE_MESSAGE(container::CreateSandbox(data_dir_, id, id, &paths, &error), error);
    ids_.push_back(id);
    return paths.net;
  }

 private:
  std::string data_dir_;
  std::vector<std::string> ids_;
};

int TcpSocketIn(const std::string& netns) {
  int fd = -1;
  std::thread t([&] {
    if (!netns.empty()) {
      int ns = open(netns.c_str(), O_RDONLY | O_CLOEXEC);
      if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) return;
      close(ns);
    }
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  });
  t.join();
  REQUIRE(fd >= 0);
  return fd;
}

sockaddr_in Addr(const std::string& ip, int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
  return a;
}

class Listener {
 public:
  Listener(const std::string& name, const std::string& netns, int port) : name_(name), fd_(TcpSocketIn(netns)) {
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a = Addr("0.0.0.0", port);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    REQUIRE(listen(fd_, 8) == 0);
  }
  ~Listener() { close(fd_); }
  int fd() const { return fd_; }
  const std::string& name() const { return name_; }

 private:
  std::string name_;
  int fd_;
};

// Connects from `netns` to ip:port: "<listener> from <source seen>" for
// the listener that got it, "refused" (or another error), or "no answer" (after 2 s: a bound
// so that a dropped SYN does not hang the test, not a timing check).
std::string Reach(const std::string& netns, const std::string& ip, int port,
                  const std::vector<const Listener*>& listeners) {
  int c = TcpSocketIn(netns);
  fcntl(c, F_SETFL, O_NONBLOCK);
  sockaddr_in to = Addr(ip, port);
  connect(c, reinterpret_cast<sockaddr*>(&to), sizeof(to));
  std::vector<pollfd> p;
  for (const Listener* l : listeners) p.push_back({l->fd(), POLLIN, 0});
  p.push_back({c, POLLOUT, 0});
  std::string result = "no answer";
  for (int rounds = 0; rounds < 4 && poll(p.data(), p.size(), 2000) > 0; ++rounds) {
    for (size_t i = 0; i < listeners.size(); ++i) {
      if (!(p[i].revents & POLLIN)) continue;
      sockaddr_in from{};
      socklen_t len = sizeof(from);
      int s = accept(listeners[i]->fd(), reinterpret_cast<sockaddr*>(&from), &len);
      if (s < 0) continue;
      char buf[INET_ADDRSTRLEN];
      result = listeners[i]->name() + " from " + inet_ntop(AF_INET, &from.sin_addr, buf, sizeof(buf));
      close(s);
      close(c);
      return result;
    }
    if (p.back().revents) {
      int err = 0;
      socklen_t len = sizeof(err);
      getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) {
        result = err == ECONNREFUSED ? "refused" : std::string("error: ") + strerror(err);
        break;
      }
      p.back().events = 0;  // connected: the listener's side comes next
    }
  }
  close(c);
  return result;
}

bool ReachedAny(const std::string& result) { return result.find(" from ") != std::string::npos; }

std::string MakeOutside(Sandboxes* sandboxes) {
  std::string netns = sandboxes->Make("outside");
  netlink::Socket host, out;
  std::string error;
  REQUIRE(netlink::Socket::Open(NETLINK_ROUTE, "", &host, &error));
  REQUIRE(netlink::Socket::Open(NETLINK_ROUTE, netns, &out, &error));
  REQUIRE_MESSAGE(rtnl::CreateVeth(&host, "tout0", "eth0", netns, 1500, &error), error);
  uint32_t a, b;
  ParseIpv4("192.0.2.1", &a);
  ParseIpv4("192.0.2.2", &b);
  rtnl::Link l;
  bool found;
  REQUIRE(rtnl::GetLink(&host, "tout0", &l, &found, &error));
  REQUIRE(rtnl::AddAddress(&host, l, a, 24, &error));
  REQUIRE(rtnl::SetLink(&host, l, -1, true, &error));
  // The node's default route leads outside, as on a board: addresses
  // that are no pod's (a ClusterIP without rules) are routed there.
  REQUIRE_MESSAGE(rtnl::SetDefaultRoute(&host, l, b, &error), error);
  REQUIRE(rtnl::GetLink(&out, "eth0", &l, &found, &error));
  REQUIRE(rtnl::AddAddress(&out, l, b, 24, &error));
  REQUIRE(rtnl::SetLink(&out, l, -1, true, &error));
  return netns;
}

uint32_t Ip(const std::string& s) {
  uint32_t ip = 0;
  REQUIRE(ParseIpv4(s, &ip));
  return ip;
}

ServiceEndpoint Ep(const std::string& ip, uint16_t port, bool local = true, bool ready = true) {
  ServiceEndpoint e;
  e.ip = Ip(ip);
  e.port = port;
  e.local = local;
  e.ready = ready;
  e.serving = ready;
  return e;
}

ServicePortEntry Port(const std::string& name, const std::string& vip, uint16_t port,
                      std::vector<ServiceEndpoint> eps) {
  ServicePortEntry p;
  p.name = name;
  p.cluster_ip = Ip(vip);
  p.port = port;
  p.endpoints = std::move(eps);
  return p;
}

struct Cluster {
  TempDir dir;
  PrivateNetns netns;
  Sandboxes sandboxes{dir.path()};
  std::unique_ptr<PodNetwork> network;
  std::string outside, ns_a, ns_b, ip_a, ip_b;

  Cluster() {
    outside = MakeOutside(&sandboxes);
    ns_a = sandboxes.Make("pod-a");
    ns_b = sandboxes.Make("pod-b");
    PodNetworkOptions o;
    o.data_dir = dir.path();
    o.pod_cidr = "10.42.7.0/24";
    o.cluster_cidr = "10.42.0.0/16";
    std::string error;
    REQUIRE_MESSAGE(OpenBridgePodNetwork(o, &network, &error), error);
    REQUIRE_MESSAGE(network->Setup("pod-a", ns_a, {}, &ip_a, &error), error);
    REQUIRE_MESSAGE(network->Setup("pod-b", ns_b, {}, &ip_b, &error), error);
  }
};

}  // namespace

TEST_CASE("svcproxy kernel: ClusterIP, NodePort, LoadBalancer IP, hairpin, no endpoints, Local policy, affinity") {
  if (geteuid() != 0) return;
  Cluster c;
  ServiceProxyOptions po;
  po.data_dir = c.dir.path();
  po.cluster_cidr = "10.42.0.0/16";
  std::unique_ptr<ServiceProxy> proxy;
  std::string error;
  REQUIRE_MESSAGE(ServiceProxy::Open(po, &proxy, &error), error);
  CHECK(proxy->bridge_mode() == "bridge-nf-call-iptables");

  ServicePortEntry web = Port("default/web/http", "10.43.0.10", 80, {Ep(c.ip_a, 8080), Ep(c.ip_b, 8080)});
  web.node_port = 30080;
  web.load_balancer_ips = {Ip("192.0.2.1")};
  ServicePortEntry solo = Port("default/solo/", "10.43.0.11", 80, {Ep(c.ip_a, 8080)});
  ServicePortEntry empty = Port("default/empty/", "10.43.0.12", 80, {Ep(c.ip_a, 8080, true, false)});
  empty.node_port = 30081;
  ServicePortEntry local = Port("default/local/", "10.43.0.13", 80, {Ep(c.ip_a, 8080)});
  local.node_port = 30082;
  local.external_policy_local = true;
  ServicePortEntry remote_only = Port("default/remote/", "10.43.0.14", 80, {Ep("10.42.9.9", 8080, false)});
  remote_only.node_port = 30083;
  remote_only.external_policy_local = true;
  ServicePortEntry sticky = Port("default/sticky/", "10.43.0.15", 80, {Ep(c.ip_a, 8080), Ep(c.ip_b, 8080)});
  sticky.affinity_seconds = 600;
  REQUIRE_MESSAGE(proxy->Sync({web, solo, empty, local, remote_only, sticky}, &error), error);
  bool present = false;
  REQUIRE_MESSAGE(proxy->TablePresent(&present, &error), error);
  CHECK(present);

  Listener a("a", c.ns_a, 8080), b("b", c.ns_b, 8080);
  const std::vector<const Listener*> both{&a, &b};

  SUBCASE("ClusterIP from a pod: both endpoints answer, the client's address kept (but for itself)") {
    std::set<std::string> seen;
    for (int i = 0; i < 40 && seen.size() < 2; ++i) seen.insert(Reach(c.ns_b, "10.43.0.10", 80, both));
    CHECK(seen == std::set<std::string>{"a from " + c.ip_b, "b from 10.42.7.1"});
    // One endpoint, on the same bridge as the client: the answer goes
    // pod to pod over the bridge and still finds the DNAT undone.
    CHECK(Reach(c.ns_b, "10.43.0.11", 80, both) == "a from " + c.ip_b);
  }
  SUBCASE("hairpin: a pod reaching itself through its Service sees the node's bridge address") {
    CHECK(Reach(c.ns_a, "10.43.0.11", 80, both) == "a from 10.42.7.1");
  }
  SUBCASE("NodePort and LoadBalancer IP from outside are masqueraded (Cluster policy)") {
    std::string got = Reach(c.outside, "192.0.2.1", 30080, both);
    CHECK((got == "a from 10.42.7.1" || got == "b from 10.42.7.1"));
    got = Reach(c.outside, "192.0.2.1", 80, both);
    CHECK((got == "a from 10.42.7.1" || got == "b from 10.42.7.1"));
    // From the node itself, to its own address.
    got = Reach("", "192.0.2.1", 30080, both);
    CHECK((got.rfind("a from ", 0) == 0 || got.rfind("b from ", 0) == 0));
  }
  SUBCASE("externalTrafficPolicy Local keeps the client's address; no local endpoint drops") {
    CHECK(Reach(c.outside, "192.0.2.1", 30082, both) == "a from 192.0.2.2");
    CHECK(Reach(c.outside, "192.0.2.1", 30083, both) == "no answer");
  }
  SUBCASE("no ready endpoint: refused at the ClusterIP and the NodePort") {
    CHECK(Reach(c.ns_b, "10.43.0.12", 80, both) == "refused");
    CHECK(Reach(c.outside, "192.0.2.1", 30081, both) == "refused");
    // A port the Service does not have is not the proxy's business.
    CHECK_FALSE(ReachedAny(Reach(c.ns_b, "10.43.0.10", 81, both)));
  }
  SUBCASE("sessionAffinity ClientIP: one client sticks to one endpoint, across a resync") {
    std::string first = Reach(c.ns_b, "10.43.0.15", 80, both);
    REQUIRE((first == "a from " + c.ip_b || first == "b from 10.42.7.1"));
    for (int i = 0; i < 8; ++i) CHECK(Reach(c.ns_b, "10.43.0.15", 80, both) == first);
    // Another Service changes: the table is rewritten in place, the
    // affinity entries stay.
    solo.endpoints.push_back(Ep(c.ip_b, 8080));
    REQUIRE_MESSAGE(proxy->Sync({web, solo, empty, local, remote_only, sticky}, &error), error);
    for (int i = 0; i < 8; ++i) CHECK(Reach(c.ns_b, "10.43.0.15", 80, both) == first);
  }
  SUBCASE("endpoints follow syncs; a table removed behind the proxy's back is made again") {
    solo.endpoints = {Ep(c.ip_b, 8080)};
    REQUIRE_MESSAGE(proxy->Sync({solo}, &error), error);
    CHECK(Reach(c.ns_a, "10.43.0.11", 80, both) == "b from " + c.ip_a);
    CHECK_FALSE(ReachedAny(Reach(c.ns_b, "10.43.0.10", 80, both)));  // gone: routed outside as any address
    REQUIRE_MESSAGE(RemoveServiceProxy(c.dir.path(), &error), error);
    REQUIRE_MESSAGE(proxy->TablePresent(&present, &error), error);
    CHECK_FALSE(present);
    REQUIRE_MESSAGE(proxy->Sync({solo, empty}, &error), error);
    CHECK(Reach(c.ns_a, "10.43.0.11", 80, both) == "b from " + c.ip_a);
    CHECK(Reach(c.ns_a, "10.43.0.12", 80, both) == "refused");
    REQUIRE_MESSAGE(RemoveServiceProxy(c.dir.path(), &error), error);
    CHECK(RemoveServiceProxy(c.dir.path(), &error));  // twice is fine
  }
}

TEST_CASE("svcproxy kernel: without br_netfilter, same-bridge service traffic is masqueraded") {
  if (geteuid() != 0) return;
  Cluster c;
  {
    std::ofstream off("/proc/sys/net/bridge/bridge-nf-call-iptables");
    if (!off) return;  // no br_netfilter at all here: nothing to switch off
    off << "0";
  }
  ServiceRulesOptions ro;
  ro.table = ServiceNftTableName(c.dir.path());
  std::string error;
  REQUIRE(ParseIpv4Prefix("10.42.0.0/16", &ro.cluster_cidr, &error));
  ro.masquerade_from_bridge = PodBridgeName(c.dir.path());
  nft::Batch batch(NFPROTO_IPV4);
  nft::ReplaceTable(BuildServiceRules(ro, {Port("default/solo/", "10.43.0.11", 80, {Ep(c.ip_a, 8080)})}), &batch);
  netlink::Socket s;
  REQUIRE_MESSAGE(netlink::Socket::Open(NETLINK_NETFILTER, "", &s, &error), error);
  std::vector<netlink::Message> messages = batch.Finish();
  REQUIRE_MESSAGE(s.Batch(&messages, "service table", &error), error);
  Listener a("a", c.ns_a, 8080);
  CHECK(Reach(c.ns_b, "10.43.0.11", 80, {&a}) == "a from 10.42.7.1");
}

namespace {

int UdpSocketIn(const std::string& netns, int port) {
  int fd = -1;
  std::thread t([&] {
    if (!netns.empty()) {
      int ns = open(netns.c_str(), O_RDONLY | O_CLOEXEC);
      if (ns < 0 || setns(ns, CLONE_NEWNET) != 0) return;
      close(ns);
    }
    fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  });
  t.join();
  REQUIRE(fd >= 0);
  if (port) {
    sockaddr_in a = Addr("0.0.0.0", port);
    REQUIRE(bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
  }
  return fd;
}

// Which of the `servers` (named by index) got the datagram, or "none" (2 s bound).
std::string Received(const std::vector<int>& servers) {
  std::vector<pollfd> p;
  for (int fd : servers) p.push_back({fd, POLLIN, 0});
  if (poll(p.data(), p.size(), 2000) <= 0) return "none";
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i].revents & POLLIN) {
      char buf[16];
      recv(servers[i], buf, sizeof(buf), 0);
      return std::string(1, static_cast<char>('a' + i));
    }
  return "none";
}

}  // namespace

TEST_CASE("svcproxy kernel: a UDP flow moves with its endpoint (stale conntrack entries go)") {
  if (geteuid() != 0) return;
  Cluster c;
  ServiceProxyOptions po;
  po.data_dir = c.dir.path();
  po.cluster_cidr = "10.42.0.0/16";
  std::unique_ptr<ServiceProxy> proxy;
  std::string error;
  REQUIRE_MESSAGE(ServiceProxy::Open(po, &proxy, &error), error);
  ServicePortEntry dns = Port("default/dns/", "10.43.0.20", 53, {Ep(c.ip_a, 5353)});
  dns.protocol = IPPROTO_UDP;
  REQUIRE_MESSAGE(proxy->Sync({dns}, &error), error);

  int a = UdpSocketIn(c.ns_a, 5353), b = UdpSocketIn(c.ns_b, 5353);
  int client = UdpSocketIn(c.ns_b, 0);  // one source port for the whole test, as a resolver's
  sockaddr_in vip = Addr("10.43.0.20", 53);
  REQUIRE(connect(client, reinterpret_cast<sockaddr*>(&vip), sizeof(vip)) == 0);
  REQUIRE(send(client, "1", 1, 0) == 1);
  CHECK(Received({a, b}) == "a");
  REQUIRE(send(client, "2", 1, 0) == 1);
  CHECK(Received({a, b}) == "a");
  // a goes, b comes: the flow's remembered DNAT to a must not outlive it.
  dns.endpoints = {Ep(c.ip_b, 5353)};
  REQUIRE_MESSAGE(proxy->Sync({dns}, &error), error);
  REQUIRE(send(client, "3", 1, 0) == 1);
  CHECK(Received({a, b}) == "b");
  close(a);
  close(b);
  close(client);
}
