// Tests of net/pod_network_bridge.cc with real netlink: the whole test runs
// in a network namespace of its own (the machine's interfaces, routes,
// sysctls and nftables are never touched, and everything made vanishes
// with the namespace even if a check fails), with real sandboxes from
// runtime/container/sandbox.h. TCP connections between the namespaces
// show what each side sees. Needs root, as the e2e tests.
#include <doctest/doctest.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netfilter.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "net/ipam.h"
#include "net/netlink_route.h"
#include "net/nftables.h"
#include "net/pod_network.h"
#include "runtime/container/sandbox.h"
#include "test/unit/temp_dir.h"

using namespace kubit::net;
using kubit::test::TempDir;
namespace container = kubit::runtime::container;

namespace {

// Puts the calling thread in a new network namespace with lo up and puts
// it back where it was at the end.
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

// Sandboxes of a data dir, removed (unmounted) at the end.
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
  void Remove(const std::string& id) {
    std::string error;
    REQUIRE_MESSAGE(container::RemoveSandbox(data_dir_, id, &error), error);
  }

 private:
  std::string data_dir_;
  std::vector<std::string> ids_;
};

// A TCP socket made in the namespace of `netns` ("" for the thread's own).
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
  Listener(const std::string& netns, const std::string& ip, int port) : fd_(TcpSocketIn(netns)) {
    int one = 1;
    setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    sockaddr_in a = Addr(ip, port);
    REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0);
    REQUIRE(listen(fd_, 8) == 0);
  }
  ~Listener() { close(fd_); }
  int fd() const { return fd_; }

 private:
  int fd_;
};

// Connects from `netns` to ip:port and returns the client address that
// `listener` saw, or "" when no connection came through (5 s bound; not
// a timing check, only a way not to hang).
std::string ConnectAndSee(const std::string& netns, const std::string& ip, int port, const Listener& listener) {
  int c = TcpSocketIn(netns);
  fcntl(c, F_SETFL, O_NONBLOCK);
  sockaddr_in to = Addr(ip, port);
  connect(c, reinterpret_cast<sockaddr*>(&to), sizeof(to));
  // A refused connection ends the wait at once (no listener, no rule).
  pollfd p[2] = {{listener.fd(), POLLIN, 0}, {c, POLLOUT, 0}};
  std::string seen;
  bool refused = false;
  while (!refused && poll(p, 2, 5000) > 0 && !(p[0].revents & POLLIN)) {
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(c, SOL_SOCKET, SO_ERROR, &err, &len);
    refused = err != 0;
    p[1].events = 0;
  }
  if (p[0].revents & POLLIN) {
    sockaddr_in from{};
    socklen_t len = sizeof(from);
    int s = accept(listener.fd(), reinterpret_cast<sockaddr*>(&from), &len);
    if (s >= 0) {
      char buf[INET_ADDRSTRLEN];
      seen = inet_ntop(AF_INET, &from.sin_addr, buf, sizeof(buf));
      close(s);
    }
  }
  close(c);
  return seen;
}

bool LinkExists(const std::string& name, const std::string& netns = "") {
  netlink::Socket s;
  std::string error;
  REQUIRE_MESSAGE(netlink::Socket::Open(NETLINK_ROUTE, netns, &s, &error), error);
  rtnl::Link l;
  bool found = false;
  REQUIRE_MESSAGE(rtnl::GetLink(&s, name, &l, &found, &error), error);
  return found;
}

bool NftTableExists(const std::string& table) {
  netlink::Socket s;
  std::string error;
  REQUIRE(netlink::Socket::Open(NETLINK_NETFILTER, "", &s, &error));
  bool exists = false;
  CHECK_MESSAGE(nft::TableExists(&s, NFPROTO_IPV4, table, &exists, &error), error);
  return exists;
}

// An "outside" network: a namespace behind a veth with 192.0.2.2, the
// test's namespace holding 192.0.2.1; it has no route to any pod.
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
  REQUIRE(rtnl::GetLink(&out, "eth0", &l, &found, &error));
  REQUIRE(rtnl::AddAddress(&out, l, b, 24, &error));
  REQUIRE(rtnl::SetLink(&out, l, -1, true, &error));
  return netns;
}

