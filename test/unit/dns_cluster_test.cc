// The cluster DNS above net/: records from Services, EndpointSlices and
// Namespaces; the kube-dns Service in the bundled manifests; pods'
// resolv.conf from the node's file; and a node's NodeDns against a real
// API server, in a network namespace of its own with the data dir's
// bridge made after it starts (the order a node sees).
#include <doctest/doctest.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "core/network/dns_cluster_records.h"
#include "core/network/dns_node.h"
#include "manifests/bundled.h"
#include "net/dns_message.h"
#include "net/netlink_route.h"
#include "net/pod_network.h"
#include "runtime/kubelet/pod_files.h"
#include "test/unit/client_test_cluster.h"

namespace kubit::network {
namespace {

using client::Json;
using client::ObjectPtr;
using client::Resource;

ObjectPtr Ptr(Json j) { return std::make_shared<const Json>(std::move(j)); }

Json Service(const std::string& ns, const std::string& name, Json spec) {
  return {{"apiVersion", "v1"},
          {"kind", "Service"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"spec", spec}};
}

Json Namespace(const std::string& name) {
  return {{"apiVersion", "v1"}, {"kind", "Namespace"}, {"metadata", {{"name", name}}}};
}

Json Slice(const std::string& name, const std::string& svc, Json ports, Json endpoints) {
  return {{"apiVersion", "discovery.k8s.io/v1"},
          {"kind", "EndpointSlice"},
          {"metadata", {{"name", name}, {"namespace", "default"}, {"labels", {{"kubernetes.io/service-name", svc}}}}},
          {"addressType", "IPv4"},
          {"ports", ports},
          {"endpoints", endpoints}};
}

std::vector<std::string> Addresses(const net::DnsLookupResult& r) {
  std::vector<std::string> out;
  for (const auto& rr : r.answers) {
    char buf[INET6_ADDRSTRLEN];
    if (rr.type == net::dns::kTypeA && rr.rdata.size() == 4)
      out.push_back(inet_ntop(AF_INET, rr.rdata.data(), buf, sizeof(buf)));
    if (rr.type == net::dns::kTypeAAAA && rr.rdata.size() == 16)
      out.push_back(inet_ntop(AF_INET6, rr.rdata.data(), buf, sizeof(buf)));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> Srv(const net::DnsLookupResult& r) {
  std::vector<std::string> out;
  for (const auto& rr : r.answers) {
    uint16_t prio, weight, port;
    std::string target;
    if (rr.type == net::dns::kTypeSRV && net::ReadRdataSrv(rr.rdata, &prio, &weight, &port, &target))
      out.push_back(std::to_string(prio) + " " + std::to_string(weight) + " " + std::to_string(port) + " " + target);
  }
  std::sort(out.begin(), out.end());
  return out;
}

ClusterDnsObjects Objects() {
  ClusterDnsObjects o;
  o.dns_ips = {"10.43.0.10"};
  o.namespaces = {Ptr(Namespace("default")), Ptr(Namespace("kube-system")), Ptr(Namespace("quiet"))};
  o.services = {
      Ptr(Service("default", "web",
                  {{"clusterIP", "10.43.0.20"},
                   {"clusterIPs", {"10.43.0.20", "fd00:43::20"}},
                   {"ports", {{{"name", "http"}, {"port", 80}, {"protocol", "TCP"}}, {{"port", 81}}}}})),
      Ptr(Service("default", "db",
                  {{"clusterIP", "None"}, {"clusterIPs", {"None"}}, {"ports", {{{"name", "pg"}, {"port", 5432}}}}})),
      Ptr(Service("default", "empty", {{"clusterIP", "None"}, {"clusterIPs", {"None"}}})),
      Ptr(Service("default", "ext", {{"type", "ExternalName"}, {"externalName", "www.example.org."}})),
      Ptr(Service("default", "pending", Json::object())),
  };
  Json db_slice = Slice("db-1", "db", {{{"name", "pg"}, {"port", 5432}, {"protocol", "TCP"}}},
                        {{{"addresses", {"10.42.0.5"}}, {"hostname", "db-0"}, {"conditions", {{"ready", true}}}},
                         {{"addresses", {"10.42.0.6"}}, {"conditions", Json::object()}},  // unknown: ready
                         {{"addresses", {"10.42.0.7"}}, {"conditions", {{"ready", false}}}}});
  o.endpoint_slices = [db_slice](const std::string& ns, const std::string& svc) -> std::vector<ObjectPtr> {
    if (ns == "default" && svc == "db") return {Ptr(db_slice)};
    return {};
  };
  return o;
}

TEST_CASE("dns cluster records: ClusterIP Services, their SRV records and PTRs") {
  auto t = BuildClusterDnsTable(Objects());
  CHECK(Addresses(t->Lookup("web.default.svc.cluster.local", net::dns::kTypeA)) ==
        std::vector<std::string>{"10.43.0.20"});
  CHECK(Addresses(t->Lookup("web.default.svc.cluster.local", net::dns::kTypeAAAA)) ==
        std::vector<std::string>{"fd00:43::20"});
  CHECK(Srv(t->Lookup("_http._tcp.web.default.svc.cluster.local", net::dns::kTypeSRV)) ==
        std::vector<std::string>{"0 100 80 web.default.svc.cluster.local"});
  // An unnamed port has no SRV record; a wrong protocol is another name.
  CHECK(t->Lookup("_http._udp.web.default.svc.cluster.local", net::dns::kTypeSRV).kind ==
        net::DnsLookupResult::kNxDomain);
  auto ptr = t->Lookup("20.0.43.10.in-addr.arpa", net::dns::kTypePTR);
  REQUIRE(ptr.answers.size() == 1);
  std::string name;
  REQUIRE(net::ReadRdataName(ptr.answers[0].rdata, &name));
  CHECK(name == "web.default.svc.cluster.local");
  // A Service without an address yet has no records.
  CHECK(t->Lookup("pending.default.svc.cluster.local", net::dns::kTypeA).kind == net::DnsLookupResult::kNxDomain);
}

TEST_CASE("dns cluster records: headless Services give their ready endpoints, by hostname too") {
  auto t = BuildClusterDnsTable(Objects());
  CHECK(Addresses(t->Lookup("db.default.svc.cluster.local", net::dns::kTypeA)) ==
        std::vector<std::string>{"10.42.0.5", "10.42.0.6"});
  CHECK(Addresses(t->Lookup("db-0.db.default.svc.cluster.local", net::dns::kTypeA)) ==
        std::vector<std::string>{"10.42.0.5"});
  CHECK(Addresses(t->Lookup("10-42-0-6.db.default.svc.cluster.local", net::dns::kTypeA)) ==
        std::vector<std::string>{"10.42.0.6"});
  CHECK(t->Lookup("10-42-0-7.db.default.svc.cluster.local", net::dns::kTypeA).kind ==
        net::DnsLookupResult::kNxDomain);
  auto srv = t->Lookup("_pg._tcp.db.default.svc.cluster.local", net::dns::kTypeSRV);
  CHECK(Srv(srv) == std::vector<std::string>{"0 50 5432 10-42-0-6.db.default.svc.cluster.local",
                                             "0 50 5432 db-0.db.default.svc.cluster.local"});
  CHECK(srv.additional.size() == 2);
  // No ready endpoint: no name (as CoreDNS answers).
  CHECK(t->Lookup("empty.default.svc.cluster.local", net::dns::kTypeA).kind == net::DnsLookupResult::kNxDomain);
  auto ptr = t->Lookup("5.0.42.10.in-addr.arpa", net::dns::kTypePTR);
  REQUIRE(ptr.answers.size() == 1);
}

TEST_CASE("dns cluster records: ExternalName, namespaces, pods, the zone's own names") {
  auto t = BuildClusterDnsTable(Objects());
  auto ext = t->Lookup("ext.default.svc.cluster.local", net::dns::kTypeA);
  CHECK(ext.resolve_elsewhere == "www.example.org");
  REQUIRE(ext.answers.size() == 1);
  CHECK(ext.answers[0].type == net::dns::kTypeCNAME);
  CHECK(t->Lookup("quiet.svc.cluster.local", net::dns::kTypeA).kind == net::DnsLookupResult::kNoData);
  CHECK(t->Lookup("nons.svc.cluster.local", net::dns::kTypeA).kind == net::DnsLookupResult::kNxDomain);
  CHECK(Addresses(t->Lookup("10-42-0-99.quiet.pod.cluster.local", net::dns::kTypeA)) ==
        std::vector<std::string>{"10.42.0.99"});
  CHECK(t->Lookup("10-42-0-99.nons.pod.cluster.local", net::dns::kTypeA).kind == net::DnsLookupResult::kNxDomain);
  CHECK(t->Lookup("dns-version.cluster.local", net::dns::kTypeTXT).answers.size() == 1);
  auto ns = t->Lookup("cluster.local", net::dns::kTypeNS);
  REQUIRE(ns.answers.size() == 1);
  REQUIRE(ns.additional.size() == 1);
  CHECK(ns.additional[0].name == "ns.dns.cluster.local");
  CHECK(ReverseDnsName("fd00::1") ==
        "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa");
  CHECK(ReverseDnsName("nope").empty());
}

TEST_CASE("dns cluster: the bundled coredns manifest is the node-local kube-dns Service at --cluster-dns") {
  manifests::BundledOptions o;
  o.cluster_dns = "10.77.0.10";
  std::string text;
  for (const auto& m : manifests::BundledManifests(o))
    if (m.name == "coredns") text = m.text;
  CHECK(text.find("name: kube-dns") != std::string::npos);
  CHECK(text.find("clusterIP: 10.77.0.10\n") != std::string::npos);
  CHECK(text.find("kubit.io/node-local: \"true\"") != std::string::npos);
  CHECK(text.find("k8s-app: kube-dns") != std::string::npos);
  test::TempDir dir("kubit-dns-manifests");
  std::string error;
  REQUIRE(manifests::WriteBundledManifests(dir.path(), {}, &error, o));
  CHECK(access((dir.path() + "/coredns.yaml").c_str(), F_OK) == 0);
  REQUIRE(manifests::WriteBundledManifests(dir.path(), {"coredns"}, &error, o));
  CHECK(access((dir.path() + "/coredns.yaml").c_str(), F_OK) != 0);
}

TEST_CASE("dns cluster: pods' resolv.conf follows kubelet's reading of the node's file") {
  Json pod = {{"metadata", {{"name", "p"}, {"namespace", "ns"}}}, {"spec", {{"dnsPolicy", "Default"}}}};
  kubelet::DnsSettings dns;
  std::string node =
      "# generated\ndomain corp\nsearch lan. . corp\nnameserver 192.168.1.1 ; main\noptions ndots:2 edns0\n"
      "options ndots:3\n";
  CHECK(kubelet::ResolvConf(pod, dns, node) == "search lan corp\nnameserver 192.168.1.1\noptions ndots:3 edns0\n");
  // ClusterFirst takes the host's searches after the cluster's, not its options.
  pod["spec"]["dnsPolicy"] = "ClusterFirst";
  CHECK(kubelet::ResolvConf(pod, dns, node) ==
        "search ns.svc.cluster.local svc.cluster.local cluster.local lan corp\nnameserver 10.43.0.10\n"
        "options ndots:5\n");
  // At most 2048 characters of searches: the last ones go.
  Json many = Json::array();
  for (int i = 0; i < 30; i++) many.push_back(std::string(100, static_cast<char>('a' + i % 26)) + ".test");
  pod["spec"]["dnsConfig"] = {{"searches", many}};
  std::string out = kubelet::ResolvConf(pod, dns, node);
  std::string search = out.substr(0, out.find('\n'));
  CHECK(search.size() - 7 <= 2048);
  CHECK(search.size() - 7 > 2048 - 106);
}

// ---- a node's NodeDns ----

// Puts the calling thread (and the threads it starts) in a new network
// namespace with lo up, and puts it back at the end.
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

bool Eventually(const std::function<bool()>& done) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < deadline) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return done();
}

// One UDP query to ip:53; rcode and A addresses, or rcode -1 without an answer.
int Ask(const std::string& ip, const std::string& name, std::vector<std::string>* addrs = nullptr) {
  net::DnsMessage q;
  q.id = 0x4242;
  q.rd = true;
  q.questions.push_back({name, net::dns::kTypeA, net::dns::kClassIN});
  std::string wire, error;
  bool truncated;
  REQUIRE(net::BuildDnsMessage(q, 512, &wire, &truncated, &error));
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(53);
  inet_pton(AF_INET, ip.c_str(), &to.sin_addr);
  sendto(fd, wire.data(), wire.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
  pollfd p{fd, POLLIN, 0};
  int rcode = -1;
  char buf[4096];
  ssize_t n = poll(&p, 1, 500) == 1 ? recv(fd, buf, sizeof(buf), 0) : -1;
  close(fd);
  net::DnsMessage a;
  if (n > 0 && net::ParseDnsMessage(reinterpret_cast<uint8_t*>(buf), static_cast<size_t>(n), &a, &error)) {
    rcode = a.rcode;
    if (addrs) {
      net::DnsLookupResult r;
      r.answers = a.answers;
      *addrs = Addresses(r);
    }
  }
  return rcode;
}

bool HasAddress(const std::string& bridge, const std::string& ip) {
  FILE* f = popen(("ip -4 -o addr show dev " + bridge + " 2>/dev/null").c_str(), "r");
  std::string out;
  char buf[512];
  while (f && fgets(buf, sizeof(buf), f)) out += buf;
  if (f) pclose(f);
  return out.find(" " + ip + "/32 ") != std::string::npos;
}

TEST_CASE("dns cluster: a node serves the node-local kube-dns address once its bridge is up") {
  test::TestCluster cluster;
  auto admin = cluster.InProcess();
  auto node = cluster.InProcess("system:node:n1", {"system:nodes"});
  const Resource services{"", "v1", "services"};
  Json kube_dns = Service("kube-system", "kube-dns",
                          {{"clusterIP", "10.43.0.10"},
                           {"ports", {{{"name", "dns"}, {"port", 53}, {"protocol", "UDP"}}}}});
  kube_dns["metadata"]["annotations"] = {{kNodeLocalAnnotation, "true"}};
  REQUIRE(admin->Create(services, "kube-system", kube_dns).ok());
  REQUIRE(admin->Create(services, "default", Service("default", "web", {{"ports", {{{"port", 80}}}}})).ok());
  Json web;
  REQUIRE(admin->Get(services, "default", "web", &web).ok());
  // The Node authorizer lets a node read namespaces (which ones exist), not change them.
  const Resource namespaces{"", "v1", "namespaces"};
  Json list;
  CHECK(node->List(namespaces, "", {}, &list).ok());
  CHECK(node->Create(namespaces, "", Namespace("mine")).IsForbidden());
  CHECK(node->Delete(namespaces, "", "default").IsForbidden());
  const std::string web_ip = web["spec"]["clusterIP"];

  PrivateNetns netns;
  test::TempDir data("kubit-dns-node");
  std::ofstream(data.File("resolv.conf")) << "nameserver 10.43.0.10\n";  // ourselves: left out
  NodeDnsOptions o;
  o.data_dir = data.path();
  o.resolv_conf = data.File("resolv.conf");
  o.recheck = std::chrono::milliseconds(100);
  std::vector<std::string> logs;
  std::mutex logs_mu;
  o.log = [&](bool, const std::string& m) {
    std::lock_guard<std::mutex> lock(logs_mu);
    logs.push_back(m);
  };
  NodeDns dns(node.get(), o);
  dns.Start();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK(Ask("10.43.0.10", "web.default.svc.cluster.local") == -1);  // no bridge, no address yet

  // The pod network opens: the bridge appears, the address goes on it.
  const std::string bridge = net::PodBridgeName(data.path());
  net::netlink::Socket s;
  std::string error;
  REQUIRE(net::netlink::Socket::Open(NETLINK_ROUTE, "", &s, &error));
  net::rtnl::Link link;
  REQUIRE_MESSAGE(net::rtnl::EnsureBridge(&s, bridge, 1500, "", &link, &error), error);
  REQUIRE(net::rtnl::SetLink(&s, link, -1, true, &error));
  CHECK(Eventually([&] { return HasAddress(bridge, "10.43.0.10"); }));
  std::vector<std::string> addrs;
  CHECK(Eventually([&] { return Ask("10.43.0.10", "web.default.svc.cluster.local", &addrs) == 0; }));
  CHECK(addrs == std::vector<std::string>{web_ip});
  CHECK(Ask("10.43.0.10", "nope.default.svc.cluster.local") == net::dns::kRcodeNxDomain);
  // Other names: no upstream (the only one was the cluster DNS itself).
  CHECK(Ask("10.43.0.10", "www.example.org") == net::dns::kRcodeServFail);

  // A new Service is answered after its informer event.
  REQUIRE(admin->Create(services, "default", Service("default", "late", {{"ports", {{{"port", 80}}}}})).ok());
  CHECK(Eventually([&] { return Ask("10.43.0.10", "late.default.svc.cluster.local") == 0; }));

  // Without the Service (--disable coredns) the node stops serving and takes the address off.
  REQUIRE(admin->Delete(services, "kube-system", "kube-dns").ok());
  CHECK(Eventually([&] { return !HasAddress(bridge, "10.43.0.10"); }));
  CHECK(Eventually([&] { return Ask("10.43.0.10", "web.default.svc.cluster.local") == -1; }));
  dns.Stop();
  std::lock_guard<std::mutex> lock(logs_mu);
  std::string all;
  for (const auto& l : logs) all += l + "\n";
  CHECK_MESSAGE(all.find("forwarding other names to none") != std::string::npos, all);
  CHECK_MESSAGE(all.find("the cluster DNS is off on this node") != std::string::npos, all);
}

}  // namespace
}  // namespace kubit::network
