// DNS wire format: round trips with name compression, escapes, EDNS0,
// truncation to a size, and garbage refused without a crash.
#include <doctest/doctest.h>

#include <random>

#include "net/dns_message.h"

namespace kubit::net {
namespace {

DnsMessage Query(const std::string& name, uint16_t type) {
  DnsMessage m;
  m.id = 0x1234;
  m.rd = true;
  m.questions.push_back({name, type, dns::kClassIN});
  return m;
}

std::string Build(const DnsMessage& m, size_t max = 65535, bool* truncated = nullptr) {
  std::string out, error;
  bool t = false;
  REQUIRE_MESSAGE(BuildDnsMessage(m, max, &out, &t, &error), error);
  if (truncated) *truncated = t;
  return out;
}

TEST_CASE("dns message: a query as dig sends it parses, and builds back byte for byte") {
  // dig web.default.svc.cluster.local A +noedns, id 0xabcd, RD.
  const std::string wire(
      "\xab\xcd\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00"
      "\x03web\x07" "default\x03svc\x07" "cluster\x05local\x00"
      "\x00\x01\x00\x01",
      47);
  DnsMessage m;
  std::string error;
  REQUIRE_MESSAGE(ParseDnsMessage(wire, &m, &error), error);
  CHECK(m.id == 0xabcd);
  CHECK(m.rd);
  CHECK_FALSE(m.qr);
  REQUIRE(m.questions.size() == 1);
  CHECK(m.questions[0].name == "web.default.svc.cluster.local");
  CHECK(m.questions[0].type == dns::kTypeA);
  CHECK(Build(m) == wire);
}

TEST_CASE("dns message: owner names are compressed against the question and each other") {
  DnsMessage m = Query("Web.Default.svc.cluster.local", dns::kTypeSRV);
  m.qr = m.aa = true;
  m.answers.push_back({"web.default.svc.cluster.local", dns::kTypeSRV, dns::kClassIN, 5,
                       RdataSrv(0, 100, 80, "web.default.svc.cluster.local")});
  m.additional.push_back({"web.default.svc.cluster.local", dns::kTypeA, dns::kClassIN, 5, RdataA(0x0a2b0001)});
  m.additional.push_back({"other.default.svc.cluster.local", dns::kTypeA, dns::kClassIN, 5, RdataA(0x0a2b0002)});
  std::string wire = Build(m);
  // The answer's owner keeps its case: "web.default" in full, then a
  // pointer to the question's "svc.cluster.local" (offset 12 + 12).
  size_t answer = 12 + 31 + 4;
  CHECK(wire.substr(answer, 14) == std::string("\x03web\x07" "default\xc0\x18", 14));
  // The SRV target is written out whole (RFC 2782), the A owner points at the answer's.
  CHECK(static_cast<uint8_t>(wire[answer + 14 + 10 + 6 + 31]) == 0xc0);
  // "other" is one label and a pointer to "default.svc.cluster.local".
  CHECK(wire.find(std::string("\x05other\xc0", 7)) != std::string::npos);
  DnsMessage back;
  std::string error;
  REQUIRE_MESSAGE(ParseDnsMessage(wire, &back, &error), error);
  REQUIRE(back.answers.size() == 1);
  REQUIRE(back.additional.size() == 2);
  CHECK(back.additional[1].name == "other.default.svc.cluster.local");
  uint16_t prio, weight, port;
  std::string target;
  REQUIRE(ReadRdataSrv(back.answers[0].rdata, &prio, &weight, &port, &target));
  CHECK(prio == 0);
  CHECK(weight == 100);
  CHECK(port == 80);
  CHECK(target == "web.default.svc.cluster.local");
  uint32_t ip = static_cast<uint8_t>(back.additional[0].rdata[3]);
  CHECK(ip == 1);
}

TEST_CASE("dns message: names in record data are expanded when read") {
  // A CNAME whose target points back into the question.
  std::string wire(
      "\x00\x01\x81\x80\x00\x01\x00\x01\x00\x00\x00\x00"
      "\x03" "ext\x07" "default\x03svc\x07" "cluster\x05local\x00\x00\x05\x00\x01"
      "\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x05\x00\x06\x03www\xc0\x10",
      12 + 35 + 18);
  DnsMessage m;
  std::string error;
  REQUIRE_MESSAGE(ParseDnsMessage(wire, &m, &error), error);
  REQUIRE(m.answers.size() == 1);
  std::string target;
  REQUIRE(ReadRdataName(m.answers[0].rdata, &target));
  CHECK(target == "www.default.svc.cluster.local");
}

TEST_CASE("dns message: labels with dots and odd bytes survive as escapes") {
  DnsMessage m = Query("a\\.b.c\\009d", dns::kTypeTXT);
  std::string wire = Build(m);
  CHECK(wire.substr(12, 9) == std::string("\x03" "a.b\x03" "c\x09" "d\x00", 9));
  DnsMessage back;
  std::string error;
  REQUIRE(ParseDnsMessage(wire, &back, &error));
  CHECK(back.questions[0].name == "a\\.b.c\\009d");
  CHECK(DnsNameUnder("x.a\\.b", "a\\.b"));
  CHECK_FALSE(DnsNameUnder("x.a\\.b", "b"));
  CHECK(DnsNameUnder("svc.cluster.local", "cluster.local"));
  CHECK_FALSE(DnsNameUnder("svc.xcluster.local", "cluster.local"));
}

TEST_CASE("dns message: EDNS0 size, DO bit and extended rcode travel in the OPT record") {
  DnsMessage m = Query("example.org", dns::kTypeA);
  m.edns = true;
  m.edns_udp_size = 1232;
  m.edns_do = true;
  m.rcode = dns::kRcodeBadVers;
  std::string wire = Build(m);
  DnsMessage back;
  std::string error;
  REQUIRE(ParseDnsMessage(wire, &back, &error));
  CHECK(back.edns);
  CHECK(back.edns_udp_size == 1232);
  CHECK(back.edns_do);
  CHECK(back.rcode == dns::kRcodeBadVers);
  CHECK(back.additional.empty());
  m.edns = false;
  std::string out;
  CHECK_FALSE(BuildDnsMessage(m, 512, &out, nullptr, &error));
}

TEST_CASE("dns message: what does not fit is cut with TC; additional records go without it") {
  DnsMessage m = Query("big.default.svc.cluster.local", dns::kTypeA);
  m.qr = true;
  for (uint32_t i = 0; i < 60; i++)
    m.answers.push_back({"big.default.svc.cluster.local", dns::kTypeA, dns::kClassIN, 5, RdataA(0x0a000000 + i)});
  bool truncated = false;
  std::string wire = Build(m, 512, &truncated);
  CHECK(truncated);
  CHECK(wire.size() <= 512);
  DnsMessage back;
  std::string error;
  REQUIRE(ParseDnsMessage(wire, &back, &error));
  CHECK(back.tc);
  CHECK(back.answers.size() == (512 - 12 - 35) / 16);  // each answer: pointer, type, class, ttl, len, 4 bytes

  DnsMessage extra = Query("x.test", dns::kTypeA);
  extra.answers.push_back({"x.test", dns::kTypeA, dns::kClassIN, 5, RdataA(1)});
  for (uint32_t i = 0; i < 60; i++)
    extra.additional.push_back({"x.test", dns::kTypeA, dns::kClassIN, 5, RdataA(i)});
  wire = Build(extra, 512, &truncated);
  CHECK_FALSE(truncated);
  REQUIRE(ParseDnsMessage(wire, &back, &error));
  CHECK_FALSE(back.tc);
  CHECK(back.answers.size() == 1);
  CHECK(back.additional.size() < 60);
}

TEST_CASE("dns message: names that cannot be encoded are refused") {
  std::string wire, error;
  std::string long_label(64, 'a');
  long_label += ".test";
  CHECK_FALSE(EncodeDnsName(long_label, &wire, &error));
  CHECK_FALSE(EncodeDnsName("a..b", &wire, &error));
  std::string long_name;
  for (int i = 0; i < 50; i++) long_name += "abcde.";
  CHECK_FALSE(EncodeDnsName(long_name, &wire, &error));
  CHECK(EncodeDnsName("", &wire, &error));
  CHECK(wire == std::string(1, '\0'));
}

TEST_CASE("dns message: malformed input is refused with a reason") {
  auto refused = [](const std::string& wire) {
    DnsMessage m;
    std::string error;
    bool ok = ParseDnsMessage(wire, &m, &error);
    return !ok && !error.empty();
  };
  const std::string header("\x00\x01\x01\x00\x00\x01\x00\x00\x00\x00\x00\x00", 12);
  CHECK(refused(""));
  CHECK(refused(header.substr(0, 11)));
  CHECK(refused(header));                                            // a question promised, none there
  CHECK(refused(header + std::string("\x03" "abc", 4)));             // name without its end
  CHECK(refused(header + std::string("\x03" "abc\x00\x00", 6)));     // question cut short
  CHECK(refused(header + std::string("\xc0\x0c\x00\x01\x00\x01", 6)));  // pointer to itself
  CHECK(refused(header + std::string("\xc0\x20\x00\x01\x00\x01", 6)));  // pointer forwards
  CHECK(refused(header + std::string("\x80" "abc\x00\x00\x01\x00\x01", 9)));  // reserved label type
  CHECK(refused(header + std::string("\x01" "a\x00\x00\x01\x00\x01" "x", 8)));  // trailing byte
  // Counts far beyond the bytes.
  CHECK(refused(std::string("\x00\x01\x01\x00\xff\xff\xff\xff\xff\xff\xff\xff", 12)));
  // A record whose data overruns the message, and a CNAME with a byte after its name.
  std::string q = header.substr(0, 7) + std::string("\x01", 1) + header.substr(8) +
                  std::string("\x01" "a\x00\x00\x01\x00\x01", 7);
  CHECK(refused(q + std::string("\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x05\x00\x09\x01\x02", 14)));
  CHECK(refused(q + std::string("\xc0\x0c\x00\x05\x00\x01\x00\x00\x00\x05\x00\x04\x01" "a\x00z", 16)));
  // Two OPT records.
  std::string opt("\x00\x00\x29\x04\xd0\x00\x00\x00\x00\x00\x00", 11);
  std::string two = header.substr(0, 11) + std::string("\x02", 1) + std::string("\x01" "a\x00\x00\x01\x00\x01", 7) +
                    opt + opt;
  CHECK(refused(two));
}

TEST_CASE("dns message: random corruption of valid messages never crashes the parser") {
  DnsMessage m = Query("web.default.svc.cluster.local", dns::kTypeSRV);
  m.qr = true;
  m.edns = true;
  m.edns_udp_size = 4096;
  m.answers.push_back({"web.default.svc.cluster.local", dns::kTypeSRV, dns::kClassIN, 5,
                       RdataSrv(0, 50, 80, "a.web.default.svc.cluster.local")});
  m.answers.push_back({"web.default.svc.cluster.local", dns::kTypeCNAME, dns::kClassIN, 5, RdataName("x.y")});
  m.authority.push_back({"cluster.local", dns::kTypeSOA, dns::kClassIN, 5,
                         RdataSoa("ns.dns.cluster.local", "hostmaster.cluster.local", 1, 2, 3, 4, 5)});
  const std::string good = Build(m);
  std::mt19937 rng(7);
  int parsed = 0;
  for (int i = 0; i < 20000; i++) {
    std::string bad = good;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; f++) bad[rng() % bad.size()] = static_cast<char>(rng());
    if (rng() % 4 == 0) bad.resize(rng() % bad.size());
    DnsMessage out;
    std::string error;
    if (ParseDnsMessage(bad, &out, &error)) {
      parsed++;
      // What parsed builds again (or is refused with a reason).
      std::string again;
      bool truncated;
      if (!BuildDnsMessage(out, 65535, &again, &truncated, &error)) CHECK(!error.empty());
    } else {
      CHECK(!error.empty());
    }
  }
  CHECK(parsed > 0);
}

}  // namespace
}  // namespace kubit::net