std::unique_ptr<PodNetwork> Open(const std::string& data_dir, const std::string& pod_cidr) {
  PodNetworkOptions o;
  o.data_dir = data_dir;
  o.pod_cidr = pod_cidr;
  o.cluster_cidr = "10.42.0.0/16";
  std::unique_ptr<PodNetwork> n;
  std::string error;
  REQUIRE_MESSAGE(OpenBridgePodNetwork(o, &n, &error), error);
  return n;
}

std::string SetupPod(PodNetwork* n, const std::string& id, const std::string& netns,
                     const std::vector<PortMapping>& ports = {}) {
  std::string ip, error;
  REQUIRE_MESSAGE(n->Setup(id, netns, ports, &ip, &error), error);
  return ip;
}

}  // namespace

TEST_CASE("podnet bridge: pods get addresses and reach each other, the host, outside (NAT) and host ports") {
  if (geteuid() != 0) return;
  TempDir dir;
  PrivateNetns netns;
  Sandboxes sandboxes(dir.path());
  std::string outside = MakeOutside(&sandboxes);
  std::string ns_a = sandboxes.Make("pod-a"), ns_b = sandboxes.Make("pod-b");
  auto network = Open(dir.path(), "10.42.3.0/24");
  CHECK(LinkExists(PodBridgeName(dir.path())));
  CHECK(NftTableExists(PodNftTableName(dir.path())));

  PortMapping hp;
  hp.container_port = 8080;
  hp.host_port = 30080;
  std::string ip_a = SetupPod(network.get(), "pod-a", ns_a, {hp});
  std::string ip_b = SetupPod(network.get(), "pod-b", ns_b);
  CHECK(ip_a == "10.42.3.2");
  CHECK(ip_b == "10.42.3.3");
  CHECK(LinkExists("eth0", ns_a));
  CHECK(LinkExists(PodVethName(dir.path(), "pod-a")));
  // Setup again: the same address, nothing remade.
  CHECK(SetupPod(network.get(), "pod-a", ns_a, {hp}) == ip_a);
  // A namespace that is not there: an error naming it, and no address kept.
  std::string ghost_ip, ghost_error;
  CHECK_FALSE(network->Setup("ghost", dir.path() + "/no-such-netns", {}, &ghost_ip, &ghost_error));
  CHECK(ghost_error.find("no-such-netns") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.path() + "/agent/podnet/addresses/10.42.3.4"));

  Listener in_a(ns_a, "0.0.0.0", 8080);
  SUBCASE("pod to pod, host to pod, pod to host") {
    CHECK(ConnectAndSee(ns_b, ip_a, 8080, in_a) == ip_b);
    CHECK(ConnectAndSee("", ip_a, 8080, in_a) == "10.42.3.1");
    Listener on_host("", "10.42.3.1", 9090);
    CHECK(ConnectAndSee(ns_a, "10.42.3.1", 9090, on_host) == ip_a);
  }
  SUBCASE("outside through NAT: the outside sees the node's address") {
    Listener out(outside, "192.0.2.2", 9091);
    CHECK(ConnectAndSee(ns_a, "192.0.2.2", 9091, out) == "192.0.2.1");
  }
  SUBCASE("hostPort from outside, from the node and from another pod") {
    CHECK(ConnectAndSee(outside, "192.0.2.1", 30080, in_a) == "192.0.2.2");
    CHECK_FALSE(ConnectAndSee("", "192.0.2.1", 30080, in_a).empty());
    // Another pod through the node's address: answered back through the
    // bridge, so masqueraded to it.
    CHECK(ConnectAndSee(ns_b, "192.0.2.1", 30080, in_a) == "10.42.3.1");
    // Teardown takes the host port away with the pod.
    std::string error;
    REQUIRE_MESSAGE(network->Teardown("pod-a", &error), error);
    CHECK(ConnectAndSee(outside, "192.0.2.1", 30080, in_a).empty());
  }
}

