// The DNS server over real sockets on 127.0.0.1: answers from its table
// over UDP and TCP, forwarding to an upstream (a second DnsServer holding
// "example.test"), the cache, ExternalName-style chains completed
// upstream, truncation then TCP, garbage and responses, SERVFAIL without
// upstreams, listeners tied to a device and changed while running, and
// resolv.conf handling.
#include <doctest/doctest.h>
#include <arpa/inet.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <fstream>
#include <memory>

#include "net/dns_resolv_conf.h"
#include "net/dns_server.h"
#include "test/unit/temp_dir.h"

namespace kubit::net {
namespace {

sockaddr_in Loopback(int port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

// Sends raw bytes over UDP; the raw answer, or "" after 3 s.
std::string UdpRaw(int port, const std::string& wire) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  sockaddr_in to = Loopback(port);
  sendto(fd, wire.data(), wire.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
  pollfd p{fd, POLLIN, 0};
  std::string out;
  if (poll(&p, 1, 3000) == 1) {
    char buf[65536];
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n > 0) out.assign(buf, static_cast<size_t>(n));
  }
  close(fd);
  return out;
}

DnsMessage Query(const std::string& name, uint16_t type, uint16_t id = 7) {
  DnsMessage m;
  m.id = id;
  m.rd = true;
  m.questions.push_back({name, type, dns::kClassIN});
  return m;
}

std::string Wire(const DnsMessage& m) {
  std::string out, error;
  bool truncated;
  REQUIRE(BuildDnsMessage(m, 65535, &out, &truncated, &error));
  return out;
}

DnsMessage Udp(int port, const DnsMessage& q) {
  std::string raw = UdpRaw(port, Wire(q));
  REQUIRE_MESSAGE(!raw.empty(), "no answer over UDP");
  DnsMessage m;
  std::string error;
  REQUIRE_MESSAGE(ParseDnsMessage(raw, &m, &error), error);
  CHECK(m.id == q.id);
  CHECK(m.qr);
  return m;
}

DnsMessage Tcp(int port, const DnsMessage& q) {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in to = Loopback(port);
  REQUIRE(connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) == 0);
  std::string wire = Wire(q);
  std::string framed = std::string(1, static_cast<char>(wire.size() >> 8)) +
                       std::string(1, static_cast<char>(wire.size() & 0xff)) + wire;
  REQUIRE(send(fd, framed.data(), framed.size(), 0) == static_cast<ssize_t>(framed.size()));
  std::string got;
  char buf[65536];
  auto want = [&] { return 2 + static_cast<size_t>(static_cast<uint8_t>(got[0]) << 8 | static_cast<uint8_t>(got[1])); };
  while (got.size() < 2 || got.size() < want()) {
    pollfd p{fd, POLLIN, 0};
    REQUIRE(poll(&p, 1, 3000) == 1);
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    REQUIRE(n > 0);
    got.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  DnsMessage m;
  std::string error;
  REQUIRE_MESSAGE(ParseDnsMessage(got.substr(2), &m, &error), error);
  return m;
}

// A server on 127.0.0.1 (a free port) answering from `table`.
struct TestServer {
  explicit TestServer(std::shared_ptr<DnsRecordTable> table, std::vector<std::string> upstreams = {}) {
    std::string error;
    REQUIRE_MESSAGE(server.Start(&error), error);
    server.SetRecords(std::move(table));
    REQUIRE(server.SetUpstreams(upstreams, &error));
    REQUIRE_MESSAGE(server.SetListeners({address}, &error), error);
    port = server.Port(address);
    REQUIRE(port > 0);
  }
  DnsServer server{[] {
    DnsServerOptions o;
    o.forwarder.timeout = std::chrono::milliseconds(300);
    return o;
  }()};
  DnsListenAddress address{"127.0.0.1", 0, ""};
  int port = 0;
};

std::shared_ptr<DnsRecordTable> Upstream() {
  auto t = std::make_shared<DnsRecordTable>(std::vector<std::string>{"example.test"}, 60, 1);
  t->Add("www.example.test", dns::kTypeA, RdataA(0xc0000207));
  for (uint32_t i = 0; i < 100; i++) t->Add("many.example.test", dns::kTypeA, RdataA(0xc0000200 + i));
  return t;
}

std::shared_ptr<DnsRecordTable> Cluster() {
  auto t = std::make_shared<DnsRecordTable>(std::vector<std::string>{"cluster.local"}, 5, 1);
  t->Add("web.default.svc.cluster.local", dns::kTypeA, RdataA(0x0a2b0001));
  t->Add("ext.default.svc.cluster.local", dns::kTypeCNAME, RdataName("www.example.test"));
  for (uint32_t i = 0; i < 80; i++) t->Add("big.default.svc.cluster.local", dns::kTypeA, RdataA(0x0a2a0000 + i));
  return t;
}

TEST_CASE("dns server: answers its table over UDP and TCP, NXDOMAIN with the SOA") {
  TestServer s(Cluster());
  DnsMessage a = Udp(s.port, Query("web.default.svc.cluster.local", dns::kTypeA));
  CHECK(a.aa);
  CHECK(a.rd);
  CHECK(a.rcode == dns::kRcodeNoError);
  REQUIRE(a.answers.size() == 1);
  CHECK(a.answers[0].rdata == RdataA(0x0a2b0001));
  DnsMessage t = Tcp(s.port, Query("web.default.svc.cluster.local", dns::kTypeA));
  CHECK(t.answers.size() == 1);
  DnsMessage nx = Udp(s.port, Query("nope.default.svc.cluster.local", dns::kTypeA));
  CHECK(nx.rcode == dns::kRcodeNxDomain);
  CHECK(nx.answers.empty());
  REQUIRE(nx.authority.size() == 1);
  CHECK(nx.authority[0].type == dns::kTypeSOA);
}

TEST_CASE("dns server: answers kept from the table follow a new table, and each asker's case") {
  TestServer s(Cluster());
  DnsMessage upper = Udp(s.port, Query("WEB.default.svc.cluster.local", dns::kTypeA, 1));
  DnsMessage lower = Udp(s.port, Query("web.default.svc.cluster.local", dns::kTypeA, 2));
  DnsMessage again = Udp(s.port, Query("WEB.default.svc.cluster.local", dns::kTypeA, 3));
  REQUIRE(upper.answers.size() == 1);
  REQUIRE(lower.answers.size() == 1);
  REQUIRE(again.answers.size() == 1);
  CHECK(upper.answers[0].name == "WEB.default.svc.cluster.local");
  CHECK(lower.answers[0].name == "web.default.svc.cluster.local");
  CHECK(again.id == 3);
  CHECK(again.answers[0].name == "WEB.default.svc.cluster.local");
  // EDNS0 or not: answers kept apart.
  DnsMessage q = Query("web.default.svc.cluster.local", dns::kTypeA, 4);
  q.edns = true;
  q.edns_udp_size = 1400;
  CHECK(Udp(s.port, q).edns);
  CHECK_FALSE(Udp(s.port, Query("web.default.svc.cluster.local", dns::kTypeA, 5)).edns);

  auto moved = std::make_shared<DnsRecordTable>(std::vector<std::string>{"cluster.local"}, 5, 2);
  moved->Add("web.default.svc.cluster.local", dns::kTypeA, RdataA(0x0a2b0063));
  s.server.SetRecords(moved);
  DnsMessage after = Udp(s.port, Query("web.default.svc.cluster.local", dns::kTypeA, 6));
  REQUIRE(after.answers.size() == 1);
  CHECK(after.answers[0].rdata == RdataA(0x0a2b0063));
}

TEST_CASE("dns server: other names go upstream, are cached, and chains leaving the table are completed") {
  auto up = std::make_unique<TestServer>(Upstream());
  TestServer s(Cluster(), {"127.0.0.1:" + std::to_string(up->port)});
  DnsMessage a = Udp(s.port, Query("WWW.example.test", dns::kTypeA, 99));
  CHECK(a.rcode == dns::kRcodeNoError);
  REQUIRE(a.answers.size() == 1);
  CHECK(a.questions[0].name == "WWW.example.test");  // the question as asked, case and all
  CHECK(a.answers[0].rdata == RdataA(0xc0000207));
  CHECK(a.answers[0].ttl <= 30);  // the cache's limit

  DnsMessage ext = Udp(s.port, Query("ext.default.svc.cluster.local", dns::kTypeA));
  REQUIRE(ext.answers.size() == 2);
  CHECK(ext.answers[0].type == dns::kTypeCNAME);
  CHECK(ext.answers[1].rdata == RdataA(0xc0000207));
  CHECK_FALSE(ext.aa);

  DnsMessage nx = Udp(s.port, Query("nope.example.test", dns::kTypeA));
  CHECK(nx.rcode == dns::kRcodeNxDomain);

  // With the upstream gone, what was asked before comes from the cache
  // (NXDOMAIN too); anything new fails.
  up.reset();
  CHECK(Udp(s.port, Query("www.example.test", dns::kTypeA)).answers.size() == 1);
  CHECK(Tcp(s.port, Query("www.example.test", dns::kTypeA)).answers.size() == 1);
  CHECK(Udp(s.port, Query("nope.example.test", dns::kTypeA)).rcode == dns::kRcodeNxDomain);
  CHECK(Udp(s.port, Query("new.example.test", dns::kTypeA)).rcode == dns::kRcodeServFail);
  CHECK(Tcp(s.port, Query("other.example.test", dns::kTypeA)).rcode == dns::kRcodeServFail);
}

TEST_CASE("dns server: a large answer is cut with TC over UDP and whole over TCP") {
  auto up = std::make_unique<TestServer>(Upstream());
  TestServer s(Cluster(), {"127.0.0.1:" + std::to_string(up->port)});
  DnsMessage cut = Udp(s.port, Query("big.default.svc.cluster.local", dns::kTypeA));
  CHECK(cut.tc);
  CHECK(cut.answers.size() < 80);
  DnsMessage whole = Tcp(s.port, Query("big.default.svc.cluster.local", dns::kTypeA));
  CHECK_FALSE(whole.tc);
  CHECK(whole.answers.size() == 80);
  // EDNS0: a client offering 4096 bytes gets all 80 over UDP, with our OPT.
  DnsMessage q = Query("big.default.svc.cluster.local", dns::kTypeA);
  q.edns = true;
  q.edns_udp_size = 4096;
  DnsMessage edns = Udp(s.port, q);
  CHECK_FALSE(edns.tc);
  CHECK(edns.answers.size() == 80);
  CHECK(edns.edns);
  CHECK(edns.edns_udp_size == 1232);
  // Forwarded answers too: the upstream's 100 addresses, cut for a plain client.
  DnsMessage many = Udp(s.port, Query("many.example.test", dns::kTypeA));
  CHECK(many.tc);
  CHECK(Tcp(s.port, Query("many.example.test", dns::kTypeA)).answers.size() == 100);
}

TEST_CASE("dns server: garbage gets FORMERR or nothing, responses are never answered") {
  TestServer s(Cluster());
  std::string garbage("\x12\x34\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00\x05short", 18);
  std::string raw = UdpRaw(s.port, garbage);
  DnsMessage m;
  std::string error;
  REQUIRE(ParseDnsMessage(raw, &m, &error));
  CHECK(m.id == 0x1234);
  CHECK(m.rcode == dns::kRcodeFormErr);
  CHECK(UdpRaw(s.port, "abc").empty());
  DnsMessage response = Query("web.default.svc.cluster.local", dns::kTypeA);
  response.qr = true;
  CHECK(UdpRaw(s.port, Wire(response)).empty());
  // Two questions, an unknown opcode, EDNS version 1, a zone transfer.
  DnsMessage two = Query("a.cluster.local", dns::kTypeA);
  two.questions.push_back(two.questions[0]);
  CHECK(Udp(s.port, two).rcode == dns::kRcodeFormErr);
  DnsMessage notify = Query("cluster.local", dns::kTypeSOA);
  notify.opcode = 4;
  CHECK(Udp(s.port, notify).rcode == dns::kRcodeNotImp);
  DnsMessage v1 = Query("web.default.svc.cluster.local", dns::kTypeA);
  v1.edns = true;
  v1.edns_udp_size = 1232;
  v1.edns_version = 1;
  CHECK(Udp(s.port, v1).rcode == dns::kRcodeBadVers);
  CHECK(Udp(s.port, Query("cluster.local", dns::kTypeAXFR)).rcode == dns::kRcodeRefused);
  // Still answering.
  CHECK(Udp(s.port, Query("web.default.svc.cluster.local", dns::kTypeA)).answers.size() == 1);
}

TEST_CASE("dns server: listeners tied to a device, changed while running") {
  DnsServer server;
  std::string error;
  REQUIRE(server.Start(&error));
  server.SetRecords(Cluster());
  DnsListenAddress lo{"127.0.0.1", 0, "lo"};
  REQUIRE_MESSAGE(server.SetListeners({lo}, &error), error);
  int port = server.Port(lo);
  REQUIRE(port > 0);
  CHECK(Udp(port, Query("web.default.svc.cluster.local", dns::kTypeA)).answers.size() == 1);
  // A second server may take the same address and port on another device.
  DnsServer other;
  REQUIRE(other.Start(&error));
  DnsListenAddress beside{"127.0.0.1", port, "kbnosuchdev0"};
  CHECK_FALSE(other.SetListeners({beside}, &error));  // no such device: named in the error
  CHECK(error.find("kbnosuchdev0") != std::string::npos);
  // Closed when no longer listed.
  REQUIRE(server.SetListeners({}, &error));
  CHECK(server.Port(lo) == 0);
  CHECK(UdpRaw(port, Wire(Query("web.default.svc.cluster.local", dns::kTypeA))).empty());
  // Bad addresses are reported.
  CHECK_FALSE(server.SetListeners({{"not-an-ip", 53, ""}}, &error));
  CHECK(error.find("not-an-ip") != std::string::npos);
}

TEST_CASE("dns resolv.conf: nameservers, and the systemd-resolved file when the host names only its stub") {
  test::TempDir dir("kubit-dns");
  auto write = [&](const std::string& name, const std::string& text) {
    std::ofstream(dir.File(name)) << text;
    return dir.File(name);
  };
  CHECK(ResolvConfNameservers("# c\nnameserver 10.0.0.2 # x\nsearch a b\nnameserver fe80::1%eth0\n; nameserver 9.9.9.9\n") ==
        std::vector<std::string>{"10.0.0.2", "fe80::1%eth0"});
  std::string stub = write("stub", "nameserver 127.0.0.53\noptions edns0 trust-ad\n");
  std::string real = write("real", "nameserver 192.168.1.1\n");
  std::string v6 = write("v6", "nameserver ::1\nnameserver 2001:db8::53\n");
  CHECK_FALSE(UsableResolvConf(stub));
  CHECK(UsableResolvConf(real));
  CHECK(UsableResolvConf(v6));
  CHECK_FALSE(UsableResolvConf(dir.File("missing")));
  CHECK(NodeResolvConf("", stub, real) == real);
  CHECK(NodeResolvConf("", real, stub) == real);
  CHECK(NodeResolvConf("", stub, dir.File("missing")) == stub);
  CHECK(NodeResolvConf("/my/resolv.conf", stub, real) == "/my/resolv.conf");
}

}  // namespace
}  // namespace kubit::net