TEST_CASE("podnet bridge: teardown releases, reopening adopts and reconciles, killall removes one data dir's") {
  if (geteuid() != 0) return;
  TempDir dir, other;
  PrivateNetns netns;
  Sandboxes sandboxes(dir.path()), other_sandboxes(other.path());
  std::string ns_a = sandboxes.Make("pod-a"), ns_b = sandboxes.Make("pod-b"), ns_c = sandboxes.Make("pod-c");
  std::string ip_a, ip_b;
  std::string error;
  {
    auto network = Open(dir.path(), "10.42.4.0/24");
    ip_a = SetupPod(network.get(), "pod-a", ns_a);
    ip_b = SetupPod(network.get(), "pod-b", ns_b);
    SetupPod(network.get(), "pod-c", ns_c);
    REQUIRE_MESSAGE(network->Teardown("pod-b", &error), error);
    CHECK_FALSE(LinkExists(PodVethName(dir.path(), "pod-b")));
    CHECK_FALSE(LinkExists("eth0", ns_b));
    CHECK(network->Teardown("pod-b", &error));
    CHECK(network->Teardown("never-seen", &error));
    CHECK(SetupPod(network.get(), "pod-b", ns_b) != ip_b);  // released, and not reused at once
  }
  // A crash right after an address was recorded for pod-d, before its
  // veth: the sandbox still exists, so the record stays and Setup uses it.
  std::string ns_d = sandboxes.Make("pod-d");
  uint32_t crashed;
  {
    std::unique_ptr<Ipam> ipam;
    Ipv4Prefix range;
    REQUIRE(ParseIpv4Prefix("10.42.4.0/24", &range, &error));
    REQUIRE(Ipam::Open(dir.path() + "/agent/podnet/addresses", range, &ipam, &error));
    REQUIRE(ipam->Allocate("pod-d", &crashed, &error));
  }
  // pod-c's sandbox goes while the network is closed: reopening gives its
  // address back and adopts the rest as they are.
  sandboxes.Remove("pod-c");
  auto network = Open(dir.path(), "10.42.4.0/24");
  CHECK(std::filesystem::exists(dir.path() + "/agent/podnet/addresses/" + ip_a));
  CHECK(std::distance(std::filesystem::directory_iterator(dir.path() + "/agent/podnet/addresses"),
                      std::filesystem::directory_iterator{}) == 3);
  CHECK(SetupPod(network.get(), "pod-a", ns_a) == ip_a);
  CHECK(SetupPod(network.get(), "pod-d", ns_d) == FormatIpv4(crashed));
  CHECK(LinkExists("eth0", ns_d));
  Listener in_a(ns_a, "0.0.0.0", 8080);
  CHECK_FALSE(ConnectAndSee("", ip_a, 8080, in_a).empty());

  // A second data dir on the same machine: its own bridge and table.
  std::string ns_o = other_sandboxes.Make("pod-a");
  auto second = Open(other.path(), "10.42.5.0/24");
  std::string ip_o = SetupPod(second.get(), "pod-a", ns_o);
  CHECK(ip_o == "10.42.5.2");
  CHECK(PodBridgeName(other.path()) != PodBridgeName(dir.path()));
  REQUIRE_MESSAGE(RemoveBridgePodNetwork(other.path(), &error), error);
  CHECK_FALSE(LinkExists(PodBridgeName(other.path())));
  CHECK_FALSE(LinkExists("eth0", ns_o));
  CHECK_FALSE(NftTableExists(PodNftTableName(other.path())));
  // The first one's still works.
  CHECK(LinkExists(PodBridgeName(dir.path())));
  CHECK(NftTableExists(PodNftTableName(dir.path())));
  CHECK_FALSE(ConnectAndSee("", ip_a, 8080, in_a).empty());

  REQUIRE_MESSAGE(RemoveBridgePodNetwork(dir.path(), &error), error);
  CHECK_FALSE(LinkExists(PodBridgeName(dir.path())));
  CHECK_FALSE(LinkExists(PodVethName(dir.path(), "pod-a")));
  CHECK_FALSE(LinkExists("eth0", ns_a));
  CHECK_FALSE(NftTableExists(PodNftTableName(dir.path())));
  CHECK(RemoveBridgePodNetwork(dir.path(), &error));  // twice is fine
}
